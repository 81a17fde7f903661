"""Writing a :class:`~lagnest.Sequences` as an SDIS file GSEQ reads, atomically."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lagnest._files import atomic_write
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector
from lagnest.io import _pragmas
from lagnest.io._meta import loadable_codebook
from lagnest.io.sdis_grammar import _LINE_WIDTH, PRAGMA, UNCODED_CODE, _tokenize

__all__ = [
    "format_sdis",
    "sdis_safe",
    "write_sdis",
]



# ---------------------------------------------------------------------------- writing
def sdis_safe(text: str) -> bool:
    """Whether ``text`` reads back as one SDIS word (a code, set, factor name or level)."""
    if not text or text.startswith("$"):
        return False
    try:
        tokens, _ = _tokenize(text, None)
    except LagnestDataError:
        return False
    return len(tokens) == 2 and tokens[0].kind == "word" and tokens[0].text == text


@dataclass
class _Plan:
    """What :func:`format_sdis` writes: data type, streams and factor columns."""

    data_type: str
    streams: list[tuple[str, str, tuple[str, ...], np.ndarray]]
    factors: list[str]
    dyad_factors: list[str]
    factor_values: list[list[str]]
    placeholder_set: int | None


def _writable_streams(seqs: Sequences) -> list[tuple[str, str, tuple[str, ...], np.ndarray]]:
    """Non-derived streams as (name, kind, codes, values)."""
    book = seqs.codebook
    derived = {d.name for d in book.derived.values()} if book is not None else set()
    out = []
    for name, info in seqs.streams.items():
        if name in derived:
            continue
        if info.kind == "categorical":
            values = seqs.categorical(name)[0]
        else:
            values = seqs.indicator_matrix(name)[0]
        out.append((name, info.kind, tuple(info.codes), np.asarray(values)))
    return out


def _blank_rows(streams: Sequence[tuple[str, str, tuple[str, ...], np.ndarray]], n: int):
    """Rows where every stream is uncoded, and rows some indicator stream cannot write."""
    blank = np.ones(n, bool)
    partial = np.zeros(n, bool)
    for _, kind, _, v in streams:
        if kind == "categorical":
            blank &= v < 0
        else:
            miss = v < 0
            blank &= miss.all(axis=1)
            partial |= miss.any(axis=1)
    return blank, partial & ~blank


def _choose_type(
    streams: Sequence[tuple[str, str, tuple[str, ...], np.ndarray]], data_type: str | None
) -> str:
    coded = sum((v >= 0).astype(int) for _, kind, _, v in streams if kind == "categorical")
    event_ok = all(kind == "categorical" for _, kind, _, _ in streams) and (
        np.all(np.asarray(coded) <= 1)
    )
    if data_type is None:
        return "Event" if event_ok else "Multievent"
    kinds = {t.lower(): t for t in ("Event", "Multievent", "Interval")}
    if data_type.lower() not in kinds:
        raise LagnestDataError(
            DataProblem(
                "lagnest writes Event, Multievent or Interval SDIS data",
                value=data_type,
                expected="'Event', 'Multievent' or 'Interval'",
            )
        )
    chosen = kinds[data_type.lower()]
    if chosen == "Event" and not event_ok:
        raise LagnestDataError(
            DataProblem(
                "Event data hold one code per segment: these data have indicator streams or "
                "several coded categorical streams in one segment",
                value=data_type,
                expected="'Multievent' or 'Interval'",
            )
        )
    return chosen


def _plan(seqs: Sequences, data_type: str | None, uncoded: str | None, factors) -> _Plan:
    streams = _writable_streams(seqs)
    problems = ProblemCollector()
    holders: dict[str, list[str]] = {}
    for name, _, codes, _ in streams:
        for code in codes:
            holders.setdefault(code, []).append(name)
    for code, names in holders.items():
        if len(names) > 1:
            problems.add(
                f"code {code!r} is in streams {names}: SDIS codes are unique across code sets",
                value=code,
                expected=f"distinct codes (rename them, e.g. '{names[1]}_{code}')",
            )
    for name, _, codes, _ in streams:
        for text, what in [(name, "stream name")] + [(c, "code") for c in codes]:
            if not sdis_safe(text):
                problems.add(
                    f"{what} cannot be written to SDIS",
                    value=text,
                    expected="no spaces and none of , ; / ( ) = * < > % . $",
                )
        if uncoded is not None and uncoded in codes:
            problems.add(
                f"stream {name!r} has a code equal to the uncoded marker",
                value=uncoded,
                expected="pass another uncoded= marker",
            )
    for label in seqs.session_labels:
        if not label or label != label.strip() or any(ch in label for ch in "<>\n\r"):
            problems.add(
                "session label cannot be written to SDIS",
                value=label,
                expected="no '<', '>', line breaks or edge spaces",
            )
    problems.raise_if_any()
    chosen = _choose_type(streams, data_type)
    blank, partial = _blank_rows(streams, seqs.n_segments)
    seg_session = seqs.encoded.segment_session
    for t in np.flatnonzero(partial)[:50]:
        problems.add(
            f"session {seqs.session_labels[seg_session[t]]!r}, segment "
            f"{t - seqs.encoded.session_offsets[seg_session[t]] + 1}: an indicator stream is "
            "uncoded while other codes are present",
            expected="a segment coded in every indicator stream, or uncoded in all streams",
        )
    needs_marker = bool(blank.any()) and (
        chosen == "Event" or any(kind == "indicator" for _, kind, _, _ in streams)
    )
    if needs_marker and uncoded is None:
        problems.add(
            "uncoded segments cannot be written without an uncoded marker",
            expected="uncoded='UNCODED' (or another code)",
        )
    problems.raise_if_any()
    names, dyad_names, values = _factor_plan(seqs, factors)
    return _Plan(chosen, streams, names, dyad_names, values, 0 if needs_marker else None)


def _factor_plan(seqs: Sequences, factors) -> tuple[list[str], list[str], list[list[str]]]:
    """Factor columns: ``dyad`` (when dyads differ from sessions), covariates, dyad attributes."""
    sessions = seqs.sessions.drop(columns=["dyad", "n_segments"])
    dyads = seqs.dyads.drop(columns=["n_sessions", "n_segments"])
    if factors is False:
        sessions, dyads = sessions.iloc[:, :0], dyads.iloc[:, :0]
    elif factors is not True:
        wanted = list(factors)
        unknown = [f for f in wanted if f not in sessions.columns and f not in dyads.columns]
        if unknown:
            raise LagnestDataError(
                DataProblem(
                    "unknown factors",
                    value=unknown,
                    expected=f"session covariates {list(sessions.columns)} or dyad attributes "
                    f"{list(dyads.columns)}",
                )
            )
        sessions = sessions[[c for c in wanted if c in sessions.columns]]
        dyads = dyads[[c for c in wanted if c in dyads.columns]]
    session_dyad = list(seqs.sessions["dyad"])
    columns: dict[str, list] = {}
    if session_dyad != list(seqs.session_labels):
        columns["dyad"] = session_dyad
    for col in sessions.columns:
        columns[col] = list(sessions[col])
    for col in dyads.columns:
        columns[col] = [dyads.at[d, col] for d in session_dyad]
    problems = ProblemCollector()
    out = {}
    for col, vals in columns.items():
        if col in out or not sdis_safe(str(col)):
            problems.add(
                "factor name cannot be written to SDIS", value=col, expected="a unique SDIS name"
            )
        texts = []
        for lab, v in zip(seqs.session_labels, vals, strict=True):
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            if not sdis_safe(text):
                problems.add(
                    f"session {lab!r}: factor value cannot be written to SDIS",
                    column=str(col),
                    value=v,
                    expected="a non-missing level with no spaces (or pass factors=[...])",
                )
            texts.append(text)
        out[str(col)] = texts
    problems.raise_if_any()
    names = list(out)
    rows = [[out[c][i] for c in names] for i in range(seqs.n_sessions)]
    return names, [str(c) for c in dyads.columns], rows


def _segment_codes(plan: _Plan, t: int, marker: str | None) -> list[str] | None:
    """Codes of segment ``t`` (None = uncoded in every stream)."""
    codes: list[str] = []
    blank = True
    for _, kind, names, v in plan.streams:
        if kind == "categorical":
            if v[t] >= 0:
                codes.append(names[v[t]])
                blank = False
        else:
            row = v[t]
            if (row >= 0).all():
                blank = False
                codes += [names[j] for j in np.flatnonzero(row == 1)]
    if blank and plan.placeholder_set is not None:
        return [marker] if marker is not None else []
    return codes


def _wrap(items: Iterable[str]) -> list[str]:
    """Join items with spaces into lines of at most ``_LINE_WIDTH`` characters."""
    lines, current = [], ""
    for item in items:
        if current and len(current) + 1 + len(item) > _LINE_WIDTH:
            lines.append(current)
            current = item
        else:
            current = f"{current} {item}" if current else item
    if current:
        lines.append(current)
    return lines


def _session_items(plan: _Plan, start: int, stop: int, breaks: set[int], marker) -> list[str]:
    """The data of one session as SDIS items (codes, ``;``, events, intervals)."""
    items: list[str] = []
    previous: tuple[str, int] | None = None
    for t in range(start, stop):
        if t in breaks:
            items.append(";")
            previous = None
        codes = _segment_codes(plan, t, marker)
        if plan.data_type == "Event":
            items.append(codes[0])
        elif plan.data_type == "Multievent":
            items.append(" ".join(codes) + ".")
        else:
            text = " ".join(codes)
            if previous is not None and previous[0] == text:
                previous = (text, previous[1] + 1)
                items[-1] = f"{previous[1]}*{text},"
            else:
                previous = (text, 1)
                items.append(f"{text},")
    return items


def format_sdis(
    seqs: Sequences,
    *,
    data_type: str | None = None,
    uncoded: str | None = UNCODED_CODE,
    factors: bool | Sequence[str] = True,
) -> str:
    """SDIS text for a `Sequences` (see :func:`write_sdis`).

    Parameters
    ----------
    seqs : Sequences
    data_type, uncoded, factors
        As in :func:`write_sdis`.

    Returns
    -------
    str
    """
    from lagnest._version import __version__

    plan = _plan(seqs, data_type, uncoded, factors)
    indicator = [name for name, kind, _, _ in plan.streams if kind == "indicator"]
    lines = [
        f"% SDIS {plan.data_type} data written by lagnest {__version__}: {seqs.n_dyads} dyads, "
        f"{seqs.n_sessions} sessions, {seqs.n_segments} segments",
    ]
    if indicator:
        lines.append(f"% {PRAGMA} indicator-sets {' '.join(indicator)}")
    if plan.dyad_factors:
        lines.append(f"% {PRAGMA} dyad-factors {' '.join(plan.dyad_factors)}")
    book = loadable_codebook(seqs)
    if book is not None:
        lines.append(f"% {PRAGMA} codebook {book}")
    if seqs.rating_names:
        lines.append(f"% {PRAGMA} ratings {' '.join(seqs.rating_names)}")
    if plan.placeholder_set is not None:
        lines.append(f"% uncoded segments are written as {uncoded}")
    lines.append(plan.data_type)
    for s, (name, _, codes, _) in enumerate(plan.streams):
        extra = [uncoded] if s == plan.placeholder_set and uncoded is not None else []
        lines += _wrap([f"(${name} =", *codes, *extra])
        lines[-1] += ")"
    if plan.factors:
        lines.append("* " + " ".join(plan.factors))
    lines[-1] += ";"
    enc = seqs.encoded
    offsets = enc.session_offsets
    block_starts = set(enc.block_offsets[:-1].tolist()) - set(offsets[:-1].tolist())
    for i, label in enumerate(seqs.session_labels):
        lines.append("")
        lines.append(f"<{label}>")
        lines += _session_pragmas(seqs, int(offsets[i]), int(offsets[i + 1]))
        items = _session_items(plan, int(offsets[i]), int(offsets[i + 1]), block_starts, uncoded)
        if plan.factors:
            items.append("(" + " ".join(plan.factor_values[i]) + ")")
        items.append("/")
        lines += _wrap(items)
    return "\n".join(lines) + "\n"


def _session_pragmas(seqs: Sequences, start: int, stop: int) -> list[str]:
    """``% lagnest:`` lines of one session: ratings, segment numbers and breaks if needed."""
    lines = []
    for name in seqs.rating_names:
        values = seqs.rating(name)[start:stop]
        lines += _pragmas.session_lines(
            f"rating {name}", [_pragmas.number_text(float(v)) for v in values]
        )
    numbers = seqs.segment_numbers[start:stop]
    breaks = seqs.breaks[start:stop]
    renumbered = not np.array_equal(numbers, np.arange(1, stop - start + 1))
    if renumbered:
        lines += _pragmas.session_lines("segments", [str(int(v)) for v in numbers])
    if renumbered or breaks[0]:
        lines += _pragmas.session_lines("breaks", [str(int(i)) for i in np.flatnonzero(breaks)])
    return lines


def write_sdis(
    seqs: Sequences,
    path: str | os.PathLike,
    *,
    data_type: str | None = None,
    uncoded: str | None = UNCODED_CODE,
    factors: bool | Sequence[str] = True,
    parents: bool = False,
) -> None:
    """Write a `Sequences` as an SDIS file for GSEQ, atomically.

    Parameters
    ----------
    seqs : Sequences
    path : str or path
    data_type : {"Event", "Multievent", "Interval"}, optional
        Default: Event when every segment holds at most one code of categorical streams,
        else Multievent. Every stream is declared as a code set ``($name = ...)``; indicator
        streams are listed in a ``% lagnest: indicator-sets`` pragma.
    uncoded : str or None, default "UNCODED"
        Code written for a segment uncoded in every stream (declared in the first set);
        ``None`` makes such segments an error.
    factors : bool or list of str, default True
        Write the dyad, session covariates and dyad attributes as factors (``False``: none;
        a list: these only).
    parents : bool, default False
        Create missing parent folders (else a missing folder is a ``FileNotFoundError``).

    Raises
    ------
    LagnestDataError
        For what SDIS cannot hold (codes with spaces or SDIS punctuation, missing factor
        values, a segment uncoded in one indicator stream but coded in others).

    Notes
    -----
    Segment numbers are renumbered 1..T on reading; gaps in them are written as breaks
    (``;``), so lag tallies are unchanged. Derived streams are not written (read with the
    codebook to recompute them).
    """
    text = format_sdis(seqs, data_type=data_type, uncoded=uncoded, factors=factors)
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"), parents=parents)
