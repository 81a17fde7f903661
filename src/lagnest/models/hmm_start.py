"""Starting points of the hidden Markov model's chains: a pooled fit by EM.

NUTS chains of a mixture-like model that start at random points can settle in different
modes (two states swapping roles in one chain and not in another). The chains of
:class:`~lagnest.models.hmm.HiddenMarkovModel` start instead near the maximum of the
likelihood of the pooled model (no dyad deviations, no predictors), found by the EM
algorithm (Baum-Welch) from a few seeded starts and ordered by the model's ordering
constraint, so that they begin in one labelling of one mode; PyMC's jitter still gives
each chain its own starting point around it. Each dyad's deviations start at an EM fit of
its own sessions: the one from the pooled estimate (:func:`dyad_em`) or a better one from
random starts in any labelling (:func:`dyad_candidates`), the model's density choosing
dyad by dyad (:func:`coordinate_search`). The E-step is the likelihood kernel's
gradient (:func:`lagnest.kernels.hmm.hmm_value_grad` returns the expected initial states,
expected transitions and posterior state probabilities), so no Python runs per segment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import permutations

import numpy as np

from lagnest.kernels.hmm import hmm_value_grad

__all__ = [
    "PooledEstimate", "coordinate_search", "dyad_candidates", "dyad_em", "expected_counts",
    "pooled_em", "random_start_em",
]

#: Pseudo-count added to every expected count of the M-step (keeps every probability
#: away from 0, so every logit is finite).
PSEUDO_COUNT = 0.5


@dataclass(frozen=True)
class PooledEstimate:
    """A pooled HMM fitted by EM.

    Attributes
    ----------
    initial : ndarray, shape (K,)
    transition : ndarray, shape (K, K)
        Rows: origin state.
    emission : list of ndarray, shape (K, M_c) per channel
    log_likelihood : float
    iterations : int
    """

    initial: np.ndarray
    transition: np.ndarray
    emission: list[np.ndarray]
    log_likelihood: float
    iterations: int

    def permuted(self, order: np.ndarray) -> PooledEstimate:
        """The same estimate with its states in ``order`` (new state i = old ``order[i]``)."""
        return PooledEstimate(self.initial[order], self.transition[np.ix_(order, order)],
                              [e[order] for e in self.emission], self.log_likelihood,
                              self.iterations)


def _log_emit(codes: np.ndarray, emission: list[np.ndarray]) -> np.ndarray:
    """``(N, K)`` log-likelihood of each segment's codes (uncoded channels add 0)."""
    out = np.zeros((codes.shape[0], emission[0].shape[0]))
    for c, e in enumerate(emission):
        code = codes[:, c].astype(np.int64)
        out += np.where(code[:, None] >= 0, np.log(e).T[np.maximum(code, 0)], 0.0)
    return out


