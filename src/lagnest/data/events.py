"""Coded events in time: `TimedEvents`, and timed events cut into segments.

Coded events in time: the :class:`TimedEvents` container (flat arrays of events with their
onset and offset in seconds, per session and stream), and the cutting of timed events into
fixed segments that the SDIS and BORIS readers and :meth:`TimedEvents.to_sequences` share
(``segment_events``, ``timed_to_values``, ``build_sequences``). The time-based statistics
on a `TimedEvents` are :func:`lagnest.timed_table` and
:func:`lagnest.timed_permutation_test` (``docs/timed_events.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lagnest.data._streams import CodeIndex, CodeRef, StreamData, natural_key, readonly
from lagnest.data.codebook import Codebook
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError

__all__ = [
    "UNCODED_LABEL",
    "StreamSpec",
    "TimedEvent",
    "TimedEvents",
    "TimedSession",
    "build_sequences",
    "check_segment_options",
    "segment_events",
    "timed_events",
    "timed_to_values",
]

#: Tolerance (seconds, or segments) of the cutting rules: an overlap must exceed it.
_EPS = 1e-9
#: Label of an uncoded interval (stream and code -1) in :meth:`TimedEvents.to_frame`.
UNCODED_LABEL = "(uncoded)"


class _Budget(Protocol):
    """What the cutting needs of a reader's segment budget (``io._limits.Budget``)."""

    def take(self, count: float, what: str, **where: Any) -> None: ...


@dataclass(frozen=True)
class TimedEvent:
    """A coded event in time: ``code`` from ``onset`` to ``offset`` seconds.

    ``offset == onset`` is a momentary event. ``token`` locates it in its file (for errors):
    any object with ``line`` and ``column`` (or ``row``) attributes.
    """

    code: str
    onset: float
    offset: float
    where: dict = field(default_factory=dict)


@dataclass
class StreamSpec:
    """A stream being built: name, kind, code list (``fixed`` when declared), exclusivity.

    An ``exclusive`` stream's timed events may not overlap.
    """

    name: str
    kind: str
    codes: list[str]
    fixed: bool
    exclusive: bool = False



# ---------------------------------------------------------------------------- time -> segments
def segment_events(
    events: Sequence[TimedEvent],
    segment_seconds: float,
    *,
    end_time: float | None = None,
    min_overlap: float = 0.0,
    rule: str = "overlap",
    budget: _Budget | None = None,
) -> tuple[int, list[tuple[int, int]]]:
    """Cut timed events into fixed segments ``[k L, (k + 1) L)`` from time 0.

    Parameters
    ----------
    events : sequence of TimedEvent
    segment_seconds : float
        Segment length ``L`` (> 0).
    end_time : float, optional
        End of the session; default the latest offset.
    min_overlap : float, default 0
        Rule ``"overlap"``: an event is present in every segment it overlaps by more than 0
        seconds (``min_overlap=0``) or by at least ``min_overlap`` seconds. Momentary events
        (offset = onset) are present in the segment holding their onset.
    rule : {"overlap", "onset"}
        ``"onset"``: an event is present only in the segment holding its onset.
    budget : Budget, optional
        Segments the file may still make; the session's segments are taken from it (a
        `LimitError` located at the latest event when they are too many) before anything
        is allocated.

    Returns
    -------
    n_segments : int
    present : list of (int, int)
        For each event, the segments it is present in: ``range(start, stop)`` (an event
        is present in consecutive segments, or in none).
    """
    L = float(segment_seconds)
    latest = max(range(len(events)), key=lambda i: events[i].offset, default=None)
    last = max([end_time or 0.0] + [e.offset for e in events])
    firsts = [math.floor(e.onset / L + _EPS) for e in events]
    n = max([1, math.ceil(last / L - _EPS)] + [k + 1 for k in firsts])
    if budget is not None:
        where = events[latest].where if latest is not None else {}
        budget.take(n, f"cutting this session ({last:g} s) into {L:g} s segments", **where)
    present = []
    for e, first in zip(events, firsts, strict=True):
        if rule == "onset" or e.offset - e.onset <= _EPS:
            present.append((first, first + 1))
            continue
        stop = math.ceil(e.offset / L - _EPS)

        def counts(k: int, e: TimedEvent = e) -> bool:
            overlap = min(e.offset, (k + 1) * L) - max(e.onset, k * L)
            return (overlap > _EPS) if min_overlap <= 0 else (overlap >= min_overlap - _EPS)

        if stop - first >= 3 and not counts(first + 1):
            present.append((first, first))  # not even a whole segment is enough
            continue
        start = first if counts(first) else first + 1
        end = stop if counts(stop - 1) else stop - 1
        present.append((start, max(start, end)))
    return n, present


