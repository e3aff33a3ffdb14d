"""What values alone do not show: formulas, merged cells, hidden rows and sheet states.

Read from the raw parts with regular expressions (no XML parser, so nothing to
expand), after :mod:`workbook.ooxml.zipguard` has bounded every part and refused DTDs.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import join, normpath
from xml.sax.saxutils import unescape


@dataclass
class SheetScan:
    formulas: set[str] = field(default_factory=set)
    merges: list[str] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)


@dataclass
class BookScan:
    states: dict[str, str] = field(default_factory=dict)  # sheet name → visible/hidden/veryHidden
    parts: dict[str, str] = field(default_factory=dict)  # sheet name → part path
    sheets: dict[str, SheetScan] = field(default_factory=dict)


_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')


def _attrs(tag: bytes) -> dict[str, str]:
    """Attributes by local name; the relationship id (r:id) as "rid"."""
    out = {}
    for key, value in _ATTR.findall(tag):
        name = "rid" if key.endswith(b":id") else key.decode().split(":")[-1]
        out[name] = unescape(value.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})
    return out


def scan_book(path: Path, wanted: tuple[str, ...], parts: dict[str, bytes] | None = None) -> BookScan:
    """Sheet states and part names from workbook.xml, and scans of the ``wanted`` sheets.

    ``parts`` holds the XML already read by :mod:`workbook.ooxml.zipguard` (DTDs
    already refused); anything missing there is read from the file.
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
        targets = {}
        for tag in _REL.findall(part("xl/_rels/workbook.xml.rels") or b""):
            a = _attrs(tag)
            target = a.get("Target", "")
            targets[a.get("Id")] = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
        for tag in _SHEET.findall(workbook):
            a = _attrs(tag)
            name = a.get("name", "")
            out.states[name] = a.get("state", "visible")
            out.parts[name] = targets.get(a.get("rid"), "")
        for name in wanted:
            xml = part(out.parts[name]) if out.parts.get(name) else None
            if xml is not None:
                out.sheets[name] = scan_sheet(xml)
    finally:
        if zf is not None:
            zf.close()
    return out


_FORMULA = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]{1,7})"[^>]*>\s*<(?:\w+:)?f\b')
_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b(?=[^>]*?\bhidden="(?:1|true)")[^>]*?\br="([0-9]{1,7})"')
_HIDDEN_ROW2 = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"[^>]*?\bhidden="(?:1|true)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z0-9:]{2,20})"')


def scan_sheet(xml: bytes) -> SheetScan:
    """Formulas, hidden rows and merges of a worksheet part.

    Regular expressions over bytes, not an XML parse: a unit sheet is scanned
    once per file and this runs in C. Excel writes ``<f>`` as a cell's first
    child (the schema's order), which is what the formula pattern relies on.
    """
    scan = SheetScan()
    # Substring tests (C speed) skip the patterns for what most sheets do not have.
    if b"<f" in xml or b":f" in xml:
        scan.formulas = {m.decode() for m in _FORMULA.findall(xml)}
    if b"hidden=" in xml:
        scan.hidden_rows = {int(r) for r in _HIDDEN_ROW.findall(xml)} | {int(r) for r in _HIDDEN_ROW2.findall(xml)}
    if b"mergeCell" in xml:
        scan.merges = [m.decode() for m in _MERGE.findall(xml)]
    return scan
