"""Corpus metadata that lets a file written by lagnest read back into an equal `Sequences`.

One JSON-ready record, carried where a format has room for it: Parquet schema metadata
(key ``lagnest``), an Excel sheet ``lagnest`` and SDIS ``% lagnest:`` comment lines. It
names the codebook (when it can be loaded by name), the key columns, every stream with its
kind and full code list, and the ratings; Parquet also carries the session and dyad tables.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lagnest.data.codebook import available_codebooks
from lagnest.data.sequences import Sequences
from lagnest.errors import DataProblem, LagnestDataError

KEY = "lagnest"
VERSION = 1


def loadable_codebook(seqs: Sequences) -> str | None:
    """The codebook's name when :func:`lagnest.load_codebook` can load it by that name."""
    book = seqs.codebook
    if book is None:
        return None
    shipped = set(available_codebooks())
    return book.name if all(part in shipped for part in book.name.split("+")) else None


def written_derived(seqs: Sequences) -> tuple[str, ...]:
    """Derived streams a file must hold as data (their codebook cannot be named)."""
    return () if loadable_codebook(seqs) else seqs.derived_streams


def _plain(value: Any) -> Any:
    """A cell as a JSON value (NaN/NA -> None, NumPy scalars -> Python)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def frame_record(frame: pd.DataFrame | None) -> dict[str, Any] | None:
    """A small table (sessions, dyads) as ``{"columns": [...], "rows": [[...]]}``."""
    if frame is None:
        return None
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[_plain(v) for v in row] for row in frame.itertuples(index=False)],
    }


def record_frame(record: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """The table of :func:`frame_record`."""
    if not record:
        return None
    return pd.DataFrame(record["rows"], columns=record["columns"], dtype=object)


def session_covariates(seqs: Sequences) -> pd.DataFrame:
    """The session table without the columns lagnest computes (dyad, n_segments)."""
    return seqs.sessions.drop(columns=["dyad", "n_segments"])


def session_frame(seqs: Sequences) -> pd.DataFrame | None:
    """Session covariates keyed by the session column as read (None when there are none).

    With nested sessions the table is keyed by the dyad and session columns.
    """
    table = session_covariates(seqs)
    if table.shape[1] == 0:
        return None
    keys = seqs.session_keys()
    dyad_col, session_col = seqs.key_names[:2]
    out = table.reset_index(drop=True)
    out.insert(0, session_col, keys[session_col].to_numpy())
    if seqs.nested_sessions:
        out.insert(0, dyad_col, keys[dyad_col].to_numpy())
    return out


def dyad_frame(seqs: Sequences) -> pd.DataFrame | None:
    """Dyad attributes keyed by the dyad column (None when there are none)."""
    table = seqs.dyads.drop(columns=["n_sessions", "n_segments"])
    if table.shape[1] == 0:
        return None
    out = table.reset_index(drop=True)
    out.insert(0, seqs.key_names[0], list(table.index))
    return out


def corpus_metadata(seqs: Sequences, tables: bool = False) -> dict[str, Any]:
    """The metadata record of ``seqs``.

    Parameters
    ----------
    seqs : Sequences
    tables : bool, default False
        Also carry the session and dyad tables (for single-file formats).

    Returns
    -------
    dict
    """
    derived = set(seqs.derived_streams) - set(written_derived(seqs))
    streams = {n: s for n, s in seqs.streams.items() if n not in derived}
    meta: dict[str, Any] = {
        KEY: VERSION,
        "codebook": loadable_codebook(seqs),
        "keys": list(seqs.key_names),
        "nested_sessions": seqs.nested_sessions,
        "codes": {n: list(s.codes) for n, s in streams.items() if s.kind == "categorical"},
        "indicators": {n: list(s.codes) for n, s in streams.items() if s.kind == "indicator"},
        "ratings": list(seqs.rating_names),
    }
    if tables:
        meta["sessions"] = frame_record(session_frame(seqs))
        meta["dyads"] = frame_record(dyad_frame(seqs))
    return meta


def dumps(meta: Mapping[str, Any]) -> str:
    """Metadata as JSON text."""
    return json.dumps(meta, ensure_ascii=False, sort_keys=True)


def loads(text: str | bytes, source: str | None) -> dict[str, Any]:
    """Parse metadata JSON; a broken record is a `LagnestDataError` naming the file."""
    try:
        meta = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise LagnestDataError(
            DataProblem(f"broken lagnest metadata: {err}", file=source)
        ) from None
    if not isinstance(meta, dict) or meta.get(KEY) != VERSION:
        raise LagnestDataError(
            DataProblem(
                "unknown lagnest metadata",
                file=source,
                value=meta.get(KEY) if isinstance(meta, dict) else type(meta).__name__,
                expected=f"version {VERSION}",
            )
        )
    for key, (ok, expected) in _SHAPES.items():
        if meta.get(key) is not None and not ok(meta[key]):
            raise LagnestDataError(
                DataProblem(
                    f"broken lagnest metadata: entry {key!r}",
                    file=source,
                    value=meta[key],
                    expected=expected,
                )
            )
    return meta


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _code_lists(value: Any) -> bool:
    return isinstance(value, dict) and all(_strings(v) for v in value.values())


def _record(value: Any) -> bool:
    if not isinstance(value, dict) or not _strings(value.get("columns")):
        return False
    rows = value.get("rows")
    width = len(value["columns"])
    return isinstance(rows, list) and all(isinstance(r, list) and len(r) == width for r in rows)


#: What each metadata entry must be (a check and its description).
_SHAPES: dict[str, tuple[Any, str]] = {
    "keys": (lambda v: _strings(v) and len(v) == 4, "4 key column names"),
    "codebook": (lambda v: isinstance(v, str), "a codebook name"),
    "nested_sessions": (lambda v: isinstance(v, bool), "true or false"),
    "codes": (_code_lists, "stream names with their lists of codes"),
    "indicators": (_code_lists, "stream names with their lists of codes"),
    "ratings": (_strings, "a list of rating names"),
    "sessions": (_record, "a table: columns and rows of as many values"),
    "dyads": (_record, "a table: columns and rows of as many values"),
}


def read_options(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keyword arguments of `Sequences.from_frame` that the metadata supplies.

    ``meta`` comes from :func:`loads`, which checked its shape.
    """
    if not meta:
        return {}
    dyad, session, segment, brk = meta.get("keys", ["dyad", "session", "segment", "break"])
    out: dict[str, Any] = {
        "dyad": dyad,
        "session": session,
        "segment": segment,
        "break_column": brk,
        "nested_sessions": bool(meta.get("nested_sessions", False)),
    }
    if meta.get("codebook"):
        out["codebook"] = meta["codebook"]
    else:
        out["codes"] = meta.get("codes", {})
        out["indicators"] = meta.get("indicators", {})
        out["ratings"] = tuple(meta.get("ratings", ()))
    return out
