"""Hostile Excel workbooks for ``read_table`` (and ``read_boris``)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

import lagnest as ln
from tests.hostile.harness import PyCall, accept, case, error, write

HEADER = ["dyad", "session", "segment", "code"]
ROWS = [["d1", "s1", 1, "a"], ["d1", "s1", 2, "b"], ["d2", "s2", 1, "a"]]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def workbook(folder: Path, sheets: dict[str, list[list]], name: str = "x.xlsx") -> str:
    """Write a workbook with openpyxl (a formula is a string starting with '=')."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = folder / name
    book.save(path)
    return str(path)


def patch(path: str, parts: dict[str, bytes | Callable[[bytes], bytes]]) -> str:
    """Rewrite zip members of ``path`` (a callable gets the old bytes)."""
    with zipfile.ZipFile(path) as old:
        members = {i.filename: old.read(i) for i in old.infolist()}
    for name, new in parts.items():
        members[name] = new(members[name]) if callable(new) else new
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return path


def read(path: str, **kwargs) -> PyCall:
    return PyCall(ln.read_table, (path,), kwargs, file=path)


def good(folder: Path) -> str:
    return workbook(folder, {"segments": [HEADER, *ROWS]})


@case("excel/good", accept(lambda s: s.n_segments == 3))
def _(d):
    return read(good(d))


@case("excel/text-renamed", error(match="Excel|xlsx|zip"))
def _(d):
    return read(write(d / "x.xlsx", "dyad,session,segment,code\nd1,s1,1,a\n"))


@case("excel/empty-file", error())
def _(d):
    return read(write(d / "x.xlsx", b""))


