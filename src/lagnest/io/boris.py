"""BORIS exports -> `Sequences`: aggregated events, tabular events, behavioural strings.

BORIS (Behavioral Observation Research Interactive Software) exports events as tables
(TSV, CSV, XLSX) in two layouts and as "behavioural strings" (plain text). Observations
become sessions, subjects (or behavioural categories) become streams, independent variables
become session covariates (``dyad`` gives the dyad). ``docs/formats.md`` says exactly what is
read.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lagnest.data._columns import (
    CONTROL_EXPECTED,
    control_character,
    factorize,
    foreign_digits,
    report_control,
    report_rows,
    spread,
    warn_foreign_digits,
)
from lagnest.data._streams import is_missing, label_of, natural_key
from lagnest.data.codebook import Codebook
from lagnest.data.events import (
    StreamSpec,
    TimedEvent,
    TimedEvents,
    TimedSession,
    build_sequences,
    check_segment_options,
    timed_events,
    timed_to_values,
)
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector
from lagnest.io._limits import MAX_SEGMENTS, Budget, check_limit_argument
from lagnest.io.events import (
    _check_as_events,
    _resolve_codes,
    _Token,
    _units_to_values,
    check_exclusive,
    covariate_tables,
    read_text,
)
from lagnest.io.table import _format, _read_frame

NO_FOCAL_SUBJECT = "No focal subject"
LAYOUTS = ("aggregated", "tabular", "strings")
# Columns BORIS writes that are neither independent variables nor events.
METADATA_COLUMNS = {
    "Observation id",
    "Observation date",
    "Description",
    "Observation duration",
    "Observation type",
    "Source",
    "Time offset (s)",
    "Coding duration",
    "Media duration (s)",
    "Total length",
    "FPS",
    "FPS (frame/s)",
    "Media file",
    "Media file name",
}
_MODIFIER_RE = re.compile(r"^Modifiers?( #\d+)?$")
_UNSAFE = re.compile(r"[\s,;/()=*<>%.$\-]")


@dataclass(frozen=True)
class _Row:
    """One event row of a BORIS table, located by its row number (1 = first data row)."""

    row: int
    observation: str
    subject: str
    behavior: str
    category: str
    modifiers: tuple[str, ...]
    kind: str
    start: float
    stop: float


def _text(value: object) -> str:
    """A cell as stripped text; missing (None, NaN, ``NA``, ...) -> ''."""
    return "" if is_missing(value) else label_of(value)


def _texts(column: pd.Series) -> np.ndarray:
    """A column as stripped text, one Python call per distinct value (missing -> '')."""
    codes, uniques = factorize(column)
    return spread([_text(u) for u in uniques], codes, "", object)


def _times(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A time column in seconds (NaN where missing or bad), empty cells, foreign digits.

    The third array flags cells written with digits of another script (None: there is none).
    """
    codes, uniques = factorize(column)
    values = []
    foreign = []
    for u in uniques:
        text = _text(u)
        try:
            number = float(text) if text else math.nan
        except ValueError:
            number = math.nan
        good = number >= 0 and not math.isinf(number)
        values.append(number if good else math.nan)
        foreign.append(good and foreign_digits(text))
    empty = spread([not _text(u) for u in uniques], codes, True, bool)
    flags = spread(foreign, codes, False, bool) if any(foreign) else None
    return spread(values, codes, math.nan, np.float64), empty, flags


def safe_name(text: str) -> str:
    """Replace spaces and SDIS punctuation by ``_`` (as BORIS's own SDIS export does)."""
    return _UNSAFE.sub("_", text)


# ---------------------------------------------------------------------------- tables
def _column(frame: pd.DataFrame, names: Sequence[str], problems: ProblemCollector) -> str | None:
    """The first of ``names`` present in ``frame`` (a problem when none is)."""
    for name in names:
        if name in frame.columns:
            return name
    problems.add(
        "missing BORIS column", value=list(names), expected=f"columns include {names[0]!r}"
    )
    return None


