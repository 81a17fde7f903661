"""Hostile Parquet files for ``read_table``."""

from __future__ import annotations

import decimal
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import lagnest as ln
from tests.hostile.harness import PyCall, accept, case, error, write

KEYS = {
    "dyad": ["d1", "d1", "d2"],
    "session": ["s1", "s1", "s2"],
    "segment": [1, 2, 1],
}


def parquet(folder: Path, columns: dict, name: str = "x.parquet", meta: dict | None = None,
            table: pa.Table | None = None) -> PyCall:
    table = table if table is not None else pa.table(columns)
    if meta is not None:
        table = table.replace_schema_metadata({k.encode(): v.encode() for k, v in meta.items()})
    path = folder / name
    pq.write_table(table, path)
    return PyCall(ln.read_table, (str(path),), {}, file=str(path))


@case("parquet/good", accept(lambda s: s.n_segments == 3))
def _(d):
    return parquet(d, {**KEYS, "code": ["a", "b", "a"]})


@case("parquet/text-file", error())
def _(d):
    path = write(d / "x.parquet", "dyad,session\n")
    return PyCall(ln.read_table, (path,), {}, file=path)


@case("parquet/truncated", error())
def _(d):
    call = parquet(d, {**KEYS, "code": ["a", "b", "a"]})
    data = Path(call.file).read_bytes()
    Path(call.file).write_bytes(data[: len(data) - 40])
    return call


@case("parquet/empty-file", error())
def _(d):
    path = write(d / "x.parquet", b"")
    return PyCall(ln.read_table, (path,), {}, file=path)


@case("parquet/list-column", error(match="code.*list"))
def _(d):
    return parquet(d, {**KEYS, "code": [["a"], ["b", "c"], []]})


@case("parquet/struct-column", error(match="code.*struct"))
def _(d):
    return parquet(d, {**KEYS, "code": [{"x": 1}, {"x": 2}, {"x": 3}]})


@case("parquet/map-column", error(match="code.*map"))
def _(d):
    code = pa.array([[("k", 1)], [("k", 2)], []], type=pa.map_(pa.string(), pa.int64()))
    return parquet(d, {**KEYS, "code": code})


@case("parquet/list-key-column", error(match="session.*list"))
def _(d):
    return parquet(d, {**KEYS, "session": [["s1"], ["s1"], ["s2"]], "code": ["a", "b", "a"]})


@case("parquet/binary-column", error(match="code.*binary|bytes"))
def _(d):
    return parquet(d, {**KEYS, "code": pa.array([b"a", b"\xff", b"a"], type=pa.binary())})


@case("parquet/duplicated-column-names", error(match="duplicate"))
def _(d):
    table = pa.Table.from_arrays(
        [pa.array(v) for v in KEYS.values()] + [pa.array(["a", "b", "a"])] * 2,
        names=[*KEYS, "code", "code"],
    )
    return parquet(d, {}, table=table)


@case("parquet/segment-uint64-max", error(match="segment"))
def _(d):
    seg = pa.array([1, 2**64 - 1, 1], type=pa.uint64())
    return parquet(d, {**KEYS, "segment": seg, "code": ["a", "b", "a"]})


@case("parquet/segment-float-nan", error(match="missing segment number"))
def _(d):
    return parquet(d, {**KEYS, "segment": [1.0, float("nan"), 1.0], "code": ["a", "b", "a"]})


@case("parquet/segment-float-huge", error(match="segment"))
def _(d):
    return parquet(d, {**KEYS, "segment": [1.0, 1e300, 1.0], "code": ["a", "b", "a"]})


@case("parquet/segment-decimal", accept(lambda s: list(s.segment_numbers) == [1, 2, 1]))
def _(d):
    seg = pa.array([decimal.Decimal("1"), decimal.Decimal("2"), decimal.Decimal("1")],
                   type=pa.decimal128(10, 0))
    return parquet(d, {**KEYS, "segment": seg, "code": ["a", "b", "a"]})


@case("parquet/dictionary-key-with-nul", error(match="control character"))
def _(d):
    session = pa.array(["s\x001", "s\x001", "s2"]).dictionary_encode()
    return parquet(d, {**KEYS, "session": session, "code": ["a", "b", "a"]})


@case("parquet/zero-rows", error(match="no rows"))
def _(d):
    return parquet(d, {k: pa.array([], type=pa.string()) for k in [*KEYS, "code"]})


@case("parquet/zero-columns", error(match="missing key column"))
def _(d):
    return parquet(d, {}, table=pa.table({}))


@case("parquet/metadata-broken-json", error(match="metadata"))
def _(d):
    return parquet(d, {**KEYS, "code": ["a", "b", "a"]}, meta={"lagnest": "{oops"})


@case("parquet/metadata-future-version", error(match="metadata"))
def _(d):
    meta = {"lagnest": json.dumps({"lagnest": 99})}
    return parquet(d, {**KEYS, "code": ["a", "b", "a"]}, meta=meta)


@case("parquet/metadata-keys-wrong-length", error(match="metadata"))
def _(d):
    meta = {"lagnest": json.dumps({"lagnest": 1, "keys": ["dyad"]})}
    return parquet(d, {**KEYS, "code": ["a", "b", "a"]}, meta=meta)


@case("parquet/metadata-sessions-malformed", error(match="metadata"))
def _(d):
    meta = {"lagnest": json.dumps({"lagnest": 1, "sessions": {"columns": 5, "rows": "x"}})}
    return parquet(d, {**KEYS, "code": ["a", "b", "a"]}, meta=meta)


@case("parquet/metadata-codes-not-lists", error(match="metadata"))
def _(d):
    meta = {"lagnest": json.dumps({"lagnest": 1, "codes": {"code": 7}})}
    return parquet(d, {**KEYS, "code": ["a", "b", "a"]}, meta=meta)