@case("excel/truncated", error())
def _(d):
    path = good(d)
    data = Path(path).read_bytes()
    return read(write(Path(path), data[: len(data) // 2]))


@case("excel/zip-of-something-else", error())
def _(d):
    path = d / "x.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return read(str(path))


@case("excel/old-xls-or-encrypted", error(match="xls|encrypted|OLE"))
def _(d):
    return read(write(d / "x.xlsx", OLE_MAGIC + bytes(4000)))


def _bomb_sheet(rows: int) -> tuple[bytes, bytes, int, bytes]:
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main"><sheetData>'
    )
    return head, b"<row><c><v>1</v></c></row>", rows, b"</sheetData></worksheet>"


@case("excel/zip-bomb-sheet", error("LimitError", match="max_workbook_bytes"))
def _(d):
    path = good(d)
    sheet = next(
        n for n in zipfile.ZipFile(path).namelist() if n.startswith("xl/worksheets/sheet")
    )
    with zipfile.ZipFile(path) as old:
        members = {i.filename: old.read(i) for i in old.infolist() if i.filename != sheet}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, blob in members.items():
            out.writestr(name, blob)
        _stream(out, sheet, *_bomb_sheet(12_000_000))  # 312 MB of XML in under 1 MB
    return read(path)


def _stream(archive: zipfile.ZipFile, name: str, head: bytes, unit: bytes, n: int,
            tail: bytes) -> None:
    """Write ``head + unit * n + tail`` as a member without holding it in memory."""
    block = unit * 40_000
    with archive.open(name, "w", force_zip64=True) as fh:
        fh.write(head)
        for _ in range(n // 40_000):
            fh.write(block)
        fh.write(unit * (n % 40_000))
        fh.write(tail)


@case("excel/shared-strings-bomb", error("LimitError", match="max_workbook_bytes"))
def _(d):
    path = workbook(d, {"segments": [HEADER, *ROWS]})
    names = zipfile.ZipFile(path).namelist()
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main">'
    )
    target = "xl/sharedStrings.xml"
    if target not in names:
        ctypes = zipfile.ZipFile(path).read("[Content_Types].xml").replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        patch(path, {"[Content_Types].xml": ctypes})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        _stream(z, target, head, b"<si><t>" + b"a" * 36 + b"</t></si>", 6_000_000, b"</sst>")
    return read(path)


@case("excel/formula-without-saved-value", error(match=r"formula.*(D2|row 1)"))
def _(d):
    return read(workbook(d, {"segments": [HEADER, ["d1", "s1", 1, '="a"&"b"'], ROWS[1]]}))


@case("excel/formula-with-saved-value", accept(lambda s: "ab" in s.streams["code"].codes))
def _(d):
    path = workbook(d, {"segments": [HEADER, ["d1", "s1", 1, '="a"&"b"'], ROWS[1]]})

    def add_value(xml: bytes) -> bytes:
        return re.sub(rb"(<c r=\"D2\"[^>]*?)(?: t=\"\w+\")?>(<f>.*?</f>)(<v\s*/>|<v></v>)?",
                      rb'\1 t="str">\2<v>ab</v>', xml)

    sheet = next(n for n in zipfile.ZipFile(path).namelist() if "worksheets/sheet" in n)
    return read(patch(path, {sheet: add_value}))


@case("excel/duplicated-header", error(match="duplicate"))
def _(d):
    return read(workbook(d, {"segments": [[*HEADER, "code"], ["d1", "s1", 1, "a", "b"]]}))


@case("excel/empty-header-cell-with-data", error(match="no name"))
def _(d):
    return read(workbook(d, {"segments": [[*HEADER, None], ["d1", "s1", 1, "a", "x"]]}))


@case("excel/sheet-name-missing", error(match="sheet"))
def _(d):
    return read(good(d), sheet="nope")


@case("excel/sheet-index-out-of-range", error(match="sheet"))
def _(d):
    return read(good(d), sheet=99)


@case("excel/merged-cells", error(match="merged"))
def _(d):
    path = workbook(d, {"segments": [HEADER, *ROWS]})
    book = openpyxl.load_workbook(path)
    book["segments"].merge_cells("A2:A3")
    book.save(path)
    return read(path)


@case("excel/date-as-segment-number", error(match="segment"))
def _(d):
    import datetime

    rows = [HEADER, ["d1", "s1", datetime.datetime(2024, 1, 5), "a"], ROWS[1]]
    return read(workbook(d, {"segments": rows}))


@case("excel/error-cell-in-rating", error(match="rating"))
def _(d):
    path = workbook(d, {"segments": [[*HEADER, "score"], ["d1", "s1", 1, "a", 2]]})
    sheet = next(n for n in zipfile.ZipFile(path).namelist() if "worksheets/sheet" in n)
    return read(patch(path, {sheet: lambda x: re.sub(
        rb'<c r="E2"[^>]*>.*?</c>', b'<c r="E2" t="e"><v>#DIV/0!</v></c>', x)}), ratings=["score"])


@case("excel/control-character-in-label", error(match="control character"))
def _(d):
    path = workbook(d, {"segments": [HEADER, ["d1", "s1", 1, "a_x"], ROWS[1]]})
    sheet = next(n for n in zipfile.ZipFile(path).namelist() if "worksheets/sheet" in n)
    return read(patch(path, {sheet: lambda x: x.replace(b"a_x", b"a&#9;x")}))


@case("excel/invalid-xml-nul", error())
def _(d):
    path = good(d)
    sheet = next(n for n in zipfile.ZipFile(path).namelist() if "worksheets/sheet" in n)
    return read(patch(path, {sheet: lambda x: x.replace(b"<sheetData>", b"<sheetData>\x00")}))


@case("excel/billion-laughs", error())
def _(d):
    path = good(d)
    sheet = next(n for n in zipfile.ZipFile(path).namelist() if "worksheets/sheet" in n)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    return read(patch(path, {sheet: laughs}))


@case("excel/lying-dimension", accept(lambda s: s.n_segments == 3))
def _(d):
    path = good(d)
    sheet = next(n for n in zipfile.ZipFile(path).namelist() if "worksheets/sheet" in n)
    return read(patch(path, {sheet: lambda x: re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', x)}))


@case("excel/three-hundred-sheets", accept(lambda s: s.n_segments == 3))
def _(d):
    sheets = {"segments": [HEADER, *ROWS]}
    sheets.update({f"extra{i}": [["x"] * 5] * 5 for i in range(300)})
    return read(workbook(d, sheets))


@case("excel/sessions-sheet-duplicated-header", error(match="duplicate"))
def _(d):
    sessions = [["session", "x", "x"], ["s1", 1, 2], ["s2", 3, 4]]
    return read(workbook(d, {"segments": [HEADER, *ROWS], "sessions": sessions}))


@case("excel/metadata-sheet-broken", error(match="metadata"))
def _(d):
    return read(workbook(d, {"segments": [HEADER, *ROWS], "lagnest": [["lagnest"], ["{oops"]]}))