def _table_rows(frame: pd.DataFrame, layout: str, problems: ProblemCollector) -> list[_Row]:
    """Parse event rows of an aggregated or tabular export (checked column-wise)."""
    obs = _column(frame, ["Observation id"], problems)
    subj = _column(frame, ["Subject"], problems)
    behav = _column(frame, ["Behavior"], problems)
    cat = "Behavioral category" if "Behavioral category" in frame.columns else None
    mods = [c for c in frame.columns if _MODIFIER_RE.match(str(c))]
    if layout == "aggregated":
        kind_col = _column(frame, ["Behavior type"], problems)
        start_col = _column(frame, ["Start (s)"], problems)
        stop_col = _column(frame, ["Stop (s)"], problems)
        kinds = ("STATE", "POINT")
    else:
        kind_col = _column(frame, ["Behavior type", "Status"], problems)
        start_col = stop_col = _column(frame, ["Time"], problems)
        kinds = ("START", "STOP", "POINT")
    problems.raise_if_any()
    frame = frame.reset_index(drop=True)
    kind = np.array([k.upper() for k in _texts(frame[kind_col])], dtype=object)
    good = np.isin(kind, kinds)
    report_rows(
        problems,
        np.flatnonzero(~good),
        lambda i: {
            "message": "bad behavior type",
            "row": i + 1,
            "column": kind_col,
            "value": frame.at[i, kind_col],
            "expected": kinds,
        },
    )
    texts = {col: _texts(frame[col]) for col in (obs, subj, behav)}
    for col in [obs, subj, behav, *([cat] if cat else []), *mods]:
        values = texts[col] if col in texts else _texts(frame[col])
        codes, labels = factorize(values)
        report_control(problems, labels, codes, col, "a label")
    for col in (obs, behav):
        report_rows(
            problems,
            np.flatnonzero(good & (texts[col] == "")),
            lambda i, col=col: {
                "message": "missing value",
                "row": i + 1,
                "column": col,
                "expected": "a non-empty value",
            },
        )
    start, _, foreign = _times(frame[start_col])
    if foreign is not None:
        warn_foreign_digits(problems, frame[start_col], foreign, start_col, lambda i: start[i])
    bad_start = good & np.isnan(start)
    stop = start
    bad_stop = np.zeros(len(frame), bool)
    if layout == "aggregated":
        stop, empty, foreign = _times(frame[stop_col])
        if foreign is not None:
            warn_foreign_digits(problems, frame[stop_col], foreign, stop_col, lambda i: stop[i])
        point = kind == "POINT"
        bad_stop = good & np.isnan(stop) & ~(point & empty)
        stop = np.where(point & empty, start, stop)
    for col, bad in ((start_col, bad_start), (stop_col, bad_stop)):
        report_rows(
            problems,
            np.flatnonzero(bad),
            lambda i, col=col: {
                "message": "bad time",
                "row": i + 1,
                "column": col,
                "value": _text(frame.at[i, col]),
                "expected": "seconds >= 0 (e.g. 12.5)",
            },
        )
    report_rows(
        problems,
        np.flatnonzero(good & (stop < start)),
        lambda i: {
            "message": "offset before onset (stop before start)",
            "row": i + 1,
            "column": stop_col,
            "value": frame.at[i, stop_col],
            "expected": f"a stop >= {start[i]:g}",
        },
    )
    problems.raise_if_any()
    category = _texts(frame[cat]) if cat else np.full(len(frame), "", object)
    modifier_texts = [_texts(frame[c]) for c in mods]
    rows = [
        _Row(
            i + 1,
            texts[obs][i],
            texts[subj][i] or NO_FOCAL_SUBJECT,
            texts[behav][i],
            category[i],
            tuple(m for m in (col[i] for col in modifier_texts) if m),
            kind[i],
            float(start[i]),
            float(stop[i]),
        )
        for i in range(len(frame))
    ]
    return rows if layout == "aggregated" else _pair_tabular(rows, problems)


