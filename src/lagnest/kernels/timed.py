"""Time-unit kernels for timed events: units of time, states, windows, shuffled events.

Time-unit kernels for timed events (onset and offset in seconds), without cutting them into
segments first: the time units each event covers at a resolution of ``r`` seconds, the
state of a code in every unit (difference arrays: linear in events plus units), windows
tied to the onsets and offsets of a code (GSEQ's ``(A`` and ``A)``, shifted by whole units),
the blocks of units between breaks, and tables of within-session shuffles of one code's
events that keep their durations. The tallies themselves are the lag and window counting
kernels of :mod:`lagnest.kernels.counts` on the unit states. The rules are stated in
``docs/timed_events.md``.

Conventions: session ``s`` holds the units ``unit_offsets[s]:unit_offsets[s + 1]``; its unit
``k`` is the interval ``[start_s + k r, start_s + (k + 1) r)`` seconds. Unit ranges are
half-open ``[first, stop)`` in corpus unit indices. States are int8: 1 present, 0 absent,
-1 uncoded.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from lagnest.errors import DataProblem, LagnestDataError, LimitError
from lagnest.kernels._common import (
    JIT_OPTIONS,
    PARALLEL_JIT_OPTIONS,
    _randbelow,
    as_codes,
    as_index,
    check_blocks,
    check_lag,
)
from lagnest.kernels.counts import _count_into

__all__ = [
    "MAX_TIME_UNITS",
    "OFFSET",
    "ONSET",
    "check_resolution",
    "permuted_timed_tables",
    "time_units",
    "unit_blocks",
    "unit_states",
    "window_states",
]

#: Most time units (sessions x duration / resolution) a corpus may be cut into.
MAX_TIME_UNITS = 1_000_000_000
#: Anchors of a window: the onset unit or the offset unit of an event.
ONSET, OFFSET = 0, 1
#: Tolerance (in units) of the cutting rule: an overlap must exceed it (as in
#: ``lagnest.data.events.segment_events``).
_EPS = 1e-9


# --------------------------------------------------------------------------- kernels


@njit(**JIT_OPTIONS)
def _unit_range(a, b, r):
    """Local units ``[lo, hi)`` that an event from ``a`` to ``b`` s (session time) covers.

    A unit is covered when the event overlaps it by more than ``_EPS`` s; a momentary event
    (``b - a <= _EPS``) covers the unit holding its onset. The rule of ``segment_events``
    with ``min_overlap=0``. Also returns the onset unit ``floor(a / r)``.
    """
    k = np.int64(math.floor(a / r + _EPS))
    if b - a <= _EPS:
        return k, k + 1, k
    hi = np.int64(math.ceil(b / r - _EPS))
    lo = k if min(b, (k + 1) * r) - max(a, k * r) > _EPS else k + 1
    end = hi if min(b, hi * r) - max(a, (hi - 1) * r) > _EPS else hi - 1
    return lo, max(lo, end), k


@njit(**JIT_OPTIONS)
def _time_units_kernel(session, onset, offset, start, end, r, max_units, unit_offsets, first,
                       stop, onset_unit):
    """Units per session and each event's units, as corpus indices; return a status.

    Status ``(0, -1)`` when all is well, else ``(code, event)`` for the first bad event:
    1 offset before onset, 2 onset before its session's start, 3 more than ``max_units``
    units in one session (nothing is cast before that check).
    """
    n_sessions = start.shape[0]
    for s in range(n_sessions):
        span = max(end[s] - start[s], 0.0) / r
        if span > max_units:
            return 3, -1
        unit_offsets[s + 1] = max(np.int64(1), np.int64(math.ceil(span - _EPS)))
    for i in range(onset.shape[0]):
        s = session[i]
        if offset[i] < onset[i]:
            return 1, i
        a = onset[i] - start[s]
        if a < -_EPS:
            return 2, i
        a = max(a, 0.0)
        b = max(offset[i] - start[s], a)
        if b / r > max_units:
            return 3, i
        lo, hi, k = _unit_range(a, b, r)
        first[i] = lo
        stop[i] = hi
        onset_unit[i] = k
        if k + 1 > unit_offsets[s + 1]:
            unit_offsets[s + 1] = k + 1
    unit_offsets[0] = 0
    for s in range(n_sessions):
        unit_offsets[s + 1] += unit_offsets[s]
    for i in range(onset.shape[0]):
        shift = unit_offsets[session[i]]
        first[i] += shift
        stop[i] += shift
        onset_unit[i] += shift
    return 0, -1


@njit(**JIT_OPTIONS)
def _add_ranges(first, stop, diff):
    """Add +1 at every range's first unit and -1 at its stop (a difference array)."""
    for i in range(first.shape[0]):
        if stop[i] > first[i]:
            diff[first[i]] += 1
            diff[stop[i]] -= 1


