"""Parsing and validation of user input into the arrays of a `Sequences`.

Every function here records problems in a :class:`~lagnest.errors.ProblemCollector` with the
file, row, column, value and what was expected, so that all problems are reported together.

Work is column-wise: a column is factorized once (``pandas.factorize``), its *distinct*
values are classified in Python (few: labels, codes, segment numbers), and the result is
spread back to every row with one NumPy ``take``. Python loops run only over the rows
already found bad, to build their located messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lagnest._streams import (
    MISSING_WORDS,
    QUALIFIER,
    UNCODED,
    StreamData,
    is_missing,
    label_of,
    natural_key,
)
from lagnest.codebook import Codebook, load_codebook
from lagnest.errors import DataProblem, LagnestDataError, ProblemCollector

#: Rows reported per check and column; the rest are summarised in one more problem.
MAX_ROWS_REPORTED = 50
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


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


def resolve_codebook(codebook: Any, derive: Mapping | None) -> Codebook | None:
    """Load the codebook and apply derived-group overrides."""
    book = load_codebook(codebook) if codebook is not None else None
    if derive:
        if book is None:
            raise LagnestDataError("derive= needs a codebook that declares derived streams")
        for name, groups in derive.items():
            book = book.with_groups(name, groups)
    return book


# ---------------------------------------------------------------------------- columns
def factorize(column: pd.Series | Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of every cell (``-1`` = null) and the distinct values, in order.

    Parameters
    ----------
    column : Series or sequence

    Returns
    -------
    codes : ndarray of int64
    uniques : list
        Distinct non-null values in order of first appearance.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    return np.asarray(codes, dtype=np.int64), values


def _arrow_text(values: Any) -> Any | None:
    """The pyarrow array behind an arrow-backed string column or index (else None)."""
    array = getattr(values, "array", values)
    if not hasattr(array, "__arrow_array__") or not pd.api.types.is_string_dtype(array.dtype):
        return None
    try:
        return array.__arrow_array__()
    except (TypeError, ValueError):
        return None


def clean_text(uniques: Any) -> tuple[list[str | None], bool] | None:
    """Labels of arrow-backed distinct strings, vectorised: trimmed, NFC, missing -> None.

    Returns the labels and whether every one equals its string unchanged (then distinct
    strings are distinct labels); None when ``uniques`` is not arrow-backed text.
    """
    arr = _arrow_text(uniques)
    if arr is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(arr)
    if not pc.all(pc.string_is_ascii(text)).as_py():
        text = pc.utf8_normalize(text, "NFC")
    missing = pc.is_in(text, value_set=pa.array(sorted(MISSING_WORDS), type=text.type))
    unchanged = pc.all(pc.equal(text, arr)).as_py() and not pc.any(missing).as_py()
    return pc.if_else(missing, pa.scalar(None, type=text.type), text).to_pylist(), bool(unchanged)


def spread(
    per_unique: Sequence[Any] | np.ndarray, codes: np.ndarray, null: Any, dtype: Any
) -> np.ndarray:
    """Spread one value per distinct value back to every row (``null`` for null cells)."""
    table = np.empty(len(per_unique) + 1, dtype=dtype)
    table[:-1] = per_unique
    table[-1] = null
    return table[codes]


def first_rows(codes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions of the rows whose distinct value is flagged in ``wanted`` (bool per unique)."""
    flags = np.append(np.asarray(wanted, dtype=bool), False)
    return np.flatnonzero(flags[codes])


def report_rows(
    problems: ProblemCollector,
    positions: np.ndarray,
    make: Callable[[int], dict[str, Any]],
    column: str | None = None,
    limit: int = MAX_ROWS_REPORTED,
) -> None:
    """Add one problem per bad row (first ``limit``), and one summarising the rest.

    ``make(i)`` returns the keyword arguments of :meth:`ProblemCollector.add` for the row at
    position ``i`` (0-based), including ``message``.
    """
    for i in positions[:limit]:
        kw = make(int(i))
        problems.add(kw.pop("message"), **kw)
    if len(positions) > limit:
        problems.add(
            f"{len(positions) - limit} more rows with the same kind of problem", column=column
        )


