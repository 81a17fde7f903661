"""Long tables (one row per segment) in CSV, Excel and Parquet, as researchers have them.

Reading sniffs what spreadsheet programs write (a Spanish-locale Excel CSV export: ``;``
separators, ``,`` decimals, cp1252), reads every cell as text (so codes such as ``01``
survive) and leaves validation to :meth:`Sequences.from_frame`, which treats the usual
missing-value words the same way in every format. Files written by lagnest carry their
metadata where the format has room for it (see :mod:`lagnest.io._meta`).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lagnest._files import atomic_write, check_readable
from lagnest._warnings import warn_user
from lagnest.data._columns import (
    CONTROL_EXPECTED,
    MAX_ROWS_REPORTED,
    MAX_SEGMENT_NUMBER,
    control_character,
    factorize,
)
from lagnest.data._parse import missing_columns
from lagnest.data._streams import QUALIFIER, is_missing, label_of
from lagnest.data.codebook import Codebook
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError, LimitError, ProblemCollector, shorten
from lagnest.io import _meta, _workbook
from lagnest.io._limits import (
    MAX_COLUMNS,
    MAX_PARQUET_BYTES,
    MAX_WORKBOOK_BYTES,
    check_limit_argument,
    over_limit,
)

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".xlsx": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Sheet names read as the segment, session and dyad tables of an Excel file (any case).
SHEETS = {
    "segments": ("segments", "segmentos"),
    "sessions": ("sessions", "sesiones"),
    "dyads": ("dyads", "díadas", "diadas"),
}
#: Rows an Excel sheet holds (one is the header).
EXCEL_MAX_ROWS = 1_048_576
LAYOUTS = ("long", "wide")
DEFAULT_KEYS = ("dyad", "session", "segment", "break")
_EXCEL_CELL = 30_000  # characters per cell of the metadata sheet (Excel allows 32,767)
_SNIFF_BYTES = 1 << 16


def _format(path: Path, fmt: str | None) -> str:
    """The table format of ``path``: explicit ``fmt`` or from the suffix."""
    if fmt is not None:
        if fmt not in set(FORMATS.values()):
            raise LagnestDataError(
                f"unknown table format {fmt!r}: expected one of {sorted(set(FORMATS.values()))}"
            )
        return fmt
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise LagnestDataError(
            f"file {path}: cannot tell the table format from the suffix {suffix!r}; expected one "
            f"of {sorted(FORMATS)} or pass format="
        )
    return FORMATS[suffix]


# ---------------------------------------------------------------------------- text files
@dataclass(frozen=True)
class TextOptions:
    """How a delimited text file is read: separator, decimal mark and encoding."""

    sep: str
    decimal: str
    encoding: str
    dictionary: bool = True  # text columns dictionary-encoded (keys and codes: few labels)


def sniff_text(
    path: Path,
    fmt: str,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> TextOptions:
    """Separator, decimal mark and encoding of a CSV/TSV file, where not given.

    The encoding is UTF-8 (a BOM is allowed) unless the first 64 KiB are not valid UTF-8,
    then cp1252 (what Excel writes on Windows in Western locales). The separator is the
    most frequent of ``;``, ``,`` and tab in the header line (a TSV file: tab). The decimal
    mark is ``,`` when the separator is ``;`` (Spanish, French, German... locales), else
    ``.``.

    Parameters
    ----------
    path : Path
    fmt : {"csv", "tsv"}
    sep, decimal, encoding : str, optional
        Given values are kept.

    Returns
    -------
    TextOptions
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head:
        raise LagnestDataError(
            DataProblem("the file is empty", file=str(path), expected="a header line and rows")
        )
    if encoding is None:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"  # Excel's "Unicode text" export
        else:
            try:
                (head[:-4] if len(head) == _SNIFF_BYTES else head).decode("utf-8")
                encoding = "utf-8-sig"
            except UnicodeDecodeError:
                encoding = "cp1252"
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise LagnestDataError(
                DataProblem("unknown text encoding", file=str(path), value=encoding,
                            expected="an encoding Python knows, e.g. 'utf-8', 'cp1252', 'latin-1'")
            ) from None
    if sep is None:
        if fmt == "tsv":
            sep = "\t"
        else:
            text = head.decode(encoding, errors="replace").lstrip("\ufeff")
            first = text.splitlines()[0] if text else ""
            first = re.sub(r'"[^"]*"', "", first)  # separators inside quotes do not count
            counts = {s: first.count(s) for s in (",", ";", "\t")}
            sep = max(counts, key=lambda s: (counts[s], s == ","))
    if decimal is None:
        decimal = "," if sep == ";" else "."
    if not sep or not decimal or decimal == sep or sep in ('"', "\n", "\r"):
        raise LagnestDataError(
            DataProblem(
                "bad separator or decimal mark",
                file=str(path),
                value=(sep, decimal),
                expected="a separator such as ',' ';' or tab, and a different decimal mark",
            )
        )
    return TextOptions(sep, decimal, encoding)


def _string_dtype(arrow_type: Any) -> Any:
    """Pandas' default string dtype for arrow text columns (others: pyarrow's default)."""
    import pyarrow as pa

    if arrow_type in (pa.string(), pa.large_string()):
        return pd.StringDtype("pyarrow", na_value=np.nan)
    return None


