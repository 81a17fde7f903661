"""Starting points of the hidden Markov model's chains: a pooled fit by EM.

NUTS chains of a mixture-like model that start at random points can settle in different
modes (two states swapping roles in one chain and not in another). The chains of
:class:`~lagnest.models.hmm.HiddenMarkovModel` start instead near the maximum of the
likelihood of the pooled model (no dyad deviations, no predictors), found by the EM
algorithm (Baum-Welch) from a few seeded starts and ordered by the model's ordering
constraint, so that they begin in one labelling of one mode; PyMC's jitter still gives
each chain its own starting point around it. The E-step is the likelihood kernel's
gradient (:func:`lagnest.kernels.hmm.hmm_value_grad` returns the expected initial states,
expected transitions and posterior state probabilities), so no Python runs per segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lagnest.kernels.hmm import hmm_value_grad

__all__ = ["PooledEstimate", "dyad_em", "expected_counts", "pooled_em"]

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
    rng = np.random.default_rng(seed)
    k = int(n_states)
    stay = np.full((k, k), 0.2 / max(k - 1, 1))
    np.fill_diagonal(stay, 0.8)
    marginals = []
    for c, m in enumerate(sizes):
        coded = codes[:, c][codes[:, c] >= 0]
        marginals.append((np.bincount(coded, minlength=m) + PSEUDO_COUNT)
                         / (coded.size + m * PSEUDO_COUNT))
    best: PooledEstimate | None = None
    for _ in range(max(1, n_starts)):
        emission = [rng.dirichlet(5.0 * len(p) * p, size=k) + 1e-6 for p in marginals]
        start = PooledEstimate(np.full(k, 1.0 / k), stay.copy(),
                               [e / e.sum(1, keepdims=True) for e in emission], -np.inf, 0)
        est = _em(codes, list(sizes), np.asarray(block_offsets, dtype=np.int64), start,
                  max_iter, tol)
        if best is None or est.log_likelihood > best.log_likelihood:
            best = est
    assert best is not None
    return best


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
    offsets = np.asarray(block_offsets, dtype=np.int64)
    block_dyad = np.asarray(block_dyad, dtype=np.int64)
    out = []
    for dyad in range(int(n_dyads)):
        blocks = np.flatnonzero(block_dyad == dyad)
        if not blocks.size:
            out.append(start)
            continue
        pieces = [codes[offsets[b]:offsets[b + 1]] for b in blocks]
        own = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
        out.append(_em(np.concatenate(pieces), list(sizes), own, start, max_iter, tol))
    return out


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
