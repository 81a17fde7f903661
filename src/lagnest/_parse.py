"""Parsing and validation of user input into the arrays of a `Sequences`.

Every function here records problems in a :class:`~lagnest.errors.ProblemCollector` with the
file, row, column, value and what was expected, so that all problems are reported together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lagnest._streams import UNCODED, StreamData, label_of, natural_key
from lagnest.codebook import Codebook, load_codebook
from lagnest.errors import LagnestDataError, ProblemCollector


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two session tables hold the same values (column order ignored)."""
    try:
        pd.testing.assert_frame_equal(a, b, check_like=True, check_dtype=False)
    except AssertionError:
        return False
    return True


def problem(file: str | None, message: str, **kw: Any):
    from lagnest.errors import DataProblem

    return DataProblem(message, file=file, **kw)


def resolve_codebook(codebook: Any, derive: Mapping | None) -> Codebook | None:
    """Load the codebook and apply derived-group overrides."""
    book = load_codebook(codebook) if codebook is not None else None
    if derive:
        if book is None:
            raise LagnestDataError("derive= needs a codebook that declares derived streams")
        for name, groups in derive.items():
            book = book.with_groups(name, groups)
    return book


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float | np.floating) and np.isnan(value))
        or value is pd.NA
        or (isinstance(value, str) and value.strip() == "")
    )


def key_labels(column: pd.Series, name: str, problems: ProblemCollector) -> list[str]:
    """Key column to string labels; missing values are problems."""
    out = []
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            problems.add(
                "missing key value", row=row, column=name, value="", expected="a non-empty label"
            )
            out.append("")
        else:
            out.append(label_of(value).strip())
    return out


def _as_int(value: Any) -> int | None:
    """Parse an integer from int, integral float or digit string; None if not one."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                return None
            return int(f) if f.is_integer() else None
    return None


def segment_numbers(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse segment order numbers: non-negative integers."""
    out = np.zeros(len(column), dtype=np.int64)
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            problems.add(
                "missing segment number",
                row=row,
                column=name,
                value="",
                expected="a non-negative integer",
            )
            continue
        n = _as_int(value)
        if n is None or n < 0:
            problems.add(
                "bad segment number",
                row=row,
                column=name,
                value=value,
                expected="a non-negative integer",
            )
        else:
            out[row - 1] = n
    return out