def _read_arrow(path: Path, opts: TextOptions, numeric: Mapping[str, str] | None) -> pd.DataFrame:
    """Read with pyarrow's multithreaded parser, ``numeric`` columns as numbers.

    Text columns are dictionary-encoded while parsing (pandas categoricals): a key or code
    column is then a small integer array plus its distinct labels, which is what
    :func:`lagnest.data._columns.factorize` needs, at a fraction of the memory of strings.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    codec = opts.encoding.lower().replace("-", "").replace("_", "")
    encoding = "utf8" if codec in ("utf8", "utf8sig") else opts.encoding
    types = {name: getattr(pa, dtype)() for name, dtype in (numeric or {}).items()}
    convert = pacsv.ConvertOptions(
        column_types=types,
        default_column_type=(
            pa.dictionary(pa.int32(), pa.string()) if opts.dictionary else pa.string()
        ),
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    pool = pa.system_memory_pool()  # freed buffers go back to the allocator NumPy uses
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=opts.sep),
        convert_options=convert,
        memory_pool=pool,
    )
    return table.to_pandas(types_mapper=_string_dtype, memory_pool=pool)


def _read_text_table(
    path: Path, opts: TextOptions, numeric: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, bool]:
    """Every cell as text (empty = missing), or ``numeric`` columns as numbers.

    pyarrow's multithreaded parser is tried first; pandas' C parser reads what it rejects
    (quoted line breaks, ragged rows) and names the offending line. Columns in
    ``numeric`` (name to pyarrow type: segment numbers, the indicator codes and ratings a
    codebook declares) are parsed as numbers when every cell of them is one, which saves
    turning them into text and back; else every column is text. Returns the frame and
    whether ``numeric`` was applied.
    """
    if len(opts.sep) == 1:
        for types in [numeric, None] if numeric else [None]:
            try:
                return _read_arrow(path, opts, types), types is not None
            except (ValueError, TypeError, NotImplementedError):
                continue  # the next attempt reads it or says where it breaks
    header = _check_rows(path, opts) if len(opts.sep) == 1 else None
    frame = pd.read_csv(
        path,
        sep=opts.sep,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        encoding=opts.encoding,
        engine="c" if len(opts.sep) == 1 else "python",
    )
    if header is not None and len(header) == frame.shape[1]:
        frame.columns = header  # pandas renames duplicated and empty names: keep them
    return frame, False


def _check_rows(path: Path, opts: TextOptions) -> list[str]:
    """The header of a file pyarrow could not parse; its broken rows are an error.

    Rows with another number of fields than the header and an unterminated quote are
    reported with their line numbers (pandas would fill a short row with missing cells).
    """
    problems = ProblemCollector(file=str(path))
    header: list[str] | None = None
    bad: list[tuple[int, int]] = []
    with path.open(newline="", encoding=opts.encoding) as fh:
        reader = csv.reader(fh, delimiter=opts.sep, strict=True)
        start = 1
        try:
            for row in reader:
                if header is None:
                    header = row
                elif row and len(row) != len(header):
                    bad.append((start, len(row)))
                start = reader.line_num + 1
        except csv.Error as err:
            problems.add(
                f"malformed CSV ({err}); an unterminated quote?",
                line=start,
                expected='quotes that close on the same row, doubled inside ("")',
            )
    for line, n in bad[:MAX_ROWS_REPORTED]:
        problems.add(
            f"a row with {n} fields",
            line=line,
            expected=f"{len(header or [])} fields, as the header",
        )
    if len(bad) > MAX_ROWS_REPORTED:
        problems.add(f"{len(bad) - MAX_ROWS_REPORTED} more rows with the wrong number of fields")
    problems.raise_if_any()
    return header or []


def _header_width(path: Path, opts: TextOptions) -> int:
    """Fields of the header line (quotes respected; at most the first 64 MiB read)."""
    with path.open(encoding=opts.encoding, errors="replace", newline="") as fh:
        line = fh.readline(64 << 20)
    if len(opts.sep) != 1:
        return line.count(opts.sep) + 1
    try:
        return len(next(csv.reader([line], delimiter=opts.sep), []))
    except csv.Error:
        return line.count(opts.sep) + 1


def _read_text(
    path: Path,
    fmt: str,
    sep: str | None,
    decimal: str | None,
    encoding: str | None,
    numeric: Mapping[str, str] | None = None,
    max_columns: int | None = None,
    dictionary: bool = True,
) -> tuple[pd.DataFrame, TextOptions, bool]:
    """Read a CSV/TSV file; an undeclared encoding falls back to cp1252 when UTF-8 fails.

    A header wider than ``max_columns`` is refused before the rows are read.
    """
    opts = replace(sniff_text(path, fmt, sep, decimal, encoding), dictionary=dictionary)
    numeric = numeric if opts.decimal == "." else None
    if max_columns is not None:
        _check_width(_header_width(path, opts), max_columns, path)
    try:
        try:
            frame, typed = _read_text_table(path, opts, numeric)
        except UnicodeDecodeError:
            if encoding is not None or opts.encoding == "cp1252":
                raise
            opts = replace(opts, encoding="cp1252")
            frame, typed = _read_text_table(path, opts, numeric)
    except UnicodeDecodeError as err:
        raise LagnestDataError(
            DataProblem(
                f"cannot be decoded as {opts.encoding} (byte {err.start})",
                file=str(path),
                expected="a text file (pass encoding=, e.g. 'cp1252' or 'latin-1')",
            )
        ) from None
    return frame, opts, typed


# ---------------------------------------------------------------------------- any table file
@dataclass
class _Loaded:
    """What a table file holds: segments, optional session/dyad tables, metadata."""

    frame: pd.DataFrame
    decimal: str
    typed: bool = False
    sessions: pd.DataFrame | None = None
    sessions_source: str | None = None
    dyads: pd.DataFrame | None = None
    meta: dict[str, Any] | None = None
    dyads_source: str | None = None


def _find_sheet(names: Sequence[str], wanted: Sequence[str]) -> str | None:
    """The first sheet whose name is one of ``wanted`` (any letter case, NFC)."""
    lookup = {label_of(n).lower(): n for n in names}
    return next((lookup[w] for w in wanted if w in lookup), None)


def _choose_sheet(path: Path, names: Sequence[str], sheet: str | int | None) -> str:
    """The segment sheet: ``sheet`` (name or position), ``segments``/``segmentos``, the first."""
    if sheet is None:
        return _find_sheet(names, SHEETS["segments"]) or names[0]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise LagnestDataError(
                DataProblem("no such sheet", file=str(path), value=sheet, expected=list(names))
            )
        return names[sheet]
    chosen = _find_sheet(names, [label_of(sheet).lower()])
    if chosen is None:
        raise LagnestDataError(
            DataProblem("no such sheet", file=str(path), value=sheet, expected=list(names))
        )
    return chosen


def _read_excel(path: Path, sheet: str | int | None, max_bytes: int) -> _Loaded:
    """Segments sheet (``sheet``, ``segments``/``segmentos`` or the first), other sheets.

    The workbook is inspected before openpyxl parses it (see :mod:`lagnest.io._workbook`):
    only the sheets used are read, within ``max_bytes`` of XML; formulas without a saved
    value and merged cells are errors (openpyxl reads them as empty cells).
    """
    names = list(_workbook.inspect_workbook(path, max_bytes, read=[]).sheets)
    chosen = _choose_sheet(path, names, sheet)
    roles = {"segments": chosen}
    for role in ("sessions", "dyads"):
        found = _find_sheet(names, SHEETS[role])
        if found is not None and found != chosen:
            roles[role] = found
    if _meta.KEY in names and _meta.KEY != chosen:
        roles["meta"] = _meta.KEY
    book = _workbook.inspect_workbook(path, max_bytes, read=list(roles.values()))
    formulas = {name: _workbook.cell_problems(path, book.parts[name], f"{path}[{name}]")
                for name in roles.values()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's remarks on styles and extensions
        raw = pd.read_excel(
            path, sheet_name=list(dict.fromkeys(roles.values())), header=None, dtype=object
        )
    frames = {}
    for role, name in roles.items():
        source = f"{path}[{name}]"
        frames[role] = frame = _with_header(raw[name], source, first_row=True)
        _raise_cell_problems(formulas[name], frame, source)
    loaded = _Loaded(frames["segments"], ".")
    if "sessions" in roles:
        loaded.sessions, loaded.sessions_source = frames["sessions"], f"{path}[{roles['sessions']}]"
    if "dyads" in roles:
        loaded.dyads, loaded.dyads_source = frames["dyads"], f"{path}[{roles['dyads']}]"
    if "meta" in roles:
        chunks = frames["meta"].iloc[:, 0].dropna().astype(str) if frames["meta"].shape[1] else []
        loaded.meta = _meta.loads("".join(chunks), f"{path}[{_meta.KEY}]")
    return loaded


def _raise_cell_problems(
    found: _workbook.CellProblems, frame: pd.DataFrame, source: str
) -> None:
    """Formulas without a saved value, error cells and merged cells, located, as one error."""
    problems = ProblemCollector(file=source)
    names = list(frame.columns)

    def where(ref: str) -> dict[str, Any]:
        letters = "".join(ch for ch in ref if ch.isalpha())
        row = int(ref[len(letters) :]) - 1
        col = _workbook.column_index(letters)
        return {
            "row": row if row >= 1 else None,
            "column": names[col] if 0 <= col < len(names) else None,
        }

    for ref, formula in found.formulas[:MAX_ROWS_REPORTED]:
        problems.add(
            f"cell {ref}: a formula without a saved value (never calculated: it would read as "
            "empty)",
            **where(ref),
            value=f"={formula}",
            expected="a workbook saved by Excel or LibreOffice (which store formula results), "
            "or values instead of formulas",
        )
    if len(found.formulas) > MAX_ROWS_REPORTED:
        problems.add(
            f"{len(found.formulas) - MAX_ROWS_REPORTED} more formulas without a saved value"
        )
    for ref, value in found.errors[:MAX_ROWS_REPORTED]:
        problems.add(
            f"cell {ref} holds the Excel error {value} (it would read as empty)",
            **where(ref),
            value=value,
            expected="a value: fix the formula or clear the cell (#N/A reads as missing)",
        )
    if len(found.errors) > MAX_ROWS_REPORTED:
        problems.add(f"{len(found.errors) - MAX_ROWS_REPORTED} more cells holding an error")
    for ref in found.merged[:MAX_ROWS_REPORTED]:
        problems.add(
            f"merged cells {ref} (only the first holds the value; the others would be empty)",
            expected="one value per cell: unmerge the cells and fill in every one",
        )
    problems.raise_if_any()


_NESTED = ("list", "large_list", "fixed_size_list", "list_view", "large_list_view", "struct",
           "map", "union", "dense_union", "sparse_union")


def _check_width(width: int, max_columns: int | None, path: Path) -> None:
    """A table wider than ``max_columns`` is a `LimitError` (None: no limit)."""
    if max_columns is not None:
        over_limit(
            width, max_columns, "max_columns", "the table has {count} columns", file=str(path)
        )


#: Rows of a Parquet file read at a time (its size once read is counted batch by batch).
_PARQUET_BATCH = 65_536


def _read_parquet(path: Path, max_columns: int | None = None,
                  max_bytes: int = MAX_PARQUET_BYTES) -> _Loaded:
    """A Parquet file and the lagnest metadata in its schema.

    Columns of lists, structs, maps or bytes are errors (a cell holds one value); decimal
    columns are read as floats. The width and the size once read (8 bytes per cell, from
    the rows and columns its footer declares) are checked before any column is read, and
    the bytes the columns take are counted batch by batch as they are read (long strings).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)  # reads the footer only: schema, rows, columns
    _check_width(len(source.schema_arrow), max_columns, path)
    meta = source.metadata
    packed = path.stat().st_size
    over_limit(8 * meta.num_rows * max(meta.num_columns, 1), max_bytes, "max_parquet_bytes",
               f"the Parquet file's {meta.num_rows:,} rows x {meta.num_columns:,} columns "
               "take about {count} bytes once read (8 per cell), from a file of "
               f"{packed:,} bytes",
               file=str(path))
    # long strings take more than 8 bytes a cell: read in batches, counting what they take
    batches, taken = [], 0
    for batch in source.iter_batches(batch_size=_PARQUET_BATCH):
        taken += batch.nbytes
        over_limit(taken, max_bytes, "max_parquet_bytes",
                   "the Parquet file's columns take more than {count} bytes once read "
                   f"(from a file of {packed:,} bytes)", file=str(path))
        batches.append(batch)
    table = pa.Table.from_batches(batches, schema=source.schema_arrow)
    problems = ProblemCollector(file=str(path))
    _header_problems([str(n) for n in table.column_names], problems, header_row=None)
    for i, field in enumerate(table.schema):
        kind = field.type
        value_type = kind.value_type if pa.types.is_dictionary(kind) else kind
        if pa.types.is_nested(value_type):
            problems.add(
                f"column of {value_type} cells: a cell holds one value, not a "
                f"{str(value_type).split('<')[0]}",
                column=field.name,
                expected="text or numbers",
            )
        elif pa.types.is_binary(value_type) or pa.types.is_large_binary(value_type) or (
            pa.types.is_fixed_size_binary(value_type)
        ):
            problems.add(
                "column of binary (bytes) cells",
                column=field.name,
                expected="text (UTF-8 strings) or numbers",
            )
        elif pa.types.is_decimal(value_type):
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.float64()))
    problems.raise_if_any()
    frame = table.to_pandas()
    raw = (table.schema.metadata or {}).get(_meta.KEY.encode())
    loaded = _Loaded(frame, ".")
    if raw is not None:
        loaded.meta = _meta.loads(raw, str(path))
        loaded.sessions = _meta.record_frame(loaded.meta.get("sessions"))
        loaded.sessions_source = f"{path} (metadata)"
        loaded.dyads = _meta.record_frame(loaded.meta.get("dyads"))
        loaded.dyads_source = f"{path} (metadata)"
    return loaded