def _pair_tabular(rows: list[_Row], problems: ProblemCollector) -> list[_Row]:
    """Pair START/STOP rows of one (observation, subject, behavior, modifiers) in time order."""
    open_: dict[tuple, list[_Row]] = {}
    out = []
    ordered = sorted(rows, key=lambda r: (r.observation, r.start, r.row))
    for r in ordered:
        key = (r.observation, r.subject, r.behavior, r.modifiers)
        if r.kind == "POINT":
            out.append(r)
        elif r.kind == "START":
            open_.setdefault(key, []).append(r)
        elif open_.get(key):
            first = open_[key].pop()
            out.append(_replace_stop(first, r.start))
        else:
            problems.add(
                "STOP without a START",
                row=r.row,
                value=r.behavior,
                expected="a START of the same subject and behavior before it",
            )
    for pending in open_.values():
        for r in pending:
            problems.add(
                "START without a STOP (unterminated state)",
                row=r.row,
                value=r.behavior,
                expected="a STOP of the same subject and behavior after it",
            )
    problems.raise_if_any()
    return sorted(out, key=lambda r: r.row)


def _replace_stop(row: _Row, stop: float) -> _Row:
    return _Row(
        row.row,
        row.observation,
        row.subject,
        row.behavior,
        row.category,
        row.modifiers,
        "STATE",
        row.start,
        stop,
    )


def _independent_variables(frame: pd.DataFrame, given: Sequence[str] | None) -> list[str]:
    """Independent-variable columns: given, or those before ``Subject`` BORIS does not own."""
    if given is not None:
        return list(given)
    columns = list(frame.columns)
    before = columns[: columns.index("Subject")] if "Subject" in columns else []
    return [c for c in before if c not in METADATA_COLUMNS]


def _session_variables(
    frame: pd.DataFrame,
    rows: list[_Row],
    labels: list[str],
    variables: list[str],
    problems: ProblemCollector,
) -> list[list[str | None]]:
    """One value per observation and variable (must be constant within an observation)."""
    for v in variables:
        if v not in frame.columns:
            problems.add("missing independent-variable column", value=v)
    problems.raise_if_any()
    frame = frame.reset_index(drop=True)
    at = np.array([r.row - 1 for r in rows], dtype=np.int64)
    observation = np.array([r.observation for r in rows], dtype=object)
    per_label: dict[str, dict[str, str]] = {lab: {} for lab in labels}
    for v in variables:
        text = _texts(frame[v])[at]
        first = pd.Series(text).groupby(observation, sort=False).transform("first").to_numpy()
        report_rows(
            problems,
            np.flatnonzero(text != first),
            lambda k, text=text, first=first, v=v: {
                "message": f"independent variable varies within observation {observation[k]!r}",
                "row": int(at[k]) + 1,
                "column": v,
                "value": text[k],
                "expected": f"{first[k]!r} as on its first row",
            },
        )
        for lab, value in zip(observation, first, strict=True):
            per_label[lab].setdefault(v, value)
    return [[per_label[lab].get(v) or None for v in variables] for lab in labels]


# ---------------------------------------------------------------------------- codes, streams
def _code_of(row: _Row, prefix: bool, modifiers: bool, sdis_names: bool) -> str:
    code = row.behavior
    if modifiers and row.modifiers:
        code = "&".join([code, *row.modifiers])
    if prefix:
        code = f"{row.subject}_{code}"
    return safe_name(code) if sdis_names else code


def _stream_of(row: _Row, streams: str, sdis_names: bool) -> str:
    name = {
        "subject": row.subject,
        "category": row.category or "uncategorized",
        "none": "code",
    }[streams]
    return safe_name(name) if sdis_names else name


