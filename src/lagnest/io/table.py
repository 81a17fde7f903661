"""Long tables (one row per segment) in CSV, Excel and Parquet."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from lagnest._files import atomic_write
from lagnest.codebook import Codebook
from lagnest.errors import LagnestDataError
from lagnest.sequences import Sequences

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".xlsx": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}


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


def _read_frame(path: Path, fmt: str, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a table with every cell as text (so codes such as ``01`` survive), empty = missing."""
    if not path.exists():
        raise LagnestDataError(f"file {path}: does not exist")
    try:
        if fmt in ("csv", "tsv"):
            return pd.read_csv(
                path,
                sep="," if fmt == "csv" else "\t",
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8-sig",
            )
        if fmt == "excel":
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
            return frame.map(lambda v: None if pd.isna(v) else v)
        return pd.read_parquet(path)
    except LagnestDataError:
        raise
    except ImportError as err:
        raise ImportError(f"reading {fmt} files needs an optional dependency: {err}") from None
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise LagnestDataError(f"file {path}: cannot be read as {fmt}: {err}") from None


def read_table(
    path: str | os.PathLike,
    *,
    codebook: str | Codebook | None = None,
    sessions: str | os.PathLike | pd.DataFrame | None = None,
    dyads: str | os.PathLike | pd.DataFrame | None = None,
    dyad: str = "dyad",
    session: str = "session",
    segment: str = "segment",
    break_column: str = "break",
    session_columns: Sequence[str] = (),
    ignore: Sequence[str] = (),
    derive: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
    format: str | None = None,
) -> Sequences:
    """Read a long table with one row per segment into a `Sequences`.

    Parameters
    ----------
    path : str or path
        A ``.csv``, ``.tsv``, ``.xlsx`` or ``.parquet`` file.
    codebook : str or Codebook, optional
        E.g. ``"3rs_2015+mia"``; declares streams, codes, ratings and questionnaires.
    sessions, dyads : path or DataFrame, optional
        Session table (covariates, questionnaire items; key column ``session``) and dyad
        table (key column ``dyad``). For an Excel file, sheets named ``sessions`` and
        ``dyads`` are read when present and these are not given.
    dyad, session, segment, break_column : str
        Names of the key columns.
    session_columns, ignore : list of str
        Session covariates held in the segment table; columns to leave out.
    derive : mapping, optional
        Overrides of derived-stream groups, e.g. ``{"resolution": {"immediate": [...],
        "exploratory": [...]}}``.
    format : {"csv", "tsv", "excel", "parquet"}, optional
        Overrides the format read from the suffix.

    Returns
    -------
    Sequences

    Raises
    ------
    LagnestDataError
        Every problem in the files, each naming file, row, column, value and what was
        expected (rows count from 1 after the header).

    Examples
    --------
    >>> import lagnest as ln
    >>> from lagnest.datasets import example_paths
    >>> segs, sess = example_paths()
    >>> seqs = ln.read_table(segs, sessions=sess, codebook="3rs_2015+mia+tms+seq")
    """
    path = Path(path)
    fmt = _format(path, format)
    frame = _read_frame(path, fmt)
    session_frame, session_src = _side_table(sessions, path, fmt, "sessions")
    dyad_frame, _ = _side_table(dyads, path, fmt, "dyads")
    return Sequences.from_frame(
        frame,
        codebook=codebook,
        dyad=dyad,
        session=session,
        segment=segment,
        break_column=break_column,
        sessions=session_frame,
        dyads=dyad_frame,
        session_columns=session_columns,
        ignore=ignore,
        derive=derive,
        source=str(path),
        sessions_source=session_src,
    )


def _side_table(
    spec: str | os.PathLike | pd.DataFrame | None, main: Path, fmt: str, sheet: str
) -> tuple[pd.DataFrame | None, str | None]:
    """Load a session or dyad table from a frame, a path, or an Excel sheet of ``main``."""
    if isinstance(spec, pd.DataFrame):
        return spec, None
    if spec is not None:
        p = Path(spec)
        return _read_frame(p, _format(p, None)), str(p)
    if fmt == "excel":
        with pd.ExcelFile(main) as book:
            sheets = book.sheet_names
        if sheet in sheets:
            return _read_frame(main, fmt, sheet=sheet), f"{main}[{sheet}]"
    return None, None


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str, index: bool = False) -> None:
    """Write one frame atomically in ``fmt``."""
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        atomic_write(path, lambda p: frame.to_csv(p, sep=sep, index=index, lineterminator="\n"))
    elif fmt == "parquet":
        atomic_write(path, lambda p: frame.to_parquet(p, index=index))
    else:
        atomic_write(path, lambda p: frame.to_excel(p, index=index))


def write_table(
    seqs: Sequences,
    path: str | os.PathLike,
    *,
    sessions: str | os.PathLike | None = None,
    format: str | None = None,
    include_derived: bool = False,
) -> None:
    """Write a `Sequences` as a long table (and its session table), atomically.

    Parameters
    ----------
    seqs : Sequences
    path : str or path
        ``.csv``, ``.tsv``, ``.xlsx`` or ``.parquet``. An Excel file also gets ``sessions``
        and ``dyads`` sheets.
    sessions : str or path, optional
        Where to write the session table (covariates and questionnaire items); skipped when
        there are no covariates.
    format : str, optional
        Overrides the format read from the suffix.
    include_derived : bool, default False
        Also write derived streams (they are recomputed on reading with the codebook).
    """
    path = Path(path)
    fmt = _format(path, format)
    frame = seqs.to_frame(include_derived=include_derived)
    session_frame = _session_frame(seqs)
    if fmt == "excel":

        def write_book(p: Path) -> None:
            with pd.ExcelWriter(p) as xl:
                frame.to_excel(xl, sheet_name="segments", index=False)
                if session_frame is not None:
                    session_frame.to_excel(xl, sheet_name="sessions", index=False)

        atomic_write(path, write_book)
    else:
        _write_frame(frame, path, fmt)
    if sessions is not None and session_frame is not None:
        spath = Path(sessions)
        _write_frame(session_frame, spath, _format(spath, None))


def _session_frame(seqs: Sequences) -> pd.DataFrame | None:
    """Session covariates as a frame keyed by ``session`` (None when there are none)."""
    table = seqs.sessions.drop(columns=["dyad", "n_segments"])
    if table.shape[1] == 0:
        return None
    return table.reset_index()
