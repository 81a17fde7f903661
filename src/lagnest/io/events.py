"""Coded events into a :class:`~lagnest.Sequences`, for the SDIS and BORIS readers.

Coded events into a :class:`~lagnest.Sequences` or a :class:`~lagnest.TimedEvents`,
shared by the SDIS and BORIS readers: streams of declared codes, session factors and the
checks of timed events. The cutting of time into segments and the assembly of the
containers live in the data layer (:mod:`lagnest.data.events`, also behind
:meth:`~lagnest.TimedEvents.to_sequences`) and are handed on from here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from lagnest._files import check_readable
from lagnest.data._streams import natural_key
from lagnest.data.events import _EPS, StreamSpec, TimedEvent
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector

__all__ = ["check_exclusive", "covariate_tables", "read_text"]


# ---------------------------------------------------------------------------- tokens
class _Token(NamedTuple):
    """One token: ``kind`` is ``word``, ``label``, ``punct`` or ``eof``; 1-based position."""

    kind: str
    text: str
    line: int
    column: int


# ---------------------------------------------------------------------------- streams
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


def _check_as_events(as_events: bool, segment_seconds: float | None, source: str | None) -> None:
    """``as_events`` is a bool and comes without ``segment_seconds``."""
    if not isinstance(as_events, bool):
        raise LagnestDataError(DataProblem("bad as_events", file=source, value=as_events,
                                           expected="True or False"))
    if as_events and segment_seconds is not None:
        raise LagnestDataError(DataProblem(
            "give segment_seconds or as_events, not both", file=source, value=segment_seconds,
            expected="as_events=True alone (cut later with TimedEvents.to_sequences)"))


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
