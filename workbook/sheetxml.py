"""What values alone do not show: formulas, merged cells, hidden rows and sheet states.

Read from the raw parts with defusedxml (no DTDs, no entities), after
:mod:`workbook.zipguard` has bounded every part.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import join, normpath

from defusedxml import ElementTree as DET

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


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


def scan_book(path: Path, wanted: tuple[str, ...], parts: dict[str, bytes] | None = None) -> BookScan:
    """Sheet states and part names from workbook.xml, and scans of the ``wanted`` sheets.

    ``parts`` holds the XML already read by :mod:`workbook.zipguard`; anything
    missing there is read from the file.
    """
    out = BookScan()
    parts = dict(parts or {})
    with zipfile.ZipFile(path) as zf:
        names = {n.lower(): n for n in zf.namelist()}

        def part(name: str) -> bytes | None:
            if name in parts:
                return parts[name]
            real = names.get(name.lower())
            return zf.read(real) if real else None

        workbook = DET.fromstring(part("xl/workbook.xml"))
        rels = part("xl/_rels/workbook.xml.rels")
        targets = {}
        for rel in (DET.fromstring(rels).iter(f"{_NS_PKG_REL}Relationship") if rels else ()):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            targets[rel.get("Id")] = target
        for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
            name = sheet.get("name", "")
            out.states[name] = sheet.get("state", "visible")
            out.parts[name] = targets.get(sheet.get(f"{_NS_REL}id"), "")
        for name in wanted:
            xml = part(out.parts[name]) if out.parts.get(name) else None
            if xml is not None:
                out.sheets[name] = scan_sheet(xml)
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
    scan.formulas = {m.decode() for m in _FORMULA.findall(xml)}
    scan.hidden_rows = {int(r) for r in _HIDDEN_ROW.findall(xml)} | {int(r) for r in _HIDDEN_ROW2.findall(xml)}
    scan.merges = [m.decode() for m in _MERGE.findall(xml)]
    return scan