def check_segment_options(segment_seconds: float | None, min_overlap: float, rule: str) -> None:
    """Raise a `LagnestDataError` naming a bad segment length, ``min_overlap`` or rule."""

    def number(value: object) -> bool:
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        )

    if segment_seconds is not None and not (
        number(segment_seconds) and math.isfinite(segment_seconds) and segment_seconds > 0
    ):
        raise LagnestDataError(
            DataProblem("bad segment length", value=segment_seconds, expected="seconds > 0")
        )
    if not (number(min_overlap) and math.isfinite(min_overlap) and min_overlap >= 0):
        raise LagnestDataError(
            DataProblem("bad min_overlap", value=min_overlap, expected="seconds >= 0")
        )
    if rule not in ("overlap", "onset"):
        raise LagnestDataError(
            DataProblem("bad boundary rule", value=rule, expected="'overlap' or 'onset'")
        )


@dataclass
class TimedSession:
    """Timed events of one session, ready to become segments."""

    events: list[TimedEvent]
    event_breaks: list[bool]
    end_time: float | None = None


def timed_to_values(
    sess: TimedSession,
    specs: list[StreamSpec],
    owner: Mapping[str, int],
    code_index: Mapping[str, int],
    segment_seconds: float | None,
    min_overlap: float,
    rule: str,
    uncoded: str | None,
    budget: _Budget | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Timed events -> per-stream values and breaks (event level or fixed segments).

    At event level (``segment_seconds=None``) every event is a segment, in onset order, and
    streams are those of ``specs`` (categorical streams hold the event's code). With fixed
    segments every stream is an indicator stream (``specs`` kinds are ignored), and the
    session's segments are taken from ``budget`` before anything is allocated.
    """
    order = sorted(range(len(sess.events)), key=lambda i: (sess.events[i].onset, i))
    if segment_seconds is None:
        n = len(order)
        values = [
            np.full(n, -1, np.int64)
            if s.kind == "categorical"
            else np.zeros((n, len(s.codes)), np.int8)
            for s in specs
        ]
        breaks = np.zeros(n, bool)
        for t, i in enumerate(order):
            e = sess.events[i]
            breaks[t] = sess.event_breaks[i]
            if e.code == uncoded:
                for v in values:
                    v[t] = -1
                continue
            s, j = owner[e.code], code_index[e.code]
            if specs[s].kind == "categorical":
                values[s][t] = j
            else:
                values[s][t, j] = 1
        return values, breaks
    n, present = segment_events(
        sess.events,
        segment_seconds,
        end_time=sess.end_time,
        min_overlap=min_overlap,
        rule=rule,
        budget=budget,
    )
    values = [np.zeros((n, len(s.codes)), np.int8) for s in specs]
    blank = np.zeros(n, bool)
    breaks = np.zeros(n, bool)
    for i, e in enumerate(sess.events):
        if sess.event_breaks[i]:
            k = math.floor(e.onset / segment_seconds + _EPS)
            if k > 0:
                breaks[k] = True
        start, stop = present[i]
        if e.code == uncoded:
            blank[start:stop] = True
            continue
        values[owner[e.code]][start:stop, code_index[e.code]] = 1
    for v in values:
        v[blank] = -1
    return values, breaks



def build_sequences(
    labels: Sequence[str],
    dyads: Sequence[str],
    specs: Sequence[StreamSpec],
    per_session: Sequence[tuple[list[np.ndarray], np.ndarray]],
    covariates: pd.DataFrame | None,
    attrs: pd.DataFrame | None,
    codebook: str | Codebook | None,
    ratings: Mapping[str, np.ndarray] | None = None,
    segment_numbers: np.ndarray | None = None,
) -> Sequences:
    """Concatenate per-session stream values into a `Sequences`."""
    lengths = [len(b) for _, b in per_session]
    streams = {
        spec.name: StreamData(
            spec.kind,
            tuple(spec.codes),
            np.concatenate([vals[s] for vals, _ in per_session])
            if per_session
            else np.zeros(0, np.int64),
        )
        for s, spec in enumerate(specs)
    }
    return Sequences.from_arrays(
        sessions=labels,
        dyads=dyads,
        lengths=lengths,
        streams=streams,
        breaks=np.concatenate([b for _, b in per_session]),
        segment_numbers=segment_numbers,
        ratings=ratings,
        session_covariates=covariates,
        dyad_attributes=attrs,
        codebook=codebook,
    )



# ---------------------------------------------------------------------------- TimedEvents
def _float_array(name: str, values: Any, n: int | None = None) -> np.ndarray:
    """``values`` as finite float64 of length ``n``; a `LagnestDataError` naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise LagnestDataError(
            DataProblem(f"{name} must be numbers (seconds)", value=repr(values)[:80],
                        expected="a 1-d array of finite seconds")
        ) from None
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise LagnestDataError(
            DataProblem(f"{name} has shape {arr.shape}",
                        expected=f"a 1-d array of {n if n is not None else 'any'} values")
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise LagnestDataError(
            DataProblem(f"{name} is not finite at position {int(bad[0])}",
                        value=float(arr[bad[0]]), expected="finite seconds")
        )
    return arr


def _int_array(name: str, values: Any, n: int, low: int, high: int) -> np.ndarray:
    """``values`` as int64 of length ``n`` within ``low..high - 1``."""
    arr = np.asarray(values)
    if arr.shape != (n,) or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise LagnestDataError(
            DataProblem(f"{name} has dtype {arr.dtype} and shape {arr.shape}",
                        expected=f"{n} integers")
        )
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < low) | (arr >= high))
    if bad.size:
        raise LagnestDataError(
            DataProblem(f"{name} out of range at event {int(bad[0])}", value=int(arr[bad[0]]),
                        expected=f"an integer in {low}..{high - 1}")
        )
    return arr


@dataclass(frozen=True, eq=False)
class TimedEvents:
    r"""Coded events in time, per session and stream: onset and offset in seconds.

    The time-based counterpart of :class:`~lagnest.Sequences`: nothing is cut into segments.
    Events are flat arrays, kept sorted by session and then onset (ties keep their order).
    Build one with :func:`lagnest.read_sdis` or :func:`lagnest.read_boris` and
    ``as_events=True``, with :meth:`from_frame`, or from arrays with the constructor;
    analyse it with :func:`lagnest.timed_table` and :func:`lagnest.timed_permutation_test`,
    or cut it into segments with :meth:`to_sequences`.

    Parameters
    ----------
    session : array of int, shape (n_events,)
        Index of each event's session in ``session_labels``.
    stream : array of int, shape (n_events,)
        Index of each event's stream in ``streams``; ``-1`` marks an uncoded interval (no
        stream is coded during it, e.g. SDIS's ``UNCODED``).
    code : array of int, shape (n_events,)
        Index of each event's code in ``codes[stream]`` (``-1`` for an uncoded interval).
    onset, offset : array of float, shape (n_events,)
        Seconds; ``offset == onset`` is a momentary event, ``offset < onset`` an error.
    session_labels, session_dyads : sequence of str
        Label of each session and of its dyad.
    streams : sequence of str
        Stream names.
    codes : sequence of sequence of str
        Code labels of each stream.
    breaks : array of bool, optional
        ``True`` where a break precedes the event (SDIS ``;``): no lag or window crosses
        the start of the time unit holding its onset. Default none.
    session_start, session_end : array of float, optional
        Start and end of each session (seconds). Default start 0 and end the latest
        offset; an event may not start before its session's start or end after its end.
    session_covariates, dyad_attributes : DataFrame, optional
        As for :class:`~lagnest.Sequences` (kept for :meth:`to_sequences`).
    codebook : str or Codebook, optional
        Applied by :meth:`to_sequences`.

    Raises
    ------
    LagnestDataError
        An offset before its onset, a time that is not finite, an index out of range,
        an event outside its session, mismatched lengths.

    Examples
    --------
    >>> ev = TimedEvents.from_frame(pd.DataFrame(
    ...     {"session": ["s1", "s1"], "code": ["A", "B"], "onset": [0, 2], "offset": [2, 5]}))
    >>> ev
    TimedEvents: 2 events in 1 session (1 dyad), 0 to 5 s
      code: A, B
    """

    session: np.ndarray
    stream: np.ndarray
    code: np.ndarray
    onset: np.ndarray
    offset: np.ndarray
    session_labels: tuple[str, ...]
    session_dyads: tuple[str, ...]
    streams: tuple[str, ...]
    codes: tuple[tuple[str, ...], ...]
    breaks: np.ndarray | None = None
    session_start: np.ndarray | None = None
    session_end: np.ndarray | None = None
    session_covariates: pd.DataFrame | None = None
    dyad_attributes: pd.DataFrame | None = None
    codebook: str | Codebook | None = None
    _index: CodeIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        labels = tuple(str(s) for s in self.session_labels)
        dyads = tuple(str(d) for d in self.session_dyads)
        if len(dyads) != len(labels):
            raise LagnestDataError(
                DataProblem(f"{len(dyads)} dyad labels for {len(labels)} sessions",
                            expected="one dyad label per session")
            )
        if len(set(labels)) != len(labels):
            raise LagnestDataError(DataProblem("duplicate session labels", value=labels,
                                               expected="unique session labels"))
        streams = tuple(str(s) for s in self.streams)
        codes = tuple(tuple(str(c) for c in cs) for cs in self.codes)
        if len(codes) != len(streams):
            raise LagnestDataError(
                DataProblem(f"{len(codes)} code lists for {len(streams)} streams",
                            expected="one code list per stream")
            )
        onset = _float_array("onset", self.onset)
        n, n_sessions = onset.shape[0], len(labels)
        offset = _float_array("offset", self.offset, n)
        session = _int_array("session", self.session, n, 0, n_sessions)
        stream = _int_array("stream", self.stream, n, -1, len(streams))
        widths = np.array([len(c) for c in codes] + [0], np.int64)[stream]
        code = _int_array("code", self.code, n, -1, max(int(widths.max(initial=0)), 1))
        wrong = np.flatnonzero((code >= np.maximum(widths, 0)) & (stream >= 0)
                               | ((stream < 0) != (code < 0)))
        if wrong.size:
            i = int(wrong[0])
            raise LagnestDataError(
                DataProblem(f"event {i} has code index {int(code[i])} in stream "
                            f"{int(stream[i])}", expected="a code index of its stream (-1 "
                            "in both stream and code for an uncoded interval)")
            )
        back = np.flatnonzero(offset < onset)
        if back.size:
            i = int(back[0])
            raise LagnestDataError(
                DataProblem(f"offset before onset in event {i} (session {labels[session[i]]!r}"
                            f", code {self._name(stream[i], code[i], codes, streams)!r})",
                            value=f"onset {onset[i]:g}, offset {offset[i]:g}",
                            expected="offset >= onset (offset == onset: a momentary event)")
            )
        breaks = (np.zeros(n, bool) if self.breaks is None
                  else np.asarray(self.breaks, dtype=bool).reshape(-1))
        if breaks.shape != (n,):
            raise LagnestDataError(DataProblem(f"breaks has {breaks.size} values",
                                               expected=f"one per event ({n})"))
        start = (np.zeros(n_sessions) if self.session_start is None
                 else _float_array("session_start", self.session_start, n_sessions))
        latest = np.full(n_sessions, -np.inf)
        np.maximum.at(latest, session, offset)
        end = (np.maximum(latest, start) if self.session_end is None
               else _float_array("session_end", self.session_end, n_sessions))
        outside = np.flatnonzero((onset < start[session] - _EPS) | (offset > end[session] + _EPS))
        if outside.size:
            i = int(outside[0])
            s = int(session[i])
            raise LagnestDataError(
                DataProblem(f"event {i} ({self._name(stream[i], code[i], codes, streams)!r}) "
                            f"lies outside its session {labels[s]!r}",
                            value=f"{onset[i]:g}-{offset[i]:g} s",
                            expected=f"times within the session, {start[s]:g}-{end[s]:g} s")
            )
        order = np.lexsort((onset, session))
        set_ = object.__setattr__
        for name, arr, dtype in (("session", session, np.int64), ("stream", stream, np.int64),
                                 ("code", code, np.int64), ("onset", onset, np.float64),
                                 ("offset", offset, np.float64), ("breaks", breaks, bool)):
            set_(self, name, readonly(arr[order], dtype))
        set_(self, "session_start", readonly(start, np.float64))
        set_(self, "session_end", readonly(end, np.float64))
        set_(self, "session_labels", labels)
        set_(self, "session_dyads", dyads)
        set_(self, "streams", streams)
        set_(self, "codes", codes)
        set_(self, "_index", CodeIndex({
            name: StreamData("indicator", cs, np.zeros(0, np.int8))
            for name, cs in zip(streams, codes, strict=True)}))

    @staticmethod
    def _name(stream: int, code: int, codes: Sequence[Sequence[str]],
              streams: Sequence[str]) -> str:
        return UNCODED_LABEL if stream < 0 else f"{streams[stream]}:{codes[stream][code]}"

    # ------------------------------------------------------------------ views
    @property
    def n_events(self) -> int:
        """Number of events (uncoded intervals included)."""
        return int(self.onset.shape[0])

    @property
    def n_sessions(self) -> int:
        """Number of sessions."""
        return len(self.session_labels)

    @property
    def dyad_labels(self) -> tuple[str, ...]:
        """The dyads, in order of first appearance."""
        return tuple(dict.fromkeys(self.session_dyads))

    @property
    def session_dyad(self) -> np.ndarray:
        """Index of each session's dyad in :attr:`dyad_labels` (int64, n_sessions)."""
        index = {d: i for i, d in enumerate(self.dyad_labels)}
        return np.array([index[d] for d in self.session_dyads], np.int64)

    @property
    def session_offsets(self) -> np.ndarray:
        """Session s holds events ``session_offsets[s]:session_offsets[s + 1]``."""
        return np.searchsorted(self.session, np.arange(self.n_sessions + 1)).astype(np.int64)

    def resolve(self, spec: str) -> CodeRef:
        """Resolve a code (``"code"``, ``"stream:code"``, a one-code stream) as a `CodeRef`.

        Parameters
        ----------
        spec : str

        Returns
        -------
        CodeRef

        Raises
        ------
        LagnestDataError
            An unknown or ambiguous code, or a stream of several codes (name one of them).
        """
        ref = self._index.resolve(spec)
        if ref.code is None:
            codes = self.codes[self.streams.index(ref.stream)]
            raise LagnestDataError(
                DataProblem(f"{spec!r} is a stream of {len(codes)} codes", value=spec,
                            expected=f"one code of it, one of {list(codes)[:20]}")
            )
        return ref

    def code_mask(self, spec: str) -> np.ndarray:
        """Boolean mask of the events of one code (see :meth:`resolve`)."""
        ref = self.resolve(spec)
        return (self.stream == self.streams.index(ref.stream)) & (self.code == ref.index)

    def to_frame(self) -> pd.DataFrame:
        """The events as a table, one row per event.

        Returns
        -------
        pandas.DataFrame
            Columns ``session``, ``dyad``, ``stream``, ``code``, ``onset``, ``offset``,
            ``duration``, ``break`` (uncoded intervals: stream and code ``"(uncoded)"``).
        """
        names = [UNCODED_LABEL, *self.streams]
        labels = [[UNCODED_LABEL], *(list(c) for c in self.codes)]
        flat = [c for cs in labels for c in cs]
        start = np.cumsum([0] + [len(c) for c in labels])[:-1]
        s = self.stream + 1
        return pd.DataFrame({
            "session": np.asarray(self.session_labels, dtype=object)[self.session],
            "dyad": np.asarray(self.session_dyads, dtype=object)[self.session],
            "stream": np.asarray(names, dtype=object)[s],
            "code": np.asarray(flat, dtype=object)[start[s] + np.maximum(self.code, 0)],
            "onset": self.onset,
            "offset": self.offset,
            "duration": self.offset - self.onset,
            "break": self.breaks,
        })

    def __repr__(self) -> str:
        span = (f", {self.session_start.min():g} to {self.session_end.max():g} s"
                if self.n_sessions else "")
        plural = "" if self.n_sessions == 1 else "s"
        dyads = len(self.dyad_labels)
        lines = [f"TimedEvents: {self.n_events} events in {self.n_sessions} session{plural} "
                 f"({dyads} dyad{'' if dyads == 1 else 's'}){span}"]
        for name, codes in zip(self.streams, self.codes, strict=True):
            line = f"  {name}: {', '.join(codes)}"
            lines.append(line if len(line) <= 100 else line[:96] + " ...")
        return "\n".join(lines)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        session: str = "session",
        code: str = "code",
        onset: str = "onset",
        offset: str | None = "offset",
        stream: str | None = None,
        dyad: str | None = None,
        session_end: Mapping[str, float] | None = None,
    ) -> TimedEvents:
        """Events from a table with one row per event.

        Parameters
        ----------
        frame : pandas.DataFrame
        session, code, onset : str
            Columns of the session label, the code and the onset (seconds).
        offset : str or None, default "offset"
            Column of the offset; ``None`` (or a missing cell) makes momentary events.
        stream : str, optional
            Column of the stream name; default one stream named ``"code"``.
        dyad : str, optional
            Column of the dyad label (constant within a session); default each session is
            its own dyad.
        session_end : mapping of str to float, optional
            End of some sessions (seconds); default their latest offset. Sessions start at 0.

        Returns
        -------
        TimedEvents
            Codes of each stream in natural order (numbers numerically, then text).
        """
        missing = [c for c in (session, code, onset, offset, stream, dyad)
                   if c is not None and c not in frame.columns]
        if missing:
            raise LagnestDataError(
                DataProblem("missing columns", value=missing,
                            expected=f"columns of the table, one of {list(frame.columns)[:20]}")
            )
        labels = frame[session].astype(str).to_numpy()
        sessions = list(dict.fromkeys(labels))
        names = (frame[stream].astype(str).to_numpy() if stream is not None
                 else np.full(len(frame), "code", dtype=object))
        codes_text = frame[code].astype(str).to_numpy()
        stream_names = list(dict.fromkeys(names))
        code_lists = [sorted(set(codes_text[names == n]), key=natural_key) for n in stream_names]
        s_index = {n: i for i, n in enumerate(stream_names)}
        c_index = [{c: j for j, c in enumerate(cs)} for cs in code_lists]
        stream_idx = np.array([s_index[n] for n in names], np.int64)
        code_idx = np.array([c_index[s][c] for s, c in zip(stream_idx, codes_text, strict=True)],
                            np.int64)
        on = pd.to_numeric(frame[onset], errors="coerce").to_numpy(np.float64)
        off = (on.copy() if offset is None
               else pd.to_numeric(frame[offset], errors="coerce").to_numpy(np.float64))
        off = np.where(np.isnan(off), on, off)
        bad = np.flatnonzero(np.isnan(on))
        if bad.size:
            raise LagnestDataError(
                DataProblem("onset is not a number", row=int(bad[0]) + 1, column=onset,
                            value=frame[onset].iloc[bad[0]], expected="seconds")
            )
        dyads = sessions
        if dyad is not None:
            first = frame.groupby(labels, sort=False)[dyad].agg(["first", "nunique"])
            varies = first.index[first["nunique"] > 1]
            if len(varies):
                raise LagnestDataError(
                    DataProblem(f"the dyad varies within session {varies[0]!r}", column=dyad,
                                expected="one dyad per session")
                )
            dyads = [str(first.loc[s, "first"]) for s in sessions]
        s_of = {s: i for i, s in enumerate(sessions)}
        session_idx = np.array([s_of[s] for s in labels], np.int64)
        end = None
        if session_end is not None:
            given_ends = {str(k): v for k, v in session_end.items()}
            unknown = sorted(set(given_ends) - set(sessions))
            if unknown:
                raise LagnestDataError(
                    DataProblem("session_end names sessions the table does not have",
                                value=unknown[:10], expected=f"some of {sessions[:10]}")
                )
            latest = np.zeros(len(sessions))
            np.maximum.at(latest, session_idx, off)
            end = np.array([given_ends.get(s, latest[i]) for i, s in enumerate(sessions)],
                           np.float64)
        return cls(session_idx, stream_idx, code_idx, on, off, sessions, dyads, stream_names,
                   code_lists, session_end=end)

    # ------------------------------------------------------------------ segments
    def to_sequences(
        self,
        segment_seconds: float = 1.0,
        *,
        min_overlap: float = 0.0,
        rule: str = "overlap",
        codebook: str | Codebook | None = None,
    ) -> Sequences:
        """Cut time into segments of ``segment_seconds`` from each session's start.

        The same cutting as ``read_sdis(..., segment_seconds=...)`` and
        ``read_boris(..., segment_seconds=...)`` (every stream becomes an indicator
        stream; uncoded intervals blank every stream), so that
        ``read_sdis(path, as_events=True).to_sequences(L)`` equals
        ``read_sdis(path, segment_seconds=L)``.

        Parameters
        ----------
        segment_seconds : float, default 1.0
        min_overlap, rule
            As in :func:`lagnest.read_sdis`.
        codebook : str or Codebook, optional
            Default the one the events were read with.

        Returns
        -------
        Sequences
        """
        check_segment_options(segment_seconds, min_overlap, rule)
        specs = [StreamSpec(name, "indicator", list(cs), True)
                 for name, cs in zip(self.streams, self.codes, strict=True)]
        keys = [[f"{s}:{j}" for j in range(len(cs))] for s, cs in enumerate(self.codes)]
        owner = {k: s for s, ks in enumerate(keys) for k in ks}
        code_index = {k: j for ks in keys for j, k in enumerate(ks)}
        bounds = self.session_offsets
        per_session = []
        for s in range(self.n_sessions):
            a, b, start = bounds[s], bounds[s + 1], float(self.session_start[s])
            events = [
                TimedEvent(keys[st][c] if st >= 0 else UNCODED_LABEL, on - start, off - start)
                for st, c, on, off in zip(self.stream[a:b].tolist(), self.code[a:b].tolist(),
                                          self.onset[a:b].tolist(), self.offset[a:b].tolist(),
                                          strict=True)
            ]
            sess = TimedSession(events, self.breaks[a:b].tolist(),
                                float(self.session_end[s]) - start)
            per_session.append(timed_to_values(sess, specs, owner, code_index, segment_seconds,
                                               min_overlap, rule, UNCODED_LABEL))
        return build_sequences(self.session_labels, self.session_dyads, specs, per_session,
                               self.session_covariates, self.dyad_attributes,
                               codebook if codebook is not None else self.codebook)