def _rows_to_sequences(
    frame: pd.DataFrame,
    rows: list[_Row],
    *,
    segment_seconds: float | None,
    min_overlap: float,
    rule: str,
    streams: str,
    modifiers: bool,
    sdis_names: bool,
    exclusive: bool | Sequence[str],
    dyad: str,
    dyad_variables: Sequence[str],
    independent_variables: Sequence[str] | None,
    codebook: str | Codebook | None,
    problems: ProblemCollector,
    budget: Budget | None = None,
    as_events: bool = False,
) -> Sequences | TimedEvents:
    """Timed BORIS events -> `Sequences` (event level or fixed segments) or `TimedEvents`."""
    if streams not in ("subject", "category", "none"):
        raise LagnestDataError(
            DataProblem("bad streams option", value=streams, expected="subject, category or none")
        )
    if not rows:
        raise LagnestDataError(DataProblem("no events", expected="at least one event row"))
    prefix = len({r.subject for r in rows}) > 1
    code_stream: dict[str, str] = {}
    for r in rows:
        code, name = _code_of(r, prefix, modifiers, sdis_names), _stream_of(r, streams, sdis_names)
        if code_stream.setdefault(code, name) != name:
            problems.add(
                f"code {code!r} falls in streams {code_stream[code]!r} and {name!r}",
                row=r.row,
                value=code,
                expected="each behavior in one stream (choose streams='subject' or 'none')",
            )
    problems.raise_if_any()
    names = list(dict.fromkeys(code_stream.values()))
    excl = set(names) if exclusive is True else set(exclusive or ())
    kind = "categorical" if segment_seconds is None else "indicator"
    specs = [
        StreamSpec(
            n,
            kind,
            sorted([c for c, s in code_stream.items() if s == n], key=natural_key),
            True,
            n in excl,
        )
        for n in names
    ]
    owner = {c: names.index(s) for c, s in code_stream.items()}
    code_index = {c: specs[owner[c]].codes.index(c) for c in code_stream}
    by_observation: dict[str, list[_Row]] = {}
    for r in rows:
        by_observation.setdefault(r.observation, []).append(r)
    labels = list(by_observation)
    sessions = []
    for lab in labels:
        mine = by_observation[lab]
        events = [
            TimedEvent(_code_of(r, prefix, modifiers, sdis_names), r.start, r.stop, {"row": r.row})
            for r in mine
        ]
        for s, spec in enumerate(specs):
            if spec.exclusive:
                states = [e for e in events if owner[e.code] == s and e.offset > e.onset]
                check_exclusive(states, problems, spec.name)
        sessions.append(TimedSession(events, [False] * len(events)))
    per_session = [] if as_events else [
        timed_to_values(
            timed, specs, owner, code_index, segment_seconds, min_overlap, rule, None, budget
        )
        for timed in sessions
    ]
    variables = _independent_variables(frame, independent_variables)
    values = _session_variables(frame, rows, labels, variables, problems)
    where = [{"row": by_observation[lab][0].row} for lab in labels]
    dyads, covariates, attrs = covariate_tables(
        labels, variables, values, dyad, dyad_variables, problems, where
    )
    problems.raise_if_any()
    if as_events:
        return timed_events(labels, dyads, specs, sessions, owner, code_index, None, covariates,
                            attrs, codebook)
    return build_sequences(labels, dyads, specs, per_session, covariates, attrs, codebook)


# ---------------------------------------------------------------------------- strings
_SUBJECT_HEADER = re.compile(r"^#\s*(.+?):\s*$")
_INFO_KEYS = {"observation description", "observation type", "media file path"}
_KEY_VALUE = re.compile(r"^#\s*([^:]+?):\s*(.*)$")


