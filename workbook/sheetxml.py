"""What values alone do not show: formulas, merged cells, hidden rows and sheet states.

Read from the raw parts with defusedxml (no DTDs, no entities), after
:mod:`workbook.zipguard` has bounded every part.
"""

from __future__ import annotations

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


def scan_book(path: Path, wanted: tuple[str, ...]) -> BookScan:
    out = BookScan()
    with zipfile.ZipFile(path) as zf:
        names = {n.lower(): n for n in zf.namelist()}
        workbook = DET.fromstring(zf.read(names["xl/workbook.xml"]))
        rels_name = names.get("xl/_rels/workbook.xml.rels")
        targets = {}
        if rels_name:
            for rel in DET.fromstring(zf.read(rels_name)).iter(f"{_NS_PKG_REL}Relationship"):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
                targets[rel.get("Id")] = target
        for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
            name = sheet.get("name", "")
            out.states[name] = sheet.get("state", "visible")
            part = targets.get(sheet.get(f"{_NS_REL}id"), "")
            out.parts[name] = part
        for name in wanted:
            part = out.parts.get(name)
            if part and part.lower() in names:
                out.sheets[name] = scan_sheet(zf.read(names[part.lower()]))
    return out


def scan_sheet(xml: bytes) -> SheetScan:
    scan = SheetScan()
    root = DET.fromstring(xml)
    for row in root.iter(f"{_NS_MAIN}row"):
        if row.get("hidden") in ("1", "true"):
            scan.hidden_rows.add(int(row.get("r", "0")))
        for cell in row.iter(f"{_NS_MAIN}c"):
            if cell.find(f"{_NS_MAIN}f") is not None:
                scan.formulas.add(cell.get("r", ""))
    for merge in root.iter(f"{_NS_MAIN}mergeCell"):
        scan.merges.append(merge.get("ref", ""))
    return scan
