r"""Time-based lag tables of timed events: time units, lags in seconds, GSEQ-style windows.

Time-based lag tables of timed events (a :class:`~lagnest.TimedEvents`), GSEQ's time-unit
analysis without cutting the events into segments first: the state of a given code (or of
a window tied to its onsets and offsets, :class:`TimeWindow`) in every time unit crossed
with the state of a target code at a lag in seconds (or anywhere in a window of seconds),
with the statistics of :func:`lagnest.lag_table`; and a permutation test that shuffles the
target code's events in time, keeping their durations. Rules, formulas and a worked
example: ``docs/timed_events.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from lagnest import kernels
from lagnest.classical.lagtable import POOLED, _with_pooled
from lagnest.classical.permutation import _ALTERNATIVES, Alternative, pvalues_from_tables
from lagnest.classical.statistics import TABLE_VARIABLES, _scalar, table_statistics
from lagnest.data.events import TimedEvents
from lagnest.errors import DataProblem, LagnestDataError

__all__ = ["TimeWindow", "timed_permutation_test", "timed_table"]

#: The anchors of a window: an event's onset unit or its offset unit.
ANCHORS = ("onset", "offset")
_SHIFT = re.compile(r"[+-](\d+(\.\d*)?|\.\d+)")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool)


@dataclass(frozen=True)
class TimeWindow:
    r"""A window tied to the onset and offset of each event of a code (GSEQ's ``WINDOW``).

    The window of an event runs from the unit ``start`` (the event's onset unit, GSEQ's
    ``(A``, or its offset unit, ``A)``) shifted by ``start_shift`` seconds, to the unit
    ``end`` shifted by ``end_shift`` seconds, both included; a unit is in the window code
    when it lies in the window of any event of the code (see ``docs/timed_events.md``).

    Parameters
    ----------
    start, end : {"onset", "offset"}
        Anchors of the window's first and last unit.
    start_shift, end_shift : float
        Seconds added to each anchor (negative: earlier); whole multiples of the
        resolution of the table.

    Examples
    --------
    >>> TimeWindow.parse("(A+1, (A+5", "A")  # the 5 s after A begins
    TimeWindow(start='onset', start_shift=1.0, end='onset', end_shift=5.0)
    >>> TimeWindow("onset", 0, "offset", 5).label("A")  # from A's onset to 5 s after it
    '(A, A)+5'
    """

    start: str = "onset"
    start_shift: float = 0.0
    end: str = "offset"
    end_shift: float = 0.0

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if getattr(self, name) not in ANCHORS:
                raise LagnestDataError(DataProblem(f"bad window {name}", value=getattr(self, name),
                                                   expected="'onset' or 'offset'"))
        for name in ("start_shift", "end_shift"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value)):
                raise LagnestDataError(DataProblem(f"bad window {name}", value=value,
                                                   expected="finite seconds"))
            object.__setattr__(self, name, float(value))

    @classmethod
    def parse(cls, text: str, code: str | Sequence[str]) -> TimeWindow:
        """Read GSEQ's notation: ``(A`` onset, ``A)`` offset, ``+s``/``-s`` seconds later/earlier.

        Parameters
        ----------
        text : str
            One point (``"(A"``, ``"A)"``, ``"(A+3"``: that unit only), a range of two
            points separated by a comma (``"(A+1, (A+5"``, ``"(A, A)+5"``), or the bare code
            (``"A"``: the whole event, ``"(A, A)"``).
        code : str or sequence of str
            The code the window is tied to (any of several spellings, e.g. ``"T"`` and
            ``"speaker:T"``). A code holding a comma needs the ``TimeWindow(...)`` form.

        Returns
        -------
        TimeWindow
        """
        names = sorted({code} if isinstance(code, str) else set(code), key=len, reverse=True)
        if not isinstance(text, str):
            raise LagnestDataError(DataProblem("a window must be text or a TimeWindow",
                                               value=repr(text), expected="e.g. '(A+1, (A+5'"))
        terms = [term.strip() for term in text.split(",")]
        if len(terms) == 1 and terms[0] in names:
            return cls()
        if len(terms) > 2:
            raise LagnestDataError(DataProblem(
                "a window has at most two points", value=text,
                expected="'(A+1, (A+5': a first and a last unit separated by one comma"))
        points = [_point(term, names, text) for term in terms]
        return cls(points[0][0], points[0][1], points[-1][0], points[-1][1])

    def label(self, code: str) -> str:
        """The window in GSEQ's notation for ``code`` (the label of the window code)."""
        first = _notation(self.start, self.start_shift, code)
        last = _notation(self.end, self.end_shift, code)
        return first if first == last else f"{first}, {last}"

    def units(self, resolution: float) -> tuple[tuple[int, int], tuple[int, int]]:
        """Anchors (``kernels.ONSET``/``OFFSET``) and shifts in whole units of ``resolution``."""
        anchors = tuple(ANCHORS.index(a) for a in (self.start, self.end))
        shifts = tuple(_whole_units(f"window shift {s:g} s", s, resolution)
                       for s in (self.start_shift, self.end_shift))
        return anchors, shifts  # type: ignore[return-value]


def _point(term: str, names: Sequence[str], text: str) -> tuple[str, float]:
    """One point of a window: ``(code[+-s]`` or ``code)[+-s]`` -> (anchor, shift)."""
    for name in names:
        if term.startswith("(" + name):
            anchor, rest = "onset", term[len(name) + 1:]
            break
        if term.startswith(name + ")"):
            anchor, rest = "offset", term[len(name) + 1:]
            break
    else:
        raise LagnestDataError(DataProblem(
            f"bad window point {term!r} in {text!r}", value=term,
            expected=f"'({names[-1]}' (its onset unit) or '{names[-1]})' (its offset unit), "
                     f"optionally shifted by seconds: '({names[-1]}+5', '{names[-1]})-2'"))
    rest = rest.replace(" ", "")
    if rest and not _SHIFT.fullmatch(rest):
        raise LagnestDataError(DataProblem(f"bad window shift {rest!r} in {text!r}", value=rest,
                                           expected="+seconds or -seconds, e.g. +5 or -2.5"))
    return anchor, float(rest) if rest else 0.0


def _notation(anchor: str, shift: float, code: str) -> str:
    point = f"({code}" if anchor == "onset" else f"{code})"
    return point + (f"{shift:+g}" if shift else "")


def _whole_units(name: str, seconds: float, resolution: float) -> int:
    """``seconds`` as a whole number of units; a `LagnestDataError` naming ``name`` if not."""
    if not (_is_number(seconds) and math.isfinite(seconds)):
        raise LagnestDataError(DataProblem(f"bad {name}", value=seconds, expected="seconds"))
    units = seconds / resolution
    whole = round(units)
    if abs(units - whole) > 1e-9 * max(1.0, abs(units)):
        raise LagnestDataError(DataProblem(
            f"{name} is not a whole number of time units", value=seconds,
            expected=f"a multiple of the resolution, {resolution:g} s"))
    return int(whole)


# =========================================================================== units


@dataclass(frozen=True)
class _Units:
    """The states of the given and target code in every time unit, and how to tally them."""

    given: np.ndarray
    target: np.ndarray
    blank: np.ndarray
    unit_offsets: np.ndarray
    block_offsets: np.ndarray
    block_session: np.ndarray
    target_events: np.ndarray
    lag: int
    window: int | None
    resolution: float
    labels: tuple[tuple[str, str], tuple[str, str]]
    attrs: dict[str, Any]


def _units(events: TimedEvents, given: str, target: str, resolution: float,
           lag_seconds: float | None, window: str | TimeWindow | None,
           window_seconds: float | None, target_onsets: bool) -> _Units:
    """Validate the arguments and compute the unit states (see :func:`timed_table`)."""
    if not isinstance(events, TimedEvents):
        raise LagnestDataError(DataProblem(
            "timed tables need a TimedEvents", value=type(events).__name__,
            expected="read_sdis(..., as_events=True), read_boris(..., as_events=True) or "
                     "TimedEvents.from_frame(...); for a Sequences use lag_table"))
    r = kernels.check_resolution(resolution)
    g_ref, t_ref = events.resolve(given), events.resolve(target)
    if window_seconds is not None:
        if lag_seconds is not None:
            raise LagnestDataError(DataProblem(
                "give lag_seconds or window_seconds, not both", value=(lag_seconds,
                                                                       window_seconds),
                expected="window_seconds=w alone (the units t+1..t+w after each unit t)"))
        lag, w = 1, _whole_units("window_seconds", window_seconds, r)
        if w < 1:
            raise LagnestDataError(DataProblem("bad window_seconds", value=window_seconds,
                                               expected=f"seconds >= the resolution, {r:g}"))
    else:
        lag, w = _whole_units("lag_seconds", 0.0 if lag_seconds is None else lag_seconds, r), None
    kernels.check_lag(lag, w)
    offsets, first, stop, onset_unit = kernels.time_units(
        events.session, events.onset, events.offset, events.session_start, events.session_end, r)
    n_units = int(offsets[-1])
    uncoded = events.stream < 0
    blank = (first[uncoded], stop[uncoded])
    mine = _code_events(events, g_ref)
    theirs = _code_events(events, t_ref)
    if window is None:
        given_states = kernels.unit_states(first[mine], stop[mine], n_units, blank)
        g_label = g_ref.label
    else:
        if not isinstance(window, TimeWindow):
            window = TimeWindow.parse(window, [given, g_ref.label, g_ref.code, g_ref.qualified])
        anchors, shifts = window.units(r)
        given_states = kernels.window_states(first[mine], stop[mine], events.session[mine],
                                             offsets, anchors, shifts, blank)
        g_label = window.label(g_ref.label)
    t_stop = first[theirs] + 1 if target_onsets else stop[theirs]
    target_states = kernels.unit_states(first[theirs], t_stop, n_units, blank)
    t_label = f"({t_ref.label}" if target_onsets else t_ref.label
    block_offsets, block_session = kernels.unit_blocks(offsets, onset_unit[events.breaks])
    attrs = {
        "given": given, "target": target, "lag": lag, "window": w or 0,
        "resolution": r, "lag_seconds": 0.0 if w else lag * r, "window_seconds": (w or 0) * r,
        "time_window": "" if window is None else g_label,
        "target_onsets": int(bool(target_onsets)), "tally": "time units",
    }
    return _Units(given_states, target_states, target_states < 0, offsets, block_offsets,
                  block_session, np.flatnonzero(theirs), lag, w, r,
                  ((f"not {g_label}", g_label), (f"not {t_label}", t_label)), attrs)


def _code_events(events: TimedEvents, ref: Any) -> np.ndarray:
    """Mask of the events of a resolved code."""
    return (events.stream == events.streams.index(ref.stream)) & (events.code == ref.index)


# =========================================================================== tables


def timed_table(
    events: TimedEvents,
    given: str,
    target: str,
    *,
    resolution: float = 1.0,
    lag_seconds: float | None = None,
    window: str | TimeWindow | None = None,
    window_seconds: float | None = None,
    target_onsets: bool = False,
    by: str | None = None,
    correction: bool = False,
) -> xr.Dataset:
    r"""Time-unit lag table of two codes of timed events, with the statistics of `lag_table`.

    Time is cut into units of ``resolution`` seconds; a unit holds a code when one of the
    code's events overlaps it (a momentary event: the unit holding it). Each unit's given
    state (the code, or the window code of ``window``) is crossed with the target's state
    ``lag_seconds`` later, or with every distinct target state in the ``window_seconds``
    after it. Nothing is cut into segments first: the cost is linear in events plus units.

    Parameters
    ----------
    events : TimedEvents
        From ``read_sdis(..., as_events=True)``, ``read_boris(..., as_events=True)`` or
        :meth:`TimedEvents.from_frame`.
    given, target : str
        One code each (``"code"``, ``"stream:code"``); rows ``("not A", "A")``, columns
        ``("not B", "B")``.
    resolution : float, default 1.0
        Length of a time unit in seconds.
    lag_seconds : float, optional
        Pairs of units ``(t, t + lag)``; default 0 (co-occurrence in one unit, GSEQ's
        time-unit tally); a multiple of ``resolution``; negative looks backwards.
    window : str or TimeWindow, optional
        Replace the given code by a window tied to its events' onsets and offsets, in
        GSEQ's notation (``"(A+1, (A+5"``: the 5 s after A begins; ``"(A, A)+5"``: from A's
        onset to 5 s after its offset); see :class:`TimeWindow`.
    window_seconds : float, optional
        Instead of a lag: each unit's given state against every distinct target state in
        the ``window_seconds`` after it, each once (``lag_table(..., window=w)`` on units).
    target_onsets : bool, default False
        Count only the onset unit of each target event (GSEQ's ``(B``).
    by : {None, "session", "dyad"}
        Per-unit tables along ``unit`` with the pooled one last, as in `lag_table`.
    correction : bool, default False
        +0.5 correction of ``log_odds`` / ``log_odds_se`` when a collapsed cell is 0.

    Returns
    -------
    xarray.Dataset
        The variables and attrs of :func:`lagnest.lag_table` (``counts`` are time units),
        plus attrs ``resolution``, ``lag_seconds``, ``window_seconds``, ``time_window``
        (the window's notation, or ``""``), ``target_onsets`` and ``tally``; ``lag`` and
        ``window`` are in units.

    Raises
    ------
    LagnestDataError
        Unknown or ambiguous codes, a resolution that is not > 0, lags, windows or shifts
        that are not whole multiples of the resolution, a malformed window.

    See Also
    --------
    timed_permutation_test : permutation p-values shuffling the target's events.
    TimedEvents.to_sequences : the same units as segments of a `Sequences`.

    Notes
    -----
    Pairs stay within a session and never cross a break, and skip uncoded units. With
    given states :math:`g_t` and target states :math:`h_t`,
    :math:`x_{ij} = \#\{t : g_t = i,\ h_{t+L} = j\}`. The tallies equal those of
    :func:`lagnest.lag_table` on ``events.to_sequences(resolution)`` (same ``lag`` and
    ``window`` in units): the property test of ``tests/test_timed_events.py``.

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*, ch. 11 (time-window sequential analysis).
       Cambridge University Press.

    Examples
    --------
    >>> import pandas as pd
    >>> from lagnest import TimedEvents
    >>> ev = TimedEvents.from_frame(pd.DataFrame({
    ...     "session": ["s1"] * 4, "code": ["A", "B", "A", "B"],
    ...     "onset": [0, 2, 5, 6], "offset": [2, 4, 6, 9]}), session_end={"s1": 10})
    >>> timed_table(ev, "A", "B").counts.values
    array([[2, 5],
           [3, 0]])
    """
    units = _units(events, given, target, resolution, lag_seconds, window, window_seconds,
                   target_onsets)
    return _table(events, units, by, correction)


def _table(events: TimedEvents, units: _Units, by: str | None, correction: bool) -> xr.Dataset:
    """The labelled table of :func:`timed_table` from the unit states."""
    if by not in (None, "session", "dyad"):
        raise LagnestDataError(DataProblem("bad by", value=by,
                                           expected="None, 'session' or 'dyad'"))
    block_unit, unit_labels = None, ()
    if by == "session":
        block_unit, unit_labels = units.block_session, events.session_labels
    elif by == "dyad":
        block_unit, unit_labels = events.session_dyad[units.block_session], events.dyad_labels
    raw = kernels.lag_counts(units.given, units.target, units.block_offsets, block_unit, 2, 2,
                             max(len(unit_labels), 1), units.lag, units.window)
    (g_labels, t_labels), lead = units.labels, {"unit": list(unit_labels)} if by else {}
    counts = xr.DataArray(raw if by else raw[0], dims=(*lead, "given", "target"),
                          coords={**lead, "given": list(g_labels), "target": list(t_labels)},
                          name="counts", attrs={**units.attrs, "by": by or "none"})
    if by is not None:
        counts = _with_pooled(counts)
    ds = table_statistics(counts, correction=correction)
    ds.attrs.update(counts.attrs)
    if by is not None:
        ds = ds.assign_coords(is_pooled=("unit", counts["is_pooled"].values))
        ds.attrs.update({name: _scalar(ds[name].sel(unit=POOLED).values)
                         for name in TABLE_VARIABLES})
    return ds


# =========================================================================== permutations


def timed_permutation_test(
    events: TimedEvents,
    given: str,
    target: str,
    *,
    resolution: float = 1.0,
    lag_seconds: float | None = None,
    window: str | TimeWindow | None = None,
    window_seconds: float | None = None,
    target_onsets: bool = False,
    n_perm: int = 10_000,
    seed: int | None = 0,
    alternative: Alternative = "two-sided",
    progress: bool = False,
) -> xr.Dataset:
    r"""Permutation test of a time-unit table: shuffle the target's events, keep durations.

    Parameters
    ----------
    events, given, target, resolution, lag_seconds, window, window_seconds, target_onsets
        As in :func:`timed_table` (one pooled table).
    n_perm : int, default 10_000
        Number of permutations.
    seed : int or None, default 0
        Seed; the same seed gives the same p-values on any number of threads.
    alternative : {"two-sided", "greater", "less"}
        Direction of the per-cell p-values (``X2`` and ``G2`` are always upper-tailed).
    progress : bool, default False
        Show a tqdm progress bar (needs ``tqdm``).

    Returns
    -------
    xarray.Dataset
        :func:`timed_table` output plus ``p_perm_adj_resid``, ``p_perm_counts`` and
        ``perm_mean_counts`` per cell and attrs ``p_perm_X2``, ``p_perm_G2``, ``n_perm``,
        ``seed``, ``alternative``, ``shuffle``, as :func:`lagnest.permutation_test`.

    Raises
    ------
    LagnestDataError
        As :func:`timed_table`; also when two events of the target code overlap in a
        session (touching is fine), since their gaps would be negative.

    Notes
    -----
    Events are shuffled, not time units. In each permutation and each session, the
    :math:`m` events of the target code keep their durations :math:`d_1 \dots d_m` but
    are put in a random order, and the :math:`m + 1` gaps :math:`u_0 \dots u_m` around
    them (session start to the first onset, offset to next onset, last offset to session
    end) are put in an independent random order; event :math:`k` of the new order then
    starts at :math:`\text{start} + \sum_{i<k} (u'_i + d'_i) + u'_k`. Durations, the
    number of events, the target's total time and the session's length are kept; the
    given code, uncoded intervals and breaks stay where they are. Each permutation
    recounts the pooled table from the new target states; p-values are
    :math:`(1 + B) / (1 + n_{perm})` as in :func:`lagnest.permutation_test` (Phipson &
    Smyth 2010). Randomness is a SplitMix64 stream seeded per permutation from ``seed``.

    Unlike a shuffle of segments, this keeps the target's time structure (its bouts stay
    whole), so a lag-0 table is tested too: is the target more (or less) often present
    while the given code (or its window) is on than its own bouts, placed at random in the
    session, would be?

    References
    ----------
    .. [1] Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational
       methods for the behavioral sciences*, ch. 11-12. Cambridge University Press.
    .. [2] Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero.
       *Statistical Applications in Genetics and Molecular Biology, 9*\ (1).
    """
    if alternative not in _ALTERNATIVES:
        raise LagnestDataError(DataProblem("bad alternative", value=alternative,
                                           expected=f"one of {_ALTERNATIVES}"))
    if isinstance(n_perm, bool) or not isinstance(n_perm, int | np.integer) or n_perm < 1:
        raise LagnestDataError(DataProblem("bad n_perm", value=n_perm,
                                           expected="a positive integer"))
    units = _units(events, given, target, resolution, lag_seconds, window, window_seconds,
                   target_onsets)
    ds = _table(events, units, None, False)
    seeds = kernels.permutation_seeds(seed, int(n_perm))
    mine = units.target_events
    lag = units.lag

    def draw(start: int, stop: int) -> np.ndarray:
        return kernels.permuted_timed_tables(
            units.given, units.blank, units.block_offsets, units.unit_offsets,
            units.resolution, events.session[mine], events.onset[mine], events.offset[mine],
            events.session_start, events.session_end, seeds[start:stop], lag, units.window,
            target_onsets)

    res = pvalues_from_tables(ds["counts"].values, draw, int(n_perm), alternative,
                              progress=progress)
    dims = ("given", "target")
    for name, text in (("p_adj_resid", f"permutation p of adj_resid ({alternative})"),
                       ("p_counts", f"permutation p of counts ({alternative})"),
                       ("perm_mean_counts", "mean count over permutations")):
        var = "perm_mean_counts" if name == "perm_mean_counts" else f"p_perm_{name[2:]}"
        ds[var] = (dims, res[name])
        ds[var].attrs["description"] = text
    ds.attrs.update(p_perm_X2=res["p_X2"], p_perm_G2=res["p_G2"], n_perm=int(n_perm),
                    seed=-1 if seed is None else int(seed), alternative=alternative,
                    shuffle="target events and gaps within sessions (durations kept)")
    return ds
