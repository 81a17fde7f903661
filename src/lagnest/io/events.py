"""Coded events into a :class:`~lagnest.Sequences`, for the SDIS and BORIS readers.

Coded events into a :class:`~lagnest.Sequences`, shared by the SDIS and BORIS readers:
streams of declared codes, timed events cut into segments, session factors, and the
assembly of the container.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from lagnest._files import check_readable
from lagnest.data._streams import natural_key
from lagnest.data.codebook import Codebook
from lagnest.data.sequences import Sequences, StreamData
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector
from lagnest.io._limits import Budget

__all__ = [
    "StreamSpec",
    "TimedEvent",
    "TimedSession",
    "build_sequences",
    "check_exclusive",
    "covariate_tables",
    "read_text",
    "segment_events",
    "timed_to_values",
]

_EPS = 1e-9


# ---------------------------------------------------------------------------- tokens
class _Token(NamedTuple):
    """One token: ``kind`` is ``word``, ``label``, ``punct`` or ``eof``; 1-based position."""

    kind: str
    text: str
    line: int
    column: int


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


# ---------------------------------------------------------------------------- streams
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


def _resolve_codes(
    specs: list[StreamSpec],
    tokens: Iterable[_Token],
    uncoded: str | None,
    problems: ProblemCollector,
) -> dict[str, tuple[int, int]]:
    """Map every code to (stream index, code index); unknown declared codes are problems."""
    index = {code: (s, j) for s, spec in enumerate(specs) for j, code in enumerate(spec.codes)}
    for tok in tokens:
        if tok.text in index or tok.text == uncoded:
            continue
        if len(specs) == 1 and not specs[0].fixed:
            specs[0].codes.append(tok.text)
            index[tok.text] = (0, len(specs[0].codes) - 1)
            continue
        declared = [c for spec in specs for c in spec.codes]
        problems.add(
            "unknown code (not in the declared code list)",
            line=tok.line,
            column=tok.column,
            value=tok.text,
            expected=f"one of {declared[:20]}",
        )
    if len(specs) == 1 and not specs[0].fixed:
        order = sorted(specs[0].codes, key=natural_key)
        specs[0].codes[:] = order
        index = {code: (0, j) for j, code in enumerate(order)}
    return index


def _units_to_values(
    units: list[list[_Token]],
    specs: list[StreamSpec],
    index: Mapping[str, tuple[int, int]],
    uncoded: str | None,
    problems: ProblemCollector,
    counts: Sequence[int] | None = None,
) -> list[np.ndarray]:
    """Segments (lists of code tokens) -> one value array per stream.

    A categorical stream takes the one code of its set in the segment (none: uncoded); an
    indicator stream marks its codes present. The ``uncoded`` code alone marks the whole
    segment uncoded. ``counts`` repeats each unit (an Interval's ``n*``), without
    building the repeats one by one.
    """
    n = len(units)
    values = [
        np.full(n, -1, np.int64)
        if s.kind == "categorical"
        else np.zeros((n, len(s.codes)), np.int8)
        for s in specs
    ]
    one_code = n > 0 and all(len(u) == 1 for u in units)
    if one_code:  # Event data, vectorised: (stream, code) of each segment's one token
        texts = [u[0].text for u in units]
        pairs = np.array([index.get(k, (-1, -1)) for k in texts], dtype=np.int64).reshape(n, 2)
        for s, spec in enumerate(specs):
            rows = np.flatnonzero(pairs[:, 0] == s)
            if spec.kind == "indicator":
                values[s][rows, pairs[rows, 1]] = 1
            else:
                values[s][rows] = pairs[rows, 1]
        if uncoded is not None:
            blank = np.array([k == uncoded for k in texts], bool)
            for v in values:
                v[blank] = -1
    for t, unit in enumerate(() if one_code else units):
        if any(tok.text == uncoded for tok in unit):
            if len(unit) > 1:
                problems.add(
                    f"the uncoded marker {uncoded!r} must stand alone in its segment",
                    line=unit[0].line,
                    column=unit[0].column,
                    value=" ".join(tok.text for tok in unit),
                )
            for v in values:
                v[t] = -1
            continue
        for tok in unit:
            if tok.text not in index:
                continue
            s, j = index[tok.text]
            if specs[s].kind == "indicator":
                values[s][t, j] = 1
            elif values[s][t] >= 0 and values[s][t] != j:
                problems.add(
                    f"two codes of the exclusive set {specs[s].name!r} in one segment",
                    line=tok.line,
                    column=tok.column,
                    value=tok.text,
                    expected=(
                        f"one code of {specs[s].name!r} per segment (or declare the set as an "
                        "indicator set)"
                    ),
                )
            else:
                values[s][t] = j
    if counts is not None and any(c != 1 for c in counts):
        values = [np.repeat(v, counts, axis=0) for v in values]
    return values


def _run_breaks(breaks: Sequence[bool], counts: Sequence[int]) -> np.ndarray:
    """Breaks of repeated units: a unit's break precedes the first of its repeats only."""
    counts = np.asarray(counts, np.int64)
    out = np.zeros(int(counts.sum()), bool)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    out[starts[np.asarray(breaks, bool)]] = True
    return out


# ---------------------------------------------------------------------------- time -> segments
def check_exclusive(events: Sequence[TimedEvent], problems: ProblemCollector, stream: str) -> None:
    """Overlapping events of one exclusive stream are problems (touching is fine)."""
    ordered = sorted(events, key=lambda e: (e.onset, e.offset))
    for prev, nxt in itertools.pairwise(ordered):
        if nxt.onset < prev.offset - _EPS:
            problems.add(
                f"overlapping states in the exclusive stream {stream!r}: {prev.code!r} "
                f"{prev.onset:g}-{prev.offset:g} and {nxt.code!r} {nxt.onset:g}-{nxt.offset:g}",
                value=nxt.code,
                expected="states of one exclusive stream that do not overlap",
                **nxt.where,
            )


def segment_events(
    events: Sequence[TimedEvent],
    segment_seconds: float,
    *,
    end_time: float | None = None,
    min_overlap: float = 0.0,
    rule: str = "overlap",
    budget: Budget | None = None,
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


def _check_segment_options(segment_seconds: float | None, min_overlap: float, rule: str) -> None:
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
    budget: Budget | None = None,
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


# ---------------------------------------------------------------------------- factors
def covariate_tables(
    labels: Sequence[str],
    names: Sequence[str],
    rows: Sequence[Sequence[str]],
    dyad_factor: str,
    dyad_factors: Sequence[str],
    problems: ProblemCollector,
    where: Sequence[dict],
) -> tuple[list[str], pd.DataFrame | None, pd.DataFrame | None]:
    """Per-session factor values -> dyads, session covariates and dyad attributes.

    Parameters
    ----------
    labels : list of str
        Session labels.
    names : list of str
        Factor names.
    rows : list of list of str
        Factor values of each session (``None`` = missing).
    dyad_factor : str
        The factor giving the dyad (absent: each session is its own dyad).
    dyad_factors : list of str
        Factors that are dyad attributes (constant within a dyad).
    problems : ProblemCollector
    where : list of dict
        Location (``line``/``column`` or ``row``) of each session, for errors.

    Returns
    -------
    dyads, session_covariates, dyad_attributes
    """
    frame = pd.DataFrame(list(rows), columns=list(names), index=pd.Index(labels, name="session"))
    if dyad_factor in frame.columns:
        dyads = [
            str(d) if d is not None else lab
            for d, lab in zip(frame[dyad_factor], labels, strict=True)
        ]
        frame = frame.drop(columns=[dyad_factor])
    else:
        dyads = list(labels)
    for name in dyad_factors:
        if name not in frame.columns:
            problems.add(
                "unknown dyad factor", value=name, expected=f"one of {list(frame.columns)}"
            )
    dyad_cols = [c for c in dyad_factors if c in frame.columns]
    attrs = None
    if dyad_cols:
        sub = frame[dyad_cols].assign(_dyad=dyads)
        for col in dyad_cols:
            per = sub.groupby("_dyad", sort=False)[col].nunique(dropna=False)
            for d in per.index[per > 1][:50]:
                i = dyads.index(d)
                problems.add(
                    f"dyad factor {col!r} varies within dyad {d!r}",
                    value=sorted(set(map(str, sub.loc[sub["_dyad"] == d, col]))),
                    expected="one value per dyad",
                    **where[i],
                )
        attrs = sub.groupby("_dyad", sort=False)[dyad_cols].first()
        attrs.index.name = "dyad"
        frame = frame.drop(columns=dyad_cols)
    covariates = frame if frame.shape[1] else None
    return dyads, covariates, attrs


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


def read_text(path: Path, encoding: str) -> str:
    """Read a text file; a bad encoding is a `LagnestDataError`, a path problem an OSError.

    With the default ``utf-8-sig``, a UTF-16 byte-order mark makes the file UTF-16 (what
    Windows programs write as "Unicode text").
    """
    check_readable(path)
    try:
        if encoding.lower().replace("_", "-") == "utf-8-sig":
            with path.open("rb") as fh:
                if fh.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                    encoding = "utf-16"
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as err:
        raise LagnestDataError(
            DataProblem(
                f"cannot be decoded as {encoding} (byte {err.start})",
                file=str(path),
                expected="a text file (pass encoding=, e.g. 'cp1252')",
            )
        ) from None
    except LookupError:
        raise LagnestDataError(
            DataProblem("unknown text encoding", file=str(path), value=encoding,
                        expected="an encoding Python knows, e.g. 'utf-8', 'cp1252'")
        ) from None
