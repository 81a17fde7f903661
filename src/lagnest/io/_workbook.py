"""A look inside an ``.xlsx`` file before a spreadsheet library parses it.

An ``.xlsx`` file is a zip archive of XML parts. :func:`inspect_workbook` reads only the
zip directory and the small parts that name the sheets (their declared sizes bounded
first), so that a reader can refuse, before anything large is decompressed, a file that is
not a workbook or whose parts would expand beyond a limit (a zip bomb). Every reader of an
``.xlsx`` file (tables, BORIS exports, the format sniffing of ``convert``) inspects it
first. :func:`cell_problems` scans the XML of the sheets
that will be read for what openpyxl would silently turn into empty cells: formulas whose
result was never saved, and merged cells.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from lagnest.errors import DataProblem, LagnestDataError
from lagnest.io._limits import over_limit

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_CONTENT_TYPES = "[Content_Types].xml"
_WORKSHEET_TYPE = ".worksheet+xml"
#: Largest part read to find the sheets (workbook.xml and its relationships).
_SMALL_PART = 16 << 20
_CHUNK = 4 << 20
_OVERLAP = 64 << 10
_FORMULA_CELL = re.compile(
    rb"<c\b([^>]*)>\s*<f\b(?:[^>]*/>|[^>]*>(.*?)</f>)\s*(<v\b[^>]*?(?:/>|>(.*?)</v>))?",
    re.DOTALL,
)
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(?:\s*<f\b.*?(?:/>|</f>))?\s*<v>([^<]*)</v>',
                         re.DOTALL)
#: Excel's error value that means "not available": read as missing, like ``NA``.
_MISSING_ERROR = b"#N/A"
_MERGED = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_EXPECTED = "an .xlsx workbook (Excel 2007 or later, not encrypted)"


@dataclass
class CellProblems:
    """What openpyxl would read as empty cells in one sheet, found in its XML.

    ``formulas``: ``(reference, formula)`` of formula cells without a saved value (never
    calculated: written by a program, not by Excel); ``errors``: ``(reference, error)`` of
    cells holding an Excel error other than ``#N/A``; ``merged``: merged ranges.
    """

    formulas: list[tuple[str, str]]
    errors: list[tuple[str, str]]
    merged: list[str]


@dataclass(frozen=True)
class Workbook:
    """Sheet names in order and the zip part of each sheet."""

    sheets: tuple[str, ...]
    parts: dict[str, str]


def _fail(path: Path, message: str) -> LagnestDataError:
    return LagnestDataError(DataProblem(message, file=str(path), expected=_EXPECTED))


def _small_xml(archive: zipfile.ZipFile, name: str, path: Path) -> ElementTree.Element:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _fail(path, f"not an Excel workbook: the part {name!r} is missing") from None
    if info.file_size > _SMALL_PART:
        raise _fail(path, f"the part {name!r} is implausibly large ({info.file_size:,} bytes)")
    try:
        return ElementTree.fromstring(archive.read(info))
    except (ElementTree.ParseError, zipfile.BadZipFile, ValueError, OSError) as err:
        raise _fail(path, f"the part {name!r} cannot be read: {err}") from None


def _relationships(archive: zipfile.ZipFile, name: str, path: Path) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target) of a ``.rels`` part."""
    root = _small_xml(archive, name, path)
    return {
        rel.get("Id", ""): (rel.get("Type", ""), rel.get("Target", ""))
        for rel in root.iter(f"{_PKG_NS}Relationship")
    }


def _other_content(archive: zipfile.ZipFile, path: Path) -> set[str]:
    """Parts ``[Content_Types].xml`` declares as something other than a worksheet.

    openpyxl finds shared strings, styles, ... by these declarations, whatever the
    workbook's relationships say.
    """
    if _CONTENT_TYPES not in archive.NameToInfo:
        return set()
    root = _small_xml(archive, _CONTENT_TYPES, path)
    return {
        node.get("PartName", "").lstrip("/")
        for node in root.iter(f"{_CT_NS}Override")
        if not node.get("ContentType", "").endswith(_WORKSHEET_TYPE)
    }


