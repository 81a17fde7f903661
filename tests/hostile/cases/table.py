"""Hostile CSV/TSV files (and the wide layout) for ``read_table``."""

from __future__ import annotations

import os
import random

import numpy as np

import lagnest as ln
from tests.hostile.harness import PyCall, Skip, accept, case, error, lines, oserror, write

HEADER = ("dyad", "session", "segment", "code")
GOOD = lines(HEADER, "d1,s1,1,a", "d1,s1,2,b", "d1,s1,3,a", "d2,s2,1,b", "d2,s2,2,a")


def read(path: str, **kwargs) -> PyCall:
    return PyCall(ln.read_table, (path,), kwargs, file=path)


def csv(folder, text: str | bytes, name: str = "x.csv", **kwargs) -> PyCall:
    return read(write(folder / name, text), **kwargs)


def n_segments(n: int):
    return lambda seqs: seqs.n_segments == n


# ---------------------------------------------------------------------------- the file itself
@case("csv/empty-file", error(match="empty"))
def _(d):
    return csv(d, b"")


@case("csv/only-blank-lines", error())
def _(d):
    return csv(d, "\n\n  \n\n")


@case("csv/header-only", error(match="no rows"))
def _(d):
    return csv(d, lines(HEADER))


@case("csv/binary-garbage", error())
def _(d):
    return csv(d, random.Random(1).randbytes(4000))


@case("csv/png-bytes", error())
def _(d):
    return csv(d, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)


@case("csv/utf16-with-bom", accept(n_segments(5)))
def _(d):
    return csv(d, b"\xff\xfe" + GOOD.encode("utf-16-le"))


@case("tsv/utf16-excel-unicode-text", accept(n_segments(5)))
def _(d):
    text = GOOD.replace(",", "\t")
    return csv(d, b"\xff\xfe" + text.encode("utf-16-le"), name="x.txt")


@case("csv/utf16-without-bom", error())
def _(d):
    return csv(d, GOOD.encode("utf-16-le"))


@case("csv/cp1252-undeclared", accept(lambda s: "canción" in s.streams["code"].codes))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,canción", "d1,s1,2,b").encode("cp1252"))


@case("csv/unknown-encoding-argument", error(match="encoding", names_file=False))
def _(d):
    return csv(d, GOOD, encoding="no-such-codec")


@case("csv/directory", oserror("IsADirectoryError"))
def _(d):
    (d / "data.csv").mkdir()
    return read(str(d / "data.csv"))


@case("csv/missing-file", oserror("FileNotFoundError"))
def _(d):
    return read(str(d / "nope.csv"))


@case("csv/no-permission", oserror("PermissionError"))
def _(d):
    if os.geteuid() == 0:
        raise Skip("root reads every file")
    path = write(d / "x.csv", GOOD)
    os.chmod(path, 0)
    return read(path)


@case("csv/unknown-suffix", error(match="suffix"))
def _(d):
    return csv(d, GOOD, name="x.dat")


@case("csv/format-excel-on-text", error())
def _(d):
    return csv(d, GOOD, format="excel")


@case("csv/format-parquet-on-text", error())
def _(d):
    return csv(d, GOOD, format="parquet")


@case("csv/empty-separator-argument", error(names_file=False))
def _(d):
    return csv(d, GOOD, sep="")


@case("csv/decimal-equals-separator", error(names_file=False))
def _(d):
    return csv(d, GOOD, sep=",", decimal=",")


# ---------------------------------------------------------------------------- header
@case("csv/duplicated-header", error(match="duplicate"))
def _(d):
    return csv(d, lines((*HEADER, "code"), "d1,s1,1,a,b", "d1,s1,2,b,a"))


@case("csv/duplicated-key-column", error(match="duplicate"))
def _(d):
    return csv(d, lines((*HEADER, "segment"), "d1,s1,1,a,9", "d1,s1,2,b,8"))


@case("csv/empty-header-name-with-data", error(match="no name"))
def _(d):
    return csv(d, lines((*HEADER, ""), "d1,s1,1,a,x", "d1,s1,2,b,y"))


@case("csv/trailing-empty-columns", accept(lambda s: list(s.streams) == ["code"]))
def _(d):
    return csv(d, lines("dyad,session,segment,code,,", "d1,s1,1,a,,", "d1,s1,2,b,,"))


@case("csv/missing-key-column", error(match="missing key column"))
def _(d):
    return csv(d, lines(("dyad", "session", "code"), "d1,s1,a"))


@case("csv/control-character-in-column-name", error(match="control character"))
def _(d):
    return csv(d, lines(("dyad", "session", "segment", "co\x07de"), "d1,s1,1,a"))