def parse_behavioral_strings(
    text: str,
    *,
    separator: str = "|",
    modifiers: bool = False,
    sdis_names: bool = False,
    codebook: str | Codebook | None = None,
    source: str | None = None,
) -> Sequences:
    """Parse BORIS behavioural strings: one sequence per line, ``#`` comments.

    Parameters
    ----------
    text : str
        File content.
    separator, modifiers, sdis_names, codebook
        As in :func:`read_boris`.
    source : str, optional
        File name for error messages.

    Returns
    -------
    Sequences
    """
    problems = ProblemCollector(file=source)
    obs: str | None = None
    subject: str | None = None
    in_variables = False
    labels: list[str] = []
    dyads: list[str] = []
    units: list[list[list[_Token]]] = []
    variables: dict[str, dict[str, str]] = {}
    starts: list[dict] = []
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            in_variables = False
            continue
        if stripped.startswith("#"):
            kv = _KEY_VALUE.match(stripped)
            if stripped.lower().startswith("# observation id:"):
                obs, subject, in_variables = stripped.split(":", 1)[1].strip(), None, False
                variables.setdefault(obs, {})
            elif stripped.lower() == "# independent variables":
                in_variables = True
            elif in_variables and kv and obs is not None:
                variables[obs][kv.group(1).strip()] = kv.group(2).strip()
            elif kv and kv.group(1).strip().lower() in _INFO_KEYS:
                in_variables = False
            elif _SUBJECT_HEADER.match(stripped):
                subject = _SUBJECT_HEADER.match(stripped).group(1).strip()
            continue
        base = obs if obs is not None else f"s{len(labels) + 1}"
        label = f"{base}/{subject}" if subject is not None else base
        if label in labels:
            problems.add(
                "a second sequence for the same observation and subject",
                line=n,
                column=1,
                value=label,
                expected="one line per observation (and subject)",
            )
        labels.append(label)
        dyads.append(base)
        starts.append({"line": n, "column": 1})
        units.append(_string_units(line, n, separator, modifiers, sdis_names, problems))
    if not labels:
        problems.add("no sequence found", expected="one sequence per line ('a|b|c')")
    problems.raise_if_any()
    multi = any(len(u) > 1 for session in units for u in session)
    spec = StreamSpec("code", "indicator" if multi else "categorical", [], False)
    index = _resolve_codes([spec], [t for s in units for u in s for t in u], None, problems)
    per_session = [
        (_units_to_values(u, [spec], index, None, problems), np.zeros(len(u), bool)) for u in units
    ]
    names = list(dict.fromkeys(k for v in variables.values() for k in v))
    rows = [[variables.get(d, {}).get(k) for k in names] for d in dyads]
    dyad_list, covariates, attrs = covariate_tables(
        labels, names, rows, "dyad", (), problems, starts
    )
    if "dyad" not in names:
        dyad_list = dyads
    problems.raise_if_any()
    return build_sequences(labels, dyad_list, [spec], per_session, covariates, attrs, codebook)


def _string_units(
    line: str,
    n: int,
    separator: str,
    modifiers: bool,
    sdis_names: bool,
    problems: ProblemCollector,
) -> list[list[_Token]]:
    """One behavioural string -> segments of code tokens (``+`` joins co-occurring codes)."""
    body = line.rstrip("\r\n")
    elements = body.split(separator)
    if control_character(body) is None and not any(ch in body for ch in "[&+"):
        # plain behaviors, one per element: the common case, without the general loop
        texts = [e.strip() for e in elements]
        if all(texts):
            starts = itertools.accumulate([len(e) + len(separator) for e in elements[:-1]],
                                          initial=1)
            return [
                [_Token("word", safe_name(t) if sdis_names else t, n,
                        c + len(e) - len(e.lstrip()))]
                for e, t, c in zip(elements, texts, starts, strict=True)
            ]
    out = []
    col = 1
    for element in elements:
        where = col + len(element) - len(element.lstrip())
        text = element.strip()
        col += len(element) + len(separator)
        subject = ""
        if text.startswith("[") and "]" in text:
            subject, text = text[1 : text.index("]")], text[text.index("]") + 1 :]
        states, amp, mods = text.partition("&")
        parts = states.split("+")
        codes = []
        char = control_character(element)
        if char is not None:
            problems.add(
                f"control character {char} in a behavior",
                line=n,
                column=where,
                value=element,
                expected=CONTROL_EXPECTED,
            )
        for k, part in enumerate(parts):
            if not part.strip():
                problems.add(
                    "empty behavior", line=n, column=where, value=element, expected="a behavior"
                )
            code = part.strip()
            if modifiers and amp and k == len(parts) - 1:
                code = f"{code}&{mods}"
            code = f"{subject}_{code}" if subject else code
            codes.append(_Token("word", safe_name(code) if sdis_names else code, n, where))
        out.append(codes)
    return out