def _check_total(total: int, max_bytes: int, path: Path) -> None:
    """The declared uncompressed bytes of the parts to parse against ``max_workbook_bytes``."""
    if total <= max_bytes:
        return
    try:
        packed = f" (from a file of {path.stat().st_size:,} bytes)"
    except OSError:
        packed = ""
    over_limit(
        total,
        max_bytes,
        "max_workbook_bytes",
        "the workbook's parts to parse hold {count} bytes of XML once decompressed" + packed,
        file=str(path),
    )


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def inspect_workbook(path: Path, max_bytes: int, read: list[str] | None = None) -> Workbook:
    """The sheets of a workbook; refuse what is not one, or too large once decompressed.

    Parameters
    ----------
    path : Path
    max_bytes : int
        Most uncompressed bytes of the parts openpyxl parses: every part but the sheets
        not in ``read`` (None: every sheet).
    read : list of str, optional
        The sheets that will be read.

    Returns
    -------
    Workbook

    Raises
    ------
    LagnestDataError
        Not an ``.xlsx`` workbook (an old ``.xls`` or an encrypted file, another zip file,
        a truncated file).
    LimitError
        The parts to parse exceed ``max_bytes``.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise _fail(path, "an old .xls workbook or an encrypted .xlsx (an OLE file)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise _fail(path, f"not an Excel workbook (.xlsx is a zip archive): {err}") from None
    with archive:
        # From the zip directory alone, before any part is decompressed: the parts'
        # declared sizes (zipfile never inflates a part beyond its declared size).
        sizes = {i.filename: i.file_size for i in archive.infolist()}
        if read is None:  # every part is parsed
            _check_total(sum(sizes.values()), max_bytes, path)
        root = _small_xml(archive, "_rels/.rels", path)
        book_part = next(
            (
                r.get("Target", "").lstrip("/")
                for r in root.iter(f"{_PKG_NS}Relationship")
                if r.get("Type", "").endswith("/officeDocument")
            ),
            None,
        )
        if book_part is None:
            raise _fail(path, "not an Excel workbook: no workbook part")
        book = _small_xml(archive, book_part, path)
        rel_name = posixpath.join(
            posixpath.dirname(book_part), "_rels", posixpath.basename(book_part) + ".rels"
        )
        targets = _relationships(archive, rel_name, path)
        sheets, parts = [], {}
        for node in book.iter(f"{_MAIN_NS}sheet"):
            name = node.get("name", "")
            sheets.append(name)
            parts[name] = _resolve(
                book_part, targets.get(node.get(f"{_REL_NS}id", ""), ("", ""))[1]
            )
        if not sheets:
            raise _fail(path, "the workbook has no sheet")
        skipped: set[str] = set()
        if read is not None:
            # a part is left out only if nothing that is parsed may read it: no sheet that
            # is read, no other relationship of the workbook, no content-type declaration
            skipped = {parts[s] for s in sheets if s not in read}
            skipped -= {parts[s] for s in sheets if s in read}
            skipped -= {_resolve(book_part, target) for kind, target in targets.values()
                        if not kind.endswith("/worksheet")}
            if skipped:
                skipped -= _other_content(archive, path)
        _check_total(sum(v for k, v in sizes.items() if k not in skipped), max_bytes, path)
    return Workbook(tuple(sheets), parts)


def cell_problems(path: Path, part: str, source: str) -> CellProblems:
    """Formula cells without a saved value, error cells and merged ranges of a sheet part.

    A formula's value is missing when the cell has no ``<v>``, or an empty one while its
    type is not text (Excel saves an empty text result as ``t="str"`` and ``<v></v>``;
    openpyxl writes ``<v />`` for formulas it cannot calculate).
    """
    found = CellProblems([], [], [])
    seen: set[bytes] = set()
    try:
        with zipfile.ZipFile(path) as archive, archive.open(part) as fh:
            tail = b""
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk and not tail:
                    break
                text = tail + chunk
                # a match ending near the end of the text may be cut: the next pass sees it
                end = len(text) - _OVERLAP // 2 if chunk else len(text)
                if b"<f" in text:
                    for m in _FORMULA_CELL.finditer(text):
                        ref = _REF.search(m.group(1))
                        saved = m.group(3) is not None and (
                            bool(m.group(4)) or b't="str"' in m.group(1)
                        )
                        if m.end() > end or saved or ref is None or ref.group(0) in seen:
                            continue
                        seen.add(ref.group(0))
                        formula = (m.group(2) or b"").decode("utf-8", "replace")
                        found.formulas.append(((ref.group(1) + ref.group(2)).decode(), formula))
                if b't="e"' in text:
                    for m in _ERROR_CELL.finditer(text):
                        ref = _REF.search(m.group(1))
                        if m.end() > end or ref is None or ref.group(0) in seen:
                            continue
                        seen.add(ref.group(0))
                        if m.group(2).strip() != _MISSING_ERROR:
                            found.errors.append(
                                ((ref.group(1) + ref.group(2)).decode(), m.group(2).decode())
                            )
                found.merged += [m.group(1).decode() for m in _MERGED.finditer(text)]
                if not chunk:
                    break
                tail = text[-_OVERLAP:]
    except (KeyError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise LagnestDataError(
            DataProblem(f"the sheet's part {part!r} cannot be read: {err}", file=source)
        ) from None
    found.merged = list(dict.fromkeys(found.merged))
    return found


def column_index(letters: str) -> int:
    """0-based column of spreadsheet letters (``A`` -> 0, ``AA`` -> 26)."""
    out = 0
    for ch in letters:
        out = out * 26 + ord(ch) - ord("A") + 1
    return out - 1