def _header_problems(
    names: Sequence[str], problems: ProblemCollector, header_row: int | None = 1
) -> None:
    """Duplicated names and names holding control characters, as problems."""
    where = {"line": header_row} if header_row is not None else {}
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        positions.setdefault(name, []).append(i + 1)
        char = control_character(name)
        if char is not None:
            problems.add(
                f"control character {char} in the name of column {i + 1}",
                value=name,
                expected=CONTROL_EXPECTED,
                **where,
            )
    for name, found in positions.items():
        if len(found) > 1 and name != "":
            problems.add(
                f"duplicate column name in columns {found}",
                column=name,
                expected="distinct column names (a program reading the file would rename "
                f"or drop all but one of {name!r})",
                **where,
            )


def _unnamed(name: Any) -> bool:
    """Whether a header cell is empty (a column without a name)."""
    return name is None or (isinstance(name, float) and name != name) or not str(name).strip()


def _with_header(
    frame: pd.DataFrame, source: str, header_row: int | None = 1, first_row: bool = False
) -> pd.DataFrame:
    """Checked column names: no duplicates or control characters; unnamed columns dropped.

    ``header_row`` is the line of the names in the file (None: not a line, e.g. Parquet);
    with ``first_row`` the frame's first row holds the names (a sheet read without a
    header). An unnamed column is dropped when it is empty (trailing separators, a
    spreadsheet's stray formatting) and is an error when it holds data.
    """
    if first_row:
        if frame.shape[0] == 0:
            raise LagnestDataError(
                DataProblem("the sheet is empty", file=source, expected="a header row and rows")
            )
        names = ["" if _unnamed(v) else label_of(v) for v in frame.iloc[0].tolist()]
        frame = frame.iloc[1:].reset_index(drop=True)
        frame.columns = names
    names = ["" if _unnamed(c) else str(c) for c in frame.columns]
    problems = ProblemCollector(file=source)
    keep = []
    for i, name in enumerate(names):
        if name.strip():
            keep.append(i)
            continue
        column = frame.iloc[:, i]
        codes, uniques = factorize(column)
        if all(is_missing(u) for u in uniques):
            continue  # an empty column without a name
        row = int(np.flatnonzero(codes >= 0)[0]) + 1 if (codes >= 0).any() else None
        problems.add(
            f"column {i + 1} has no name but holds data",
            row=row,
            value=uniques[0] if uniques else None,
            expected="a name in the header for every column with data",
        )
    _header_problems([names[i] for i in keep], problems, header_row)
    problems.raise_if_any()
    if len(keep) == len(names):
        frame.columns = names
        return frame
    out = frame.iloc[:, keep]
    out.columns = [names[i] for i in keep]
    return out