def is_number(value: Any) -> bool:
    """Whether a cell holds a number (not a bool)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


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


def _number(value: Any, decimal: str) -> float | None:
    """One cell as a float (None when it is not a number)."""
    if is_number(value):
        return float(value)
    if isinstance(value, bool | np.bool_):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if decimal != "." and decimal in text:
        if "." in text:
            return None
        text = text.replace(decimal, ".")
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Numbers:
    """A column read as numbers: values (NaN = missing or bad) and flags per row."""

    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray
    text_codes: bool = False  # some value is text that looks like a code (``01``)


def to_numbers(
    column: pd.Series,
    decimal: str = ".",
    factorized: tuple[np.ndarray, list[Any]] | None = None,
) -> Numbers:
    """Read a column as numbers; missing cells and cells that are not numbers are flagged.

    Parameters
    ----------
    column : Series
    decimal : str, default "."
        Decimal separator of numbers held as text (``","`` in Spanish-locale files).
    factorized : tuple, optional
        ``factorize(column)`` when already computed.

    Returns
    -------
    Numbers
    """
    n = len(column)
    if _is_plain_numeric(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        return Numbers(values, missing, np.zeros(n, bool))
    fast = _arrow_numbers(column, decimal) if factorized is None else None
    if fast is not None:
        return fast
    codes, uniques = factorized if factorized is not None else factorize(column)
    k = len(uniques)
    num_u = np.full(k, np.nan)
    miss_u = np.zeros(k, bool)
    bad_u = np.zeros(k, bool)
    text_codes = False
    for j, u in enumerate(uniques):
        if is_missing(u):
            miss_u[j] = True
            continue
        value = _number(u, decimal)
        if value is None:
            bad_u[j] = True
        else:
            num_u[j] = value
            text_codes = text_codes or (isinstance(u, str) and bool(_LEADING_ZERO.match(u)))
    return Numbers(
        spread(num_u, codes, np.nan, np.float64),
        spread(miss_u, codes, True, bool),
        spread(bad_u, codes, False, bool),
        text_codes,
    )


def _arrow_numbers(column: pd.Series, decimal: str) -> Numbers | None:
    """Numbers of an arrow-backed text column in one vectorised cast (None if it fails)."""
    arr = _arrow_text(column)
    if arr is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(arr)
    if decimal != ".":
        if pc.any(pc.match_substring(text, ".")).as_py():
            return None
        text = pc.replace_substring(text, decimal, ".")
    try:
        values = pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # missing-value words, text: the per-value path says which
    missing = pc.is_null(values).to_numpy(zero_copy_only=False)
    leading = pc.any(pc.match_substring_regex(text, _LEADING_ZERO.pattern)).as_py()
    return Numbers(
        pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False),
        missing,
        np.zeros(len(column), bool),
        bool(leading),
    )


def number_kind(
    column: pd.Series, decimal: str = ".", factorized: tuple[np.ndarray, list[Any]] | None = None
) -> str:
    """What a column holds, judged on its distinct values.

    ``"empty"`` (only missing), ``"binary"`` (numbers 0 and 1), ``"numeric"`` (other
    numbers) or ``"text"``. Text with a leading zero (``01``) is text: such labels are
    codes, not numbers.
    """
    if _is_plain_numeric(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        present = values[~np.isnan(values)]
        if not present.size:
            return "empty"
        return "binary" if np.isin(present, (0.0, 1.0)).all() else "numeric"
    _, uniques = factorized if factorized is not None else factorize(column)
    numbers = []
    for u in uniques:
        if is_missing(u):
            continue
        value = _number(u, decimal)
        if value is None or (isinstance(u, str) and _LEADING_ZERO.match(u)):
            return "text"
        numbers.append(value)
    if not numbers:
        return "empty"
    return "binary" if set(numbers) <= {0.0, 1.0} else "numeric"


@dataclass(frozen=True)
class Keys:
    """A key column as labels: ``codes`` per row (``-1`` = missing) into ``labels``.

    ``values`` maps a label to the original cell value where the two differ (``1`` for
    label ``"1"``), so that tables are written back as they were read.
    """

    codes: np.ndarray
    labels: list[str]
    values: dict[str, Any] = field(default_factory=dict)


def key_labels(column: pd.Series, name: str, problems: ProblemCollector) -> Keys:
    """Key column to labels (trimmed, NFC); missing values are problems."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    cleaned = clean_text(uniques)
    if cleaned is not None and cleaned[1]:  # clean text: the distinct values are the labels
        _report_missing_keys(codes, name, problems)
        return Keys(codes, cleaned[0], {})
    values_u = cleaned[0] if cleaned is not None else uniques.tolist()
    labels: list[str] = []
    index: dict[str, int] = {}
    values: dict[str, Any] = {}
    label_u = np.full(len(values_u), -1, np.int64)
    for j, u in enumerate(values_u):
        if u is None and cleaned is not None:
            continue
        if type(u) is str:  # the common case, inlined: trim, missing words, NFC
            lab = u.strip()
            if lab in MISSING_WORDS:
                continue
            if not lab.isascii():
                lab = label_of(lab)
        elif is_missing(u):
            continue
        else:
            lab = label_of(u)
        k = index.setdefault(lab, len(labels))
        if k == len(labels):
            labels.append(lab)
            if not (isinstance(u, str) and u == lab):
                values[lab] = u.item() if isinstance(u, np.generic) else u
        label_u[j] = k
    out = spread(label_u, codes, -1, np.int64)
    _report_missing_keys(out, name, problems)
    return Keys(out, labels, values)


