"""Numba kernels for lag-sequential counting and within-session shuffles.

Kernels see contiguous NumPy arrays only and write into preallocated outputs; the public
wrappers in this module validate dtypes, shapes, contiguity and ranges first, so a bad
array raises a Python exception instead of corrupting memory inside numba.

Conventions (see ``ARCHITECTURE.md``, "The encoded arrays"):

* codes are integer arrays (any integer dtype; ``int8`` saves bandwidth), ``0..K-1``,
  any negative value = uncoded;
* ``block_offsets`` (n_blocks + 1) delimit blocks, maximal runs of segments without a
  break inside one session; a lag pair ``(t, t + lag)`` is tallied only when both
  segments lie in one block and both are coded;
* ``block_unit`` (n_blocks) maps each block to the unit (session, dyad, or 0 for a
  pooled table) whose table it feeds.

Randomness uses a SplitMix64 generator implemented here, seeded per permutation (or per
chain) from :class:`numpy.random.SeedSequence`; results therefore do not depend on thread
scheduling, on the number of threads, or on whether numba's JIT is enabled.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lagnest.errors import LagnestDataError

__all__ = [
    "JIT_OPTIONS",
    "PARALLEL_JIT_OPTIONS",
    "ConstrainedShuffler",
    "check_pattern_lags",
    "check_pattern_radices",
    "constrained_permuted_tables",
    "decode_pattern_keys",
    "lag_counts",
    "pattern_code_dtype",
    "pattern_key_space",
    "pattern_keys",
    "pattern_rows",
    "permutable_positions",
    "permutation_seeds",
    "permuted_tables",
    "set_lag_counts",
]

#: Compile flags for every kernel, kept in one place.
JIT_OPTIONS: dict[str, bool] = {"cache": True, "nogil": True, "fastmath": False}
#: Compile flags for kernels that run ``prange`` loops.
PARALLEL_JIT_OPTIONS: dict[str, bool] = {**JIT_OPTIONS, "parallel": True}

_SM_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SM_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_SM_MUL2 = np.uint64(0x94D049BB133111EB)
_SHIFT30 = np.uint64(30)
_SHIFT27 = np.uint64(27)
_SHIFT31 = np.uint64(31)
_SHIFT11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0
#: Segments from which 1-byte codes use the branch-free kernel (its 512 kB scratch table
#: costs more than it saves on short inputs).
_BYTE_KERNEL_MIN = 1 << 16


# --------------------------------------------------------------------------- kernels


@njit(**JIT_OPTIONS)
def _splitmix64(state):
    """Advance a SplitMix64 state; return ``(new_state, random uint64)``."""
    state = state + _SM_GAMMA
    z = state
    z = (z ^ (z >> _SHIFT30)) * _SM_MUL1
    z = (z ^ (z >> _SHIFT27)) * _SM_MUL2
    return state, z ^ (z >> _SHIFT31)


@njit(**JIT_OPTIONS)
def _randbelow(state, n):
    """Return ``(new_state, r)`` with ``r`` uniform on ``0..n-1`` (53-bit resolution)."""
    state, z = _splitmix64(state)
    r = np.int64(np.float64(z >> _SHIFT11) * _INV_2_53 * n)
    if r >= n:
        r = n - 1
    return state, r


@njit(**JIT_OPTIONS)
def _pair_range(start, end, lag):
    """Range of given positions ``t`` with ``t`` and ``t + lag`` inside ``[start, end)``."""
    lo = start if lag >= 0 else start - lag
    hi = end - lag if lag >= 0 else end
    return lo, hi


@njit(**JIT_OPTIONS)
def _lag_counts_kernel(given, target, block_offsets, block_unit, lag, out):
    """Add lag-``lag`` pair counts into ``out[unit, g, h]``; return the out-of-range count.

    See :func:`lag_counts`.
    """
    n_given = out.shape[1]
    n_target = out.shape[2]
    bad = 0
    for b in range(block_offsets.shape[0] - 1):
        u = block_unit[b]
        lo, hi = _pair_range(block_offsets[b], block_offsets[b + 1], lag)
        for t in range(lo, hi):
            g = np.int64(given[t])
            h = np.int64(target[t + lag])
            if g < 0 or h < 0:
                continue
            if g >= n_given or h >= n_target:
                bad += 1
                continue
            out[u, g, h] += 1
    return bad


@njit(**JIT_OPTIONS)
def _byte_lag_counts_kernel(given, target, block_offsets, lag, out):
    """Pooled lag counts of 1-byte codes, branch-free; return the out-of-range count.

    Every byte pair indexes a 256 x 256 scratch table (negative codes land in rows or
    columns >= 128), so the loop has no branch; the K x M corner is the table and any
    count with a non-negative code at or above K or M is reported. See :func:`lag_counts`.
    """
    n_given = out.shape[1]
    n_target = out.shape[2]
    tab = np.zeros(65536, dtype=np.int64)
    for b in range(block_offsets.shape[0] - 1):
        lo, hi = _pair_range(block_offsets[b], block_offsets[b + 1], lag)
        for t in range(lo, hi):
            tab[(np.int64(given[t]) & 255) * 256 + (np.int64(target[t + lag]) & 255)] += 1
    bad = 0
    for g in range(128):
        for h in range(128):
            if g < n_given and h < n_target:
                out[0, g, h] += tab[g * 256 + h]
            else:
                bad += tab[g * 256 + h]
    return bad


@njit(**JIT_OPTIONS)
def _window_counts_kernel(given, target, block_offsets, block_unit, window, out, stamp):
    """Add window counts (each distinct target once per given segment); see :func:`lag_counts`.

    ``stamp`` is scratch of length ``n_target`` (any content).
    """
    n_given = out.shape[1]
    n_target = out.shape[2]
    bad = 0
    for h in range(n_target):
        stamp[h] = -1
    for b in range(block_offsets.shape[0] - 1):
        u = block_unit[b]
        start = block_offsets[b]
        end = block_offsets[b + 1]
        for t in range(start, end - 1):
            g = np.int64(given[t])
            if g < 0:
                continue
            if g >= n_given:
                bad += 1
                continue
            stop = min(end, t + window + 1)
            for s in range(t + 1, stop):
                h = np.int64(target[s])
                if h < 0:
                    continue
                if h >= n_target:
                    bad += 1
                    continue
                if stamp[h] != t:
                    stamp[h] = t
                    out[u, g, h] += 1
    return bad


@njit(**JIT_OPTIONS)
def _set_lag_counts_kernel(given_set, target, block_offsets, block_unit, lag, window, out, stamp):
    """Add one 2 x M table per indicator column into ``out[unit, p, g, h]``.

    ``window == 0`` counts lag-``lag`` pairs, ``window > 0`` counts window pairs (each
    distinct target once per given segment). See :func:`set_lag_counts`.
    """
    n_ind = given_set.shape[1]
    n_target = out.shape[3]
    bad = 0
    for h in range(n_target):
        stamp[h] = -1
    for b in range(block_offsets.shape[0] - 1):
        u = block_unit[b]
        start = block_offsets[b]
        end = block_offsets[b + 1]
        if window == 0:
            lo, hi = _pair_range(start, end, lag)
            for t in range(lo, hi):
                h = np.int64(target[t + lag])
                if h < 0:
                    continue
                if h >= n_target:
                    bad += 1
                    continue
                for p in range(n_ind):
                    g = np.int64(given_set[t, p])
                    if g < 0:
                        continue
                    if g > 1:
                        bad += 1
                        continue
                    out[u, p, g, h] += 1
        else:
            for t in range(start, end - 1):
                stop = min(end, t + window + 1)
                for s in range(t + 1, stop):
                    h = np.int64(target[s])
                    if h < 0:
                        continue
                    if h >= n_target:
                        bad += 1
                        continue
                    if stamp[h] == t:
                        continue
                    stamp[h] = t
                    for p in range(n_ind):
                        g = np.int64(given_set[t, p])
                        if g < 0:
                            continue
                        if g > 1:
                            bad += 1
                            continue
                        out[u, p, g, h] += 1
    return bad


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


@njit(**JIT_OPTIONS)
def _count_into(given, target, block_offsets, block_unit, lag, window, out, stamp):
    """Dispatch to the lag or window counting kernel."""
    if window == 0:
        return _lag_counts_kernel(given, target, block_offsets, block_unit, lag, out)
    return _window_counts_kernel(given, target, block_offsets, block_unit, window, out, stamp)


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


# --------------------------------------------------------------------------- validation


def _as_codes(name: str, codes: np.ndarray, ndim: int = 1) -> np.ndarray:
    """Return ``codes`` as a contiguous integer array of ``ndim`` dims, or raise TypeError."""
    if not isinstance(codes, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(codes).__name__}")
    if codes.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {codes.shape}")
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {codes.dtype}")
    return np.ascontiguousarray(codes)


def _as_index(name: str, values: np.ndarray) -> np.ndarray:
    """Return ``values`` as a contiguous 1-d int64 array."""
    arr = _as_codes(name, np.asarray(values), 1)
    return arr.astype(np.int64, copy=False)


def _check_blocks(block_offsets: np.ndarray, n_segments: int,
                  name: str = "block_offsets") -> np.ndarray:
    """Validate block (or session) offsets: start 0, end ``n_segments``, non-decreasing."""
    offsets = _as_index(name, block_offsets)
    if offsets.size == 0 or offsets[0] != 0 or offsets[-1] != n_segments:
        raise ValueError(
            f"{name} must start at 0 and end at the number of segments ({n_segments})"
        )
    if np.any(np.diff(offsets) < 0):
        raise ValueError(f"{name} must be non-decreasing")
    return offsets


def _check_units(block_unit: np.ndarray, n_blocks: int, n_units: int) -> np.ndarray:
    """Validate the block-to-unit map."""
    unit = _as_index("block_unit", block_unit)
    if unit.shape[0] != n_blocks:
        raise ValueError(f"block_unit must have one entry per block ({n_blocks}), got {unit.size}")
    if n_blocks and (unit.min() < 0 or unit.max() >= n_units):
        raise ValueError(f"block_unit values must lie in 0..{n_units - 1}")
    return unit


#: Largest |lag| or window the wrappers accept: far beyond any session (segment offsets are
#: int64), so that ``t + lag`` cannot overflow inside a kernel.
_MAX_LAG = 2**62


def _check_lag(lag: int, window: int | None) -> tuple[int, int]:
    """Normalise ``(lag, window)``; window mode counts t+1..t+W and needs lag 1."""
    if isinstance(lag, bool) or not isinstance(lag, int | np.integer):
        raise LagnestDataError(f"lag must be an integer, got {lag!r}")
    if not -_MAX_LAG <= lag <= _MAX_LAG:
        raise LagnestDataError(f"lag must lie within +-{_MAX_LAG:,} (longer than any session "
                               f"could be), got {lag}")
    if window is None:
        return int(lag), 0
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise LagnestDataError(f"window must be a positive integer, got {window!r}")
    if window > _MAX_LAG:
        raise LagnestDataError(f"window must be at most {_MAX_LAG:,}, got {window}")
    if lag != 1:
        raise LagnestDataError("give either lag or window, not both (window counts t+1..t+W)")
    return 1, int(window)


def _raise_if_bad(bad: int, what: str) -> None:
    """Raise when a kernel met codes outside the declared range."""
    if bad:
        raise ValueError(f"{bad} {what} code(s) lie outside the declared number of codes")


# --------------------------------------------------------------------------- wrappers


def lag_counts(
    given: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    block_unit: np.ndarray | None,
    n_given: int,
    n_target: int,
    n_units: int = 1,
    lag: int = 1,
    window: int | None = None,
) -> np.ndarray:
    r"""Count lag-L (or window) pairs per unit in one pass over the segments.

    Parameters
    ----------
    given, target : ndarray of int, shape (n_segments,)
        Codes ``0..K-1`` and ``0..M-1``; negative = uncoded. Any integer dtype.
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks are runs of segments without a break inside one session.
    block_unit : ndarray of int, shape (n_blocks,) or None
        Unit (table) of each block; None pools every block into one table.
    n_given, n_target, n_units : int
        Table shape.
    lag : int, default 1
        Pairs ``(t, t + lag)``; 0 counts co-occurrence in one segment, negative lags look
        backwards.
    window : int, optional
        Count instead the targets anywhere in ``t+1 .. t+window`` (within the block).
        Each distinct target code is counted **once per given segment**, however often it
        occurs in the window, so a cell counts "given segments followed within W by j".

    Returns
    -------
    ndarray of int64, shape (n_units, n_given, n_target)
        The pooled table is ``out.sum(axis=0)``.

    Raises
    ------
    ValueError
        When a used code is at or above ``n_given`` / ``n_target``, or offsets are invalid.

    Notes
    -----
    For lag L >= 0 a block ``[s, e)`` contributes the pairs ``t = s .. e-L-1`` with both
    codes non-negative, so a block of length T contributes at most ``max(T - L, 0)``
    pairs and pooled :math:`N = \sum_b (T_b - L)` when everything is coded.

    Pooled lag counts of 1-byte codes (``int8``/``uint8``; values above 127 count as
    uncoded) use a branch-free kernel; keep code arrays in ``int8`` for large corpora.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 1, 0, 1, 0])
    >>> lag_counts(x, x, np.array([0, 5]), None, 2, 2)[0]
    array([[0, 2],
           [2, 0]])
    """
    lag, window = _check_lag(lag, window)
    given = _as_codes("given", given)
    target = _as_codes("target", target)
    if given.shape != target.shape:
        raise ValueError(f"given and target differ in length: {given.size} vs {target.size}")
    offsets = _check_blocks(block_offsets, given.shape[0])
    n_blocks = offsets.size - 1
    if block_unit is None:
        block_unit = np.zeros(n_blocks, dtype=np.int64)
        n_units = 1
    unit = _check_units(block_unit, n_blocks, n_units)
    out = np.zeros((n_units, n_given, n_target), dtype=np.int64)
    if (n_units == 1 and not window and given.itemsize == 1 and target.itemsize == 1
            and given.size >= _BYTE_KERNEL_MIN):
        bad = _byte_lag_counts_kernel(given.view(np.int8), target.view(np.int8), offsets, lag,
                                      out)
    else:
        stamp = np.empty(n_target, dtype=np.int64)
        bad = _count_into(given, target, offsets, unit, lag, window, out, stamp)
    _raise_if_bad(bad, "given or target")
    return out


def set_lag_counts(
    given_set: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    block_unit: np.ndarray | None,
    n_target: int,
    n_units: int = 1,
    lag: int = 1,
    window: int | None = None,
) -> np.ndarray:
    """Count one 2 x M table per indicator of a set, in a single pass.

    Parameters
    ----------
    given_set : ndarray of int, shape (n_segments, P)
        Indicator matrix: 0 absent, 1 present, negative uncoded.
    target : ndarray of int, shape (n_segments,)
        Target codes ``0..M-1``, negative uncoded.
    block_offsets, block_unit, n_units, lag, window
        As in :func:`lag_counts`.
    n_target : int
        Number of target codes M.

    Returns
    -------
    ndarray of int64, shape (n_units, P, 2, n_target)
        Row 0 = indicator absent at t, row 1 = present.

    Examples
    --------
    >>> import numpy as np
    >>> ind = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.int8)
    >>> set_lag_counts(ind, np.array([0, 1, 0]), np.array([0, 3]), None, 2)[0, 0]
    array([[1, 0],
           [0, 1]])
    """
    lag, window = _check_lag(lag, window)
    given_set = _as_codes("given_set", given_set, 2)
    target = _as_codes("target", target)
    if given_set.shape[0] != target.shape[0]:
        raise ValueError("given_set and target differ in number of segments")
    offsets = _check_blocks(block_offsets, target.shape[0])
    n_blocks = offsets.size - 1
    if block_unit is None:
        block_unit = np.zeros(n_blocks, dtype=np.int64)
        n_units = 1
    unit = _check_units(block_unit, n_blocks, n_units)
    out = np.zeros((n_units, given_set.shape[1], 2, n_target), dtype=np.int64)
    stamp = np.empty(n_target, dtype=np.int64)
    bad = _set_lag_counts_kernel(given_set, target, offsets, unit, lag, window, out, stamp)
    _raise_if_bad(bad, "indicator or target")
    return out


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
    pos_offsets = np.searchsorted(positions, _as_index("session_offsets", session_offsets))
    return positions, pos_offsets.astype(np.int64)


def lag_pair_starts(block_offsets: np.ndarray, lag: int) -> np.ndarray:
    """Positions ``t`` whose pair ``(t, t + lag)`` lies inside one block (plain numpy).

    The same rule as the counting kernels (:func:`_pair_range` per block), for callers
    that need the pairs themselves, e.g. the per-segment model. Uncoded segments are not
    filtered here.
    """
    offsets = np.asarray(block_offsets, dtype=np.int64)
    n = int(offsets[-1]) if offsets.size else 0
    block = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    t = np.arange(n, dtype=np.int64)
    u = t + lag
    inside = (u >= 0) & (u < n)
    same = np.zeros(n, dtype=bool)
    same[inside] = block[t[inside]] == block[u[inside]]
    return t[same]


def permutation_seeds(seed: int | None, n: int) -> np.ndarray:
    """``n`` independent uint64 seeds derived from ``seed`` (:class:`numpy.random.SeedSequence`)."""
    return np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)


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
    lag, window = _check_lag(lag, window)
    given = _as_codes("given", given)
    target = _as_codes("target", target)
    offsets = _check_blocks(block_offsets, given.shape[0])
    _check_code_range(given, n_given, target, n_target)
    positions, pos_offsets = permutable_positions(given, target, session_offsets)
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64)
    out = np.zeros((seeds.shape[0], n_given, n_target), dtype=np.int64)
    _permuted_tables_kernel(given, target, offsets, positions, pos_offsets, lag, window, seeds,
                            out)
    return out


def _check_code_range(given: np.ndarray, n_given: int, target: np.ndarray, n_target: int) -> None:
    """Raise when a code is at or above the declared number of codes."""
    if given.size and (given.max() >= n_given or target.max() >= n_target):
        raise ValueError("given or target codes lie outside the declared number of codes")


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
        lag, _ = _check_lag(lag, None)
        if lag == 0:
            raise LagnestDataError("a constrained shuffle needs a non-zero lag")
        given = _as_codes("given", given).astype(np.int64)
        target = _as_codes("target", target).astype(np.int64)
        self.offsets = _check_blocks(block_offsets, given.shape[0])
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


# =========================================================================== replication
# Sequence replication and per-sequence statistics for predictive checks (one block:
# kernels, validation, wrappers). Replicate ``d`` draws from its own SplitMix64 stream,
# seeded by ``seeds[d]``, so results do not depend on threads or scheduling.

__all__ += [
    "replicate_seeds",
    "run_lengths",
    "simulate_chains",
    "simulate_given",
    "triple_counts",
]

#: Largest allowed deviation of a row of transition probabilities from a sum of 1.
PROB_ROW_TOLERANCE = 1e-6


@njit(**JIT_OPTIONS)
def _uniform(state):
    """Return ``(new_state, u)`` with ``u`` uniform on [0, 1) (53-bit resolution)."""
    state, z = _splitmix64(state)
    return state, np.float64(z >> _SHIFT11) * _INV_2_53


@njit(**JIT_OPTIONS)
def _draw_code(state, cum):
    """Draw a code from one row of cumulative probabilities whose last entry is 1.0.

    A code of probability 0 is never drawn: its cumulative value equals its predecessor's.
    """
    state, u = _uniform(state)
    last = cum.shape[0] - 1
    for j in range(last):
        if u < cum[j]:
            return state, j
    return state, last


@njit(**PARALLEL_JIT_OPTIONS)
def _simulate_chains_kernel(first, cum, block_offsets, block_session, lag, seeds, out):
    """Fully generative Markov replication into ``out (D, n)``; see :func:`simulate_chains`."""
    n_blocks = block_offsets.shape[0] - 1
    for d in prange(out.shape[0]):
        state = seeds[d]
        row = out[d]
        for b in range(n_blocks):
            s = block_session[b]
            start = block_offsets[b]
            for t in range(start, block_offsets[b + 1]):
                x = np.int64(first[t])
                if x < 0:
                    row[t] = -1
                    continue
                if t - lag >= start:
                    prev = np.int64(row[t - lag])
                    if prev >= 0:
                        state, x = _draw_code(state, cum[d, s, prev])
                row[t] = x


@njit(**PARALLEL_JIT_OPTIONS)
def _simulate_given_kernel(given, coded, cum, block_offsets, block_session, lag, seeds, out):
    """One-step-ahead replication of targets into ``out (D, n)`` (pre-filled with -1)."""
    n_blocks = block_offsets.shape[0] - 1
    for d in prange(out.shape[0]):
        state = seeds[d]
        row = out[d]
        for b in range(n_blocks):
            s = block_session[b]
            lo, hi = _pair_range(block_offsets[b], block_offsets[b + 1], lag)
            for t in range(lo, hi):
                g = np.int64(given[t])
                if g < 0 or not coded[t + lag]:
                    continue
                state, h = _draw_code(state, cum[d, s, g])
                row[t + lag] = h


@njit(**PARALLEL_JIT_OPTIONS)
def _run_lengths_kernel(codes, block_offsets, block_unit, n_runs, n_in_runs, longest, bad):
    """Runs of every code per replicate and unit; see :func:`run_lengths`.

    A run is a maximal stretch of one code inside a block; an uncoded segment, another
    code or the block end closes it. ``bad[d]`` counts codes at or above the code count.
    """
    n_blocks = block_offsets.shape[0] - 1
    n_codes = n_runs.shape[2]
    for d in prange(codes.shape[0]):
        row = codes[d]
        n_bad = 0
        for b in range(n_blocks):
            u = block_unit[b]
            end = block_offsets[b + 1]
            cur = -1
            length = 0
            for t in range(block_offsets[b], end + 1):
                x = np.int64(-1)
                if t < end:
                    x = np.int64(row[t])
                    if x >= n_codes:
                        n_bad += 1
                        x = -1
                if x >= 0 and x == cur:
                    length += 1
                    continue
                if cur >= 0:
                    n_runs[d, u, cur] += 1
                    n_in_runs[d, u, cur] += length
                    if length > longest[d, u, cur]:
                        longest[d, u, cur] = length
                cur = x
                length = 1
        bad[d] = n_bad


@njit(**PARALLEL_JIT_OPTIONS)
def _triple_counts_kernel(codes, block_offsets, block_unit, lag, out, bad):
    """Counts of ``(x_t, x_{t+lag}, x_{t+2 lag})`` inside blocks; see :func:`triple_counts`."""
    n_blocks = block_offsets.shape[0] - 1
    n_codes = out.shape[2]
    for d in prange(codes.shape[0]):
        row = codes[d]
        n_bad = 0
        for b in range(n_blocks):
            u = block_unit[b]
            for t in range(block_offsets[b], block_offsets[b + 1] - 2 * lag):
                i = np.int64(row[t])
                j = np.int64(row[t + lag])
                k = np.int64(row[t + 2 * lag])
                if i < 0 or j < 0 or k < 0:
                    continue
                if i >= n_codes or j >= n_codes or k >= n_codes:
                    n_bad += 1
                    continue
                out[d, u, i, j, k] += 1
        bad[d] = n_bad


def _code_dtype(n_codes: int) -> type[np.signedinteger]:
    """Smallest signed dtype holding codes ``0..n_codes-1`` and -1 (int8 up to 127 codes)."""
    if n_codes <= np.iinfo(np.int8).max:
        return np.int8
    if n_codes <= np.iinfo(np.int16).max:
        return np.int16
    raise LagnestDataError(f"at most {np.iinfo(np.int16).max} codes can be replicated, "
                           f"got {n_codes}")


def _cumulative_probs(probs: np.ndarray, n_rows: int | None = None) -> np.ndarray:
    """Validate row-stochastic ``probs (D, S, K, M)``; return cumulative rows ending in 1.0."""
    arr = np.asarray(probs)
    if arr.ndim != 4:
        raise LagnestDataError(
            f"probs must have 4 dimensions (replicate, session, given, target), got shape "
            f"{arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"probs must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if n_rows is not None and arr.shape[2] != n_rows:
        raise LagnestDataError(f"probs has {arr.shape[2]} given rows; the chain needs square "
                               f"(K, K) rows, got shape {arr.shape}")
    if 0 in arr.shape:
        raise LagnestDataError(f"probs must not be empty, got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise LagnestDataError(
            f"probs must be finite and non-negative; probs{list(where)} = {arr[where]!r}")
    sums = arr.sum(-1)
    off = np.abs(sums - 1.0) > PROB_ROW_TOLERANCE
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        raise LagnestDataError(
            f"every row of probs must sum to 1 (tolerance {PROB_ROW_TOLERANCE:g}); row "
            f"(replicate, session, given) = {where} sums to {sums[where]!r}")
    cum = np.cumsum(arr, axis=-1)
    cum /= cum[..., -1:]
    return np.ascontiguousarray(cum)


def replicate_seeds(seed: int | np.ndarray, n: int) -> np.ndarray:
    """One uint64 seed per replicate: ``seed`` expanded by SeedSequence, or checked as given.

    Parameters
    ----------
    seed : int or ndarray of uint64
        An integer (expanded with :func:`permutation_seeds`) or ``n`` ready-made seeds.
    n : int
        Number of replicates.

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return permutation_seeds(int(seed), n)
    if seed is None:
        raise LagnestDataError("seed must be an integer or an array of seeds, not None")
    arr = np.asarray(seed)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise LagnestDataError(
            f"seeds must be {n} integers (one per replicate), got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr.astype(np.uint64))


def _check_replication(codes: np.ndarray, name: str, probs: np.ndarray, block_offsets,
                       block_session, n_rows: int | None):
    """Shared validation of the replication wrappers; return arrays ready for a kernel."""
    codes = _as_codes(name, codes)
    offsets = _check_blocks(block_offsets, codes.shape[0])
    cum = _cumulative_probs(probs, n_rows)
    n_sessions, n_given = cum.shape[1], cum.shape[2]
    session = _check_units(block_session, offsets.size - 1, n_sessions)
    if codes.size and codes.max() >= n_given:
        where = int(np.argmax(codes >= n_given))
        raise LagnestDataError(
            f"{name}[{where}] = {int(codes[where])} lies outside the {n_given} codes of probs")
    return codes, offsets, cum, session


def simulate_chains(
    first: np.ndarray,
    probs: np.ndarray,
    block_offsets: np.ndarray,
    block_session: np.ndarray,
    seeds: int | np.ndarray,
    lag: int = 1,
) -> np.ndarray:
    r"""Replicate a categorical code sequence from a Markov chain of order ``lag``.

    Parameters
    ----------
    first : ndarray of int, shape (n_segments,)
        Observed codes ``0..K-1``, negative = uncoded. They fix which segments are coded
        and the codes at which each chain starts.
    probs : ndarray of float, shape (D, S, K, K)
        ``probs[d, s, i, j]`` = P(code j at t | code i at t - lag) in replicate d and
        session s; every row must sum to 1 (tolerance ``PROB_ROW_TOLERANCE``).
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks (see :func:`lag_counts`); no chain step crosses a block boundary.
    block_session : ndarray of int, shape (n_blocks,)
        Session of each block, ``0..S-1``.
    seeds : int or ndarray of uint64, shape (D,)
        Seed (see :func:`replicate_seeds`); replicate d depends on its own seed only.
    lag : int, default 1
        Order of the chain: the code at t is drawn given the code at t - lag.

    Returns
    -------
    ndarray of int8 (int16 when K > 127), shape (D, n_segments)
        Replicated codes, -1 = uncoded.

    Notes
    -----
    Segment t of a block starting at s:

    * uncoded in ``first`` -> uncoded (-1) in every replicate;
    * coded, with ``t - lag >= s`` and segment ``t - lag`` coded -> drawn from
      ``probs[d, session, x_rep[t - lag], :]``;
    * coded otherwise (one of the first ``lag`` segments of its block, or its lag
      predecessor is uncoded) -> the observed code ``first[t]``: the chain restarts there.

    The drawn segments are exactly the targets of the lag pairs that :func:`lag_counts`
    tallies, so every replicate has the observed number of pairs per block, and the
    restart codes are the observed ones. Blocks are simulated in order with one generator
    per replicate.

    Examples
    --------
    >>> import numpy as np
    >>> up = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])  # always switch code
    >>> simulate_chains(np.array([1, 0, 0, -1, 0, 0]), up, np.array([0, 6]),
    ...                 np.array([0]), seeds=0)
    array([[ 1,  0,  1, -1,  0,  1]], dtype=int8)
    """
    lag, _ = _check_lag(lag, None)
    if lag < 1:
        raise LagnestDataError(f"a chain needs lag >= 1, got {lag}")
    probs = np.asarray(probs)
    n_rows = probs.shape[-1] if probs.ndim == 4 else None
    first, offsets, cum, session = _check_replication(first, "first", probs, block_offsets,
                                                      block_session, n_rows)
    seeds = replicate_seeds(seeds, cum.shape[0])
    out = np.empty((cum.shape[0], first.shape[0]), dtype=_code_dtype(cum.shape[3]))
    _simulate_chains_kernel(first, cum, offsets, session, lag, seeds, out)
    return out


def simulate_given(
    given: np.ndarray,
    probs: np.ndarray,
    block_offsets: np.ndarray,
    block_session: np.ndarray,
    seeds: int | np.ndarray,
    lag: int = 1,
    target: np.ndarray | None = None,
) -> np.ndarray:
    """Replicate target codes one step ahead, given the observed given codes.

    Parameters
    ----------
    given : ndarray of int, shape (n_segments,)
        Observed given codes ``0..K-1``, negative = uncoded.
    probs : ndarray of float, shape (D, S, K, M)
        ``probs[d, s, i, :]`` = distribution of the target at t + lag given code i at t,
        in replicate d and session s; rows sum to 1.
    block_offsets, block_session, seeds
        As in :func:`simulate_chains`.
    lag : int, default 1
        Pairs ``(t, t + lag)``; any integer (0 = same segment, negative = backwards).
    target : ndarray of int, shape (n_segments,), optional
        Observed target codes; only where they are coded (>= 0) is a target drawn, so the
        replicate has exactly the observed lag pairs. None = every position counts as coded.

    Returns
    -------
    ndarray of int8 (int16 when M > 127), shape (D, n_segments)
        ``out[d, t + lag]`` is drawn for every pair ``(t, t + lag)`` inside one block with
        ``given[t]`` coded (and ``target[t + lag]`` coded); every other position is -1.
        :func:`lagnest.sequence_stats.paired_targets` masks an observed target alike.

    Examples
    --------
    >>> import numpy as np
    >>> copy = np.eye(2)[None, None]  # target = given one step earlier
    >>> simulate_given(np.array([0, 1, 1, -1, 0]), copy, np.array([0, 3, 5]),
    ...                np.array([0, 0]), seeds=1)
    array([[-1,  0,  1, -1, -1]], dtype=int8)
    """
    lag, _ = _check_lag(lag, None)
    given, offsets, cum, session = _check_replication(given, "given", probs, block_offsets,
                                                      block_session, None)
    if target is None:
        coded = np.ones(given.shape[0], dtype=np.bool_)
    else:
        target = _as_codes("target", target)
        if target.shape != given.shape:
            raise LagnestDataError(
                f"given and target differ in length: {given.size} vs {target.size}")
        coded = np.ascontiguousarray(target >= 0)
    seeds = replicate_seeds(seeds, cum.shape[0])
    out = np.full((cum.shape[0], given.shape[0]), -1, dtype=_code_dtype(cum.shape[3]))
    _simulate_given_kernel(given, coded, cum, offsets, session, lag, seeds, out)
    return out


def _replicate_rows(codes: np.ndarray) -> tuple[np.ndarray, bool]:
    """Codes as contiguous (D, n) rows; flag whether the input was one sequence."""
    if isinstance(codes, np.ndarray) and codes.ndim == 1:
        return _as_codes("codes", codes)[None, :], True
    return _as_codes("codes", codes, 2), False


def _block_units(block_unit, offsets: np.ndarray, n_units: int) -> tuple[np.ndarray, int]:
    """Validated block-to-unit map (all zeros when None)."""
    n_blocks = offsets.size - 1
    if block_unit is None:
        return np.zeros(n_blocks, dtype=np.int64), 1
    return _check_units(block_unit, n_blocks, n_units), n_units


def run_lengths(
    codes: np.ndarray,
    block_offsets: np.ndarray,
    n_codes: int,
    block_unit: np.ndarray | None = None,
    n_units: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of every code: how many, how many segments in them, and the longest.

    Parameters
    ----------
    codes : ndarray of int, shape (n_segments,) or (D, n_segments)
        One sequence or a batch of replicates; negative = uncoded.
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks; a run never crosses a block boundary.
    n_codes : int
        Number of codes K.
    block_unit : ndarray of int, shape (n_blocks,), optional
        Unit (e.g. session) of each block; None = one unit.
    n_units : int, default 1
        Number of units.

    Returns
    -------
    n_runs, n_in_runs, longest : ndarray of int64, shape ([D,] n_units, K)
        Number of runs of each code, segments in those runs (= occurrences of the code)
        and the longest run (0 when the code does not occur). Pooled over units: sum,
        sum and max over the unit axis; mean run length = ``n_in_runs / n_runs``.

    Notes
    -----
    A run is a maximal stretch of consecutive segments of one code inside a block: an
    uncoded segment, another code or the end of the block closes it, so ``a a - a`` is
    two runs of ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> n_runs, n_in, longest = run_lengths(np.array([0, 0, 1, 0, -1, 0]),
    ...                                     np.array([0, 6]), 2)
    >>> n_runs[0], n_in[0], longest[0]
    (array([3, 1]), array([4, 1]), array([2, 1]))
    """
    rows, single = _replicate_rows(codes)
    offsets = _check_blocks(block_offsets, rows.shape[1])
    unit, n_units = _block_units(block_unit, offsets, n_units)
    shape = (rows.shape[0], n_units, int(n_codes))
    n_runs = np.zeros(shape, dtype=np.int64)
    n_in = np.zeros(shape, dtype=np.int64)
    longest = np.zeros(shape, dtype=np.int64)
    bad = np.zeros(rows.shape[0], dtype=np.int64)
    _run_lengths_kernel(rows, offsets, unit, n_runs, n_in, longest, bad)
    _raise_if_bad(int(bad.sum()), "run")
    if single:
        return n_runs[0], n_in[0], longest[0]
    return n_runs, n_in, longest


def triple_counts(
    codes: np.ndarray,
    block_offsets: np.ndarray,
    n_codes: int,
    block_unit: np.ndarray | None = None,
    n_units: int = 1,
    lag: int = 1,
) -> np.ndarray:
    """Counts of code triples ``(x_t, x_{t+lag}, x_{t+2 lag})`` inside blocks.

    Parameters
    ----------
    codes : ndarray of int, shape (n_segments,) or (D, n_segments)
        One sequence or a batch of replicates; negative = uncoded.
    block_offsets, block_unit, n_units
        As in :func:`run_lengths`.
    n_codes : int
        Number of codes K.
    lag : int, default 1
        Spacing of the triple (>= 1).

    Returns
    -------
    ndarray of int64, shape ([D,] n_units, K, K, K)
        ``out[..., i, j, k]`` counts triples with all three segments in one block and
        coded; axes are ``(x_t, x_{t+lag}, x_{t+2 lag})``.

    Examples
    --------
    >>> import numpy as np
    >>> triple_counts(np.array([0, 1, 0, 1]), np.array([0, 4]), 2)[0].nonzero()
    (array([0, 1]), array([1, 0]), array([0, 1]))
    """
    lag, _ = _check_lag(lag, None)
    if lag < 1:
        raise LagnestDataError(f"triples need lag >= 1, got {lag}")
    rows, single = _replicate_rows(codes)
    offsets = _check_blocks(block_offsets, rows.shape[1])
    unit, n_units = _block_units(block_unit, offsets, n_units)
    k = int(n_codes)
    out = np.zeros((rows.shape[0], n_units, k, k, k), dtype=np.int64)
    bad = np.zeros(rows.shape[0], dtype=np.int64)
    _triple_counts_kernel(rows, offsets, unit, lag, out, bad)
    _raise_if_bad(int(bad.sum()), "triple")
    return out[0] if single else out



# --------------------------------------------------------------------------- pattern counts
#
# The sufficient statistics of lagged regressions: for each target segment u, the
# predictor codes at u - L for every lag L form one mixed-radix integer (the pattern key);
# segments are then aggregated into one row per (session, key) with counts per target.

#: Largest pattern key the kernels can hold (keys are int64, -1 = no row).
MAX_PATTERN_KEY = int(np.iinfo(np.int64).max)
#: :func:`pattern_rows` looks rows up in a table over the key space (O(1) per segment); keys
#: above ``min(MAX, PER_SEGMENT * n_segments + MIN)`` are first replaced by their ranks.
_DENSE_KEYS_MAX = 1 << 22
_DENSE_KEYS_PER_SEGMENT = 8
_DENSE_KEYS_MIN = 1 << 16


@njit(**JIT_OPTIONS)
def _pattern_keys_kernel(codes, radices, target, block_offsets, lags, keys):
    """Write the pattern key of every target segment into ``keys`` (-1 = no row).

    Returns the number of used predictor codes at or above their radix. See
    :func:`pattern_keys`.
    """
    n_pred = codes.shape[1]
    n_lags = lags.shape[0]
    max_lag = 0
    for j in range(n_lags):
        if lags[j] > max_lag:
            max_lag = lags[j]
    bad = 0
    for b in range(block_offsets.shape[0] - 1):
        start = block_offsets[b]
        end = block_offsets[b + 1]
        # the lag pairs (u - max_lag, u) inside the block: the rule of every lag count
        lo, _ = _pair_range(start, end, max_lag)
        first = min(lo + max_lag, end)
        for u in range(start, first):
            keys[u] = -1
        for u in range(first, end):
            key = np.int64(-1)
            if target[u] >= 0:
                key = 0
                for j in range(n_lags):
                    t = u - lags[j]
                    for f in range(n_pred):
                        c = np.int64(codes[t, f])
                        if c < 0:
                            key = -1
                            break
                        if c >= radices[f]:
                            bad += 1
                            key = -1
                            break
                        key = key * radices[f] + c
                    if key < 0:
                        break
            keys[u] = key
    return bad


@njit(**JIT_OPTIONS)
def _sort_prefix(values, m):
    """Sort ``values[:m]`` in place (insertion sort for short runs, else numba's sort)."""
    if m > 24:
        values[:m].sort()
        return
    for i in range(1, m):
        v = values[i]
        j = i - 1
        while j >= 0 and values[j] > v:
            values[j + 1] = values[j]
            j -= 1
        values[j + 1] = v


@njit(**JIT_OPTIONS)
def _session_rows(keys, target, session_offsets, row_offsets, row_key, segment_row, scratch,
                  slot):
    """Rows of each session; return the number of rows. See :func:`pattern_rows`.

    A segment is used when ``keys[u] >= 0`` and ``target[u] >= 0``. ``row_key``
    (n_segments) receives the sorted distinct keys of each session, session after session,
    ``row_offsets`` (n_sessions + 1) their boundaries and ``segment_row`` the row of each
    used segment (-1 otherwise); ``scratch`` holds at least the longest session. ``slot``
    (max key + 1) must hold -1 everywhere; it is restored before returning. Segments find
    their row in O(1); a session's distinct keys are put in order by a scan of ``slot``
    when it is short next to the session (at most 8 entries per segment), else by sorting
    them.
    """
    space = slot.shape[0]
    n_rows = 0
    row_offsets[0] = 0
    for s in range(session_offsets.shape[0] - 1):
        a = session_offsets[s]
        b = session_offsets[s + 1]
        m = 0
        for u in range(a, b):
            k = keys[u]
            if k >= 0 and target[u] >= 0 and slot[k] == -1:
                slot[k] = -2
                scratch[m] = k
                m += 1
        if space <= 8 * (b - a):
            i = 0
            for k in range(space):
                if slot[k] == -2:
                    scratch[i] = k
                    i += 1
        else:
            _sort_prefix(scratch, m)
        for i in range(m):
            slot[scratch[i]] = n_rows + i
            row_key[n_rows + i] = scratch[i]
        n_rows += m
        row_offsets[s + 1] = n_rows
        for u in range(a, b):
            if keys[u] >= 0 and target[u] >= 0:
                segment_row[u] = slot[keys[u]]
            else:
                segment_row[u] = -1
        for i in range(m):
            slot[scratch[i]] = -1
    return n_rows


@njit(**JIT_OPTIONS)
def _fill_pattern_counts(target, segment_row, counts):
    """Add each used segment to ``counts[row, target]``; return the out-of-range count."""
    n_target = counts.shape[1]
    bad = 0
    for u in range(segment_row.shape[0]):
        r = segment_row[u]
        if r < 0:
            continue
        h = np.int64(target[u])
        if h >= n_target:
            bad += 1
            continue
        counts[r, h] += 1
    return bad


def pattern_key_space(radices: np.ndarray, n_lags: int) -> int:
    """Number of distinct pattern keys, ``prod(radices) ** n_lags`` (a Python int)."""
    size = 1
    for r in np.asarray(radices).tolist():
        size *= int(r)
    return size**n_lags


def pattern_code_dtype(radices: np.ndarray) -> np.dtype:
    """Smallest signed integer dtype that holds codes ``-1 .. max(radices) - 1``."""
    top = int(np.max(radices, initial=1))
    return np.result_type(np.min_scalar_type(-top), np.int8)


def check_pattern_lags(lags: object) -> np.ndarray:
    """Validate lags of a pattern table: a non-empty sequence of distinct ints >= 0.

    A single int is taken as one lag. Returns a contiguous int64 array in the given order.

    Raises
    ------
    LagnestDataError
        On an empty sequence, a non-integer, a negative or a repeated lag.
    """
    values = [lags] if isinstance(lags, int | np.integer) else lags
    try:
        values = list(values)  # type: ignore[call-overload]
    except TypeError:
        raise LagnestDataError(f"lags must be an int or a sequence of ints, got {lags!r}") from None
    if not values:
        raise LagnestDataError("lags must hold at least one lag (0 = same segment)")
    for lag in values:
        if isinstance(lag, bool) or not isinstance(lag, int | np.integer):
            raise LagnestDataError(f"lags must be integers, got {lag!r} in {lags!r}")
        if lag < 0:
            raise LagnestDataError(
                f"lag {lag} is negative: predictors are taken at u - lag for lags >= 0 "
                "(0 = the target's own segment)"
            )
    if len(set(int(v) for v in values)) != len(values):
        raise LagnestDataError(f"lags must be distinct, got {list(values)}")
    return np.asarray(values, dtype=np.int64)


def check_pattern_radices(radices: np.ndarray, n_lags: int,
                          n_pred: int | None = None) -> np.ndarray:
    """Validate the levels of each predictor and that ``prod(radices) ** n_lags`` fits in int64.

    Returns the radices as a contiguous int64 array.

    Raises
    ------
    LagnestDataError
        When the keys would overflow int64 (more possible patterns than a key holds).
    ValueError
        When a radix is below 1 or (given ``n_pred``) their number is not ``n_pred``.
    """
    radices = _as_index("radices", np.asarray(radices, dtype=np.int64).reshape(-1))
    if n_pred is not None and radices.shape[0] != n_pred:
        raise ValueError(f"radices must have one entry per predictor ({n_pred}), got "
                         f"{radices.shape[0]}")
    if radices.size and radices.min() < 1:
        raise ValueError(f"radices must be >= 1 (number of levels), got {radices.tolist()}")
    size = pattern_key_space(radices, n_lags)
    if size - 1 > MAX_PATTERN_KEY:
        shown = radices.tolist() if radices.size <= 12 else [*radices[:12].tolist(), "..."]
        raise LagnestDataError(
            f"{radices.size} predictor(s) with {shown} levels at {n_lags} lag(s) give "
            f"{size:.3e} possible patterns, more than a 64-bit key holds "
            f"({MAX_PATTERN_KEY + 1:.3e}); use fewer predictors, levels or lags"
        )
    return radices


def pattern_keys(
    codes: np.ndarray,
    radices: np.ndarray,
    target: np.ndarray,
    block_offsets: np.ndarray,
    lags: np.ndarray,
) -> np.ndarray:
    """Mixed-radix key of the predictor codes at ``u - L`` for every lag L, per segment u.

    Parameters
    ----------
    codes : ndarray of int, shape (n_segments, F)
        Predictor codes ``0..radices[f]-1``; negative = uncoded. Any integer dtype.
    radices : ndarray of int, shape (F,)
        Number of levels of each predictor (>= 1).
    target : ndarray of int, shape (n_segments,)
        Target codes; negative = uncoded (only the sign is used here).
    block_offsets : ndarray of int, shape (n_blocks + 1,)
        Blocks (runs without a break inside one session), as in :func:`lag_counts`.
    lags : array-like of int
        Distinct lags >= 0 (see :func:`check_pattern_lags`); 0 = the target's segment.

    Returns
    -------
    ndarray of int64, shape (n_segments,)
        The key of segment u, or -1 when u is not a valid target segment.

    Raises
    ------
    LagnestDataError
        On invalid lags, or when ``prod(radices) ** len(lags)`` does not fit in int64
        (checked before anything is allocated).
    ValueError
        On inconsistent shapes, invalid offsets, or a used code at or above its radix.

    Notes
    -----
    Segment u is valid iff ``target[u] >= 0`` and, for every lag L, ``u - L`` lies in u's
    block (the rule of :func:`lag_counts`: no pair crosses a session start or a break)
    and all F codes at ``u - L`` are non-negative. Its key is the mixed-radix integer of
    the digits ``codes[u - lags[j], f]`` taken lag-major (j outer, f inner), the first
    digit most significant; :func:`decode_pattern_keys` inverts it and
    ``numpy.ravel_multi_index`` with dims ``tuple(radices) * len(lags)`` gives the same
    number. With F = 0 every valid segment has key 0.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.array([[0, 1], [1, 2], [1, 0]])
    >>> pattern_keys(codes, np.array([2, 3]), np.array([0, 1, 0]), np.array([0, 3]), [1])
    array([-1,  1,  5])
    """
    lags = check_pattern_lags(lags)
    codes = _as_codes("codes", codes, 2)
    radices = check_pattern_radices(radices, lags.shape[0], codes.shape[1])
    target = _as_codes("target", target)
    if target.shape[0] != codes.shape[0]:
        raise ValueError(f"codes and target differ in number of segments: {codes.shape[0]} "
                         f"vs {target.shape[0]}")
    offsets = _check_blocks(block_offsets, codes.shape[0])
    keys = np.empty(codes.shape[0], dtype=np.int64)
    bad = _pattern_keys_kernel(codes, radices, target, offsets, lags, keys)
    _raise_if_bad(bad, "predictor")
    return keys


def pattern_rows(
    keys: np.ndarray,
    target: np.ndarray,
    session_offsets: np.ndarray,
    n_target: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aggregate keyed segments into one row per (session, key) with counts per target.

    Parameters
    ----------
    keys : ndarray of int64, shape (n_segments,)
        Pattern keys from :func:`pattern_keys` (-1 = no row).
    target : ndarray of int, shape (n_segments,)
        Target codes ``0..n_target-1``; negative = uncoded (no row).
    session_offsets : ndarray of int, shape (n_sessions + 1,)
        Session boundaries.
    n_target : int
        Number of target codes M.

    Returns
    -------
    row_session : ndarray of int64, shape (R,)
        Session of each row; rows are sorted by session, then key.
    row_key : ndarray of int64, shape (R,)
        Pattern key of each row.
    counts : ndarray of int64, shape (R, n_target)
        Valid target segments of the row's session and key, per target code.
    segment_row : ndarray of int64, shape (n_segments,)
        Row of each valid target segment, -1 for the others.

    Raises
    ------
    ValueError
        On inconsistent shapes, invalid offsets, or a target code at or above ``n_target``.

    Notes
    -----
    A segment is used when its key and its target are non-negative. Each segment finds
    its row in a table over the key space, and a session's distinct keys are ordered by a
    scan of that table or by sorting them. When the largest key is large (above
    ``min(2**22, 8 n_segments + 2**16)``) the used keys are first replaced by their ranks
    among the distinct used keys (a global sort), which keeps the table no longer than
    the number of segments.

    Examples
    --------
    >>> import numpy as np
    >>> rows = pattern_rows(np.array([-1, 3, 1, 3]), np.array([0, 1, 0, 0]),
    ...                     np.array([0, 4]), 2)
    >>> rows[1], rows[2].tolist(), rows[3]
    (array([1, 3]), [[1, 0], [1, 1]], array([-1,  1,  0,  1]))
    """
    keys = _as_index("keys", keys)
    target = _as_codes("target", target)
    if target.shape != keys.shape:
        raise ValueError(f"keys and target differ in length: {keys.size} vs {target.size}")
    sessions = _check_blocks(session_offsets, keys.shape[0], "session_offsets")
    if isinstance(n_target, bool) or not isinstance(n_target, int | np.integer) or n_target < 0:
        raise ValueError(f"n_target must be a non-negative integer, got {n_target!r}")
    n = keys.shape[0]
    used = (keys >= 0) & (target >= 0)
    space = int(keys.max(initial=-1)) + 1
    distinct = None
    if space > min(_DENSE_KEYS_MAX, _DENSE_KEYS_PER_SEGMENT * n + _DENSE_KEYS_MIN):
        # a large key space: rank the used keys first (ranks keep their order)
        distinct = np.unique(keys[used])
        keys = np.where(used, np.searchsorted(distinct, keys), -1)
        space = distinct.size
    scratch = np.empty(int(np.diff(sessions).max(initial=0)), dtype=np.int64)
    row_offsets = np.empty(sessions.shape[0], dtype=np.int64)
    row_key = np.empty(n, dtype=np.int64)
    segment_row = np.empty(n, dtype=np.int64)
    n_rows = _session_rows(keys, target, sessions, row_offsets, row_key, segment_row, scratch,
                           np.full(space, -1, dtype=np.int64))
    if distinct is not None:
        row_key[:n_rows] = distinct[row_key[:n_rows]]
    row_key = row_key[:n_rows].copy()
    counts = np.zeros((n_rows, int(n_target)), dtype=np.int64)
    _raise_if_bad(_fill_pattern_counts(target, segment_row, counts), "target")
    row_session = np.repeat(np.arange(sessions.shape[0] - 1, dtype=np.int64),
                            np.diff(row_offsets))
    return row_session, row_key, counts, segment_row


def decode_pattern_keys(keys: np.ndarray, radices: np.ndarray, n_lags: int) -> np.ndarray:
    """Predictor codes of pattern keys: the inverse of :func:`pattern_keys`.

    Parameters
    ----------
    keys : ndarray of int, shape (R,)
        Non-negative pattern keys.
    radices : ndarray of int, shape (F,)
        Number of levels of each predictor.
    n_lags : int
        Number of lags the keys were built with.

    Returns
    -------
    ndarray of shape (R, n_lags, F)
        ``out[r, j, f]`` is predictor f's code at lag ``lags[j]``; the dtype is the
        smallest signed integer that holds every level.

    Examples
    --------
    >>> import numpy as np
    >>> decode_pattern_keys(np.array([1, 5]), np.array([2, 3]), 1).tolist()
    [[[0, 1]], [[1, 2]]]
    """
    keys = _as_index("keys", keys)
    radices = check_pattern_radices(radices, n_lags)
    if keys.size and (keys.min() < 0 or keys.max() >= pattern_key_space(radices, n_lags)):
        raise ValueError("pattern keys must lie in 0 .. prod(radices) ** n_lags - 1")
    n_pred = radices.shape[0]
    out = np.empty((keys.shape[0], n_lags * n_pred), dtype=pattern_code_dtype(radices))
    rest = keys.copy()
    digit_radix = np.tile(radices, n_lags)
    for d in range(n_lags * n_pred - 1, -1, -1):
        rest, out[:, d] = np.divmod(rest, digit_radix[d])
    return out.reshape(keys.shape[0], n_lags, n_pred)


# --------------------------------------------------------------------------- history models
# Fully generative replication of a regression on the target's own past: the target at u
# is drawn from softmax(base logits of its row + the history effects of the *replicated*
# codes at u - lag), so persistence compounds as it does in the data-generating process.

__all__ += ["simulate_history"]


@njit(**PARALLEL_JIT_OPTIONS)
def _simulate_history_kernel(target, segment_row, base, history, lags, block_offsets, seeds,
                             out, logits):
    """Replicate into ``out (D, n)``; see :func:`simulate_history`."""
    n_blocks = block_offsets.shape[0] - 1
    n_lags = lags.shape[0]
    n_out = base.shape[2]
    for d in prange(out.shape[0]):
        state = seeds[d]
        row = out[d]
        work = logits[d]
        for b in range(n_blocks):
            for u in range(block_offsets[b], block_offsets[b + 1]):
                r = segment_row[u]
                if r < 0:
                    row[u] = target[u]
                    continue
                top = -np.inf
                for k in range(n_out):
                    v = base[d, r, k]
                    for j in range(n_lags):
                        v += history[d, j, np.int64(row[u - lags[j]]), k]
                    work[k] = v
                    if v > top:
                        top = v
                total = 0.0
                for k in range(n_out):
                    work[k] = np.exp(work[k] - top)
                    total += work[k]
                state, x = _uniform(state)
                x *= total
                acc = 0.0
                code = n_out - 1
                for k in range(n_out):
                    acc += work[k]
                    if x < acc:
                        code = k
                        break
                row[u] = code


def simulate_history(
    target: np.ndarray,
    segment_row: np.ndarray,
    base: np.ndarray,
    history: np.ndarray,
    lags: np.ndarray,
    block_offsets: np.ndarray,
    seeds: int | np.ndarray,
) -> np.ndarray:
    r"""Replicate a target whose logits depend on its own (replicated) past.

    Parameters
    ----------
    target : ndarray of int, shape (n_segments,)
        Observed target codes ``0..K-1``, negative = uncoded. Segments that are not
        replicated keep their observed code.
    segment_row : ndarray of int, shape (n_segments,)
        Row of each replicated segment (its pattern of the other predictors), -1 = keep
        the observed code. A replicated segment u must have every ``u - lag`` inside its
        block and coded (as :func:`pattern_keys` guarantees for valid rows).
    base : ndarray of float, shape (D, R, K)
        Logits of each row from everything but the target's past, per replicate.
    history : ndarray of float, shape (D, n_lags, K, K)
        ``history[d, j, c, :]`` is added to the logits when the replicated target at
        ``u - lags[j]`` has code c.
    lags : ndarray of int, shape (n_lags,)
        Lags >= 1.
    block_offsets : ndarray of int
        Blocks (see :func:`lag_counts`).
    seeds : int or ndarray of uint64, shape (D,)
        See :func:`replicate_seeds`.

    Returns
    -------
    ndarray of int8 (int16 when K > 127), shape (D, n_segments)

    Notes
    -----
    Segments are drawn in order within each block, each from
    :math:`\mathrm{softmax}(b_{r(u)} + \sum_j h_{j, x_{u - L_j}})`, so a replicate
    is a draw of the whole sequence given the other predictors, not one step ahead.

    Examples
    --------
    >>> import numpy as np
    >>> target = np.array([0, 1, 1, 0])
    >>> rows = np.array([-1, 0, 0, 0])
    >>> base = np.zeros((1, 1, 2))
    >>> history = np.array([[[[0.0, 50.0], [50.0, 0.0]]]])  # switch code every segment
    >>> simulate_history(target, rows, base, history, np.array([1]), np.array([0, 4]), 0)
    array([[0, 1, 0, 1]], dtype=int8)
    """
    target = _as_codes("target", target)
    segment_row = _as_index("segment_row", segment_row)
    if segment_row.shape != target.shape:
        raise ValueError("segment_row and target differ in length")
    base = np.ascontiguousarray(base, dtype=np.float64)
    history = np.ascontiguousarray(history, dtype=np.float64)
    lags = _as_index("lags", lags)
    if base.ndim != 3 or history.ndim != 4:
        raise ValueError("base must be (D, R, K) and history (D, n_lags, K, K)")
    n_draws, n_rows, n_codes = base.shape
    if history.shape != (n_draws, lags.size, n_codes, n_codes):
        raise ValueError(f"history must have shape {(n_draws, lags.size, n_codes, n_codes)}, "
                         f"got {history.shape}")
    if lags.size and lags.min() < 1:
        raise ValueError("history lags must be >= 1")
    if not (np.isfinite(base).all() and np.isfinite(history).all()):
        raise ValueError("base and history logits must be finite")
    offsets = _check_blocks(block_offsets, target.shape[0])
    used = segment_row >= 0
    if used.any():
        if segment_row.max() >= n_rows:
            raise ValueError(f"segment_row refers to row {segment_row.max()} of {n_rows}")
        block = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
        u = np.flatnonzero(used)
        for lag in lags:
            prev = u - lag
            ok = (prev >= 0) & (block[np.maximum(prev, 0)] == block[u])
            ok &= target[np.maximum(prev, 0)] >= 0
            if not ok.all():
                raise ValueError(f"replicated segment {u[~ok][0]} has no coded segment at "
                                 f"lag {lag} in its block")
        if target[used].max() >= n_codes or target[used].min() < 0:
            raise ValueError("replicated segments must have coded targets below K")
    seeds_arr = replicate_seeds(seeds, n_draws)
    out = np.empty((n_draws, target.shape[0]), dtype=_code_dtype(n_codes))
    logits = np.empty((n_draws, n_codes), dtype=np.float64)
    _simulate_history_kernel(target, segment_row, base, history, lags, offsets, seeds_arr,
                             out, logits)
    return out