def break_values(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse the break column: 0/1 (or true/false); empty = no break."""
    out = np.zeros(len(column), dtype=bool)
    truthy, falsy = {"1", "true", "yes"}, {"0", "false", "no"}
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            continue
        text = label_of(value).strip().lower()
        if text in truthy:
            out[row - 1] = True
        elif text not in falsy:
            problems.add(
                "bad break flag", row=row, column=name, value=value, expected="0 or 1 (empty = 0)"
            )
    return out


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
    step = np.diff(numbers)
    bad = np.flatnonzero(step <= 0)
    starts = set(offsets[1:-1] - 1)
    for i in bad:
        if i in starts:
            continue
        s = int(np.searchsorted(offsets, i, side="right") - 1)
        problems.add(
            f"segments of session {labels[s]!r} are not in increasing order",
            value=(int(numbers[i]), int(numbers[i + 1])),
            expected="strictly increasing segment numbers",
        )
        if len(problems) > 50:
            return


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
        hi = len(s.codes) - 1 if s.kind == "categorical" else 1
        bad = (values < UNCODED) | (values > hi)
        if bad.any():
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


def check_ratings(
    ratings: Mapping[str, np.ndarray],
    n: int,
    book: Codebook | None,
    problems: ProblemCollector,
    rows: np.ndarray | None = None,
) -> None:
    """Ratings: shape and the codebook's range; ``rows`` names table rows in messages."""
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
        ok = np.isnan(v) | in_range
        for i in np.flatnonzero(~ok)[:50]:
            where = {"row": int(rows[i]), "column": name} if rows is not None else {}
            problems.add(
                f"rating {name!r} out of range" + ("" if rows is not None else f" at segment {i}"),
                value=float(v[i]),
                expected=f"{'an integer ' if info.integer else ''}{info.min:g}..{info.max:g}",
                **where,
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


def _numeric_where_possible(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with text columns that hold only numbers turned numeric."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            continue
        present = out[col][[not _is_missing(v) for v in out[col].tolist()]]
        converted = pd.to_numeric(present, errors="coerce")
        if len(present) and converted.notna().all():
            out[col] = pd.to_numeric(out[col].where(out[col].map(lambda v: not _is_missing(v))))
    return out


def session_table(
    labels: Sequence[str],
    dyads: Sequence[str],
    lengths: np.ndarray,
    covariates: pd.DataFrame | None,
    book: Codebook | None,
    problems: ProblemCollector,
) -> pd.DataFrame:
    """Session table: dyad, n_segments, covariates, questionnaire subscales scored."""
    table = pd.DataFrame(
        {"dyad": list(dyads), "n_segments": lengths}, index=pd.Index(list(labels), name="session")
    )
    if covariates is None or covariates.empty:
        return table
    origin = dict(covariates.attrs)
    cov = _numeric_where_possible(covariates)
    cov.index = pd.Index([label_of(i) for i in cov.index], name="session")
    unknown = cov.index.difference(table.index, sort=False)
    for s in unknown[:50]:
        problems.add(
            "session table names a session with no segments",
            column="session",
            value=s,
            expected="every session to have at least one segment",
        )
    cov = cov.drop(columns=[c for c in ("dyad", "n_segments") if c in cov.columns])
    if book is not None:
        cov = _score_questionnaires(cov, book, problems, origin)
    return table.join(cov.loc[cov.index.isin(table.index)], how="left")


def _score_questionnaires(
    cov: pd.DataFrame, book: Codebook, problems: ProblemCollector, origin: Mapping
) -> pd.DataFrame:
    """Check item ranges and session-variable ranges; add subscale scores.

    ``origin`` may hold the session file name (``source``) and row of each session
    (``rows``), for messages.
    """

    def where(session: str) -> dict:
        return {
            "row": origin.get("rows", {}).get(session),
            "file": origin.get("source") or problems.file,
        }

    for var in book.session_variables.values():
        if var.name in cov.columns:
            values = pd.to_numeric(cov[var.name], errors="coerce")
            bad = cov[var.name].notna() & (values.isna() | (values < var.min) | (values > var.max))
            for s in cov.index[bad][:50]:
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
            for s in cov.index[bad][:50]:
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
                for s in cov.index[differ][:50]:
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
) -> pd.DataFrame:
    """Dyad table: sessions and segments per dyad, plus attributes."""
    frame = pd.DataFrame({"dyad": list(dyads), "n": lengths})
    table = frame.groupby("dyad", sort=False).agg(n_sessions=("n", "size"), n_segments=("n", "sum"))
    if attributes is None or attributes.empty:
        return table
    attrs = _numeric_where_possible(attributes)
    attrs.index = pd.Index([label_of(i) for i in attrs.index], name="dyad")
    for d in attrs.index:
        if d not in table.index:
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


def collect_session_covariates(
    frame: pd.DataFrame,
    sess_lab: list[str],
    rows: np.ndarray,
    session: str,
    session_columns: Sequence[str],
    sessions: pd.DataFrame | None,
    sessions_source: str | None,
    problems: ProblemCollector,
) -> pd.DataFrame | None:
    """Session covariates from ``session_columns`` of the segment table and ``sessions``."""
    parts = []
    if session_columns:
        sub = frame[list(session_columns)].copy()
        sub.index = pd.Index(sess_lab, name="session")
        for col in session_columns:
            per = sub[col].groupby(level=0, sort=False).nunique(dropna=False)
            for s in per.index[per > 1][:50]:
                first_row = int(rows[np.flatnonzero(np.asarray(sess_lab) == s)[0]])
                problems.add(
                    f"session covariate varies within session {s!r}",
                    row=first_row,
                    column=col,
                    value=sub.loc[[s], col].unique().tolist()[:3],
                    expected="one value per session",
                )
        parts.append(sub.groupby(level=0, sort=False).first())
    if sessions is not None:
        if session not in sessions.columns:
            problems.add(
                "session table has no key column",
                column=session,
                value=list(sessions.columns)[:8],
                expected=f"a column {session!r}",
                file=sessions_source,
            )
        else:
            sess = sessions.copy()
            labels = [label_of(v) for v in sess[session]]
            dup = pd.Series(labels)[pd.Series(labels).duplicated()]
            for i in dup.index[:50]:
                problems.add(
                    "duplicate session in session table",
                    row=int(i) + 1,
                    column=session,
                    value=labels[i],
                    expected="one row per session",
                    file=sessions_source,
                )
            sess.index = pd.Index(labels, name="session")
            sess.attrs = {
                "source": sessions_source,
                "rows": {s: i + 1 for i, s in enumerate(labels)},
            }
            sess = sess.drop(columns=[session] + [c for c in ("dyad",) if c in sess.columns])
            known = set(sess_lab)
            for i, s in enumerate(labels):
                if s not in known:
                    problems.add(
                        "session has no segments (empty session)",
                        row=i + 1,
                        column=session,
                        value=s,
                        expected="a session present in the segment table",
                        file=sessions_source,
                    )
            parts.append(sess[~sess.index.duplicated()])
    if not parts:
        return None
    return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


_SEPARATORS = ("+", ";", "|")


def parse_values(
    name: str,
    column: pd.Series,
    code_list: Sequence[str] | None,
    problems: ProblemCollector,
    where: Any = None,
    file_column: str | None = None,
    book_codes: Sequence[str] | None = None,
    kind: str | None = None,
) -> StreamData:
    """Parse one column of codes into a stream (categorical labels or 0/1 indicator)."""
    values = column.tolist()
    present = [v for v in values if not _is_missing(v)]
    numeric = [
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in present
    ]

    def locate(i: int) -> dict:
        if where is not None:
            info = where(i)
            return {"message_prefix": info["message_prefix"]}
        return {"row": i + 1, "column": file_column or name}

    def report(i: int, message: str, value: Any, expected: str) -> None:
        loc = locate(i)
        prefix = loc.pop("message_prefix", None)
        problems.add(
            f"{prefix}: {message}" if prefix else message, value=value, expected=expected, **loc
        )

    if any(numeric) and not all(numeric) and kind != "categorical":
        strings = [str(v) for v in present]
        if not all(_as_int(s) is not None for s in strings):
            i = next(
                i
                for i, v in enumerate(values)
                if not _is_missing(v) and not isinstance(v, int | float | np.integer | np.floating)
            )
            report(
                i,
                f"mixed types in stream {name!r}: numbers and text",
                values[i],
                "all numbers or all code labels",
            )
            return StreamData("categorical", (), np.zeros(len(values), np.int64))
    labels = [None if _is_missing(v) else label_of(v).strip() for v in values]
    distinct = {lab for lab in labels if lab is not None}
    if kind == "indicator" or (
        kind is None
        and code_list is None
        and book_codes is None
        and distinct
        and distinct <= {"0", "1"}
    ):
        out = np.full((len(values), 1), UNCODED, dtype=np.int8)
        for i, lab in enumerate(labels):
            if lab is None:
                continue
            if lab in ("0", "1"):
                out[i, 0] = int(lab)
            else:
                report(
                    i, f"bad value for indicator {name!r}", values[i], "0 or 1 (empty = uncoded)"
                )
        return StreamData("indicator", (name,), out)
    allowed = (
        list(code_list)
        if code_list is not None
        else (list(book_codes) if book_codes is not None else None)
    )
    if allowed is None:  # labels holding a separator are two codes, not one
        distinct = {d for d in distinct if not any(sep in d for sep in _SEPARATORS)}
    codes = tuple(allowed) if allowed is not None else tuple(sorted(distinct, key=natural_key))
    index = {c: i for i, c in enumerate(codes)}
    out = np.full(len(values), UNCODED, dtype=np.int64)
    for i, lab in enumerate(labels):
        if lab is None:
            continue
        if lab in index:
            out[i] = index[lab]
            continue
        parts = [p.strip() for sep in _SEPARATORS if sep in lab for p in lab.split(sep)]
        if parts and (allowed is None or all(p in index for p in parts)):
            report(
                i,
                f"two codes in one segment of categorical stream {name!r}",
                values[i],
                "one code per segment (use an indicator stream for co-occurring codes, or "
                "pass codes={stream: [...]} if this label is a single code)",
            )
        else:
            report(i, f"unknown code in stream {name!r}", values[i], f"one of {list(codes)}")
    return StreamData("categorical", codes, out)


def parse_columns(
    frame: pd.DataFrame,
    columns: list[str],
    book: Codebook | None,
    codes: Mapping[str, Sequence[str]] | None,
    problems: ProblemCollector,
) -> tuple[dict[str, StreamData], dict[str, np.ndarray]]:
    """Split value columns into streams and ratings, by codebook or by inference."""
    streams: dict[str, StreamData] = {}
    ratings: dict[str, np.ndarray] = {}
    remaining = list(columns)
    if book is not None:
        for s in book.streams.values():
            if s.kind == "categorical":
                if s.name in remaining:
                    remaining.remove(s.name)
                    streams[s.name] = parse_values(
                        s.name,
                        frame[s.name],
                        None,
                        problems,
                        book_codes=s.codes,
                        kind="categorical",
                    )
                continue
            present = [c for c in s.codes if c in remaining]
            if not present:
                continue
            missing = [c for c in s.codes if c not in remaining]
            if missing:
                problems.add(
                    f"indicator stream {s.name!r} is missing code columns",
                    column=missing[0],
                    value=missing,
                    expected=f"all of {list(s.codes)} or none",
                )
                continue
            matrix = np.empty((len(frame), len(s.codes)), dtype=np.int8)
            for j, code in enumerate(s.codes):
                remaining.remove(code)
                matrix[:, j] = parse_values(
                    code, frame[code], None, problems, kind="indicator"
                ).values[:, 0]
            streams[s.name] = StreamData("indicator", s.codes, matrix)
        for r in book.ratings.values():
            if r.name in remaining:
                remaining.remove(r.name)
                ratings[r.name] = _parse_ratings(frame[r.name], r.name, problems)
        for col in remaining:
            problems.add(
                "column not in the codebook",
                column=col,
                value=col,
                expected=(
                    f"a stream, code or rating of {book.name} "
                    "(or pass ignore=[...] / session_columns=[...])"
                ),
            )
        return streams, ratings
    for col in remaining:
        values = frame[col]
        present = values[[not _is_missing(v) for v in values.tolist()]]
        as_num = pd.to_numeric(present, errors="coerce")
        is_num = len(present) > 0 and as_num.notna().all()
        if codes and col in codes:
            streams[col] = parse_values(col, values, codes[col], problems, kind="categorical")
        elif is_num and not set(as_num.unique()) <= {0, 1}:
            non_int = (as_num != as_num.round()).any()
            if non_int or pd.api.types.is_float_dtype(values):
                ratings[col] = _parse_ratings(values, col, problems)
            else:
                streams[col] = parse_values(col, values, None, problems, kind="categorical")
        else:
            streams[col] = parse_values(col, values, None, problems)
    return streams, ratings


def _parse_ratings(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse a numeric rating column (empty = NaN)."""
    out = np.full(len(column), np.nan)
    for row, value in enumerate(column.tolist(), start=1):
        if _is_missing(value):
            continue
        try:
            out[row - 1] = float(value)
        except (TypeError, ValueError):
            problems.add(
                f"non-numeric rating in {name!r}",
                row=row,
                column=name,
                value=value,
                expected="a number",
            )
    return out