def _load(
    path: Path,
    fmt: str,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    numeric: Mapping[str, str] | None = None,
    max_columns: int | None = MAX_COLUMNS,
    max_workbook_bytes: int = MAX_WORKBOOK_BYTES,
    max_parquet_bytes: int = MAX_PARQUET_BYTES,
    dictionary: bool = True,
) -> _Loaded:
    """Read a table file of format ``fmt``.

    A path problem is the ``OSError`` naming ``path``; anything wrong with the content is a
    `LagnestDataError` naming the file.
    """
    path = check_readable(path)
    try:
        if fmt in ("csv", "tsv"):
            frame, opts, typed = _read_text(
                path, fmt, sep, decimal, encoding, numeric, max_columns, dictionary
            )
            return _Loaded(_with_header(frame, str(path)), opts.decimal, typed)
        if fmt == "excel":
            loaded = _read_excel(path, sheet, max_workbook_bytes)
        else:
            loaded = _read_parquet(path, max_columns, max_parquet_bytes)
            loaded.frame = _with_header(loaded.frame, str(path), header_row=None)
        _check_width(loaded.frame.shape[1], max_columns, path)
        if decimal is not None:
            loaded.decimal = decimal
        return loaded
    except (LagnestDataError, OSError):
        raise
    except ImportError as err:
        raise ImportError(f"reading {fmt} files needs an optional dependency: {err}") from None
    except MemoryError:
        raise
    except Exception as err:  # the parsing library on a malformed file: name the file
        reason = shorten(f"{type(err).__name__}: {err}", 300)
        raise LagnestDataError(
            DataProblem(f"cannot be read as {fmt}: {reason}", file=str(path))
        ) from None


