"""Within-session shuffles for permutation tests.

Within-session shuffles for permutation tests: free shuffles and constrained swap chains
that never fill a structural zero, run in parallel with one seed per permutation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lagnest.errors import LagnestDataError
from lagnest.kernels._common import (
    JIT_OPTIONS,
    PARALLEL_JIT_OPTIONS,
    _check_code_range,
    _randbelow,
    as_codes,
    as_index,
    check_blocks,
    check_lag,
    permutation_seeds,
)
from lagnest.kernels.counts import _count_into, _lag_counts_kernel

__all__ = [
    "ConstrainedShuffler",
    "constrained_permuted_tables",
    "permutable_positions",
    "permuted_tables",
]


@njit(**JIT_OPTIONS)
def _shuffle_sessions(given, target, positions, pos_offsets, state, same):
    """Fisher-Yates shuffle of ``(given, target)`` rows at ``positions`` within each session.

    With ``same`` (given and target are one array) only ``given`` is shuffled.
    """
    for s in range(pos_offsets.shape[0] - 1):
        a = pos_offsets[s]
        for k in range(pos_offsets[s + 1] - 1, a, -1):
            state, r = _randbelow(state, k - a + 1)
            i = positions[k]
            j = positions[a + r]
            tmp_g = given[i]
            given[i] = given[j]
            given[j] = tmp_g
            if not same:
                tmp_t = target[i]
                target[i] = target[j]
                target[j] = tmp_t
    return state


@njit(**PARALLEL_JIT_OPTIONS)
def _permuted_tables_kernel(
    given, target, block_offsets, positions, pos_offsets, lag, window, seeds, out
):
    """Pooled tables of independently shuffled copies; see :func:`permuted_tables`."""
    n_perm = seeds.shape[0]
    n_blocks = block_offsets.shape[0] - 1
    n_target = out.shape[2]
    same = given.shape == target.shape and np.all(given == target)
    for p in prange(n_perm):
        g = given.copy()
        t = g if same else target.copy()
        unit = np.zeros(n_blocks, dtype=np.int64)
        stamp = np.empty(n_target, dtype=np.int64)
        _shuffle_sessions(g, t, positions, pos_offsets, seeds[p], same)
        _count_into(g, t, block_offsets, unit, lag, window, out[p : p + 1], stamp)


@njit(**JIT_OPTIONS)
def _pair_allowed(given, target, seg_block, forbidden, a, lag):
    """Whether the pair (given at ``a``, target at ``a + lag``) is not a forbidden cell."""
    b = a + lag
    n = given.shape[0]
    if a < 0 or b < 0 or a >= n or b >= n:
        return True
    if seg_block[a] != seg_block[b]:
        return True
    g = given[a]
    h = target[b]
    if g < 0 or h < 0:
        return True
    return not forbidden[g, h]


@njit(**JIT_OPTIONS)
def _touching_pairs_allowed(given, target, seg_block, forbidden, i, lag):
    """Whether both pairs in which position ``i`` takes part are allowed."""
    return _pair_allowed(given, target, seg_block, forbidden, i, lag) and _pair_allowed(
        given, target, seg_block, forbidden, i - lag, lag
    )


@njit(**JIT_OPTIONS)
def _swap_rows(given, target, i, j):
    """Swap rows ``i`` and ``j`` of ``given`` and ``target``."""
    tmp_g = given[i]
    given[i] = given[j]
    given[j] = tmp_g
    tmp_t = target[i]
    target[i] = target[j]
    target[j] = tmp_t


@njit(**JIT_OPTIONS)
def _constrained_sweeps(given, target, seg_block, forbidden, positions, pos_offsets, lag,
                        n_sweeps, state):
    """Run ``n_sweeps`` sweeps of random swaps that keep every forbidden cell empty."""
    for _ in range(n_sweeps):
        for s in range(pos_offsets.shape[0] - 1):
            a = pos_offsets[s]
            m = pos_offsets[s + 1] - a
            if m < 2:
                continue
            for _k in range(m):
                state, ri = _randbelow(state, m)
                state, rj = _randbelow(state, m)
                i = positions[a + ri]
                j = positions[a + rj]
                if i == j or (given[i] == given[j] and target[i] == target[j]):
                    continue
                _swap_rows(given, target, i, j)
                if not (
                    _touching_pairs_allowed(given, target, seg_block, forbidden, i, lag)
                    and _touching_pairs_allowed(given, target, seg_block, forbidden, j, lag)
                ):
                    _swap_rows(given, target, i, j)
    return state


@njit(**PARALLEL_JIT_OPTIONS)
def _constrained_tables_kernel(chain_given, chain_target, states, block_offsets, seg_block,
                               forbidden, positions, pos_offsets, lag, burn_in, thin, out):
    """Advance each chain and record tables; see :func:`constrained_permuted_tables`."""
    n_chains = chain_given.shape[0]
    n_draws = out.shape[1]
    n_blocks = block_offsets.shape[0] - 1
    for c in prange(n_chains):
        g = chain_given[c]
        t = chain_target[c]
        unit = np.zeros(n_blocks, dtype=np.int64)
        state = _constrained_sweeps(g, t, seg_block, forbidden, positions, pos_offsets, lag,
                                    burn_in, states[c])
        for d in range(n_draws):
            state = _constrained_sweeps(g, t, seg_block, forbidden, positions, pos_offsets,
                                        lag, thin, state)
            _lag_counts_kernel(g, t, block_offsets, unit, lag, out[c, d : d + 1])
        states[c] = state


def permutable_positions(
    given: np.ndarray, target: np.ndarray, session_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions that a within-session shuffle may move, grouped by session.

    A segment moves only when both its given and its target code are coded; every other
    segment stays in place, so the pattern of coded positions (and hence N) is the same in
    every permutation.

    Parameters
    ----------
    given, target : ndarray of int, shape (n_segments,)
        Codes, negative = uncoded.
    session_offsets : ndarray of int, shape (n_sessions + 1,)
        Session boundaries.

    Returns
    -------
    positions : ndarray of int64
        Movable segment indices, sorted.
    pos_offsets : ndarray of int64, shape (n_sessions + 1,)
        Session ``s`` owns ``positions[pos_offsets[s]:pos_offsets[s + 1]]``.
    """
    positions = np.flatnonzero((given >= 0) & (target >= 0)).astype(np.int64)
    pos_offsets = np.searchsorted(positions, as_index("session_offsets", session_offsets))
    return positions, pos_offsets.astype(np.int64)