def timed_events(
    labels: Sequence[str],
    dyads: Sequence[str],
    specs: Sequence[StreamSpec],
    sessions: Sequence[TimedSession],
    owner: Mapping[str, int],
    code_index: Mapping[str, int],
    uncoded: str | None,
    covariates: pd.DataFrame | None = None,
    attrs: pd.DataFrame | None = None,
    codebook: str | Codebook | None = None,
) -> TimedEvents:
    """Parsed timed sessions (the readers' `TimedSession` s) -> a `TimedEvents`.

    ``owner`` and ``code_index`` map each code to its stream and its position in the
    stream, as for :func:`timed_to_values`; events of the ``uncoded`` code become uncoded
    intervals. A session ends at its end time or at its latest offset, whichever is later.
    """
    rows = [
        (s, -1, -1, e.onset, e.offset, brk) if e.code == uncoded
        else (s, owner[e.code], code_index[e.code], e.onset, e.offset, brk)
        for s, sess in enumerate(sessions)
        for e, brk in zip(sess.events, sess.event_breaks, strict=True)
    ]
    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    end = np.array([max([sess.end_time or 0.0] + [e.offset for e in sess.events])
                    for sess in sessions], np.float64)
    return TimedEvents(
        np.array(cols[0], np.int64), np.array(cols[1], np.int64), np.array(cols[2], np.int64),
        np.array(cols[3], np.float64), np.array(cols[4], np.float64), labels, dyads,
        [spec.name for spec in specs], [spec.codes for spec in specs],
        breaks=np.array(cols[5], bool), session_end=end, session_covariates=covariates,
        dyad_attributes=attrs, codebook=codebook)
