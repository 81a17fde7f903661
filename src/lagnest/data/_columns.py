"""Cells and columns into arrays, column-wise.

A column is factorized once (``pandas.factorize``), its *distinct* values are classified in
Python (few: labels, segment numbers, flags) or by one vectorised pyarrow cast, and the
result is spread back to every row with one NumPy ``take``. Python loops run only over the
rows already found bad, to build their located messages (file, row, column, value, what was
expected) in a :class:`~lagnest.errors.ProblemCollector`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lagnest.data._streams import (
    MISSING_WORDS,
    is_missing,
    label_of,
)
from lagnest.errors import ProblemCollector

#: Rows reported per check and column; the rest are summarised in one more problem.
MAX_ROWS_REPORTED = 20
#: Largest segment number (NumPy's int64).
MAX_SEGMENT_NUMBER = 2**63 - 1
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
#: C0 and C1 control characters (tab and line breaks included: a label holds none).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_EXPECTED = (
    "printable text (a NUL or other control character usually means a binary or UTF-16 "
    "file read as text, or a cell pasted with hidden characters)"
)


def control_character(text: Any) -> str | None:
    """The first control character in ``text`` as ``U+XXXX`` (None when there is none)."""
    if not isinstance(text, str):
        return None
    match = _CONTROL.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def foreign_digits(text: Any) -> bool:
    """Whether a cell is text holding digits of a script other than ASCII (``١٢``, ``１２``)."""
    return isinstance(text, str) and not text.isascii() and any(
        ch.isdigit() and not ch.isascii() for ch in text
    )


def report_control(
    problems: ProblemCollector,
    labels: Sequence[Any],
    codes: np.ndarray,
    column: str,
    what: str,
    where: Callable[[int], dict[str, Any]] | None = None,
) -> np.ndarray:
    """One problem per distinct label holding a control character (at its first row).

    Returns the flags (one per label) of the labels reported.
    """
    flags = np.array([control_character(lab) is not None for lab in labels], dtype=bool)
    if flags.any():
        report_rows(
            problems,
            first_rows(codes, flags),
            lambda i: {
                "message": f"control character {control_character(labels[codes[i]])} in {what}",
                **(where(i) if where is not None else {"row": i + 1, "column": column}),
                "value": labels[codes[i]],
                "expected": CONTROL_EXPECTED,
            },
            column,
        )
    return flags


def warn_foreign_digits(
    problems: ProblemCollector, column: Any, flags: np.ndarray, name: str, read_as: Any
) -> None:
    """Warn that cells of ``name`` written with digits of another script were read as numbers.

    ``flags`` marks the rows; ``read_as(i)`` is the number row ``i`` was read as.
    """
    rows = np.flatnonzero(flags)
    if not rows.size:
        return
    i = int(rows[0])
    cell = column.iloc[i] if isinstance(column, pd.Series) else column[i]
    problems.warn(
        f"{rows.size} cell(s) hold digits of another script; read as numbers "
        f"(e.g. {cell!r} as {read_as(i)!r})",
        row=i + 1,
        column=name,
    )


# ---------------------------------------------------------------------------- columns
def _small_codes(codes: np.ndarray, n_values: int) -> np.ndarray:
    """Factorized codes as int32 (half the memory of intp) when they fit."""
    return np.asarray(codes, dtype=np.int32 if n_values < 2**31 - 1 else np.int64)


def _categorical(column: Any, in_order: bool) -> tuple[np.ndarray, list[Any]] | None:
    """Codes and distinct values of a categorical column, read off without hashing.

    A reader's dictionary-encoded column already is a factorization. Unused categories are
    dropped. With ``in_order`` the distinct values must be in order of first appearance,
    which a table sorted by this column guarantees (codes rising by steps of 1 from 0);
    otherwise, and for columns that are not categorical, None.
    """
    if not isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):
        return None
    cat = column.array if isinstance(column, pd.Series) else pd.Categorical(column)
    codes = np.asarray(cat.codes)  # int8/16/32 as pandas keeps them: no copy
    categories = cat.categories
    if in_order:
        step = np.diff(codes)
        if not (codes.size and codes[0] == 0 and ((step == 0) | (step == 1)).all()):
            return None
        if codes[-1] != len(categories) - 1:
            categories = categories[: int(codes[-1]) + 1]
        return codes, categories.tolist()
    flags = np.zeros(len(categories) + 1, dtype=bool)
    flags[codes] = True  # code -1 (null) marks the last, spare slot
    used = flags[:-1]
    if not used.all():
        remap = np.where(used, np.cumsum(used) - 1, -1)
        codes = spread(remap, codes, -1, codes.dtype)
        categories = categories[used]
    return codes, categories.tolist()


def factorize(
    column: pd.Series | Sequence[Any], in_order: bool = False
) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of every cell (``-1`` = null) and the distinct values.

    Parameters
    ----------
    column : Series or sequence
    in_order : bool, default False
        The distinct values must be in order of first appearance (else in any order, so
        that a categorical column is taken as it is).

    Returns
    -------
    codes : ndarray of signed integers (the smallest type a categorical column has; int32
        for others, int64 beyond 2**31 distinct values)
    uniques : list
        Distinct non-null values.
    """
    known = _categorical(column, in_order)
    if known is not None:
        return known
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    return _small_codes(codes, len(values)), values


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
    if isinstance(getattr(uniques, "dtype", None), pd.CategoricalDtype):
        categorical = pd.Categorical(uniques)
        uniques = categorical.categories.take(categorical.codes)
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