def permuted_tables(
    given: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    session_offsets: np.ndarray,
    n_given: int,
    n_target: int,
    seeds: np.ndarray,
    lag: int = 1,
    window: int | None = None,
) -> np.ndarray:
    """Pooled lag tables of independent within-session shuffles, in parallel.

    Parameters
    ----------
    given, target, block_offsets, n_given, n_target, lag, window
        As in :func:`lag_counts`.
    session_offsets : ndarray of int, shape (n_sessions + 1,)
        Shuffles never move a segment out of its session.
    seeds : ndarray of uint64, shape (n_perm,)
        One seed per permutation (see :func:`permutation_seeds`); permutation ``p`` depends
        on ``seeds[p]`` only, whatever the thread scheduling.

    Returns
    -------
    ndarray of int64, shape (n_perm, n_given, n_target)

    Notes
    -----
    Each permutation shuffles the rows ``(given[t], target[t])`` jointly with a
    Fisher-Yates shuffle among the positions of each session at which both are coded
    (:func:`permutable_positions`); block boundaries and uncoded segments stay in place.
    When given and target are the same stream this is the classical shuffle of the code
    sequence within each session (GSEQ, O'Connor 1999).
    """
    lag, window = check_lag(lag, window)
    given = as_codes("given", given)
    target = as_codes("target", target)
    offsets = check_blocks(block_offsets, given.shape[0])
    _check_code_range(given, n_given, target, n_target)
    positions, pos_offsets = permutable_positions(given, target, session_offsets)
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64)
    out = np.zeros((seeds.shape[0], n_given, n_target), dtype=np.int64)
    _permuted_tables_kernel(given, target, offsets, positions, pos_offsets, lag, window, seeds,
                            out)
    return out