# ---------------------------------------------------------------------------- entry point
def _layout(path: Path, frame_or_text: pd.DataFrame | str) -> str:
    if isinstance(frame_or_text, str):
        return "strings"
    if "Start (s)" in frame_or_text.columns:
        return "aggregated"
    if "Time" in frame_or_text.columns:
        return "tabular"
    raise LagnestDataError(
        DataProblem(
            "not a BORIS events table",
            file=str(path),
            value=list(frame_or_text.columns)[:10],
            expected="'Start (s)'/'Stop (s)' (aggregated) or 'Time' (tabular) columns",
        )
    )


def is_boris_table(columns: Sequence[str]) -> bool:
    """Whether a table's header looks like a BORIS events export."""
    cols = set(map(str, columns))
    return {"Observation id", "Behavior"} <= cols and bool({"Start (s)", "Time"} & cols)


def read_boris(
    path: str | os.PathLike,
    *,
    segment_seconds: float | None = None,
    min_overlap: float = 0.0,
    rule: str = "overlap",
    layout: str | None = None,
    streams: str = "subject",
    modifiers: bool = False,
    sdis_names: bool = False,
    exclusive: bool | Sequence[str] = False,
    dyad: str = "dyad",
    dyad_variables: Sequence[str] = (),
    independent_variables: Sequence[str] | None = None,
    separator: str = "|",
    sheet: str | int | None = None,
    codebook: str | Codebook | None = None,
    encoding: str = "utf-8-sig",
    max_segments: int = MAX_SEGMENTS,
    as_events: bool = False,
) -> Sequences | TimedEvents:
    """Read a BORIS export: aggregated or tabular events (TSV/CSV/XLSX) or behavioural strings.

    Parameters
    ----------
    path : str or path
        ``.tsv``, ``.csv``, ``.xlsx`` tables; ``.txt`` behavioural strings (or a TSV table,
        recognised by its header).
    segment_seconds : float, optional
        Cut each observation's time into segments of this many seconds from 0 (every stream
        becomes an indicator stream). Default ``None``: every event is a segment, in onset
        order, and streams are categorical.
    min_overlap : float, default 0
        A behavior is present in a segment it overlaps by more than 0 s (default) or by at
        least ``min_overlap`` s; a point event is present in the segment holding its time.
    rule : {"overlap", "onset"}
        ``"onset"`` counts a state only in the segment where it starts.
    layout : {"aggregated", "tabular", "strings"}, optional
        Default: from the file (``Start (s)`` -> aggregated, ``Time`` -> tabular).
    streams : {"subject", "category", "none"}
        One stream per subject (default), per behavioural category, or a single ``code``
        stream. With several subjects, codes are ``subject_behavior``.
    modifiers : bool, default False
        Make modifiers part of the code (``behavior&modifier``); default ignores them.
    sdis_names : bool, default False
        Replace spaces and SDIS punctuation in names by ``_`` (so the data can be written to
        SDIS), as BORIS's own SDIS export does.
    exclusive : bool or list of str
        Streams whose states may not overlap (``True``: all); overlaps are errors.
    dyad : str, default "dyad"
        Independent variable giving each observation's dyad (without it, each observation is
        its own dyad).
    dyad_variables : list of str
        Independent variables that are dyad attributes.
    independent_variables : list of str, optional
        Default: the columns before ``Subject`` that BORIS does not write itself.
    separator : str, default "|"
        Behavioural strings: separator between behaviors.
    sheet : str or int, optional
        Excel sheet (default the first).
    codebook : str or Codebook, optional
    encoding : str, default "utf-8-sig"
    max_segments : int, default 10,000,000
        Most segments the observations may be cut into (``segment_seconds``); checked
        before they are made.
    as_events : bool, default False
        Event tables only: return the events themselves, with their start and stop times,
        as a :class:`~lagnest.TimedEvents` (for :func:`lagnest.timed_table`;
        ``.to_sequences(L)`` cuts them as ``segment_seconds=L`` would). Not with
        ``segment_seconds``, nor with behavioural strings (they have no times).

    Returns
    -------
    Sequences or TimedEvents
        A `TimedEvents` with ``as_events=True``.

    Raises
    ------
    LagnestDataError
        Malformed input, naming file and row (tables) or line and column (strings).
    LimitError
        A `LagnestDataError`: the events would make more than ``max_segments`` segments.
    OSError
        A path problem (missing, a folder, no permission), naming the path.

    Warns
    -----
    LagnestDataWarning
        Times written with digits of another script were read as numbers.
    """
    check_segment_options(segment_seconds, min_overlap, rule)
    _check_as_events(as_events, segment_seconds, str(path))
    budget = Budget(check_limit_argument(max_segments, "max_segments"), str(path))
    path = Path(path)
    content = _load(path, layout, sheet, encoding)
    layout = layout or _layout(path, content)
    if layout not in LAYOUTS:
        raise LagnestDataError(DataProblem("bad layout", value=layout, expected=LAYOUTS))
    if layout == "strings":
        if as_events:
            raise LagnestDataError(DataProblem(
                "as_events needs times, and behavioural strings have none", file=str(path),
                expected="an events table (aggregated or tabular TSV/CSV/XLSX)"))
        if not isinstance(content, str):
            raise LagnestDataError(
                DataProblem("behavioural strings are text files", file=str(path))
            )
        return parse_behavioral_strings(
            content,
            separator=separator,
            modifiers=modifiers,
            sdis_names=sdis_names,
            codebook=codebook,
            source=str(path),
        )
    if isinstance(content, str):
        raise LagnestDataError(
            DataProblem(f"a {layout} export is a table", file=str(path), expected="TSV/CSV/XLSX")
        )
    problems = ProblemCollector(file=str(path))
    rows = _table_rows(content, layout, problems)
    return _rows_to_sequences(
        content,
        rows,
        segment_seconds=segment_seconds,
        min_overlap=min_overlap,
        rule=rule,
        streams=streams,
        modifiers=modifiers,
        sdis_names=sdis_names,
        exclusive=exclusive,
        dyad=dyad,
        dyad_variables=dyad_variables,
        independent_variables=independent_variables,
        codebook=codebook,
        problems=problems,
        budget=budget,
        as_events=as_events,
    )


def _load(
    path: Path, layout: str | None, sheet: str | int | None, encoding: str
) -> pd.DataFrame | str:
    """A table (TSV/CSV/XLSX) or the text of a behavioural-strings file."""
    if path.suffix.lower() == ".txt" or layout == "strings":
        text = read_text(path, encoding)
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if layout == "strings" or not first.startswith("Observation id"):
            return text
        return _read_frame(path, "tsv")
    fmt = _format(path, None)
    if fmt == "parquet":
        raise LagnestDataError(
            DataProblem("BORIS does not export Parquet", file=str(path), expected="TSV/CSV/XLSX")
        )
    return _read_frame(path, fmt, sheet=sheet)