def is_plain_numeric(column: pd.Series) -> bool:
    """Whether a column has a numeric (not bool) dtype."""
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    )


def is_number(value: Any) -> bool:
    """Whether a cell holds a number (not a bool)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def as_int(value: Any) -> int | None:
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


def as_number(value: Any, decimal: str) -> float | None:
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
    foreign: np.ndarray | None = None  # rows read from digits of another script


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
    if is_plain_numeric(column):
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
    foreign_u = np.zeros(k, bool)
    text_codes = False
    for j, u in enumerate(uniques):
        if is_missing(u):
            miss_u[j] = True
            continue
        value = as_number(u, decimal)
        if value is None:
            bad_u[j] = True
        else:
            num_u[j] = value
            foreign_u[j] = foreign_digits(u)
            text_codes = text_codes or (isinstance(u, str) and bool(_LEADING_ZERO.match(u)))
    return Numbers(
        spread(num_u, codes, np.nan, np.float64),
        spread(miss_u, codes, True, bool),
        spread(bad_u, codes, False, bool),
        text_codes,
        spread(foreign_u, codes, False, bool) if foreign_u.any() else None,
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
    if is_plain_numeric(column):
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
        value = as_number(u, decimal)
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
    known = _categorical(column, in_order=True)
    if known is not None:
        codes, uniques = known[0], pd.Index(known[1])
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        codes = _small_codes(codes, len(uniques))
    cleaned = clean_text(uniques)
    if cleaned is not None and cleaned[1]:  # clean text: the distinct values are the labels
        _report_missing_keys(codes, name, problems)
        report_control(problems, cleaned[0], codes, name, "a key")
        return Keys(codes, cleaned[0], {})
    values_u = cleaned[0] if cleaned is not None else uniques.tolist()
    labels: list[str] = []
    index: dict[str, int] = {}
    values: dict[str, Any] = {}
    label_u = np.full(len(values_u), -1, codes.dtype)
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
    out = spread(label_u, codes, -1, codes.dtype)
    _report_missing_keys(out, name, problems)
    report_control(problems, labels, out, name, "a key")
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
        raw = column.to_numpy()
        out = raw.astype(np.int64, copy=False)
        if raw.dtype.kind == "u" and raw.size and raw.max() > MAX_SEGMENT_NUMBER:
            bad = np.flatnonzero(raw > MAX_SEGMENT_NUMBER)
        else:
            bad = np.flatnonzero(out < 0)
        missing = np.zeros(0, np.int64)
        shown = raw
    else:
        codes, uniques = factorize(column)
        num_u = np.zeros(len(uniques), np.int64)
        status_u = np.zeros(len(uniques), np.int8)  # 0 ok, 1 missing, 2 bad
        foreign_u = np.zeros(len(uniques), bool)
        for j, u in enumerate(uniques):
            if is_missing(u):
                status_u[j] = 1
                continue
            value = as_int(u)
            if value is None or not 0 <= value <= MAX_SEGMENT_NUMBER:
                status_u[j] = 2
            else:
                num_u[j] = value
                foreign_u[j] = foreign_digits(u)
        out = spread(num_u, codes, 0, np.int64)
        missing = bad = np.zeros(0, np.int64)
        if status_u.any() or (codes < 0).any():
            status = spread(status_u, codes, 1, np.int8)
            missing = np.flatnonzero(status == 1)
            bad = np.flatnonzero(status == 2)
        shown = column
        if foreign_u.any():
            warn_foreign_digits(
                problems, column, spread(foreign_u, codes, False, bool), name,
                lambda i: int(out[i]),
            )
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
            "expected": f"a non-negative integer up to {MAX_SEGMENT_NUMBER:,} (2^63 - 1)",
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