@case("csv/hundred-thousand-columns", error("LimitError", match="max_columns"))
def _(d):
    names = [f"c{i}" for i in range(100_000)]
    return csv(d, lines((*HEADER[:3], *names), ("d1", "s1", 1, *(["x"] * len(names)))))


# ---------------------------------------------------------------------------- rows
@case("csv/ragged-row-extra-field", error(match="line 3|row 2"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,2,b,EXTRA", "d1,s1,3,a"))


@case("csv/ragged-row-missing-field", error(match="line 3|row 2"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,2", "d1,s1,3,a"))


@case("csv/unterminated-quote", error(match="line|control character"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", 'd1,s1,2,"b', "d1,s1,3,a"))


@case("csv/quoted-newline-in-label", error(match="control character"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", 'd1,s1,2,"b\nc"', "d1,s1,3,a"))


@case("csv/old-mac-line-endings", accept(n_segments(5)))
def _(d):
    return csv(d, GOOD.replace("\n", "\r"))


@case("csv/blank-lines-between-rows", accept(n_segments(5)))
def _(d):
    return csv(d, GOOD.replace("\n", "\n\n"))


@case("csv/nul-in-code", error(match=r"row 2.*control character"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,2,b\x00x", "d1,s1,3,a"))


@case("csv/nul-in-session-label", error(match="control character"))
def _(d):
    return csv(d, lines(HEADER, "d1,s\x001,1,a", "d1,s\x001,2,b"))


@case("csv/bell-in-dyad-label", error(match="control character"))
def _(d):
    return csv(d, lines(HEADER, "d\x071,s1,1,a", "d\x071,s1,2,b"))


@case("csv/escape-sequence-in-code", error(match="control character"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,\x1b[31mred", "d1,s1,2,b"))


@case("csv/nul-in-code-with-codebook", error(match="control character"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,2,b\x00"), codes={"code": ["a", "b"]})


@case("csv/missing-keys", error(match="missing key value"))
def _(d):
    return csv(d, lines(HEADER, ",,1,a", ",,2,b"))


@case("csv/bad-break-flags", error(match="bad break flag"))
def _(d):
    return csv(d, lines((*HEADER, "break"), "d1,s1,1,a,0", "d1,s1,2,b,maybe"))


# ---------------------------------------------------------------------------- segment numbers
@case("csv/segment-beyond-int64", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,99999999999999999999999,b"))


@case("csv/segment-2-to-the-63", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", f"d1,s1,{2**63},b"))


@case("csv/segment-2-to-the-63-minus-1", accept(n_segments(2)))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", f"d1,s1,{2**63 - 1},b"))


@case("csv/segment-1e400", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,1e400,b"))


@case("csv/segment-1e30-float", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,1e30,b"))


@case("csv/segment-negative", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,-1,a", "d1,s1,2,b"))


@case("csv/segment-fraction", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1.5,a", "d1,s1,2,b"))


@case("csv/segment-inf", error(match="segment"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,inf,a", "d1,s1,2,b"))


@case(
    "csv/segment-arabic-indic-digits",
    accept(lambda s: list(s.segment_numbers) == [1, 2, 12], warn="digits"),
)
def _(d):
    return csv(d, lines(HEADER, "d1,s1,١,a", "d1,s1,٢,b", "d1,s1,١٢,a"))


@case(
    "csv/segment-fullwidth-digits",
    accept(lambda s: list(s.segment_numbers) == [1, 2], warn="digits"),
)
def _(d):
    return csv(d, lines(HEADER, "d1,s1,１,a", "d1,s1,２,b"))


@case(
    "csv/segment-devanagari-digits",
    accept(lambda s: list(s.segment_numbers) == [3, 4], warn="digits"),
)
def _(d):
    return csv(d, lines(HEADER, "d1,s1,३,a", "d1,s1,४,b"))


@case(
    "csv/rating-arabic-indic-digits",
    accept(lambda s: list(s.rating("score")) == [3.0, 4.5], warn="digits"),
)
def _(d):
    return csv(d, lines((*HEADER, "score"), "d1,s1,1,a,٣", "d1,s1,2,b,٤.٥"), ratings=["score"])


@case("csv/rating-infinite", error(match="rating"))
def _(d):
    return csv(d, lines((*HEADER, "score"), "d1,s1,1,a,3", "d1,s1,2,b,inf"))


@case("csv/duplicate-keys", error(match="duplicate key"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,1,b"))


# ---------------------------------------------------------------------------- bounded messages
@case("csv/megabyte-label-unknown-code", error(match="unknown code"))
def _(d):
    return csv(d, lines(HEADER, "d1,s1,1,a", "d1,s1,2," + "x" * 1_000_000), codes={"code": ["a"]})


@case("csv/ten-thousand-bad-rows", error(match=r"more rows"))
def _(d):
    rows = [f"d1,s1,{i}.5,a" for i in range(10_000)]
    return csv(d, lines(HEADER, *rows))


@case("csv/thousand-unknown-codes", error(match="unknown code"))
def _(d):
    rows = [f"d1,s1,{i},code{i}" for i in range(1, 1001)]
    return csv(d, lines(HEADER, *rows), codes={"code": ["a"]})


@case("csv/megabyte-session-label", accept(n_segments(2)))
def _(d):
    label = "s" * 1_000_000
    return csv(d, lines(HEADER, f"d1,{label},1,a", f"d1,{label},2,b"))


# ---------------------------------------------------------------------------- options, side tables
@case("csv/sessions-file-missing", oserror("FileNotFoundError"))
def _(d):
    sessions = str(d / "sessions.csv")
    return PyCall(ln.read_table, (write(d / "x.csv", GOOD),), {"sessions": sessions}, sessions)


@case("csv/sessions-file-duplicated-header", error(match="duplicate"))
def _(d):
    sessions = write(d / "sessions.csv", lines("session,x,x", "s1,1,2", "s2,3,4"))
    return PyCall(ln.read_table, (write(d / "x.csv", GOOD),), {"sessions": sessions}, sessions)


@case("csv/sessions-file-nul", error(match="control character"))
def _(d):
    sessions = write(d / "sessions.csv", lines("session,x", "s\x001,1", "s2,3"))
    return PyCall(ln.read_table, (write(d / "x.csv", GOOD),), {"sessions": sessions}, sessions)


@case("csv/unknown-codebook-name", error(match="codebook", names_file=False))
def _(d):
    return csv(d, GOOD, codebook="no_such_codebook")


@case("csv/codebook-path-missing", oserror("FileNotFoundError"))
def _(d):
    path = str(d / "codes.toml")
    return PyCall(ln.read_table, (write(d / "x.csv", GOOD),), {"codebook": path}, path)


@case("csv/codebook-malformed", error("CodebookError", match="line"))
def _(d):
    book = write(d / "codes.toml", "[streams.code\nkind = 'categorical'\n")
    return PyCall(ln.read_table, (write(d / "x.csv", GOOD),), {"codebook": book}, book)


# ---------------------------------------------------------------------------- size and time
@case("csv/two-hundred-thousand-rows", accept(n_segments(200_000)))
def _(d):
    rng = np.random.default_rng(0)
    codes = rng.choice(["a", "b", "c"], 200_000)
    body = "".join(f"d{i // 20_000},s{i // 1000},{i % 1000},{c}\n" for i, c in enumerate(codes))
    return csv(d, lines(HEADER) + body)


@case("csv/two-thousand-code-columns", accept(lambda s: len(s.streams) == 2000))
def _(d):
    names = [f"c{i}" for i in range(2000)]
    rows = [("d1", "s1", t, *(["x", "y"] * 1000)) for t in range(1, 101)]
    return csv(d, lines((*HEADER[:3], *names), *rows))


# ---------------------------------------------------------------------------- wide layout
WIDE = lines(("dyad", "session", "t1", "t2", "t3"), "d1,s1,a,b,a", "d1,s2,b,,")


def wide(folder, text: str, **kwargs) -> PyCall:
    return csv(folder, text, layout="wide", **kwargs)


@case("wide/good", accept(n_segments(4)))
def _(d):
    return wide(d, WIDE)


@case("wide/no-segment-columns", error(match="segment column"))
def _(d):
    return wide(d, lines(("dyad", "session"), "d1,s1"))


@case("wide/duplicated-column-names", error(match="duplicate"))
def _(d):
    return wide(d, lines(("dyad", "session", "t1", "t1"), "d1,s1,a,b"))


@case("wide/huge-trailing-integer", error(match="segment"))
def _(d):
    return wide(d, lines(("dyad", "session", "t1", "t99999999999999999999999"), "d1,s1,a,b"))


@case("wide/same-trailing-integer", error(match="duplicate key"))
def _(d):
    return wide(d, lines(("dyad", "session", "t1", "x1"), "d1,s1,a,b"))


@case("wide/nul-in-cell", error(match="control character"))
def _(d):
    return wide(d, lines(("dyad", "session", "t1", "t2"), "d1,s1,a,b\x00"))


@case("wide/ten-thousand-segment-columns", error("LimitError", match="max_columns"))
def _(d):
    names = [f"t{i}" for i in range(1, 10_001)]
    return wide(d, lines(("dyad", "session", *names), ("d1", "s1", *(["a", "b"] * 5000))))


@case("wide/three-thousand-segment-columns", accept(n_segments(3_000)))
def _(d):
    names = [f"t{i}" for i in range(1, 3_001)]
    return wide(d, lines(("dyad", "session", *names), ("d1", "s1", *(["a", "b"] * 1500))))