def _read_frame(path: Path, fmt: str, sheet: str | int | None = None) -> pd.DataFrame:
    """Read one table with every text cell kept as text (for the BORIS reader)."""
    return _load(path, fmt, sheet=sheet).frame


# ---------------------------------------------------------------------------- wide layout
def wide_to_long(
    frame: pd.DataFrame,
    *,
    dyad: str,
    session: str,
    segment: str,
    stream: str,
    keep: Sequence[str] = (),
    source: str | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per session, one column per segment -> one row per segment.

    Every column but the keys and ``keep`` is a segment, in column order. Segments are
    numbered by the trailing integer of their column names when every name has one
    (``1``, ``t2``, ``seg_3``), else 1, 2, ... in column order. Empty cells after a
    session's last code are not segments (sessions of different lengths); empty cells
    before it are uncoded segments.

    Parameters
    ----------
    frame : DataFrame
    dyad, session, segment : str
        Key columns (``segment`` names the new column).
    stream : str
        Name of the stream the cells hold.
    keep : list of str
        Columns that are not segments (session covariates, ignored columns).
    source : str, optional
        The file, for error messages.

    Returns
    -------
    long : DataFrame
    rows, columns : ndarray
        Row number (from 1) and column name in ``frame`` of each row of ``long``.
    """
    cols = [c for c in frame.columns if c not in (dyad, session, *keep)]
    if not cols:
        raise LagnestDataError(
            DataProblem(
                "a wide table needs segment columns",
                file=source,
                value=list(frame.columns)[:10],
                expected="one column per segment besides the keys",
            )
        )
    digits = [re.search(r"([0-9]+)\s*$", str(c)) for c in cols]
    if all(digits):
        values = [int(m.group(1)) if len(m.group(1)) < 25 else MAX_SEGMENT_NUMBER + 1
                  for m in digits]
        huge = [c for c, v in zip(cols, values, strict=True) if v > MAX_SEGMENT_NUMBER]
        if huge:
            raise LagnestDataError(
                DataProblem(
                    "the number at the end of a segment column's name is not a segment number",
                    file=source,
                    column=str(huge[0]),
                    expected=f"a segment number up to {MAX_SEGMENT_NUMBER:,}",
                )
            )
        numbers = np.array(values, np.int64)
    else:
        numbers = np.arange(1, len(cols) + 1, dtype=np.int64)
    cells = frame[cols].to_numpy(dtype=object)
    codes, uniques = factorize(cells.ravel())
    missing_u = np.append([is_missing(u) for u in uniques], True)
    present = ~missing_u[codes].reshape(cells.shape)
    width = np.where(present.any(axis=1), cells.shape[1] - np.argmax(present[:, ::-1], axis=1), 0)
    width = np.maximum(width, 1)  # a session with no code at all keeps one uncoded segment
    take = np.arange(cells.shape[1])[None, :] < width[:, None]
    row_idx = np.repeat(np.arange(len(frame)), width)
    col_idx = np.nonzero(take)[1]
    out = {
        c: frame[c].to_numpy(dtype=object)[row_idx]
        for c in (dyad, session, *keep)
        if c in frame.columns
    }
    out[segment] = numbers[col_idx]
    out[stream] = cells[take]
    long = pd.DataFrame(out)
    return long, row_idx + 1, np.asarray(cols, dtype=object)[col_idx]


def _relocate(
    err: LagnestDataError, rows: np.ndarray, columns: np.ndarray, stream: str, segment: str
) -> LagnestDataError:
    """Problems found in the long form of a wide table, located in the wide table."""
    from dataclasses import replace

    out = []
    for p in err.problems:
        if p.row is not None and 0 < p.row <= len(rows) and p.column in (stream, segment):
            p = replace(p, row=int(rows[p.row - 1]), column=str(columns[p.row - 1]))
        out.append(p)
    return LagnestDataError(out)


# ---------------------------------------------------------------------------- read_table
def read_table(
    path: str | os.PathLike,
    *,
    codebook: str | Codebook | None = None,
    sessions: str | os.PathLike | pd.DataFrame | None = None,
    dyads: str | os.PathLike | pd.DataFrame | None = None,
    dyad: str | None = None,
    session: str | None = None,
    segment: str | None = None,
    break_column: str | None = None,
    session_columns: Sequence[str] = (),
    ignore: Sequence[str] = (),
    derive: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
    format: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    nested_sessions: bool | None = None,
    layout: str = "long",
    stream: str = "code",
    codes: Mapping[str, Sequence[str]] | None = None,
    indicators: Mapping[str, Sequence[str]] | None = None,
    ratings: Sequence[str] = (),
    max_columns: int = MAX_COLUMNS,
    max_workbook_bytes: int = MAX_WORKBOOK_BYTES,
    max_parquet_bytes: int = MAX_PARQUET_BYTES,
) -> Sequences:
    """Read a table with one row per segment (or per session, ``layout="wide"``).

    Parameters
    ----------
    path : str or path
        A ``.csv``, ``.tsv``, ``.xlsx`` or ``.parquet`` file.
    codebook : str or Codebook, optional
        E.g. ``"3rs_2015+mia"``; declares streams, codes, ratings and questionnaires.
        Default: the codebook named in the file's lagnest metadata (Parquet, Excel), if any.
    sessions, dyads : path or DataFrame, optional
        Session table (covariates, questionnaire items; key column ``session``) and dyad
        table (key column ``dyad``). Default: for an Excel file, sheets named
        ``sessions``/``sesiones`` and ``dyads``/``díadas``; for a Parquet file written by
        lagnest, the tables in its metadata.
    dyad, session, segment, break_column : str, optional
        Names of the key columns (default: from the file's metadata, else ``"dyad"``,
        ``"session"``, ``"segment"``, ``"break"``).
    session_columns, ignore : list of str
        Session covariates held in the segment table; columns to leave out.
    derive : mapping, optional
        Overrides of derived-stream groups, e.g. ``{"resolution": {"immediate": [...],
        "exploratory": [...]}}``.
    format : {"csv", "tsv", "excel", "parquet"}, optional
        Overrides the format read from the suffix.
    sep, decimal, encoding : str, optional
        CSV/TSV: field separator, decimal mark, text encoding. Default: sniffed (see
        :func:`sniff_text`): a Spanish-locale Excel export (``;``, ``,``, cp1252) is read
        as it is. ``decimal`` also applies to numbers held as text in other formats.
    sheet : str or int, optional
        Excel: the segment sheet (default ``segments``/``segmentos``, else the first).
    nested_sessions : bool, optional
        Session numbers restart within each dyad: a session is identified by its dyad and
        its number (labels ``"dyad-session"``; a session table is matched on both).
    layout : {"long", "wide"}, default "long"
        ``"wide"``: one row per session (key columns ``dyad`` and ``session``) and one
        column per segment holding the code of stream ``stream`` (see
        :func:`wide_to_long`). Other columns must be named in ``session_columns`` or
        ``ignore``.
    stream : str, default "code"
        Wide layout: the name of the stream.
    codes, indicators, ratings
        Streams and ratings declared without a codebook (see
        :meth:`Sequences.from_frame`).
    max_columns : int, default 5,000
        Most columns of a table (each is parsed on its own; in the wide layout, the
        segments of a session); a wider table is a `LimitError` before its rows are read.
    max_workbook_bytes : int, default 100,000,000
        Excel: most bytes of XML, once decompressed, of the parts parsed (the sheets read,
        shared strings, styles); checked before anything is decompressed.
    max_parquet_bytes : int, default 1,000,000,000
        Parquet: most bytes the table takes once read: 8 per cell of the rows and columns
        the file's footer declares, checked before any column is read, and what the
        columns take (long strings), counted as they are read in batches.

    Returns
    -------
    Sequences

    Raises
    ------
    LagnestDataError
        Every problem in the files, each naming file, row, column, value and what was
        expected (rows count from 1 after the header): also duplicated or unnamed column
        names, control characters in labels, Excel formulas without a saved value and
        merged cells, Parquet cells holding lists, structs or bytes.
    LimitError
        A `LagnestDataError`: an input beyond ``max_columns``, ``max_workbook_bytes`` or
        ``max_parquet_bytes``.
    OSError
        A path problem (missing, a folder, no permission), naming the path.

    Warns
    -----
    LagnestDataWarning
        Numbers written with digits of another script (``١٢``, ``１２``) were read as
        numbers.

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.datasets import example_paths
    >>> segs, sess = example_paths()
    >>> seqs = ln.read_table(segs, sessions=sess, codebook="3rs_2015+mia+tms+seq")
    """
    if layout not in LAYOUTS:
        raise LagnestDataError(DataProblem("unknown layout", value=layout, expected=LAYOUTS))
    limits = {
        "max_columns": check_limit_argument(max_columns, "max_columns"),
        "max_workbook_bytes": check_limit_argument(max_workbook_bytes, "max_workbook_bytes"),
        "max_parquet_bytes": check_limit_argument(max_parquet_bytes, "max_parquet_bytes"),
        "dictionary": layout == "long",  # a wide table's cells are many columns of few rows
    }
    path = Path(path)
    fmt = _format(path, format)
    numeric, session_numeric = _numeric_columns(codebook, indicators, ratings)
    if layout == "long":  # segment numbers are integers; text only to report a bad one
        numeric = {**(numeric or {}), segment or DEFAULT_KEYS[2]: "int64"}
    else:
        numeric = None
    given = {
        "dyad": dyad,
        "session": session,
        "segment": segment,
        "break_column": break_column,
        "nested_sessions": nested_sessions,
        "codebook": codebook,
        "codes": codes,
        "indicators": indicators,
        "ratings": tuple(ratings) or None,
    }
    declared = codebook is not None or bool(derive or codes or indicators or ratings)

    def attempt(typed: bool) -> Sequences:
        loaded = _load(
            path,
            fmt,
            sep=sep,
            decimal=decimal,
            encoding=encoding,
            sheet=sheet,
            numeric=numeric if typed else None,
            **limits,
        )
        options = _meta.read_options(loaded.meta)
        if declared:
            for name in ("codebook", "codes", "indicators", "ratings"):
                options.pop(name, None)
        options.update({k: v for k, v in given.items() if v is not None})
        for key, default in zip(
            ("dyad", "session", "segment", "break_column"), DEFAULT_KEYS, strict=True
        ):
            options.setdefault(key, default)
        session_frame, session_src = loaded.sessions, loaded.sessions_source
        if sessions is not None:
            session_frame, session_src = _side_table(
                sessions, sep, decimal, encoding, session_numeric if typed else None, limits
            )
        dyad_frame, dyad_src = loaded.dyads, loaded.dyads_source
        if dyads is not None:
            dyad_frame, dyad_src = _side_table(dyads, sep, decimal, encoding, None, limits)
        frame = loaded.frame
        _check_named_columns(frame, options, given, layout, session_columns, ignore, str(path))
        rows = columns = None
        if layout == "wide":
            frame, rows, columns = wide_to_long(
                frame,
                dyad=options["dyad"],
                session=options["session"],
                segment=options["segment"],
                stream=stream,
                keep=[*session_columns, *ignore],
                source=str(path),
            )
        try:
            return Sequences.from_frame(
                frame,
                sessions=session_frame,
                dyads=dyad_frame,
                session_columns=session_columns,
                ignore=ignore,
                derive=derive,
                source=str(path),
                sessions_source=session_src,
                dyads_source=dyad_src,
                decimal=loaded.decimal,
                **options,
            )
        except LagnestDataError as err:
            if rows is None:
                raise
            raise _relocate(err, rows, columns, stream, options["segment"]) from None

    if not (numeric or session_numeric):
        return attempt(typed=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            seqs = attempt(typed=True)
        except LimitError:
            raise
        except LagnestDataError:  # report the problems on the cells as written: read as text
            seqs = None
    if seqs is None:
        return attempt(typed=False)
    for w in caught:  # the typed attempt's warnings, now that it stands
        warn_user(str(w.message), w.category)
    return seqs


def _check_named_columns(frame: pd.DataFrame, options: Mapping[str, Any],
                         given: Mapping[str, Any], layout: str, session_columns: Sequence[str],
                         ignore: Sequence[str], source: str) -> None:
    """Raise, before parsing, for every column an option names that the file lacks.

    The file's own columns (a wide table's before it is made long). ``break_column``,
    ``codes``, ``ratings`` and ``indicators`` are checked when given (a file's metadata
    may declare more than it holds); indicator codes are columns ``stream:code`` or
    ``code``.
    """
    named: dict[str, list[str]] = {
        "dyad": [options["dyad"]], "session": [options["session"]],
        "session_columns": list(session_columns), "ignore": list(ignore),
    }
    if layout == "long":
        named["segment"] = [options["segment"]]
        named["break_column"] = [given["break_column"]] if given["break_column"] else []
        named["codes"] = list(given["codes"] or {})
        named["ratings"] = list(given["ratings"] or ())
    found = missing_columns(frame.columns, named, source)
    have = set(frame.columns)
    for stream, codes in (given["indicators"] or {}).items() if layout == "long" else ():
        if codes and not any(c in have or f"{stream}{QUALIFIER}{c}" in have for c in codes):
            found.append(DataProblem(
                f"the option indicators names stream {stream!r}, whose code columns the "
                "table does not have", file=source, column=f"{stream}{QUALIFIER}{codes[0]}",
                expected=f"columns {stream}{QUALIFIER}code or code among "
                f"{[str(c) for c in frame.columns]}"))
    if found:
        raise LagnestDataError(found)


def _numeric_columns(
    codebook: str | Codebook | None,
    indicators: Mapping[str, Sequence[str]] | None,
    ratings: Sequence[str],
) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Columns a codebook (or declaration) makes numbers, in the segment and session tables.

    Segments: indicator codes and ratings; sessions: questionnaire items and subscales,
    session variables.
    """
    from lagnest.data._parse import resolve_codebook

    streams = dict(indicators or {})
    book = None
    if codebook is not None:
        try:
            book = resolve_codebook(codebook, None)
        except LagnestDataError:
            return None, None  # from_frame reports it
        streams.update({n: s.codes for n, s in book.streams.items() if s.kind == "indicator"})
        ratings = [*ratings, *book.ratings]
    segments = {}
    for name, codes in streams.items():
        for code in codes:
            segments[code] = segments[f"{name}:{code}"] = "int8"
    segments.update(dict.fromkeys(ratings, "float64"))
    sessions = {}
    if book is not None:
        for q in book.questionnaires.values():
            sessions.update(dict.fromkeys([*q.item_columns, *q.subscale_columns], "float64"))
        sessions.update(dict.fromkeys(book.session_variables, "float64"))
    return segments or None, sessions or None