@njit(**JIT_OPTIONS)
def _window_ranges(first, stop, session, unit_offsets, anchors, shifts, diff):
    """Add every event's window (inclusive units, clipped to its session) to ``diff``."""
    for i in range(first.shape[0]):
        if stop[i] <= first[i]:
            continue
        lo_s = unit_offsets[session[i]]
        hi_s = unit_offsets[session[i] + 1]
        a = (first[i] if anchors[0] == 0 else stop[i] - 1) + shifts[0]
        b = (first[i] if anchors[1] == 0 else stop[i] - 1) + shifts[1]
        a = max(a, lo_s)
        b = min(b, hi_s - 1)
        if b >= a:
            diff[a] += 1
            diff[b + 1] -= 1


@njit(**JIT_OPTIONS)
def _states_from_diff(diff, blank_diff, out):
    """Unit states from difference arrays: -1 blank, else 1 present, else 0.

    ``out[k]`` is -1 where the running sum of ``blank_diff`` is positive, else 1 where that
    of ``diff`` is, else 0.
    """
    run = 0
    blank = 0
    for k in range(out.shape[0]):
        run += diff[k]
        blank += blank_diff[k]
        out[k] = -1 if blank > 0 else (1 if run > 0 else 0)


@njit(**PARALLEL_JIT_OPTIONS)
def _permuted_timed_kernel(given, blank_diff, block_offsets, unit_offsets, r, bout_offsets,
                           durations, gaps, onsets_only, lag, window, seeds, out):
    """Pooled tables of the given states against shuffled target events, one per seed.

    Per session ``s`` the bouts ``bout_offsets[s]:bout_offsets[s + 1]`` have their
    durations shuffled and their ``m + 1`` gaps (``gaps[bout_offsets[s] + s:]``: before the
    first bout, between bouts, after the last) shuffled independently; the bouts are laid
    out again from the session's start, painted into target states and counted.
    """
    n_units = given.shape[0]
    n_blocks = block_offsets.shape[0] - 1
    n_bouts = durations.shape[0]
    for p in prange(seeds.shape[0]):
        state = seeds[p]
        dur = durations.copy()
        gap = gaps.copy()
        first = np.empty(n_bouts, np.int64)
        stop = np.empty(n_bouts, np.int64)
        for s in range(unit_offsets.shape[0] - 1):
            a = bout_offsets[s]
            b = bout_offsets[s + 1]
            for k in range(b - 1, a, -1):
                state, j = _randbelow(state, k - a + 1)
                dur[k], dur[a + j] = dur[a + j], dur[k]
            for k in range(b + s, a + s, -1):
                state, j = _randbelow(state, k - a - s + 1)
                gap[k], gap[a + s + j] = gap[a + s + j], gap[k]
            t = gap[a + s]
            last = unit_offsets[s + 1] - unit_offsets[s]
            for k in range(a, b):
                lo, hi, _ = _unit_range(t, t + dur[k], r)
                if onsets_only:
                    hi = lo + 1
                first[k] = unit_offsets[s] + min(lo, last)
                stop[k] = unit_offsets[s] + min(hi, last)
                t += dur[k] + gap[k + s + 1]
        diff = np.zeros(n_units + 1, np.int32)
        _add_ranges(first, stop, diff)
        target = np.empty(n_units, np.int8)
        _states_from_diff(diff, blank_diff, target)
        unit = np.zeros(n_blocks, np.int64)
        stamp = np.empty(2, np.int64)
        _count_into(given, target, block_offsets, unit, lag, window, out[p : p + 1], stamp)


