"""Validation of parsed input into the arrays of a `Sequences`: keys, order, session tables.

Every function here records problems in a :class:`~lagnest.errors.ProblemCollector` with the
file, row, column, value and what was expected, so that all problems are reported together.
Column-level parsing lives in :mod:`lagnest.data._columns` and :mod:`lagnest.data._codes`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lagnest.data._codes import Declared, parse_columns
from lagnest.data._columns import (
    MAX_ROWS_REPORTED,
    Keys,
    break_values,
    factorize,
    key_labels,
    report_rows,
    segment_numbers,
    to_numbers,
)
from lagnest.data._streams import (
    UNCODED,
    StreamData,
    label_of,
)
from lagnest.data.codebook import Codebook, load_codebook
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two session tables hold the same values (column order ignored)."""
    try:
        pd.testing.assert_frame_equal(a, b, check_like=True, check_dtype=False)
    except AssertionError:
        return False
    return True


def problem(file: str | None, message: str, **kw: Any) -> DataProblem:
    """A located problem (for errors raised before a collector exists)."""
    return DataProblem(message, file=file, **kw)


#: The options naming the key columns of a long table.
_KEY_OPTIONS = ("dyad", "session", "segment")


def missing_columns(
    columns: Sequence[Any], named: Mapping[str, Sequence[str]], source: str | None,
    what: str = "the table",
) -> list[DataProblem]:
    """A problem per column an option names that ``columns`` lacks.

    Parameters
    ----------
    columns : sequence
        The columns the table has.
    named : mapping of str to list of str
        Option name (``session_columns``, ``session``, ...) to the columns it names.
    source : str, optional
        The file, named in each problem.
    what : str, default "the table"
        How the problems name the table.

    Returns
    -------
    list of DataProblem
        Naming the file, the option, the missing column and the columns there are.
    """
    have = [str(c) for c in columns]
    present = set(columns)
    out = []
    for option, names in named.items():
        for name in names:
            if name in present:
                continue
            close = difflib.get_close_matches(str(name), have, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            text = (f"missing key column {name!r} (the option {option} names it)"
                    if option in _KEY_OPTIONS
                    else f"the option {option} names a column {what} does not have")
            out.append(problem(source, text + hint, column=str(name),
                               expected=f"one of its columns {have}"))
    return out


def resolve_codebook(codebook: Any, derive: Mapping | None) -> Codebook | None:
    """Load the codebook and apply derived-group overrides."""
    book = load_codebook(codebook) if codebook is not None else None
    if derive:
        if book is None:
            raise LagnestDataError("derive= needs a codebook that declares derived streams")
        for name, groups in derive.items():
            book = book.with_groups(name, groups)
    return book


def check_segment_order(
    numbers: np.ndarray, lengths: np.ndarray, labels: Sequence[str], problems: ProblemCollector
) -> None:
    """Segment numbers must be non-negative and strictly increasing within each session."""
    if numbers.size and (numbers < 0).any():
        i = int(np.flatnonzero(numbers < 0)[0])
        problems.add(
            "negative segment number", value=int(numbers[i]), expected="a non-negative integer"
        )
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    bad = np.diff(numbers) <= 0
    bad[offsets[1:-1] - 1] = False  # a new session may start anywhere
    for i in np.flatnonzero(bad)[:MAX_ROWS_REPORTED]:
        s = int(np.searchsorted(offsets, i, side="right") - 1)
        problems.add(
            f"segments of session {labels[s]!r} are not in increasing order",
            value=(int(numbers[i]), int(numbers[i + 1])),
            expected="strictly increasing segment numbers",
        )


def check_streams(
    streams: Mapping[str, StreamData], n: int, book: Codebook | None, problems: ProblemCollector
) -> None:
    """Validate stream arrays: shapes, code ranges, codebook membership."""
    for name, s in streams.items():
        if s.kind not in ("categorical", "indicator"):
            problems.add(
                f"stream {name!r} has an unknown kind",
                value=s.kind,
                expected="categorical or indicator",
            )
            continue
        values = np.asarray(s.values)
        want = (n,) if s.kind == "categorical" else (n, len(s.codes))
        if values.shape != want:
            problems.add(
                f"stream {name!r} has values of shape {values.shape}", expected=f"shape {want}"
            )
            continue
        if not np.issubdtype(values.dtype, np.integer):
            problems.add(
                f"stream {name!r} holds non-integer values",
                value=str(values.dtype),
                expected="integer codes",
            )
            continue
        if len(set(s.codes)) != len(s.codes):
            problems.add(
                f"stream {name!r} lists a code twice",
                value=list(s.codes),
                expected="distinct codes",
            )
        hi = len(s.codes) - 1 if s.kind == "categorical" else 1
        if values.size and (values.min() < UNCODED or values.max() > hi):
            bad = (values < UNCODED) | (values > hi)
            problems.add(
                f"stream {name!r} has values out of range",
                value=int(values[bad].flat[0]),
                expected=f"-1 (uncoded) to {hi}",
            )
        if book is not None and name in book.streams:
            known = set(book.streams[name].codes)
            unknown = [c for c in s.codes if c not in known]
            if unknown:
                problems.add(
                    f"stream {name!r} has codes its codebook does not declare",
                    value=unknown,
                    expected=f"codes of {book.name}: {list(book.streams[name].codes)}",
                )


class _TableRows:
    """Row numbers of a table in file order: position + 1 (without allocating them)."""

    def __getitem__(self, i: int) -> int:
        return int(i) + 1


_ROWS = _TableRows()


def check_ratings(
    ratings: Mapping[str, np.ndarray],
    n: int,
    book: Codebook | None,
    problems: ProblemCollector,
    rows: Any = None,
) -> None:
    """Ratings: shape and the codebook's range; ``rows[i]`` names table rows in messages."""
    for name, v in ratings.items():
        if v.shape != (n,):
            problems.add(f"rating {name!r} has shape {v.shape}", expected=f"({n},)")
            continue
        info = book.ratings.get(name) if book is not None else None
        if info is None:
            continue
        in_range = (v >= info.min) & (v <= info.max)
        if info.integer:
            in_range &= v == np.round(v)
        expected = f"{'an integer ' if info.integer else ''}{info.min:g}..{info.max:g}"
        report_rows(
            problems,
            np.flatnonzero(~(np.isnan(v) | in_range)),
            lambda i, v=v, name=name, expected=expected: {
                "message": f"rating {name!r} out of range"
                + ("" if rows is not None else f" at segment {i}"),
                "value": float(v[i]),
                "expected": expected,
                **({"row": int(rows[i]), "column": name} if rows is not None else {}),
            },
            name,
        )


def derive_streams(book: Codebook, streams: Mapping[str, StreamData]) -> dict[str, StreamData]:
    """Compute the codebook's derived categorical streams whose source is present."""
    out = {}
    for d in book.derived.values():
        src = streams.get(d.source)
        if src is None:
            continue
        if d.name in streams:
            raise LagnestDataError(
                f"column {d.name!r} clashes with the derived stream {d.name!r} of codebook "
                f"{book.name!r}: rename or drop the column"
            )
        out[d.name] = StreamData(
            "categorical", d.codes, d.apply(np.asarray(src.values), src.codes), derived=True
        )
    return out


# ---------------------------------------------------------------------------- session tables
@dataclass(frozen=True)
class Origin:
    """Where the rows of a session table come from: its file and the label of each row."""

    source: str | None = None
    labels: Sequence[str | None] = ()

    def where(self, session: str, default_file: str | None) -> dict[str, Any]:
        """``file`` and ``row`` (from 1) of ``session``, for a problem."""
        rows = np.flatnonzero(np.asarray(self.labels, dtype=object) == session)
        return {
            "row": int(rows[0]) + 1 if rows.size else None,
            "file": self.source or default_file,
        }


def numeric_where_possible(frame: pd.DataFrame, decimal: str = ".") -> pd.DataFrame:
    """Copy of ``frame`` with columns that hold only numbers (and missing cells) numeric."""
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        numbers = to_numbers(column, decimal)
        if not numbers.bad.any() and not numbers.text_codes and not numbers.missing.all():
            out[col] = numbers.values
        elif numbers.missing.any() or isinstance(column.dtype, pd.CategoricalDtype):
            out[col] = column.astype(object).where(~numbers.missing, None)
    return out


def session_table(
    labels: Sequence[str],
    dyads: Sequence[str],
    lengths: np.ndarray,
    covariates: pd.DataFrame | None,
    book: Codebook | None,
    problems: ProblemCollector,
    origin: Origin | None = None,
    decimal: str = ".",
) -> pd.DataFrame:
    """Session table: dyad, n_segments, covariates, questionnaire subscales scored.

    ``covariates`` is indexed by session; with an ``origin`` (a parsed table) its index
    already holds labels, else the index values are made labels.
    """
    table = pd.DataFrame(
        {"dyad": list(dyads), "n_segments": lengths},
        index=pd.Index(list(labels), name="session", dtype=object),
    )
    if covariates is None or covariates.empty:
        return table
    cov = numeric_where_possible(covariates, decimal)
    index = cov.index if origin is not None else [label_of(i) for i in cov.index]
    cov.index = pd.Index(index, name="session", dtype=object)
    known = table.index.get_indexer(cov.index) >= 0
    for s in cov.index[~known][:MAX_ROWS_REPORTED]:
        problems.add(
            "session table names a session with no segments",
            column="session",
            value=s,
            expected="every session to have at least one segment",
        )
    cov = cov.drop(columns=[c for c in ("dyad", "n_segments") if c in cov.columns])
    if book is not None:
        cov = _score_questionnaires(cov, book, problems, origin or Origin())
    return table.join(cov.loc[known], how="left")


def _score_questionnaires(
    cov: pd.DataFrame, book: Codebook, problems: ProblemCollector, origin: Origin
) -> pd.DataFrame:
    """Check item ranges and session-variable ranges; add subscale scores."""

    def where(session: str) -> dict:
        return origin.where(session, problems.file)

    for var in book.session_variables.values():
        if var.name in cov.columns:
            values = pd.to_numeric(cov[var.name], errors="coerce")
            bad = cov[var.name].notna() & (values.isna() | (values < var.min) | (values > var.max))
            for s in cov.index[bad][:MAX_ROWS_REPORTED]:
                problems.add(
                    f"session {s!r}: value out of range",
                    column=var.name,
                    value=cov.at[s, var.name],
                    **where(s),
                    expected=f"{var.min:g}..{var.max:g}",
                )
            cov[var.name] = values
    for q in book.questionnaires.values():
        present = [c for c in q.item_columns if c in cov.columns]
        if not present:
            continue
        missing = [c for c in q.item_columns if c not in cov.columns]
        if missing:
            problems.add(
                f"questionnaire {q.name!r} is missing item columns",
                value=missing,
                expected=f"all of {list(q.item_columns)}",
            )
            continue
        items = cov[list(q.item_columns)].apply(pd.to_numeric, errors="coerce")
        for col in q.item_columns:
            raw = cov[col]
            bad = raw.notna() & (
                items[col].isna()
                | (items[col] < q.min)
                | (items[col] > q.max)
                | (items[col] != items[col].round())
            )
            for s in cov.index[bad][:MAX_ROWS_REPORTED]:
                problems.add(
                    f"session {s!r}: questionnaire item out of range",
                    column=col,
                    value=raw[s],
                    **where(s),
                    expected=f"an integer {q.min:g}..{q.max:g}",
                )
        cov[list(q.item_columns)] = items
        scores = q.score_items(items)
        for col in scores.columns:
            if col in cov.columns:
                given = pd.to_numeric(cov[col], errors="coerce")
                differ = ~np.isclose(given, scores[col], equal_nan=True)
                for s in cov.index[differ][:MAX_ROWS_REPORTED]:
                    problems.add(
                        f"session {s!r}: subscale differs from its items' score",
                        column=col,
                        value=cov.at[s, col],
                        **where(s),
                        expected=f"{scores.at[s, col]:g} ({q.score} of keyed items)",
                    )
            cov[col] = scores[col]
    return cov


def dyad_table(
    dyads: Sequence[str],
    lengths: np.ndarray,
    attributes: pd.DataFrame | None,
    problems: ProblemCollector,
    decimal: str = ".",
) -> pd.DataFrame:
    """Dyad table: sessions and segments per dyad, plus attributes."""
    frame = pd.DataFrame({"dyad": list(dyads), "n": lengths})
    table = frame.groupby("dyad", sort=False).agg(n_sessions=("n", "size"), n_segments=("n", "sum"))
    if attributes is None or attributes.empty:
        return table
    attrs = numeric_where_possible(attributes, decimal)
    attrs.index = pd.Index([label_of(i) for i in attrs.index], name="dyad")
    for d in attrs.index.difference(table.index, sort=False)[:MAX_ROWS_REPORTED]:
        problems.add(
            "dyad table names a dyad with no sessions",
            column="dyad",
            value=d,
            expected=f"one of {list(table.index)}",
        )
    return table.join(
        attrs.drop(columns=[c for c in ("n_sessions", "n_segments") if c in attrs.columns]),
        how="left",
    )


@dataclass(frozen=True)
class SideTable:
    """A session (or dyad) table with the key label of each of its rows.

    ``labels`` holds one label per row (None where the key is missing); ``key_columns``
    are dropped from the covariates; ``source`` names the file in messages.
    """

    frame: pd.DataFrame
    labels: np.ndarray
    key_columns: tuple[str, ...]
    source: str | None = None


def collect_session_covariates(
    frame: pd.DataFrame,
    session_codes: np.ndarray,
    session_labels: Sequence[str],
    session_columns: Sequence[str],
    sessions: SideTable | None,
    problems: ProblemCollector,
) -> tuple[pd.DataFrame | None, Origin]:
    """Session covariates from ``session_columns`` of the segment table and ``sessions``."""
    parts = []
    origin = Origin()
    labels = np.asarray(session_labels, dtype=object)
    if session_columns:
        sub = frame[list(session_columns)]
        grouped = sub.groupby(session_codes, sort=True)
        for col in session_columns:
            per = grouped[col].nunique(dropna=False)
            for s in per.index[per.to_numpy() > 1][:MAX_ROWS_REPORTED]:
                rows = np.flatnonzero(session_codes == s)
                problems.add(
                    f"session covariate varies within session {labels[s]!r}",
                    row=int(rows[0]) + 1,
                    column=col,
                    value=pd.unique(sub[col].to_numpy()[rows]).tolist()[:3],
                    expected="one value per session",
                )
        first = grouped.first()
        first.index = pd.Index(labels[first.index.to_numpy()], name="session")
        parts.append(first)
    if sessions is not None:
        table_labels = sessions.labels
        present = ~pd.isna(table_labels)
        key = sessions.key_columns[-1]
        dup = pd.Series(table_labels).duplicated().to_numpy() & present
        report_rows(
            problems,
            np.flatnonzero(dup),
            lambda i: {
                "message": "duplicate session in session table",
                "row": i + 1,
                "column": key,
                "value": table_labels[i],
                "expected": "one row per session",
                "file": sessions.source,
            },
        )
        known = pd.Index(list(session_labels), dtype=object)
        empty = (known.get_indexer(pd.Index(table_labels, dtype=object)) < 0) & present
        report_rows(
            problems,
            np.flatnonzero(empty),
            lambda i: {
                "message": "session has no segments (empty session)",
                "row": i + 1,
                "column": key,
                "value": table_labels[i],
                "expected": "a session present in the segment table",
                "file": sessions.source,
            },
        )
        drop = [c for c in sessions.key_columns if c in sessions.frame.columns]
        sess = sessions.frame.drop(
            columns=drop
            + (["dyad"] if "dyad" in sessions.frame.columns and "dyad" not in drop else [])
        )
        sess.index = pd.Index(table_labels, name="session")
        origin = Origin(sessions.source, table_labels)
        parts.append(sess[~dup & present])
    if not parts:
        return None, origin
    return (pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]), origin


