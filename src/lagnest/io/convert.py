"""Convert between the formats lagnest reads and writes, choosing by file suffix.

Readers: long tables (``.csv``, ``.tsv``, ``.txt``, ``.xlsx``, ``.parquet``), SDIS
(``.sds``, ``.sdis``) and BORIS exports (tables recognised by their ``Observation id`` /
``Behavior`` header; ``.txt`` behavioural strings). Writers: long tables and SDIS.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from lagnest._files import check_readable
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError
from lagnest.io._limits import MAX_WORKBOOK_BYTES
from lagnest.io._workbook import inspect_workbook
from lagnest.io.boris import is_boris_table, read_boris
from lagnest.io.sdis import read_sdis
from lagnest.io.sdis_write import write_sdis
from lagnest.io.table import FORMATS, _format, read_table, write_table

SDIS_SUFFIXES = (".sds", ".sdis")
READ_FORMATS = ("table", "sdis", "boris")
WRITE_FORMATS = ("table", "sdis")
_READERS = {"sdis": read_sdis, "boris": read_boris, "table": read_table}


def _peek_header(path: Path) -> list[str]:
    """Column names of a table file (empty when it cannot be read as one)."""
    fmt = _format(path, None)
    try:
        if fmt == "excel":
            # sized from the zip directory before pandas parses anything (a zip bomb is
            # refused by the reader at once, with the reader's own max_workbook_bytes)
            first = inspect_workbook(path, MAX_WORKBOOK_BYTES, read=[]).sheets[0]
            inspect_workbook(path, MAX_WORKBOOK_BYTES, read=[first])
            return [str(c) for c in pd.read_excel(path, sheet_name=first, nrows=0).columns]
        if fmt == "parquet":
            return []
        sep = "," if fmt == "csv" else "\t"
        return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0, encoding="utf-8-sig").columns]
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError):
        return []


def input_format(path: str | os.PathLike) -> str:
    """Which reader handles ``path``: ``"sdis"``, ``"boris"`` or ``"table"``.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    str
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SDIS_SUFFIXES:
        return "sdis"
    if suffix not in FORMATS:
        raise LagnestDataError(
            DataProblem(
                f"cannot tell the input format from the suffix {suffix!r}",
                file=str(path),
                expected=f"one of {sorted([*FORMATS, *SDIS_SUFFIXES])} (or pass from_format=)",
            )
        )
    check_readable(path)  # a path problem is the OSError naming the path, as in every reader
    header = _peek_header(path)
    if is_boris_table(header):
        return "boris"
    if suffix == ".txt" and not header[1:]:
        return "boris"  # one column or unreadable as a table: behavioural strings
    return "table"


def output_format(path: str | os.PathLike) -> str:
    """Which writer handles ``path``: ``"sdis"`` or ``"table"``.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    str
    """
    suffix = Path(path).suffix.lower()
    if suffix in SDIS_SUFFIXES:
        return "sdis"
    if suffix in FORMATS:
        return "table"
    raise LagnestDataError(
        DataProblem(
            f"cannot tell the output format from the suffix {suffix!r}",
            file=str(path),
            expected=f"one of {sorted([*FORMATS, *SDIS_SUFFIXES])} (or pass to_format=)",
        )
    )


def _check(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise LagnestDataError(DataProblem(f"unknown {name}", value=value, expected=allowed))


def _check_options(options: dict, reader: str, path: str | os.PathLike) -> None:
    """An option the reader does not take (``sep`` for SDIS input, ...) is an error."""
    accepted = inspect.signature(_READERS[reader]).parameters
    extra = sorted(k for k in options if k not in accepted)
    if extra:
        raise LagnestDataError(
            DataProblem(
                f"options {extra} do not apply to {reader} input",
                file=str(path),
                expected=f"options of {_READERS[reader].__name__}",
            )
        )


def convert(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    from_format: str | None = None,
    to_format: str | None = None,
    codebook: str | None = None,
    segment_seconds: float | None = None,
    min_overlap: float = 0.0,
    data_type: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    write_options: Mapping[str, Any] | None = None,
) -> Sequences:
    """Read ``in_path`` and write it to ``out_path`` in the format of its suffix.

    Parameters
    ----------
    in_path, out_path : str or path
    from_format : {"table", "sdis", "boris"}, optional
        Overrides the reader chosen from the suffix (and the header of tables).
    to_format : {"table", "sdis"}, optional
        Overrides the writer chosen from the suffix.
    codebook : str, optional
        Codebook for reading (validates codes, derives streams).
    segment_seconds : float, optional
        Timed SDIS and BORIS input: segment length in seconds (default: events as segments).
    min_overlap : float, default 0
        Timed input: minimum overlap for a code to count in a segment.
    data_type : {"Event", "Multievent", "Interval"}, optional
        SDIS output data type (default chosen from the streams).
    read_options, write_options : mapping, optional
        Further keyword arguments of the reader (:func:`read_table`, :func:`read_sdis`,
        :func:`read_boris`) and writer (:func:`write_table`, :func:`write_sdis`).

    Returns
    -------
    Sequences
        What was read (and written).

    Raises
    ------
    LagnestDataError
        Unknown formats, malformed input, or data the output format cannot hold.
    """
    _check("input format", from_format, READ_FORMATS)
    _check("output format", to_format, WRITE_FORMATS)
    reader = from_format or input_format(in_path)
    writer = to_format or output_format(out_path)
    ropts = dict(read_options or {})
    if codebook is not None:
        ropts["codebook"] = codebook
    if reader in ("sdis", "boris"):
        ropts.setdefault("segment_seconds", segment_seconds)
        ropts.setdefault("min_overlap", min_overlap)
    elif segment_seconds is not None:
        raise LagnestDataError(
            DataProblem(
                "segment_seconds applies to timed input (SDIS Timed/State, BORIS)",
                file=str(in_path),
            )
        )
    if data_type is not None and writer != "sdis":
        raise LagnestDataError(
            DataProblem("data_type applies to SDIS output", file=str(out_path), value=data_type)
        )
    _check_options(ropts, reader, in_path)
    seqs = _READERS[reader](in_path, **ropts)
    wopts = dict(write_options or {})
    if writer == "sdis":
        write_sdis(seqs, out_path, data_type=data_type, **wopts)
    else:
        write_table(seqs, out_path, **wopts)
    return seqs