def _report_missing_keys(codes: np.ndarray, name: str, problems: ProblemCollector) -> None:
    """One problem per row whose key is missing (code -1)."""
    report_rows(
        problems,
        np.flatnonzero(codes < 0),
        lambda i: {
            "message": "missing key value",
            "row": i + 1,
            "column": name,
            "value": "",
            "expected": "a non-empty label",
        },
        name,
    )


def segment_numbers(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse segment order numbers: non-negative integers."""
    dtype = column.dtype
    if pd.api.types.is_integer_dtype(dtype) and not column.hasnans:
        out = column.to_numpy(dtype=np.int64)
        bad = np.flatnonzero(out < 0)
        missing = np.zeros(0, np.int64)
        shown = out
    else:
        codes, uniques = factorize(column)
        num_u = np.zeros(len(uniques), np.int64)
        status_u = np.zeros(len(uniques), np.int8)  # 0 ok, 1 missing, 2 bad
        for j, u in enumerate(uniques):
            if is_missing(u):
                status_u[j] = 1
                continue
            value = _as_int(u)
            if value is None or value < 0:
                status_u[j] = 2
            else:
                num_u[j] = value
        out = spread(num_u, codes, 0, np.int64)
        status = spread(status_u, codes, 1, np.int8)
        missing = np.flatnonzero(status == 1)
        bad = np.flatnonzero(status == 2)
        out[status != 0] = 0
        shown = column
    report_rows(
        problems,
        missing,
        lambda i: {
            "message": "missing segment number",
            "row": i + 1,
            "column": name,
            "value": "",
            "expected": "a non-negative integer",
        },
        name,
    )
    report_rows(
        problems,
        bad,
        lambda i: {
            "message": "bad segment number",
            "row": i + 1,
            "column": name,
            "value": shown.iloc[i] if isinstance(shown, pd.Series) else shown[i],
            "expected": "a non-negative integer",
        },
        name,
    )
    return out


_TRUE = {"1", "true", "yes", "sí", "si", "verdadero"}
_FALSE = {"0", "false", "no", "falso"}


def break_values(column: pd.Series, name: str, problems: ProblemCollector) -> np.ndarray:
    """Parse the break column: 0/1 (or true/false); empty = no break."""
    codes, uniques = factorize(column)
    flag_u = np.zeros(len(uniques), np.int8)  # 0 no break, 1 break, 2 bad
    for j, u in enumerate(uniques):
        if is_missing(u):
            continue
        text = label_of(u).lower()
        flag_u[j] = 1 if text in _TRUE else (0 if text in _FALSE else 2)
    flags = spread(flag_u, codes, 0, np.int8)
    report_rows(
        problems,
        np.flatnonzero(flags == 2),
        lambda i: {
            "message": "bad break flag",
            "row": i + 1,
            "column": name,
            "value": column.iloc[i],
            "expected": "0 or 1 (empty = 0)",
        },
        name,
    )
    return flags == 1


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
        elif numbers.missing.any():
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


_SEPARATORS = ("+", ";", "|")


def parse_values(
    name: str,
    column: pd.Series,
    code_list: Sequence[str] | None,
    problems: ProblemCollector,
    where: Callable[[int], dict] | None = None,
    file_column: str | None = None,
    book_codes: Sequence[str] | None = None,
    kind: str | None = None,
    factorized: tuple[np.ndarray, list[Any]] | None = None,
) -> StreamData:
    """Parse one column of codes into a stream (categorical labels or 0/1 indicator).

    ``where(i)``, when given, returns ``{"message_prefix": ...}`` locating row position
    ``i`` (for input that is not a table); ``factorized`` is ``factorize(column)`` when
    already computed.
    """
    if kind == "indicator" and _is_plain_numeric(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        if (missing | (values == 0) | (values == 1)).all():
            out = np.where(missing, UNCODED, values).astype(np.int8)
            return StreamData("indicator", (name,), out.reshape(-1, 1))
    codes, uniques = factorized if factorized is not None else factorize(column)
    n = len(codes)
    declared = (
        list(code_list)
        if code_list is not None
        else (list(book_codes) if book_codes is not None else None)
    )
    keep = frozenset(declared or ())
    missing_u = np.array([is_missing(u, keep) for u in uniques], dtype=bool)
    present = [j for j in range(len(uniques)) if not missing_u[j]]

    def locate(i: int) -> dict:
        if where is not None:
            return {"message_prefix": where(i)["message_prefix"]}
        return {"row": i + 1, "column": file_column or name}

    def report(
        positions: np.ndarray, message: str, value: Callable[[int], Any], expected: str
    ) -> None:
        def make(i: int) -> dict:
            loc = locate(i)
            prefix = loc.pop("message_prefix", None)
            text = f"{prefix}: {message}" if prefix else message
            return {"message": text, "value": value(i), "expected": expected, **loc}

        report_rows(problems, positions, make, file_column or name)

    numeric = [is_number(uniques[j]) for j in present]
    if any(numeric) and not all(numeric) and kind != "categorical":
        if not all(_as_int(str(uniques[j])) is not None for j in present):
            first = min(j for j, num in zip(present, numeric, strict=True) if not num)
            i = int(np.flatnonzero(codes == first)[0])
            report(
                np.array([i]),
                f"mixed types in stream {name!r}: numbers and text",
                lambda i: uniques[first],
                "all numbers or all code labels",
            )
            return StreamData("categorical", (), np.full(n, UNCODED, np.int64))
    labels_u: list[str | None] = [
        None if missing_u[j] else label_of(u) for j, u in enumerate(uniques)
    ]
    distinct = {lab for lab in labels_u if lab is not None}
    if kind == "indicator" or (
        kind is None and declared is None and distinct and distinct <= {"0", "1"}
    ):
        value_u = np.array([_indicator_value(lab) for lab in labels_u], dtype=np.int8)
        out = spread(value_u, codes, UNCODED, np.int8)
        bad = np.flatnonzero(out == -2)
        if bad.size:
            report(
                bad,
                f"bad value for indicator {name!r}",
                lambda i: uniques[codes[i]],
                "0 or 1 (empty = uncoded)",
            )
            out[bad] = UNCODED
        return StreamData("indicator", (name,), out.reshape(n, 1))
    if declared is None:  # labels holding a separator are two codes, not one
        distinct = {d for d in distinct if not any(sep in d for sep in _SEPARATORS)}
    code_list_ = (
        tuple(declared) if declared is not None else tuple(sorted(distinct, key=natural_key))
    )
    index = {c: i for i, c in enumerate(code_list_)}
    code_u = np.full(len(uniques), UNCODED, np.int64)
    two_u = np.zeros(len(uniques), bool)
    unknown_u = np.zeros(len(uniques), bool)
    for j, lab in enumerate(labels_u):
        if lab is None:
            continue
        if lab in index:
            code_u[j] = index[lab]
            continue
        parts = [p.strip() for sep in _SEPARATORS if sep in lab for p in lab.split(sep)]
        if parts and (declared is None or all(p in index for p in parts)):
            two_u[j] = True
        else:
            unknown_u[j] = True
    out = spread(code_u, codes, UNCODED, np.int64)
    if two_u.any():
        report(
            first_rows(codes, two_u),
            f"two codes in one segment of categorical stream {name!r}",
            lambda i: uniques[codes[i]],
            "one code per segment (use an indicator stream for co-occurring codes, or "
            "pass codes={stream: [...]} if this label is a single code)",
        )
    if unknown_u.any():
        report(
            first_rows(codes, unknown_u),
            f"unknown code in stream {name!r}",
            lambda i: uniques[codes[i]],
            f"one of {list(code_list_)}",
        )
    return StreamData("categorical", code_list_, out)


def _indicator_value(label: str | None) -> int:
    """0 or 1 for an indicator cell's label (``-1`` missing, ``-2`` not 0/1)."""
    if label is None:
        return UNCODED
    if label in ("0", "1"):
        return int(label)
    value = _number(label, ".")
    return int(value) if value in (0.0, 1.0) else -2


def _split_qualified(column: str, streams: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """``"stream:code"`` -> (stream, code); ``("", column)`` when not qualified."""
    pos = column.find(QUALIFIER)
    while pos > 0:
        stream, code = column[:pos], column[pos + 1 :]
        if code and (streams is None or stream in streams):
            return stream, code
        pos = column.find(QUALIFIER, pos + 1)
    return "", column


@dataclass(frozen=True)
class Declared:
    """Streams and ratings declared without a codebook (``codes=``, ``indicators=``, ...)."""

    codes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    indicators: Mapping[str, Sequence[str]] = field(default_factory=dict)
    ratings: tuple[str, ...] = ()


def _indicator_columns(
    stream: str, codes: Sequence[str], remaining: Sequence[str], shared: set[str]
) -> list[str | None]:
    """Column of each code of an indicator stream: ``stream:code``, else the bare ``code``."""
    out: list[str | None] = []
    for code in codes:
        qualified = f"{stream}{QUALIFIER}{code}"
        if qualified in remaining:
            out.append(qualified)
        elif code in remaining and code not in shared:
            out.append(code)
        else:
            out.append(None)
    return out


def _indicator_stream(
    frame: pd.DataFrame,
    stream: str,
    codes: Sequence[str],
    remaining: list[str],
    shared: set[str],
    problems: ProblemCollector,
) -> StreamData | None:
    """An indicator stream from its code columns (None when none is present)."""
    cols = _indicator_columns(stream, codes, remaining, shared)
    if not any(cols):
        return None
    missing = [c for c, col in zip(codes, cols, strict=True) if col is None]
    if missing:
        problems.add(
            f"indicator stream {stream!r} is missing code columns",
            column=missing[0],
            value=missing,
            expected=f"all of {list(codes)} (or {stream}{QUALIFIER}code columns) or none",
        )
        for col in cols:
            if col is not None:
                remaining.remove(col)
        return None
    matrix = np.empty((len(frame), len(codes)), dtype=np.int8)
    for j, (code, col) in enumerate(zip(codes, cols, strict=True)):
        remaining.remove(col)
        matrix[:, j] = parse_values(
            code, frame[col], None, problems, file_column=col, kind="indicator"
        ).values[:, 0]
    return StreamData("indicator", tuple(codes), matrix)


def parse_columns(
    frame: pd.DataFrame,
    columns: list[str],
    book: Codebook | None,
    declared: Declared | Mapping[str, Sequence[str]] | None,
    problems: ProblemCollector,
    decimal: str = ".",
) -> tuple[dict[str, StreamData], dict[str, np.ndarray]]:
    """Split value columns into streams and ratings, by codebook, declaration or inference.

    Without a codebook: declared streams and ratings first; other columns holding only
    0/1 are indicators (``stream:code`` columns are grouped into stream ``stream``); other
    numeric columns are ratings (never codes); text columns are categorical streams.
    """
    if not isinstance(declared, Declared):
        declared = Declared(codes=declared or {})
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
            shared = {c for o in book.streams.values() if o.name != s.name for c in o.codes}
            data = _indicator_stream(frame, s.name, s.codes, remaining, shared, problems)
            if data is not None:
                streams[s.name] = data
        for r in book.ratings.values():
            if r.name in remaining:
                remaining.remove(r.name)
                ratings[r.name] = parse_ratings(frame[r.name], r.name, problems, decimal)
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
    shared_codes = [c for codes in declared.indicators.values() for c in codes]
    for stream, codes in declared.indicators.items():
        shared = {c for c in shared_codes if shared_codes.count(c) > 1}
        data = _indicator_stream(frame, stream, list(codes), remaining, shared, problems)
        if data is not None:
            streams[stream] = data
    for col in declared.ratings:
        if col in remaining:
            remaining.remove(col)
            ratings[col] = parse_ratings(frame[col], col, problems, decimal)
    grouped: dict[str, list[tuple[str, np.ndarray]]] = {}
    for col in remaining:
        values = frame[col]
        if col in declared.codes:
            streams[col] = parse_values(
                col, values, declared.codes[col], problems, kind="categorical"
            )
            continue
        fz = factorize(values) if not _is_plain_numeric(values) else None
        kind = number_kind(values, decimal, fz)
        stream, code = _split_qualified(col)
        if kind == "numeric":
            ratings[col] = parse_ratings(values, col, problems, decimal)
        elif stream and kind == "binary":
            data = parse_values(
                code, values, None, problems, file_column=col, kind="indicator", factorized=fz
            )
            grouped.setdefault(stream, []).append((code, data.values[:, 0]))
        else:
            streams[col] = parse_values(
                col,
                values,
                None,
                problems,
                factorized=fz,
                kind="indicator" if kind == "binary" else None,
            )
    for stream, members in grouped.items():
        if stream in streams:
            problems.add(
                f"columns {stream}{QUALIFIER}... clash with the stream {stream!r}",
                column=stream,
                expected="a stream name used once",
            )
            continue
        streams[stream] = StreamData(
            "indicator",
            tuple(c for c, _ in members),
            np.stack([v for _, v in members], axis=1),
        )
    return streams, ratings


def _is_plain_numeric(column: pd.Series) -> bool:
    """Whether a column has a numeric (not bool) dtype."""
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    )


def parse_ratings(
    column: pd.Series, name: str, problems: ProblemCollector, decimal: str = "."
) -> np.ndarray:
    """Parse a numeric rating column (empty = NaN)."""
    numbers = to_numbers(column, decimal)
    bad = np.flatnonzero(numbers.bad)
    if bad.size:
        cells = column.to_numpy(dtype=object)
        report_rows(
            problems,
            bad,
            lambda i: {
                "message": f"non-numeric rating in {name!r}",
                "row": i + 1,
                "column": name,
                "value": cells[i],
                "expected": "a number",
            },
            name,
        )
    return numbers.values


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


def _first_positions(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of the first row of each group (codes in order of first appearance)."""
    step = np.diff(codes)
    if (step >= 0).all():  # groups are contiguous runs (a table sorted by session)
        return np.flatnonzero(np.concatenate([[True], step != 0]))
    first = np.full(n_groups, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first


def _nest(dyads: Keys, sessions: Keys) -> Keys:
    """Sessions numbered within dyads -> one key per (dyad, session) pair."""
    pair = dyads.codes * max(len(sessions.labels), 1) + sessions.codes
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
        problems.add(
            f"{what} table has no key column",
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
) -> ParsedFrame:
    """Parse and validate a long table (one row per segment); see `Sequences.from_frame`."""
    problems = ProblemCollector(file=source)
    missing = [c for c in (dyad, session, segment) if c not in frame.columns]
    if missing:
        raise LagnestDataError(
            [
                problem(
                    source,
                    f"missing key column {c!r}",
                    expected=f"columns include {list(frame.columns)}",
                )
                for c in missing
            ]
        )
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
        first_dyad = d_codes[_first_positions(s_codes, n_sessions)]
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
        order = _segment_order(s_codes, seg)
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
        dyad_side = _side_labels(dyads, (dyad,), None, "dyad", problems, False)
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


def _segment_order(sessions: np.ndarray, numbers: np.ndarray) -> np.ndarray | None:
    """Row order: sessions by first appearance, segments by number (None: already so)."""
    if len(sessions) < 2:
        return None
    ds = np.diff(sessions)
    if (ds >= 0).all() and ((ds > 0) | (np.diff(numbers) > 0)).all():
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