class ConstrainedShuffler:
    """Markov chains of within-session swaps that never fill a forbidden cell.

    Parameters
    ----------
    given, target : ndarray of int, shape (n_segments,)
        Observed codes; the observed sequence must have no pair in a forbidden cell.
    block_offsets, session_offsets : ndarray of int
        As in :func:`permuted_tables`.
    forbidden : ndarray of bool, shape (n_given, n_target)
        Structural zeros.
    lag : int
        Lag of the pairs that must avoid forbidden cells (not 0).
    seed : int or None
        Seed; chain ``c`` is seeded by the ``c``-th state of a SeedSequence.
    n_chains : int, default 32
        Fixed number of independent chains, run in parallel; it does not depend on the
        number of threads, so results are reproducible.
    burn_in : int, default 20
        Sweeps run before the first recorded table of each chain.
    thin : int, default 1
        Sweeps between recorded tables.

    Notes
    -----
    A *sweep* proposes, for each session with m movable segments, m swaps of two random
    movable segments of that session (rows ``(given, target)`` move together). A swap is
    kept only when every lag pair touching the two positions is still allowed; otherwise
    it is undone. The proposal is symmetric, so the chain's stationary distribution is
    uniform over the arrangements reachable from the observed one by allowed swaps, i.e.
    the within-session permutations with no forbidden transition (when the swap graph is
    connected, which holds in practice but is not guaranteed for every constraint
    pattern). Each chain starts from the observed sequence, so recorded tables are
    correlated within a chain; ``burn_in`` and ``thin`` trade speed for independence.
    """

    def __init__(
        self,
        given: np.ndarray,
        target: np.ndarray,
        block_offsets: np.ndarray,
        session_offsets: np.ndarray,
        forbidden: np.ndarray,
        lag: int,
        seed: int | None,
        n_chains: int = 32,
        burn_in: int = 20,
        thin: int = 1,
    ) -> None:
        lag, _ = check_lag(lag, None)
        if lag == 0:
            raise LagnestDataError("a constrained shuffle needs a non-zero lag")
        given = as_codes("given", given).astype(np.int64)
        target = as_codes("target", target).astype(np.int64)
        self.offsets = check_blocks(block_offsets, given.shape[0])
        self.forbidden = np.ascontiguousarray(forbidden, dtype=np.bool_)
        _check_code_range(given, self.forbidden.shape[0], target, self.forbidden.shape[1])
        self.seg_block = np.repeat(np.arange(self.offsets.size - 1), np.diff(self.offsets))
        self.positions, self.pos_offsets = permutable_positions(given, target, session_offsets)
        self.lag = lag
        self.chain_given = np.tile(given, (n_chains, 1))
        self.chain_target = np.tile(target, (n_chains, 1))
        self.states = permutation_seeds(seed, n_chains)
        self.burn_in = burn_in
        self.thin = thin

    @property
    def n_chains(self) -> int:
        """Number of chains."""
        return self.chain_given.shape[0]

    def draw(self, n_per_chain: int) -> np.ndarray:
        """Advance every chain by ``n_per_chain`` tables; return (n_chains * n, K, M) counts."""
        k, m = self.forbidden.shape
        out = np.zeros((self.n_chains, n_per_chain, k, m), dtype=np.int64)
        _constrained_tables_kernel(self.chain_given, self.chain_target, self.states,
                                   self.offsets, self.seg_block, self.forbidden, self.positions,
                                   self.pos_offsets, self.lag, self.burn_in, self.thin, out)
        self.burn_in = 0
        return out.reshape(-1, k, m)


def constrained_permuted_tables(
    given: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    session_offsets: np.ndarray,
    forbidden: np.ndarray,
    n_perm: int,
    lag: int = 1,
    seed: int | None = 0,
) -> np.ndarray:
    """Pooled tables of within-session shuffles that respect structural zeros.

    A convenience wrapper around :class:`ConstrainedShuffler` (see its Notes for the
    swap scheme).

    Returns
    -------
    ndarray of int64, shape (n_perm, n_given, n_target)
    """
    shuffler = ConstrainedShuffler(given, target, block_offsets, session_offsets, forbidden,
                                   lag, seed)
    per_chain = -(-n_perm // shuffler.n_chains)
    return shuffler.draw(per_chain)[:n_perm]
