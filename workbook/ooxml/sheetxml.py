"""What values alone do not show: formulas, merged cells, hidden rows and sheet states.

Read from the raw parts with regular expressions (no XML parser, so nothing to
expand), after :mod:`workbook.ooxml.zipguard` has bounded every part and refused DTDs.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from posixpath import join, normpath
from typing import IO

from ..language.text import col_letter, col_number
from .numfmt import NumberFormats, read_number_formats, unescape_xml


@dataclass
class SheetScan:
    formulas: set[str] = field(default_factory=set)
    merges: list[str] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    styles: dict[str, int] = field(default_factory=dict)  # cell → style, for percent and date styles only


@dataclass
class BookScan:
    states: dict[str, str] = field(default_factory=dict)  # sheet name → visible/hidden/veryHidden
    parts: dict[str, str] = field(default_factory=dict)  # sheet name → part path
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    formats: NumberFormats = field(default_factory=NumberFormats)

    def hidden(self, name: str) -> bool:
        """Hidden or very hidden: Calc keeps a very hidden sheet hidden but writes it back as ``hidden``."""
        return self.states.get(name) in ("hidden", "veryHidden")


_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')


def _attrs(tag: bytes) -> dict[str, str]:
    """Attributes by local name; the relationship id (r:id) as "rid"."""
    out = {}
    for key, value in _ATTR.findall(tag):
        name = "rid" if key.endswith(b":id") else key.decode().split(":")[-1]
        out[name] = unescape_xml(value.decode("utf-8", "replace"))
    return out


def scan_book(path: Path | IO[bytes], wanted: tuple[str, ...], parts: dict[str, bytes] | None = None) -> BookScan:
    """Sheet states and part names from workbook.xml, and scans of the ``wanted`` sheets.

    ``parts`` holds the XML already read by :mod:`workbook.ooxml.zipguard` (DTDs
    already refused); anything missing there is read from the file (a path, or its bytes).
    """
    out = BookScan()
    parts = dict(parts or {})
    zf: zipfile.ZipFile | None = None

    def part(name: str) -> bytes | None:
        nonlocal zf
        if name.lower() in parts:
            return parts[name.lower()]
        if name in parts:
            return parts[name]
        if zf is None:
            zf = zipfile.ZipFile(path)
        real = {n.lower(): n for n in zf.namelist()}.get(name.lower())
        return zf.read(real) if real else None

    try:
        workbook = part("xl/workbook.xml")
        if workbook is None:
            raise ValueError("no workbook.xml")
        states, sheet_parts, styles = _book_index(workbook, part("xl/_rels/workbook.xml.rels") or b"")
        out.states, out.parts = dict(states), dict(sheet_parts)
        if wanted:  # read once per file, and only by those who read cells
            out.formats = read_number_formats(part(styles), workbook)
        for name in wanted:
            xml = part(out.parts[name]) if out.parts.get(name) else None
            if xml is not None:
                out.sheets[name] = scan_sheet(xml, out.formats.special)
    finally:
        if zf is not None:
            zf.close()
    return out


@lru_cache(maxsize=32)  # the files of one batch mostly share these two parts: parsed once
def _book_index(workbook: bytes, rels: bytes) -> tuple[dict[str, str], dict[str, str], str]:
    """Sheet name → state, sheet name → part path, and the styles part, from workbook.xml and its rels."""
    targets: dict[str | None, str] = {}
    styles = "xl/styles.xml"
    for tag in _REL.findall(rels):
        a = _attrs(tag)
        target = a.get("Target", "")
        targets[a.get("Id")] = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
        if a.get("Type", "").endswith("/styles"):
            styles = targets[a.get("Id")]
    states, parts = {}, {}
    for tag in _SHEET.findall(workbook):
        a = _attrs(tag)
        name = a.get("name", "")
        states[name] = a.get("state", "visible")
        parts[name] = targets.get(a.get("rid"), "")
    return states, parts, styles


_FORMULA = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]{1,7})"[^>]*>\s*<(?:\w+:)?f\b')
_HIDDEN = re.compile(rb'hidden="(?:1|true)"')
_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b(?=[^>]*?\bhidden="(?:1|true)")[^>]*?\br="([0-9]{1,7})"')
_HIDDEN_ROW2 = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"[^>]*?\bhidden="(?:1|true)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z0-9:]{2,20})"')


def scan_sheet(xml: bytes, styles: frozenset[int] = frozenset()) -> SheetScan:
    """Formulas, hidden rows, merges and the cells with one of ``styles`` of a worksheet part.

    Regular expressions over bytes, not an XML parse: a unit sheet is scanned
    once per file and this runs in C. Excel writes ``<f>`` as a cell's first
    child (the schema's order), which is what the formula pattern relies on.
    """
    scan = SheetScan()
    # Substring tests (C speed) skip the patterns for what most sheets do not have.
    if _F_NAME.search(xml):
        scan.formulas = {m.decode() for m in _FORMULA.findall(xml)}
    if _HIDDEN.search(xml):  # (Calc writes hidden="false" on every row and column)
        scan.hidden_rows = {int(r) for r in _HIDDEN_ROW.findall(xml)} | {int(r) for r in _HIDDEN_ROW2.findall(xml)}
    first = xml.find(b"mergeCell")
    if first >= 0:
        # A match starts at the "<" right before its element name: none before the one that opens the
        # first "mergeCell" (after the sheet data, where Excel writes them), so the search starts there.
        scan.merges = [m.decode() for m in _MERGE.findall(xml, max(xml.rfind(b"<", 0, first), 0))]
    if styles:
        scan.styles = styled_cells(xml, styles)
    return scan


# An element named f, unprefixed or prefixed (<f>, <x:f>): every sheet of an issued form has <formula1>
# (its data validations), which a plain substring test would take for a formula. One search from the
# "f", rarer in sheet XML than "<" or ":", looking back at the byte before it: a literal start keeps
# the search in C, and this one pass costs less than one search for "<f" (a class of characters first
# would cost several times more).
_F_NAME = re.compile(rb"f(?!\w)(?<=[<:]f)")


def styled_cells(xml: bytes, styles: frozenset[int]) -> dict[str, int]:
    """Cell → style for the cells with one of ``styles``.

    Every program writes ``s`` right after ``r`` (``<c r="H4" s="7"``), which a
    pattern with a literal start finds fast; when the count of those styles
    says some cell was written otherwise, a slower pattern takes any order.
    """
    after_ref, styled, any_order = _style_patterns(styles)
    found = after_ref.findall(xml)
    if len(found) != len(styled.findall(xml)):  # one pass, not one count per style
        found = [(m.group(2), m.group(1)) for m in any_order.finditer(xml)]
    return {ref.decode(): int(style) for ref, style in found}


@lru_cache(maxsize=32)  # one program, one set of styles: the patterns are made once per batch
def _style_patterns(styles: frozenset[int]) -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    ids = b"|".join(b"%d" % s for s in sorted(styles))
    return (re.compile(rb'r="([A-Z]{1,3}[0-9]{1,7})" s="(' + ids + rb')"'), re.compile(rb' s="(?:' + ids + rb')"'),
            re.compile(rb'<(?:\w+:)?c\b(?=[^>]*?\ss="(' + ids + rb')")[^>]*?\sr="([A-Z]{1,3}[0-9]{1,7})"'))


_ROW_OR_CELL = re.compile(rb"<((?:\w+:)?(?:row|c))(?=[\s/>])([^>]*)>")
# An r attribute however written (quotes, spaces): what a parser of the file would read.
_ANY_REF = re.compile(rb"""\sr\s*=\s*(?:"([A-Z]{0,3})([0-9]{0,7})"|'([A-Z]{0,3})([0-9]{0,7})')""")


def with_refs(xml: bytes) -> bytes:
    """The part with a plain ``r="…"`` first on every row and cell, so position-based scans work.

    ``r`` is optional (ECMA-376 Part 1 §18.3.1.73, §18.3.1.4): without it a row
    follows the previous row and a cell the previous cell of its row, as
    spreadsheet programs read them; an ``r`` written with other quotes or
    spacing is read as a parser would.
    """
    row = col = 0

    def fix(m: re.Match[bytes]) -> bytes:
        nonlocal row, col
        name, attrs = m.group(1), m.group(2)
        found = _ANY_REF.search(attrs)
        letters, digits = (found.group(1) or found.group(3) or b"", found.group(2) or found.group(4) or b"") \
            if found else (b"", b"")
        rest = attrs[:found.start()] + attrs[found.end():] if found else attrs
        if name.endswith(b"row"):
            row, col = (int(digits) if digits else row + 1), 0
            return b'<%s r="%d"%s>' % (name, row, rest)
        col = col_number(letters.decode()) if letters else col + 1
        if digits:
            row = int(digits)
        return b'<%s r="%s%d"%s>' % (name, col_letter(col).encode(), row, rest)

    return _ROW_OR_CELL.sub(fix, xml)