def _e_step(codes: np.ndarray, offsets: np.ndarray, est: PooledEstimate
            ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Log-likelihood, expected initial states and transitions, and P(state) per segment."""
    value, g_init, g_trans, gamma = hmm_value_grad(
        np.log(est.initial)[None], np.zeros(len(offsets) - 1, dtype=np.int64),
        np.log(est.transition)[None], np.zeros(codes.shape[0], dtype=np.int64),
        _log_emit(codes, est.emission), np.asarray(offsets, dtype=np.int64))
    return float(value), g_init, g_trans, gamma


def _em(codes: np.ndarray, sizes: list[int], offsets: np.ndarray, start: PooledEstimate,
        max_iter: int, tol: float) -> PooledEstimate:
    """EM iterations from ``start`` until the log-likelihood gains less than ``tol``."""
    onehots = [(codes[:, c][:, None] == np.arange(m)[None, :]) for c, m in enumerate(sizes)]
    est, previous = start, -np.inf
    for it in range(1, max_iter + 1):
        value, g_init, g_trans, gamma = _e_step(codes, offsets, est)
        initial = g_init.sum(0) + PSEUDO_COUNT
        transition = g_trans.sum(0) + PSEUDO_COUNT
        emission = [gamma.T @ onehot + PSEUDO_COUNT for onehot in onehots]
        est = PooledEstimate(initial / initial.sum(),
                             transition / transition.sum(1, keepdims=True),
                             [e / e.sum(1, keepdims=True) for e in emission], value, it)
        if value - previous < tol * max(1.0, abs(value)):
            break
        previous = value
    return est


def pooled_em(codes: np.ndarray, sizes: list[int], block_offsets: np.ndarray, n_states: int,
              *, n_starts: int = 4, max_iter: int = 200, tol: float = 1e-7,
              seed: int = 0) -> PooledEstimate:
    """The best of ``n_starts`` EM fits of the pooled HMM (no dyad deviations, no predictors).

    Parameters
    ----------
    codes : ndarray of int, shape (N, C)
        Code of each channel per segment (-1 uncoded).
    sizes : list of int
        Number of codes of each channel.
    block_offsets : ndarray of int64, shape (B + 1,)
        Chains (a new chain at every session and break).
    n_states : int
    n_starts : int, default 4
        Starts: emission rows drawn around each channel's marginal frequencies (Dirichlet
        with concentration 5 per code), transitions staying with 0.8.
    max_iter : int, default 200
    tol : float, default 1e-7
        Stop when an iteration gains less than ``tol`` times the log-likelihood.
    seed : int, default 0

    Returns
    -------
    PooledEstimate
        The estimate with the highest log-likelihood (states in the order EM found).
    """
    fits = random_start_em(codes, sizes, block_offsets, n_states, n_starts=n_starts,
                           max_iter=max_iter, tol=tol, seed=seed)
    return max(fits, key=lambda est: est.log_likelihood)


def random_start_em(codes: np.ndarray, sizes: list[int], block_offsets: np.ndarray,
                    n_states: int, *, n_starts: int = 4, max_iter: int = 200,
                    tol: float = 1e-7, seed: int = 0) -> list[PooledEstimate]:
    """EM fits of the pooled HMM from ``n_starts`` random starts, one per start.

    Parameters and starts as in :func:`pooled_em`, which keeps the best of them.

    Returns
    -------
    list of PooledEstimate
        In the order of the starts (states in the order each fit found).
    """
    rng = np.random.default_rng(seed)
    k = int(n_states)
    stay = np.full((k, k), 0.2 / max(k - 1, 1))
    np.fill_diagonal(stay, 0.8)
    marginals = []
    for c, m in enumerate(sizes):
        coded = codes[:, c][codes[:, c] >= 0]
        marginals.append((np.bincount(coded, minlength=m) + PSEUDO_COUNT)
                         / (coded.size + m * PSEUDO_COUNT))
    offsets = np.asarray(block_offsets, dtype=np.int64)
    fits = []
    for _ in range(max(1, n_starts)):
        emission = [rng.dirichlet(5.0 * len(p) * p, size=k) + 1e-6 for p in marginals]
        start = PooledEstimate(np.full(k, 1.0 / k), stay.copy(),
                               [e / e.sum(1, keepdims=True) for e in emission], -np.inf, 0)
        fits.append(_em(codes, list(sizes), offsets, start, max_iter, tol))
    return fits


def dyad_em(codes: np.ndarray, sizes: list[int], block_offsets: np.ndarray,
            block_dyad: np.ndarray, start: PooledEstimate, n_dyads: int, *,
            max_iter: int = 25, tol: float = 1e-6) -> list[PooledEstimate]:
    """EM fits of each dyad's own HMM, each started at the pooled estimate ``start``.

    Started from the pooled fit and run for a few iterations, each dyad's estimate stays
    in the pooled labelling (state i of a dyad is the state that the pooled state i
    became on its data), so the differences between the two are starting dyad
    deviations in one mode for every chain.

    Parameters
    ----------
    codes, sizes, block_offsets
        As in :func:`pooled_em`.
    block_dyad : ndarray of int, shape (B,)
        Dyad of each chain.
    start : PooledEstimate
        The pooled estimate, in the labelling the model uses.
    n_dyads : int
    max_iter : int, default 25
    tol : float, default 1e-6

    Returns
    -------
    list of PooledEstimate
        One per dyad (the pooled estimate itself for a dyad without segments).
    """
    out = []
    for dyad in range(int(n_dyads)):
        own_codes, own = _dyad_data(codes, block_offsets, block_dyad, dyad)
        out.append(_em(own_codes, list(sizes), own, start, max_iter, tol)
                   if own_codes.shape[0] else start)
    return out


def _dyad_data(codes: np.ndarray, block_offsets: np.ndarray, block_dyad: np.ndarray,
               dyad: int) -> tuple[np.ndarray, np.ndarray]:
    """One dyad's segments and chain offsets (empty when it has no chain)."""
    offsets = np.asarray(block_offsets, dtype=np.int64)
    blocks = np.flatnonzero(np.asarray(block_dyad, dtype=np.int64) == dyad)
    pieces = [codes[offsets[b]:offsets[b + 1]] for b in blocks]
    own = np.concatenate([[0], np.cumsum([len(p) for p in pieces], dtype=np.int64)])
    return (np.concatenate(pieces) if pieces else codes[:0]), own.astype(np.int64)


#: Two EM fits whose log-likelihoods differ by at most this are taken to be one solution.
SAME_FIT = 1e-2


#: Up to this many states, every labelling of a dyad's other EM solutions is a candidate
#: (4! = 24); beyond, the labelling closest to the pooled estimate's emissions.
ALL_LABELLINGS_UP_TO = 4


def _labellings(est: PooledEstimate, pooled: PooledEstimate) -> list[PooledEstimate]:
    """``est`` in every labelling (few states) or the one closest to ``pooled``."""
    k = est.transition.shape[0]
    if k <= ALL_LABELLINGS_UP_TO:
        return [est.permuted(np.array(p)) for p in permutations(range(k))]
    from scipy.optimize import linear_sum_assignment

    cost = sum(((p[:, None, :] - e[None, :, :]) ** 2).sum(-1)
               for p, e in zip(pooled.emission, est.emission, strict=True))
    return [est.permuted(linear_sum_assignment(cost)[1])]