# --------------------------------------------------------------------------- wrappers


def check_resolution(resolution: float) -> float:
    """Return ``resolution`` as float seconds; a `LagnestDataError` unless finite and > 0."""
    ok = isinstance(resolution, int | float | np.integer | np.floating) and not isinstance(
        resolution, bool)
    if not ok or not math.isfinite(resolution) or resolution <= 0:
        raise LagnestDataError(DataProblem("bad resolution", value=resolution,
                                           expected="seconds > 0 (the length of a time unit)"))
    return float(resolution)


def _seconds(name: str, values: np.ndarray, n: int | None = None) -> np.ndarray:
    """Contiguous finite float64 seconds of length ``n``."""
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise ValueError(f"{name} must be 1-d with {n} values, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise LagnestDataError(DataProblem(f"{name} holds a time that is not finite",
                                           expected="finite seconds"))
    return arr


def time_units(
    session: np.ndarray,
    onset: np.ndarray,
    offset: np.ndarray,
    session_start: np.ndarray,
    session_end: np.ndarray,
    resolution: float,
    max_units: int = MAX_TIME_UNITS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut each session into time units of ``resolution`` s; the units each event covers.

    Parameters
    ----------
    session : array of int (n_events,)
        Session of each event, ``0..n_sessions-1``.
    onset, offset : array of float (n_events,)
        Seconds, ``offset >= onset``.
    session_start, session_end : array of float (n_sessions,)
        Start and end of each session (seconds).
    resolution : float
        Length ``r`` of a time unit (seconds, > 0).
    max_units : int, default MAX_TIME_UNITS
        Most units in all; more raise a `LimitError` before any unit array is made.

    Returns
    -------
    unit_offsets : ndarray of int64 (n_sessions + 1,)
        Session s holds units ``unit_offsets[s]:unit_offsets[s + 1]``: ``max(1, ceil((end -
        start) / r))`` of them, or more when a momentary event sits at the very end.
    first, stop : ndarray of int64 (n_events,)
        The units each event covers, ``[first, stop)`` in corpus indices: every unit it
        overlaps by more than 0 s (1e-9 s); a momentary event covers the unit holding it.
    onset_unit : ndarray of int64 (n_events,)
        The unit holding each onset (``floor((onset - start) / r)``), corpus index.
    """
    r = check_resolution(resolution)
    onset = _seconds("onset", onset)
    n = onset.shape[0]
    offset = _seconds("offset", offset, n)
    start = _seconds("session_start", session_start)
    end = _seconds("session_end", session_end, start.shape[0])
    session = as_index("session", session)
    if session.shape[0] != n:
        raise ValueError(f"session must have one entry per event ({n}), got {session.shape[0]}")
    if n and (session.min() < 0 or session.max() >= start.shape[0]):
        raise ValueError(f"session values must lie in 0..{start.shape[0] - 1}")
    unit_offsets = np.empty(start.shape[0] + 1, np.int64)
    first = np.empty(n, np.int64)
    stop = np.empty(n, np.int64)
    onset_unit = np.empty(n, np.int64)
    status, i = _time_units_kernel(session, onset, offset, start, end, r, float(max_units),
                                   unit_offsets, first, stop, onset_unit)
    if status == 1:
        raise LagnestDataError(DataProblem(f"offset before onset in event {i}",
                                           value=f"{onset[i]:g}-{offset[i]:g}",
                                           expected="offset >= onset"))
    if status == 2:
        raise LagnestDataError(DataProblem(f"event {i} starts before its session",
                                           value=f"onset {onset[i]:g} s",
                                           expected=f"an onset >= {start[session[i]]:g} s"))
    _check_units(np.inf if status == 3 else float(unit_offsets[-1]), r, max_units)
    return unit_offsets, first, stop, onset_unit


def _check_units(total: float, r: float, max_units: int) -> None:
    """A `LimitError` when the units would exceed ``max_units``."""
    if total > max_units:
        what = "more than" if math.isinf(total) else "about"
        raise LimitError(DataProblem(
            f"cutting the sessions into units of {r:g} s would make {what} "
            f"{min(total, 10.0 * max_units):,.0f} time units (max_units={max_units:,})",
            expected="a coarser resolution (or a larger max_units)"))


def _painted(n_units: int, ranges: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The difference array (int32, ``n_units + 1``) of the unit ranges ``(first, stop)``."""
    diff = np.zeros(n_units + 1, np.int32)
    if ranges is not None:
        _add_ranges(*_ranges(ranges[0], ranges[1], n_units), diff)
    return diff


def _ranges(first: np.ndarray, stop: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated unit ranges ``[first, stop)`` within ``0..n_units``."""
    first, stop = as_index("first", first), as_index("stop", stop)
    if first.shape != stop.shape:
        raise ValueError(f"first and stop differ in shape: {first.shape} and {stop.shape}")
    if first.size and (first.min() < 0 or stop.max() > n_units or np.any(stop < first)):
        raise ValueError(f"unit ranges must satisfy 0 <= first <= stop <= {n_units}")
    return first, stop


def unit_states(
    first: np.ndarray,
    stop: np.ndarray,
    n_units: int,
    blank: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The state of one code in every time unit: 1 where one of its events covers the unit.

    Parameters
    ----------
    first, stop : array of int
        The code's events as unit ranges ``[first, stop)`` (from :func:`time_units`).
    n_units : int
        Units in the corpus (``unit_offsets[-1]``).
    blank : (first, stop), optional
        Unit ranges of uncoded intervals: those units are -1.

    Returns
    -------
    ndarray of int8 (n_units,)
        1 present, 0 absent, -1 uncoded. Cost: linear in events plus units.
    """
    out = np.empty(n_units, np.int8)
    _states_from_diff(_painted(n_units, (first, stop)), _painted(n_units, blank), out)
    return out


def window_states(
    first: np.ndarray,
    stop: np.ndarray,
    session: np.ndarray,
    unit_offsets: np.ndarray,
    anchors: tuple[int, int],
    shifts: tuple[int, int],
    blank: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    r"""Time units inside a window tied to the onsets or offsets of a code's events.

    For an event covering units ``[first, stop)``, its onset unit is ``first`` (GSEQ's
    ``(A``) and its offset unit ``stop - 1`` (``A)``); its window runs from unit
    ``anchor_0 + shift_0`` to unit ``anchor_1 + shift_1`` inclusive, clipped to its session
    (empty when the end comes before the start). A unit is in the window code when it lies
    in the window of any event.

    Parameters
    ----------
    first, stop : array of int
        The code's events as unit ranges (from :func:`time_units`).
    session : array of int
        Session of each event.
    unit_offsets : array of int (n_sessions + 1,)
        From :func:`time_units`.
    anchors : (int, int)
        :data:`ONSET` (0) or :data:`OFFSET` (1) for the window's first and last unit.
    shifts : (int, int)
        Whole units added to each anchor (negative: earlier).
    blank : (first, stop), optional
        Unit ranges of uncoded intervals (-1 in the result).

    Returns
    -------
    ndarray of int8 (n_units,)
        1 inside the window, 0 outside, -1 uncoded.
    """
    offsets = check_blocks(unit_offsets, int(np.asarray(unit_offsets)[-1]), "unit_offsets")
    n_units = int(offsets[-1])
    first, stop = _ranges(first, stop, n_units)
    session = as_index("session", session)
    if session.shape != first.shape or (session.size and (
            session.min() < 0 or session.max() >= offsets.size - 1)):
        raise ValueError("session must give a session 0..n_sessions-1 for every event")
    anchor_arr = np.asarray(anchors, np.int64)
    shift_arr = np.asarray(shifts, np.int64)
    if anchor_arr.shape != (2,) or not np.isin(anchor_arr, (ONSET, OFFSET)).all():
        raise ValueError(f"anchors must be two of ONSET (0) and OFFSET (1), got {anchors}")
    if shift_arr.shape != (2,) or np.abs(shift_arr).max() > 2**62:
        raise ValueError(f"shifts must be two whole numbers of units, got {shifts}")
    diff = np.zeros(n_units + 1, np.int32)
    _window_ranges(first, stop, session, offsets, anchor_arr, shift_arr, diff)
    out = np.empty(n_units, np.int8)
    _states_from_diff(diff, _painted(n_units, blank), out)
    return out


def unit_blocks(unit_offsets: np.ndarray, break_units: np.ndarray) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Blocks of time units: sessions, split before every unit where a break falls.

    Parameters
    ----------
    unit_offsets : array of int (n_sessions + 1,)
        From :func:`time_units`.
    break_units : array of int
        Units a break precedes (corpus indices; a break at a session's first unit changes
        nothing).

    Returns
    -------
    block_offsets : ndarray of int64 (n_blocks + 1,)
    block_session : ndarray of int64 (n_blocks,)
    """
    offsets = check_blocks(unit_offsets, int(np.asarray(unit_offsets)[-1]), "unit_offsets")
    cuts = as_index("break_units", np.asarray(break_units, np.int64).reshape(-1))
    cuts = cuts[(cuts > 0) & (cuts < offsets[-1])]
    block_offsets = np.union1d(offsets, cuts).astype(np.int64)
    block_session = np.searchsorted(offsets, block_offsets[:-1], side="right") - 1
    return block_offsets, block_session.astype(np.int64)


def permuted_timed_tables(
    given: np.ndarray,
    blank: np.ndarray,
    block_offsets: np.ndarray,
    unit_offsets: np.ndarray,
    resolution: float,
    bout_session: np.ndarray,
    bout_onset: np.ndarray,
    bout_offset: np.ndarray,
    session_start: np.ndarray,
    session_end: np.ndarray,
    seeds: np.ndarray,
    lag: int = 0,
    window: int | None = None,
    onsets: bool = False,
) -> np.ndarray:
    """Pooled 2 x 2 tables of the given states against shuffled events of the target code.

    Each permutation, within each session: the target code's events keep their durations
    but take a random order, and the gaps between them (before the first event, between
    events, after the last one) take an independent random order; the events are laid out
    again from the session's start (so the session ends where it did), painted into unit
    states (:func:`unit_states`; uncoded units stay uncoded) and counted against ``given``
    at ``lag`` (or in the ``window``) as :func:`lagnest.kernels.lag_counts` does.

    Parameters
    ----------
    given : array of int (n_units,)
        Given states, 0/1 (-1 uncoded).
    blank : array of bool (n_units,)
        Uncoded units.
    block_offsets, unit_offsets : array of int
        From :func:`unit_blocks` and :func:`time_units`.
    resolution : float
        Seconds per unit.
    bout_session, bout_onset, bout_offset : arrays (n_bouts,)
        The target code's events; they may touch but not overlap within a session.
    session_start, session_end : array of float (n_sessions,)
    seeds : array of uint64 (n_perm,)
        One SplitMix64 seed per permutation (:func:`lagnest.kernels.permutation_seeds`):
        the tables do not depend on the number of threads.
    lag : int, default 0
        Lag in units (window mode: 1).
    window : int, optional
        Window in units (see :func:`lagnest.kernels.lag_counts`).
    onsets : bool, default False
        Count the onset unit of each target event only (GSEQ's ``(B``).

    Returns
    -------
    ndarray of int64 (n_perm, 2, 2)
    """
    r = check_resolution(resolution)
    lag, w = check_lag(lag, window)
    given = as_codes("given", given)
    n_units = given.shape[0]
    offsets = check_blocks(unit_offsets, n_units, "unit_offsets")
    blocks = check_blocks(block_offsets, n_units)
    blank = np.ascontiguousarray(np.asarray(blank, dtype=np.bool_))
    if blank.shape != (n_units,):
        raise ValueError(f"blank must have one entry per unit ({n_units})")
    if n_units and given.max() > 1:
        raise ValueError("given states must be 0, 1 or -1")
    start = _seconds("session_start", session_start, offsets.size - 1)
    end = _seconds("session_end", session_end, offsets.size - 1)
    onset = _seconds("bout_onset", bout_onset)
    offset = _seconds("bout_offset", bout_offset, onset.shape[0])
    session = as_index("bout_session", bout_session)
    if session.shape != onset.shape or (session.size and (
            session.min() < 0 or session.max() >= start.size)):
        raise ValueError("bout_session must give a session 0..n_sessions-1 for every bout")
    order = np.lexsort((onset, session))
    session, onset, offset = session[order], onset[order], offset[order]
    gaps, bout_offsets = _gaps(session, onset, offset, start, end)
    seeds = np.ascontiguousarray(np.asarray(seeds, dtype=np.uint64).reshape(-1))
    out = np.zeros((seeds.shape[0], 2, 2), np.int64)
    blank_diff = np.diff(blank.astype(np.int32), prepend=np.int32(0))
    _permuted_timed_kernel(given, blank_diff, blocks, offsets, r, bout_offsets,
                           np.ascontiguousarray(offset - onset), gaps, bool(onsets), lag, w,
                           seeds, out)
    return out


def _gaps(session: np.ndarray, onset: np.ndarray, offset: np.ndarray, start: np.ndarray,
          end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``m + 1`` gaps of each session's ``m`` sorted bouts, and the bouts' offsets."""
    n_sessions = start.shape[0]
    bout_offsets = np.searchsorted(session, np.arange(n_sessions + 1)).astype(np.int64)
    same = session[1:] == session[:-1]
    overlap = np.flatnonzero(same & (onset[1:] < offset[:-1] - _EPS))
    if overlap.size:
        i = int(overlap[0])
        raise LagnestDataError(DataProblem(
            "two events of the shuffled code overlap in one session",
            value=f"{onset[i]:g}-{offset[i]:g} s and {onset[i + 1]:g}-{offset[i + 1]:g} s",
            expected="events of one code that do not overlap (they may touch)"))
    if session.size and (np.any(onset < start[session] - _EPS)
                         or np.any(offset > end[session] + _EPS)):
        raise LagnestDataError(DataProblem("an event lies outside its session",
                                           expected="events within session start and end"))
    # gap before each bout: from the previous offset (or the start); one more after the last
    prev = start[session]
    prev[1:][same] = offset[:-1][same]
    before = np.maximum(onset - prev, 0.0)
    after = np.full(n_sessions, 0.0)
    has = np.diff(bout_offsets) > 0
    last = bout_offsets[1:][has] - 1
    after[has] = np.maximum(end[has] - offset[last], 0.0)
    after[~has] = np.maximum(end[~has] - start[~has], 0.0)
    # session s's gaps sit at bout_offsets[s] + s .. bout_offsets[s + 1] + s
    gaps = np.empty(session.shape[0] + n_sessions, np.float64)
    slot = np.arange(session.shape[0]) + session
    gaps[slot] = before
    gaps[bout_offsets[1:] + np.arange(n_sessions)] = after
    return np.ascontiguousarray(gaps), bout_offsets
