"""Code columns into streams and ratings: by codebook, by declaration or by inference.

Built on :mod:`lagnest.data._columns`: each column is factorized once and its distinct values
are classified; problems name row, column, value and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lagnest.data._columns import (
    CONTROL_EXPECTED,
    as_int,
    as_number,
    control_character,
    factorize,
    first_rows,
    is_number,
    is_plain_numeric,
    number_kind,
    report_rows,
    spread,
    to_numbers,
    warn_foreign_digits,
)
from lagnest.data._streams import (
    QUALIFIER,
    UNCODED,
    StreamData,
    is_missing,
    label_of,
    natural_key,
)
from lagnest.data.codebook import Codebook
from lagnest.errors import ProblemCollector

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
    if kind == "indicator" and is_plain_numeric(column):
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
        if not all(as_int(str(uniques[j])) is not None for j in present):
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
    control_u = np.array([control_character(lab) is not None for lab in labels_u], dtype=bool)
    if control_u.any():
        report(
            first_rows(codes, control_u),
            f"control character in a code of stream {name!r}",
            lambda i: labels_u[codes[i]],
            CONTROL_EXPECTED,
        )
        labels_u = [None if control_u[j] else lab for j, lab in enumerate(labels_u)]
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
    value = as_number(label, ".")
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
        fz = factorize(values) if not is_plain_numeric(values) else None
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


def parse_ratings(
    column: pd.Series, name: str, problems: ProblemCollector, decimal: str = "."
) -> np.ndarray:
    """Parse a numeric rating column (empty = NaN)."""
    numbers = to_numbers(column, decimal)
    bad = np.flatnonzero(numbers.bad | np.isinf(numbers.values))
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
                "expected": "a finite number",
            },
            name,
        )
    if numbers.foreign is not None:
        warn_foreign_digits(
            problems, column, numbers.foreign, name, lambda i: float(numbers.values[i])
        )
    return numbers.values
