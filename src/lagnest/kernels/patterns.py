"""Pattern keys and rows: the sufficient statistics of lagged regressions.

Pattern keys and rows: the sufficient statistics of lagged regressions. For each target
segment u, the predictor codes at u - L for every lag L form one mixed-radix integer (the
pattern key); segments are then aggregated into one row per (session, key) with counts per
target.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lagnest.errors import LagnestDataError
from lagnest.kernels._common import (
    JIT_OPTIONS,
    _pair_range,
    _raise_if_bad,
    as_codes,
    as_index,
    check_blocks,
)

__all__ = [
    "MAX_PATTERN_KEY",
    "check_pattern_lags",
    "check_pattern_radices",
    "decode_pattern_keys",
    "pattern_code_dtype",
    "pattern_key_space",
    "pattern_keys",
    "pattern_rows",
]



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
    radices = as_index("radices", np.asarray(radices, dtype=np.int64).reshape(-1))
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
    codes = as_codes("codes", codes, 2)
    radices = check_pattern_radices(radices, lags.shape[0], codes.shape[1])
    target = as_codes("target", target)
    if target.shape[0] != codes.shape[0]:
        raise ValueError(f"codes and target differ in number of segments: {codes.shape[0]} "
                         f"vs {target.shape[0]}")
    offsets = check_blocks(block_offsets, codes.shape[0])
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
    keys = as_index("keys", keys)
    target = as_codes("target", target)
    if target.shape != keys.shape:
        raise ValueError(f"keys and target differ in length: {keys.size} vs {target.size}")
    sessions = check_blocks(session_offsets, keys.shape[0], "session_offsets")
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
    keys = as_index("keys", keys)
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
