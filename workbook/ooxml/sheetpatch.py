"""Writing only the cells that change in an .xlsx, copying everything else byte for byte.

openpyxl rewrites a whole workbook from its own model and silently drops what it
does not model (x14 data validations and conditional formats, sparklines,
slicers, pivot caches, VBA in a macro-enabled master, shapes staff drew). The
master is the office's ledger, so collect and split patch the cells of the
sheets they own and leave every other byte as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from xml.sax.saxutils import escape

from ..language.text import EXCEL_EPOCH, col_letter, col_number
from .repack import PatchError, Repack, iter_part
from .sheetxml import scan_book

_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
# A cell element with its column letters and style (attributes in any order).
_CELL = re.compile(rb'(<(?:\w+:)?c\b(?:(?=[^>]*?\br="([A-Z]{1,3})[0-9]*"))?(?:(?=[^>]*?\bs="([0-9]+)"))?'
                   rb'[^>]*?(?:/>|>.*?</(?:\w+:)?c>))', re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})?([0-9]+)"')
_SHEETDATA_OPEN = re.compile(rb"<((?:\w+:)?)sheetData\b[^>]*?(/?)>")
_SHEETDATA_CLOSE = re.compile(rb"</(?:\w+:)?sheetData>")
_DIMENSION = re.compile(rb'(<(?:\w+:)?dimension\b[^>]*?\bref=")([^"]*)(")')
_AUTOFILTER = re.compile(rb'(<(?:\w+:)?autoFilter\b[^>]*?\bref="[A-Z]{1,3}[0-9]+:[A-Z]{1,3})([0-9]+)(")')
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is|f)\b")
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4})_")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_EPOCH = dt.datetime.combine(EXCEL_EPOCH, dt.time())


@dataclass
class SheetEdits:
    """Cell values to set, by (row, column) both 1-based, and rows to append after the last one."""

    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    append: list[list[Any]] = field(default_factory=list)
    formats: dict[int, str] = field(default_factory=dict)  # column → number format for its written values


def patch_workbook(src: Path, dst: Path, edits: dict[str, SheetEdits]) -> None:
    """Write ``dst``: ``src`` with ``edits`` applied to the named sheets, every other part unchanged.

    Unchanged parts are copied compressed bytes and all; edited sheets are streamed, never
    held whole: a collect's memory does not grow with the year's history, and its time only
    by one pass over it.
    """
    scan = scan_book(src, ())
    parts: dict[str, str] = {}
    for name in edits:
        if name not in scan.parts or not scan.parts[name]:
            raise PatchError(f"sheet {name} not found")
        parts[scan.parts[name]] = name
    with zipfile.ZipFile(src) as zin, open(dst, "wb") as out, Repack(src, out) as pack:
        infos = {i.filename: i for i in zin.infolist()}
        missing = [p for p in parts if p not in infos]
        if missing:
            raise PatchError(f"part {missing[0]} not found")
        styles_part = next((n for n in infos if n.lower() == "xl/styles.xml"), None)
        styles = _Styles(zin.read(styles_part) if styles_part else None)
        for name, info in infos.items():
            if name in parts:
                pack.write(info, _patch_sheet(iter_part(zin, info), edits[parts[name]], styles))
            elif name != styles_part:
                pack.copy(info)
        # styles.xml last: patched and appended cells may have added formats to it.
        if styles_part:
            if styles.changed:
                pack.write(infos[styles_part], [styles.xml])
            else:
                pack.copy(infos[styles_part])
        pack.close()


def _patch_sheet(chunks: Iterable[bytes], edits: SheetEdits, styles: "_Styles") -> Iterator[bytes]:
    """Stream a sheet part with ``edits`` applied, never holding it whole.

    Rows that change are rewritten as they pass; rows that do not pass through as they are.
    Appended rows go after the last row that holds a value: that row and any style-only rows
    after it (a pane's anchor, formatting) are held back, so appended values merge into those
    rows. The dimension and an auto-filter grow to cover the new rows.
    """
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), value in edits.cells.items():
        by_row.setdefault(r, {})[c] = value
    pending = sorted(by_row)  # edited rows not yet met in the stream (they may not exist yet)
    added = len(edits.append)
    max_col = max((c for _, c in edits.cells), default=0)
    max_col = max([max_col] + [len(values) for values in edits.append])
    buf = b""
    stream = iter(chunks)
    m = None
    for chunk in stream:  # the head, up to and including the sheetData start tag
        buf += chunk
        if m := _SHEETDATA_OPEN.search(buf):
            break
    if m is None:
        raise PatchError("no sheetData")
    prefix = m.group(1)
    head = _grow_dimension(buf[: m.start()], added, max((r for r in by_row), default=0), max_col)

    def fresh(r: int, template: dict[int, int]) -> bytes:
        return _patch_row(None, r, by_row[r], prefix, styles, edits.formats, template)

    if m.group(2):  # <sheetData/>: no rows at all
        by_row.update({i: dict(enumerate(v, start=1)) for i, v in enumerate(edits.append, start=1)})
        yield head + b"<" + prefix + b"sheetData>" + b"".join(fresh(r, {}) for r in sorted(by_row))
        yield b"</" + prefix + b"sheetData>" + _grow_filter(buf[m.end():], added)
        yield from stream
        return
    yield head + buf[m.start(): m.end()]
    buf = buf[m.end():]
    held: list[bytes] = []  # from the last row with a value on: rows and what lies between them
    held_rows: dict[int, bytes] = {}
    last = r = 0
    while True:
        close = _SHEETDATA_CLOSE.search(buf)
        limit = close.start() if close else len(buf)
        at = 0
        for rm in _ROW.finditer(buf, 0, limit):
            row = rm.group(0)
            r = _row_number(row, r)
            between = buf[at:rm.start()]
            at = rm.end()
            while pending and pending[0] < r:  # an edited row that does not exist: in row order
                between += fresh(pending.pop(0), {})
            if pending and pending[0] == r:
                row = _patch_row(row, r, by_row[pending.pop(0)], prefix, styles, edits.formats, {})
            if not added:
                yield between + row
            elif _VALUE.search(row):
                yield b"".join(held) + between
                held, held_rows, last = [row], {r: row}, r
            else:
                held += [between, row]
                held_rows[r] = row
        if close:
            break
        buf = buf[at:]
        chunk = next(stream, None)
        if chunk is None:
            raise PatchError("sheetData not closed")
        buf += chunk
    rest = buf[at:limit]
    if added:
        # The last filled row and the rows after it, rebuilt with the appended rows in place.
        # New rows look like the last one; below a lone header, like the empty row prepared under it.
        template = _row_styles(held_rows[last] if last > 1 else held_rows.get(2, b""))
        rows = dict(held_rows)
        for i, values in enumerate(edits.append, start=1):
            rows[last + i] = _patch_row(held_rows.get(last + i), last + i, dict(enumerate(values, start=1)), prefix,
                                        styles, edits.formats, template)
        for n in pending:  # edited rows past the end of the sheet
            rows[n] = _patch_row(rows.get(n), n, by_row[n], prefix, styles, edits.formats, {})
        yield b"".join(rows[n] for n in sorted(rows)) + rest
    else:
        yield rest + b"".join(fresh(n, {}) for n in pending)
    yield buf[close.start():close.end()] + _grow_filter(buf[close.end():], added)
    yield from stream


def _row_number(row: bytes, previous: int) -> int:
    ref = _ATTR_R.search(row, 0, row.find(b">") + 1)
    return int(ref.group(2)) if ref else previous + 1  # rows may omit r: they follow the previous one


def _grow_dimension(head: bytes, added: int, max_row: int, max_col: int) -> bytes:
    """The dimension grown by the rows appended and to the cells set (an upper bound when style-only
    rows follow the last filled one, as Excel's own dimension may be)."""
    m = _DIMENSION.search(head)
    if not m:
        return head
    ref = m.group(2).decode()
    end = ref.split(":")[-1]
    letters = re.match(r"[A-Z]*", end).group(0)
    digits = end[len(letters):]
    rows = max(int(digits) + added if digits else 1, max_row)
    cols = max(col_number(letters) if letters else 1, max_col)
    start = ref.split(":")[0] if ":" in ref else "A1"
    return head[: m.start(2)] + f"{start}:{col_letter(cols)}{rows}".encode() + head[m.end(2):]


def _grow_filter(tail: bytes, added: int) -> bytes:
    """An auto-filter over the table covers the appended rows too."""
    if not added or b"autoFilter" not in tail:
        return tail
    return _AUTOFILTER.sub(lambda m: m.group(1) + str(int(m.group(2)) + added).encode() + m.group(3), tail, count=1)


def _cells(row: bytes) -> dict[int, tuple[bytes, int | None]]:
    """The cells of a row element by column number: (the element, its style)."""
    return {_column(letters): (cell, int(style) if style else None)
            for cell, letters, style in _CELL.findall(row, row.find(b">") + 1) if letters}


@functools.lru_cache(maxsize=None)
def _column(letters: bytes) -> int:
    return col_number(letters.decode())


def _row_styles(row: bytes) -> dict[int, int]:
    return {c: style for c, (_, style) in _cells(row).items() if style is not None}


def _patch_row(row: bytes | None, r: int, values: dict[int, Any], prefix: bytes, styles: "_Styles",
               formats: dict[int, str], template: dict[int, int]) -> bytes:
    cells: dict[int, tuple[bytes, int | None]] = {}
    head = b"<" + prefix + b'row r="' + str(r).encode() + b'">'
    if row is not None:
        head = re.sub(rb'\s+spans="[^"]*"', b"", row[: row.find(b">") + 1])
        if head.endswith(b"/>"):
            head = head[:-2] + b">"
        cells = _cells(row)
    p = prefix.decode()
    number = str(r)
    out = dict(cells)
    for c, value in values.items():
        style = cells[c][1] if c in cells else template.get(c)
        out[c] = (_cell(_letter(c) + number, value, style, p, styles, formats.get(c)), None)
    return head + b"".join(out[c][0] for c in sorted(out)) + b"</" + prefix + b"row>"


@functools.lru_cache(maxsize=None)
def _letter(c: int) -> str:
    return col_letter(c)


def _cell(ref: str, value: Any, style: int | None, p: str, styles: "_Styles", fmt: str | None) -> bytes:
    kind = type(value)
    if kind is dt.date or kind is dt.datetime:
        fmt = fmt or (DATETIME_FORMAT if kind is dt.datetime else DATE_FORMAT)
        moment = value if kind is dt.datetime else dt.datetime.combine(value, dt.time())
        value, kind = (moment - _EPOCH).total_seconds() / 86400, float
    if fmt and value is not None:
        style = styles.with_format(style or 0, fmt)
    s = f' s="{style}"' if style else ""
    if kind is str and value:
        text = value
        if "_x" in text:
            text = _ESCAPED.sub(r"_x005F_\1_", text)  # Excel reads _xHHHH_ as an escape
        if not text.isprintable():
            text = _CONTROL.sub("", text)
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t{space}>{text}</{p}t></{p}is></{p}c>'.encode()
    if value is None or value == "":
        return f'<{p}c r="{ref}"{s}/>'.encode()
    if kind is bool:
        return f'<{p}c r="{ref}"{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'.encode()
    if kind is int or kind is float or isinstance(value, (int, float)):
        return f'<{p}c r="{ref}"{s}><{p}v>{value!r}</{p}v></{p}c>'.encode()
    return _cell(ref, str(value), style, p, styles, None)


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
