"""Writing only the cells that change in an .xlsx, copying everything else byte for byte.

openpyxl rewrites a whole workbook from its own model and silently drops what it
does not model (x14 data validations and conditional formats, sparklines,
slicers, pivot caches, VBA in a macro-enabled master, shapes staff drew). The
master is the office's ledger, so collect and split patch the cells of the
sheets they own and leave every other byte as it was.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ..language.text import EXCEL_EPOCH, col_letter, col_number
from .sheetxml import scan_book

_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?(?:/>|>.*?</(?:\w+:)?c>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})?([0-9]+)"')
_ATTR_S = re.compile(rb'\bs="([0-9]+)"')
_SHEETDATA = re.compile(rb"<((?:\w+:)?)sheetData\s*/>|<((?:\w+:)?)sheetData\b[^>]*>(.*?)</(?:\w+:)?sheetData>", re.S)
_DIMENSION = re.compile(rb'(<(?:\w+:)?dimension\b[^>]*?\bref=")([^"]*)(")')
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is|f)\b")
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4})_")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass
class SheetEdits:
    """Cell values to set, by (row, column) both 1-based, and rows to append after the last one."""

    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    append: list[list[Any]] = field(default_factory=list)
    formats: dict[int, str] = field(default_factory=dict)  # column → number format for its written values


class PatchError(Exception):
    """The workbook cannot be patched in place (e.g. a sheet is missing): fall back or refuse."""


def patch_workbook(src: Path, dst: Path, edits: dict[str, SheetEdits]) -> None:
    """Write ``dst``: ``src`` with ``edits`` applied to the named sheets, every other part unchanged."""
    scan = scan_book(src, ())
    parts = {}
    for name in edits:
        if name not in scan.parts or not scan.parts[name]:
            raise PatchError(f"sheet {name} not found")
        parts[scan.parts[name]] = name
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        data = {i.filename: zin.read(i.filename) for i in infos}
    styles = _Styles(data.get("xl/styles.xml"))
    for part, name in parts.items():
        data[part] = _patch_sheet(data[part], edits[name], styles)
    if styles.changed:
        data["xl/styles.xml"] = styles.xml
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, data[info.filename], compress_type=info.compress_type)


def _patch_sheet(xml: bytes, edits: SheetEdits, styles: "_Styles") -> bytes:
    m = _SHEETDATA.search(xml)
    if m is None:
        raise PatchError("no sheetData")
    prefix = (m.group(1) if m.group(1) is not None else m.group(2)) or b""
    body = m.group(3) or b""
    rows: dict[int, bytes] = {}
    order: list[int] = []
    for rm in _ROW.finditer(body):
        r = int(_ATTR_R.search(rm.group(0)[: rm.group(0).find(b">") + 1]).group(2))
        rows[r] = rm.group(0)
        order.append(r)
    # Trailing rows that hold only styles (a frozen pane's anchor, formatting) are not data.
    filled = [r for r in order if _VALUE.search(rows[r])]
    last = max(filled) if filled else 0
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), value in edits.cells.items():
        by_row.setdefault(r, {})[c] = value
    # New rows look like the last one; below a lone header, like the empty row prepared under it.
    template = _row_styles(rows.get(last, b"") if last > 1 else rows.get(2, b""))
    for i, values in enumerate(edits.append, start=1):
        by_row[last + i] = {c: v for c, v in enumerate(values, start=1)}
    max_col = 0
    for r, cells in by_row.items():
        max_col = max(max_col, max(cells))
        new_row = r > last
        rows[r] = _patch_row(rows.get(r), r, cells, prefix, styles, edits.formats,
                             template if new_row else {})
    new_body = b"".join(rows[r] for r in sorted(rows))
    tag = prefix + b"sheetData"
    xml = xml[: m.start()] + b"<" + tag + b">" + new_body + b"</" + tag + b">" + xml[m.end():]
    return _grow_dimension(xml, max(rows) if rows else 1, max_col)


def _cells(row: bytes) -> dict[int, bytes]:
    """The cells of a row element by column number."""
    out = {}
    for cm in _CELL.finditer(row, row.find(b">") + 1):
        ref = _ATTR_R.search(cm.group(0)[: cm.group(0).find(b">") + 1])
        if ref and ref.group(1):
            out[col_number(ref.group(1).decode())] = cm.group(0)
    return out


def _style(cell: bytes) -> int | None:
    m = _ATTR_S.search(cell[: cell.find(b">") + 1])
    return int(m.group(1)) if m else None


def _row_styles(row: bytes) -> dict[int, int]:
    styles = {c: _style(cell) for c, cell in _cells(row).items()}
    return {c: s for c, s in styles.items() if s is not None}


def _patch_row(row: bytes | None, r: int, values: dict[int, Any], prefix: bytes, styles: "_Styles",
               formats: dict[int, str], template: dict[int, int]) -> bytes:
    cells: dict[int, bytes] = {}
    head = b"<" + prefix + b'row r="' + str(r).encode() + b'">'
    if row is not None:
        head = re.sub(rb'\s+spans="[^"]*"', b"", row[: row.find(b">") + 1])
        if head.endswith(b"/>"):
            head = head[:-2] + b">"
        cells = _cells(row)
    for c, value in values.items():
        style = _style(cells[c]) if c in cells else template.get(c)
        cells[c] = _cell(f"{col_letter(c)}{r}", value, style, prefix, styles, formats.get(c))
    return head + b"".join(cells[c] for c in sorted(cells)) + b"</" + prefix + b"row>"


def _cell(ref: str, value: Any, style: int | None, prefix: bytes, styles: "_Styles", fmt: str | None) -> bytes:
    if isinstance(value, (dt.date, dt.datetime)):
        fmt = fmt or (DATETIME_FORMAT if isinstance(value, dt.datetime) else DATE_FORMAT)
    if fmt and value is not None:
        style = styles.with_format(style or 0, fmt)
    s = f' s="{style}"' if style else ""
    c = prefix.decode() + "c"
    if value is None or value == "":
        return f'<{c} r="{ref}"{s}/>'.encode()
    if isinstance(value, bool):
        return f'<{c} r="{ref}"{s} t="b"><{prefix.decode()}v>{int(value)}</{prefix.decode()}v></{c}>'.encode()
    if isinstance(value, (dt.date, dt.datetime)):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        value = (moment - dt.datetime.combine(EXCEL_EPOCH, dt.time())).total_seconds() / 86400
    if isinstance(value, (int, float)):
        return f'<{c} r="{ref}"{s}><{prefix.decode()}v>{value!r}</{prefix.decode()}v></{c}>'.encode()
    text = _ESCAPED.sub(r"_x005F_\1_", str(value))  # Excel reads _xHHHH_ as an escape
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
    p = prefix.decode()
    return (f'<{c} r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{escape(text)}</{p}t>'
            f"</{p}is></{c}>").encode()


def _grow_dimension(xml: bytes, rows: int, cols: int) -> bytes:
    m = _DIMENSION.search(xml)
    if not m:
        return xml
    ref = m.group(2).decode()
    end = ref.split(":")[-1]
    letters = re.match(r"[A-Z]*", end).group(0)
    digits = end[len(letters):]
    max_row = max(rows, int(digits) if digits else 1)
    max_col = max(cols, col_number(letters) if letters else 1)
    start = ref.split(":")[0] if ":" in ref else "A1"
    new = f"{start}:{col_letter(max_col)}{max_row}".encode()
    return xml[: m.start(2)] + new + xml[m.end(2):]


class _Styles:
    """Derives cell formats (a base style plus a number format) in styles.xml, appending only."""

    _XFS = re.compile(rb"(<(?:\w+:)?cellXfs\b[^>]*>)(.*?)(</(?:\w+:)?cellXfs>)", re.S)
    _XF = re.compile(rb"<(?:\w+:)?xf\b[^>]*?(?:/>|>.*?</(?:\w+:)?xf>)", re.S)
    _NUMFMTS = re.compile(rb"(<(?:\w+:)?numFmts\b[^>]*>)(.*?)(</(?:\w+:)?numFmts>)", re.S)
    _NUMFMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?numFmtId="([0-9]+)"[^>]*?formatCode="([^"]*)"')

    def __init__(self, xml: bytes | None) -> None:
        self.xml = xml or b""
        self.changed = False
        self._cache: dict[tuple[int, str], int] = {}

    def with_format(self, base: int, fmt: str) -> int:
        key = (base, fmt)
        if key in self._cache:
            return self._cache[key]
        m = self._XFS.search(self.xml)
        if m is None:
            return base
        xfs = self._XF.findall(m.group(2))
        if base >= len(xfs):
            base = 0
        fmt_id = self._format_id(fmt)
        xf = xfs[base] if xfs else b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        if re.search(rb'numFmtId="%d"' % fmt_id, xf):
            self._cache[key] = base
            return base
        xf = re.sub(rb'numFmtId="[0-9]+"', b'numFmtId="%d"' % fmt_id, xf, count=1)
        if b"applyNumberFormat" in xf:
            xf = re.sub(rb'applyNumberFormat="[^"]*"', b'applyNumberFormat="1"', xf)
        else:
            xf = re.sub(rb"<((?:\w+:)?)xf\b", rb'<\1xf applyNumberFormat="1"', xf, count=1)
        m = self._XFS.search(self.xml)
        head = re.sub(rb'count="[0-9]+"', b'count="%d"' % (len(xfs) + 1), m.group(1))
        self.xml = self.xml[: m.start()] + head + m.group(2) + xf + m.group(3) + self.xml[m.end():]
        self.changed = True
        self._cache[key] = len(xfs)
        return len(xfs)

    def _format_id(self, fmt: str) -> int:
        code = escape(fmt, {'"': "&quot;"}).encode()
        m = self._NUMFMTS.search(self.xml)
        existing = self._NUMFMT.findall(m.group(2)) if m else []
        for fid, fcode in existing:
            if fcode == code:
                return int(fid)
        new_id = max([163] + [int(f) for f, _ in existing]) + 1
        entry = b'<numFmt numFmtId="%d" formatCode="%s"/>' % (new_id, code)
        if m:
            head = re.sub(rb'count="[0-9]+"', b'count="%d"' % (len(existing) + 1), m.group(1))
            self.xml = self.xml[: m.start()] + head + m.group(2) + entry + m.group(3) + self.xml[m.end():]
        else:
            at = re.search(rb"<(?:\w+:)?styleSheet\b[^>]*>", self.xml).end()
            self.xml = self.xml[:at] + b'<numFmts count="1">' + entry + b"</numFmts>" + self.xml[at:]
        self.changed = True
        return new_id