# ---------------------------------------------------------------------------- long tables
@dataclass
class ParsedFrame:
    """A long table parsed into the arrays of a `Sequences` (segments in storage order)."""

    sessions: list[str]
    dyads: list[str]
    lengths: np.ndarray
    segment_numbers: np.ndarray
    breaks: np.ndarray
    streams: dict[str, StreamData]
    ratings: dict[str, np.ndarray]
    covariates: pd.DataFrame | None
    origin: Origin
    dyad_attributes: pd.DataFrame | None
    key_values: dict[str, dict[str, Any]]


def nested_label(dyad: str, session: str) -> str:
    """Label of a session numbered within its dyad (``nested_sessions=True``)."""
    return f"{dyad}-{session}"


def _first_positions(codes: np.ndarray, n_groups: int, step: np.ndarray) -> np.ndarray:
    """Position of the first row of each group (codes in order of first appearance).

    ``step`` is ``np.diff(codes)``.
    """
    if (step >= 0).all():  # groups are contiguous runs (a table sorted by session)
        return np.flatnonzero(np.concatenate([[True], step != 0]))
    first = np.full(n_groups, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first


def _nest(dyads: Keys, sessions: Keys) -> Keys:
    """Sessions numbered within dyads -> one key per (dyad, session) pair."""
    pair = dyads.codes.astype(np.int64) * max(len(sessions.labels), 1) + sessions.codes
    codes, uniques = factorize(pair)
    width = max(len(sessions.labels), 1)
    labels, values = [], {}
    for u in uniques:
        d, s = divmod(int(u), width)
        lab = nested_label(dyads.labels[d], sessions.labels[s])
        labels.append(lab)
        values[lab] = sessions.values.get(sessions.labels[s], sessions.labels[s])
    return Keys(codes, labels, values)


def _side_labels(
    table: pd.DataFrame,
    columns: Sequence[str],
    source: str | None,
    what: str,
    problems: ProblemCollector,
    nested: bool,
) -> SideTable | None:
    """Key labels of the rows of a session/dyad table (None, with a problem, without key)."""
    absent = [c for c in columns if c not in table.columns]
    if absent:
        # the key columns are named by the options dyad and session, as in the segments
        options = dict(zip(columns, ("dyad", "session")[-len(columns):] if what == "session"
                           else ("dyad",), strict=False))
        problems.add(
            f"{what} table has no key column (the option {options[absent[0]]} names it)",
            column=absent[0],
            value=list(table.columns)[:8],
            expected=f"a column {absent[0]!r}",
            file=source,
        )
        return None
    table = table.reset_index(drop=True)
    side = ProblemCollector(file=source)
    keys = [key_labels(table[c], c, side) for c in columns]
    problems.problems.extend(side.problems)
    key = _nest(*keys) if nested else keys[0]
    labels = np.empty(len(key.labels) + 1, dtype=object)
    labels[:-1] = key.labels
    return SideTable(table, labels[key.codes], tuple(columns), source)


def parse_frame(
    frame: pd.DataFrame,
    *,
    book: Codebook | None,
    dyad: str,
    session: str,
    segment: str,
    break_column: str,
    sessions: pd.DataFrame | None,
    dyads: pd.DataFrame | None,
    session_columns: Sequence[str],
    ignore: Sequence[str],
    codes: Mapping[str, Sequence[str]] | None,
    source: str | None,
    sessions_source: str | None,
    decimal: str = ".",
    nested_sessions: bool = False,
    indicators: Mapping[str, Sequence[str]] | None = None,
    ratings: Sequence[str] = (),
    dyads_source: str | None = None,
) -> ParsedFrame:
    """Parse and validate a long table (one row per segment); see `Sequences.from_frame`."""
    problems = ProblemCollector(file=source)
    missing = missing_columns(
        frame.columns,
        {"dyad": [dyad], "session": [session], "segment": [segment],
         "session_columns": session_columns, "ignore": ignore},
        source,
    )
    if missing:
        raise LagnestDataError(missing)
    if len(frame) == 0:
        raise LagnestDataError(
            problem(source, "the table has no rows", expected="one row per segment")
        )
    frame = frame.reset_index(drop=True)
    n = len(frame)
    dyad_keys = key_labels(frame[dyad], dyad, problems)
    sess_keys = key_labels(frame[session], session, problems)
    seg = segment_numbers(frame[segment], segment, problems)
    brk = (
        break_values(frame[break_column], break_column, problems)
        if break_column in frame.columns
        else np.zeros(n, dtype=bool)
    )
    key_problems = len(problems)
    skip = {dyad, session, segment, break_column, *ignore, *session_columns}
    value_cols = [c for c in frame.columns if c not in skip]
    declared = Declared(codes or {}, indicators or {}, tuple(ratings))
    streams, rating_values = parse_columns(frame, value_cols, book, declared, problems, decimal)
    check_ratings(rating_values, n, book, problems, rows=_ROWS)
    order: np.ndarray | None = None
    lengths = np.zeros(0, np.int64)
    session_dyads: list[str] = []
    if not key_problems:
        if nested_sessions:
            sess_keys = _nest(dyad_keys, sess_keys)
        s_codes, d_codes = sess_keys.codes, dyad_keys.codes
        n_sessions = len(sess_keys.labels)
        step = np.diff(s_codes)
        first_dyad = d_codes[_first_positions(s_codes, n_sessions, step)]
        split = np.flatnonzero(d_codes != first_dyad[s_codes])
        report_rows(
            problems,
            split,
            lambda i: {
                "message": f"session {sess_keys.labels[s_codes[i]]!r} is split across dyads",
                "row": i + 1,
                "column": dyad,
                "value": dyad_keys.labels[d_codes[i]],
                "expected": (
                    f"dyad {dyad_keys.labels[first_dyad[s_codes[i]]]!r} as on its first row "
                    "(session labels must be unique across dyads: make them so, e.g. "
                    f"'{dyad_keys.labels[d_codes[i]]}-{sess_keys.labels[s_codes[i]]}', or "
                    "pass nested_sessions=True when sessions are numbered within each dyad)"
                ),
            },
            dyad,
        )
        order = _segment_order(s_codes, seg, step)
        _check_duplicates(s_codes, seg, order, sess_keys.labels, segment, problems)
        lengths = np.bincount(s_codes, minlength=n_sessions).astype(np.int64)
        session_dyads = [dyad_keys.labels[d] for d in first_dyad.tolist()]
    problems.raise_if_any()

    side = (
        _side_labels(
            sessions,
            (dyad, session) if nested_sessions else (session,),
            sessions_source,
            "session",
            problems,
            nested_sessions,
        )
        if sessions is not None
        else None
    )
    covariates, origin = collect_session_covariates(
        frame, sess_keys.codes, sess_keys.labels, session_columns, side, problems
    )
    attrs = None
    if dyads is not None:
        dyad_side = _side_labels(dyads, (dyad,), dyads_source, "dyad", problems, False)
        if dyad_side is not None:
            attrs = dyad_side.frame.drop(columns=[dyad])
            attrs.index = pd.Index(dyad_side.labels, name="dyad")
    problems.raise_if_any()

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    return ParsedFrame(
        sessions=list(sess_keys.labels),
        dyads=session_dyads,
        lengths=lengths,
        segment_numbers=ordered(seg),
        breaks=ordered(brk),
        streams={
            name: StreamData(s.kind, s.codes, ordered(s.values)) for name, s in streams.items()
        },
        ratings={k: ordered(v) for k, v in rating_values.items()},
        covariates=covariates,
        origin=origin,
        dyad_attributes=attrs,
        key_values={"dyad": dyad_keys.values, "session": sess_keys.values},
    )


def _segment_order(
    sessions: np.ndarray, numbers: np.ndarray, step: np.ndarray
) -> np.ndarray | None:
    """Row order: sessions by first appearance, segments by number (None: already so).

    ``step`` is ``np.diff(sessions)``.
    """
    if len(sessions) < 2:
        return None
    if (step >= 0).all() and ((step > 0) | (np.diff(numbers) > 0)).all():
        return None
    return np.lexsort((numbers, sessions))


def _check_duplicates(
    sessions: np.ndarray,
    numbers: np.ndarray,
    order: np.ndarray | None,
    labels: Sequence[str],
    segment: str,
    problems: ProblemCollector,
) -> None:
    """Two rows with one (session, segment) key are a problem naming both rows."""
    if order is None:
        return  # strictly increasing within sessions: no duplicates
    s, t = sessions[order], numbers[order]
    same = np.flatnonzero((np.diff(s) == 0) & (np.diff(t) == 0))
    if not same.size:
        return
    starts = same[np.r_[True, np.diff(same) > 1]]
    for k, start in enumerate(starts[:MAX_ROWS_REPORTED]):
        stop = start + 1
        while stop + 1 < len(s) and s[stop + 1] == s[start] and t[stop + 1] == t[start]:
            stop += 1
        rows = sorted((order[start : stop + 1] + 1).tolist())
        problems.add(
            f"duplicate key (session {labels[s[start]]!r}, segment {int(t[start])}) on rows {rows}",
            row=rows[1],
            column=segment,
            value=int(t[start]),
            expected="one row per (dyad, session, segment)",
        )
        if k + 1 == MAX_ROWS_REPORTED and len(starts) > MAX_ROWS_REPORTED:
            problems.add(f"{len(starts) - MAX_ROWS_REPORTED} more duplicate keys", column=segment)