def dyad_candidates(codes: np.ndarray, sizes: list[int], block_offsets: np.ndarray,
                    block_dyad: np.ndarray, pooled: PooledEstimate, n_dyads: int, *,
                    n_starts: int = 8, seed: int = 0) -> list[list[PooledEstimate]]:
    """Candidate EM fits of each dyad's own HMM: the one from the pooled fit, then better ones.

    The first candidate of a dyad is its fit from the pooled estimate (:func:`dyad_em`),
    which keeps the pooled roles of the states. A dyad's data may prefer other roles
    (in the nonverbal corpus seven of ten dyads reach a higher likelihood from random
    starts), which chains started in the pooled roles may take thousands of draws to
    find. So each dyad is also fitted from ``n_starts`` random starts; every distinct fit
    with a higher likelihood than the first candidate is added in each labelling of its
    states (up to :data:`ALL_LABELLINGS_UP_TO` states; beyond, in the labelling closest
    to the pooled emissions). Which labelling, and whether a dyad moves at all, the
    model's posterior density decides (:func:`coordinate_search`): the dyad deviations'
    prior ties each dyad's states to the typical dyad's.

    Parameters
    ----------
    codes, sizes, block_offsets, block_dyad, n_dyads
        As in :func:`dyad_em`.
    pooled : PooledEstimate
        The pooled estimate, in the labelling the model uses.
    n_starts : int, default 8
    seed : int, default 0
        Dyad d's random starts use ``seed + d``.

    Returns
    -------
    list of list of PooledEstimate
        Per dyad, its fit from the pooled estimate first.
    """
    first = dyad_em(codes, sizes, block_offsets, block_dyad, pooled, n_dyads)
    out = []
    for dyad in range(int(n_dyads)):
        own_codes, own = _dyad_data(codes, block_offsets, block_dyad, dyad)
        candidates = [first[dyad]]
        if own_codes.shape[0]:
            fits = random_start_em(own_codes, sizes, own, pooled.transition.shape[0],
                                   n_starts=n_starts, seed=seed + dyad)
            kept: list[float] = []
            for est in sorted(fits, key=lambda e: -e.log_likelihood):
                gain = est.log_likelihood - first[dyad].log_likelihood
                if gain <= SAME_FIT or any(abs(est.log_likelihood - v) <= SAME_FIT
                                           for v in kept):
                    continue  # no better, or a fit already kept (in another labelling)
                kept.append(est.log_likelihood)
                candidates += _labellings(est, pooled)
        out.append(candidates)
    return out


def coordinate_search[T](candidates: Sequence[Sequence[T]],
                         score: Callable[[list[T]], float], *, max_sweeps: int = 3) -> list[T]:
    """Choose one candidate per group to maximise ``score``, one group at a time.

    Starts from every group's first candidate; a sweep tries, group by group, each of its
    candidates with the others held, keeping any that raises the score. Stops after a
    sweep without change or after ``max_sweeps``.

    Parameters
    ----------
    candidates : sequence of sequence
        Per group, its candidates (the first is where the search starts).
    score : callable
        The value of one choice per group (higher is better).
    max_sweeps : int, default 3

    Returns
    -------
    list
        The chosen candidate of each group.
    """
    chosen = [group[0] for group in candidates]
    if all(len(group) == 1 for group in candidates):
        return chosen
    best = score(chosen)
    for _ in range(max_sweeps):
        changed = False
        for g, group in enumerate(candidates):
            for cand in group:
                if cand is chosen[g]:
                    continue
                trial = [*chosen[:g], cand, *chosen[g + 1:]]
                value = score(trial)
                if value > best:
                    best, chosen, changed = value, trial, True
        if not changed:
            break
    return chosen


def expected_counts(codes: np.ndarray, sizes: list[int], block_offsets: np.ndarray,
                    estimate: PooledEstimate, segment_group: np.ndarray,
                    n_groups: int) -> list[np.ndarray]:
    """Expected emission counts per group, state and code under ``estimate`` (E-step).

    Parameters
    ----------
    codes, sizes, block_offsets
        As in :func:`pooled_em`.
    estimate : PooledEstimate
    segment_group : ndarray of int, shape (N,)
        Group (e.g. dyad) of each segment.
    n_groups : int

    Returns
    -------
    list of ndarray, shape (G, K, M_c) per channel
        Sum over a group's segments of P(state | all codes) for each code observed
        (uncoded segments count nowhere).
    """
    gamma = _e_step(codes, block_offsets, estimate)[3]
    group = np.asarray(segment_group, dtype=np.int64)
    out = []
    for c, m in enumerate(sizes):
        counts = np.zeros((int(n_groups), gamma.shape[1], m))
        code = codes[:, c].astype(np.int64)
        seen = code >= 0
        np.add.at(counts, (group[seen], slice(None), code[seen]), gamma[seen])
        out.append(counts)
    return out