def _side_table(
    spec: str | os.PathLike | pd.DataFrame,
    sep: str | None,
    decimal: str | None,
    encoding: str | None,
    numeric: Mapping[str, str] | None = None,
    limits: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """Load a session or dyad table from a frame or a path (sniffed like the main file).

    ``numeric`` columns are read as numbers when they all are (see `_read_text_table`).
    """
    if isinstance(spec, pd.DataFrame):
        return spec, None
    p = Path(spec)
    fmt = _format(p, None)
    loaded = _load(
        p, fmt, sep=sep, decimal=decimal, encoding=encoding, numeric=numeric, **(limits or {})
    )
    return loaded.frame, str(p)


# ---------------------------------------------------------------------------- writing
def _write_frame(
    frame: pd.DataFrame, path: Path, fmt: str, index: bool = False, parents: bool = False
) -> None:
    """Write one frame atomically in ``fmt``."""
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        atomic_write(
            path,
            lambda p: frame.to_csv(p, sep=sep, index=index, lineterminator="\n"),
            parents=parents,
        )
    elif fmt == "parquet":
        atomic_write(path, lambda p: frame.to_parquet(p, index=index), parents=parents)
    else:
        atomic_write(path, lambda p: frame.to_excel(p, index=index), parents=parents)


def _parquet(frame: pd.DataFrame, meta: Mapping[str, Any], path: Path) -> None:
    """Write a frame to Parquet with the lagnest metadata in its schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[_meta.KEY.encode()] = _meta.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(schema_meta), path)


def write_table(
    seqs: Sequences,
    path: str | os.PathLike,
    *,
    sessions: str | os.PathLike | None = None,
    dyads: str | os.PathLike | None = None,
    format: str | None = None,
    include_derived: bool = False,
    parents: bool = False,
) -> None:
    """Write a `Sequences` as a long table (and its session and dyad tables), atomically.

    Parameters
    ----------
    seqs : Sequences
    path : str or path
        ``.csv``, ``.tsv``, ``.xlsx`` or ``.parquet``. A Parquet file carries the lagnest
        metadata (codebook name, stream kinds and codes, ratings, session and dyad tables)
        in its schema; an Excel file has ``segments``, ``sessions``, ``dyads`` and
        ``lagnest`` sheets. Both read back into an equal `Sequences` with no argument.
        A CSV/TSV file holds the segments only: read it back with ``sessions=`` (the
        session file), ``dyads=`` (the dyad file) and ``codebook=`` (see
        ``docs/formats.md``).
    sessions : str or path, optional
        Where to write the session table (covariates and questionnaire items); skipped when
        there are no covariates.
    dyads : str or path, optional
        Where to write the dyad table (dyad covariates such as trait questionnaires);
        skipped when there are none.
    format : str, optional
        Overrides the format read from the suffix.
    include_derived : bool, default False
        Also write derived streams (they are recomputed on reading with the codebook).
        Parquet and Excel files always hold them when the codebook cannot be named.
    parents : bool, default False
        Create missing parent folders (else a missing folder is a ``FileNotFoundError``).

    Raises
    ------
    LagnestDataError
        An Excel sheet cannot hold the segments (more than 1,048,575).
    OSError
        Naming the path: a missing folder, a folder at the path, no permission...
    """
    path = Path(path)
    fmt = _format(path, format)
    frame = seqs.to_frame(include_derived=include_derived)
    extra = [n for n in _meta.written_derived(seqs) if n not in frame.columns]
    if fmt in ("excel", "parquet") and extra:
        frame = seqs.to_frame(include_derived=True)
    session_frame = _meta.session_frame(seqs)
    if fmt == "excel":
        if len(frame) >= EXCEL_MAX_ROWS:
            raise LagnestDataError(
                DataProblem(
                    f"an Excel sheet holds at most {EXCEL_MAX_ROWS - 1:,} rows",
                    file=str(path),
                    value=len(frame),
                    expected="fewer segments (write Parquet or CSV)",
                )
            )
        text = _meta.dumps(_meta.corpus_metadata(seqs))
        chunks = [text[i : i + _EXCEL_CELL] for i in range(0, len(text), _EXCEL_CELL)]
        dyad_frame = _meta.dyad_frame(seqs)

        def write_book(p: Path) -> None:
            with pd.ExcelWriter(p) as xl:
                frame.to_excel(xl, sheet_name="segments", index=False)
                if session_frame is not None:
                    session_frame.to_excel(xl, sheet_name="sessions", index=False)
                if dyad_frame is not None:
                    dyad_frame.to_excel(xl, sheet_name="dyads", index=False)
                pd.DataFrame({_meta.KEY: chunks}).to_excel(xl, sheet_name=_meta.KEY, index=False)

        atomic_write(path, write_book, parents=parents)
    elif fmt == "parquet":
        meta = _meta.corpus_metadata(seqs, tables=True)
        atomic_write(path, lambda p: _parquet(frame, meta, p), parents=parents)
    else:
        _write_frame(frame, path, fmt, parents=parents)
    if sessions is not None and session_frame is not None:
        spath = Path(sessions)
        _write_frame(session_frame, spath, _format(spath, None), parents=parents)
    dyad_frame = _meta.dyad_frame(seqs)
    if dyads is not None and dyad_frame is not None:
        dpath = Path(dyads)
        _write_frame(dyad_frame, dpath, _format(dpath, None), parents=parents)
