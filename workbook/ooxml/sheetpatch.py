"""Writing only the cells that change in an .xlsx, copying everything else byte for byte.

openpyxl rewrites a whole workbook from its own model and silently drops what it
does not model (x14 data validations and conditional formats, sparklines,
slicers, pivot caches, VBA in a macro-enabled master, shapes staff drew). The
master is the office's ledger, so collect and split patch the cells of the
sheets they own and leave every other byte as it was. A sheet that only grows
(进展记录) is written in segments (:mod:`.segments`): rows are appended to it without
inflating, deflating or parsing the rows it already holds.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zipfile
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

from ..language.text import EXCEL_EPOCH, col_letter, col_number
from .repack import PatchError, Repack, iter_part
from .rowstream import shared_strings_at, xml_escape, xml_text
from .segments import Layout, Pieces, SegmentError, SegmentWriter, carried, data_offset, inflate, read_layout
from .sheetxml import scan_book

# A row element, with its number (rows may omit it).
# (The content is matched as runs of non-"<" and tags that do not close it: faster than a lazy ".*?".)
_ROW = re.compile(rb'<(?:\w+:)?row\b(?:(?=[^>]*?\br="([0-9]+)"))?[^>]*?'
                  rb'(?:/>|>[^<]*(?:<(?!/(?:\w+:)?row>)[^<]*)*</(?:\w+:)?row>)')
# A cell element with its column letters and style (attributes in any order).
_CELL = re.compile(rb'(<(?:\w+:)?c\b(?:(?=[^>]*?\br="([A-Z]{1,3})[0-9]*"))?(?:(?=[^>]*?\bs="([0-9]+)"))?'
                   rb'[^>]*?(?:/>|>[^<]*(?:<(?!/(?:\w+:)?c>)[^<]*)*</(?:\w+:)?c>))')
# The start tag of a cell only, with its column letters and style (cell content cannot hold "<c").
_CELL_TAG = re.compile(rb'<(?:\w+:)?c\b(?=[^>]*?\br="([A-Z]{1,3})[0-9]*")(?:(?=[^>]*?\bs="([0-9]+)"))?')
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})?([0-9]+)"')
_SHEETDATA_OPEN = re.compile(rb"<((?:\w+:)?)sheetData\b[^>]*?(/?)>")
_SHEETDATA_CLOSE = re.compile(rb"</(?:\w+:)?sheetData>")
_DIMENSION = re.compile(rb'(<(?:\w+:)?dimension\b[^>]*?\bref=")([^"]*)(")')
_AUTOFILTER = re.compile(rb'(<(?:\w+:)?autoFilter\b[^>]*?\bref="[A-Z]{1,3}[0-9]+:[A-Z]{1,3})([0-9]+)(")')
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is|f)\b")
_SPANS = re.compile(rb'\s+spans="[^"]*"')
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
    rows: dict[int, dict[int, Any]] = field(default_factory=dict)  # more cells to set: row → column → value
    # Write the part in segments by the text of column A and record them (see :mod:`.segments`): a sheet
    # that only grows (进展记录) is then appended to without inflating, deflating or reading its rows again.
    segmented: bool = False

    def by_row(self) -> dict[int, dict[int, Any]]:
        """The cells to set (``cells`` and ``rows``), row → column → value."""
        out = {r: dict(values) for r, values in self.rows.items()}
        for (r, c), value in self.cells.items():
            out.setdefault(r, {})[c] = value
        return out


def patch_workbook(src: Path, dst: Path, edits: dict[str, SheetEdits], pool: Executor | None = None) -> None:
    """Write ``dst``: ``src`` with ``edits`` applied to the named sheets, every other part unchanged.

    Unchanged parts are copied compressed bytes and all; edited sheets are streamed, never
    held whole: a collect's memory does not grow with the year's history, and its time only
    by one pass over it. With ``pool``, a segmented sheet edited last is written in a child
    process while this one patches the sheets before it (see :class:`_Aside`).
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
        aside = _Aside.of(pool, src, [(info, edits[parts[n]]) for n, info in infos.items() if n in parts])
        try:
            for name, info in infos.items():
                if aside is not None and name == aside.name:
                    aside.write(pack, zin, info, styles)
                elif name in parts and edits[parts[name]].segmented:
                    _write_segmented(pack, zin, info, edits[parts[name]], styles)
                elif name in parts:
                    chunks = _patch_sheet(iter_part(zin, info), edits[parts[name]], styles)
                    if aside is not None:
                        chunks = aside.starting(chunks, styles)
                    pack.write(info, (c for c in chunks if c.__class__ is bytes))
                elif name != styles_part:
                    pack.copy(info, carried(info.extra))
        finally:
            if aside is not None:
                aside.wait()
        # styles.xml last: patched and appended cells may have added formats to it.
        if styles_part:
            if styles.changed:
                pack.write(infos[styles_part], [styles.xml])
            else:
                pack.copy(infos[styles_part])
        pack.close()


class _Aside:
    """A segmented sheet (进展记录) written in a child process while this one patches the sheets before
    it (任务分解): 20,000 appended rows and 20,000 patched task rows take about as long each.

    The number of a cell format derived in styles.xml is written into the cells that use it, and
    formats are derived in the order the parts are written. So the child starts from the styles
    as they are once the sheet before it has made its first rows (a sheet derives its formats
    with its first rows: they are all alike), and its bytes are taken only if no format was
    derived after that: then they are what writing the sheet in turn makes, byte for byte.
    Otherwise, or if the child failed, the sheet is written here, in turn. Only the paths, the
    edits and bytes cross to the child and back (a spawned process on Windows gets them pickled).
    """

    # A part without a recorded layout is rewritten whole (made by another program, or by import), and
    # its bytes would cross whole: a large one (a year's history saved by Excel) is written here.
    WHOLE_LIMIT = 4 << 20  # compressed bytes

    def __init__(self, pool: Executor, src: Path, name: str, edits: SheetEdits) -> None:
        self.pool, self.src, self.name, self.edits = pool, src, name, edits
        self.job: Future | None = None
        self.sent = b""  # styles.xml as the child started from it

    @classmethod
    def of(cls, pool: Executor | None, src: Path, edited: list[tuple[zipfile.ZipInfo, SheetEdits]]) -> "_Aside | None":
        """For the part edited last (in package order), if it is segmented and sheets are edited before it."""
        if pool is None or len(edited) < 2:
            return None
        info, edits = edited[-1]
        if not edits.segmented or (read_layout(info) is None and info.compress_size > cls.WHOLE_LIMIT):
            return None
        return cls(pool, src, info.filename, edits)

    def starting(self, chunks: Iterable[bytes | _Mark], styles: "_Styles") -> Iterator[bytes | _Mark]:
        """``chunks`` of a sheet before this one, the child started once they have made their first rows."""
        rows = False
        for chunk in chunks:
            yield chunk
            if rows:
                self._start(styles)
            rows = rows or chunk is BODY

    def write(self, pack: Repack, zin: zipfile.ZipFile, info: zipfile.ZipInfo, styles: "_Styles") -> None:
        self._start(styles)
        try:
            data, record, derived = self.job.result()
        except Exception:  # written here: an error of the sheet itself is raised here again
            data = None
        if data is None or styles.xml != self.sent:
            _write_segmented(pack, zin, info, self.edits, styles)
            return
        styles.take(derived)
        offset = pack.begin(info)
        for piece in data:
            if piece.__class__ is bytes:
                pack.out.write(piece)
            else:
                pack.copy_range(*piece)
        pack.end(info, offset, *record)

    def wait(self) -> None:
        """The child is done reading the source when :func:`patch_workbook` returns, or raises."""
        if self.job is not None and not self.job.cancel():
            wait([self.job])

    def _start(self, styles: "_Styles") -> None:
        if self.job is None:
            self.sent = styles.xml
            self.job = self.pool.submit(_segmented_apart, self.src, self.name, self.edits, styles.copy())


def _segmented_apart(src: Path, name: str, edits: SheetEdits,
                     styles: "_Styles") -> tuple[list[bytes | tuple[int, int]], Record, "_Styles"]:
    """A segmented part written in a child process: its compressed bytes (the segments kept as they are
    left in ``src``, see :class:`.segments.Pieces`), their record, and the styles with the formats it
    derived."""
    out = Pieces()
    with zipfile.ZipFile(src) as zin, open(src, "rb") as fh:
        record = _segmented(fh, zin, zin.getinfo(name), edits, styles, out)
    return out.done(), record, styles


class _Mark:
    """Where the rows of a streamed sheet start (:data:`BODY`) and end (:data:`TAIL`)."""


BODY, TAIL = _Mark(), _Mark()


def _patch_sheet(chunks: Iterable[bytes], edits: SheetEdits, styles: "_Styles") -> Iterator[bytes | _Mark]:
    """Stream a sheet part with ``edits`` applied, never holding it whole.

    Rows that change are rewritten as they pass; rows that do not pass through as they are.
    Appended rows go after the last row that holds a value: that row and any style-only rows
    after it (a pane's anchor, formatting) are held back, so appended values merge into those
    rows. The dimension and an auto-filter grow to cover the new rows.
    """
    by_row = edits.by_row()
    pending = sorted(by_row)  # edited rows not yet met in the stream (they may not exist yet)
    added = len(edits.append)
    max_col = _max_column(by_row, edits.append)
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
    cells = _CellWriter(prefix, styles, edits.formats)
    head = _grow_dimension(buf[: m.start()], added, max((r for r in by_row), default=0), max_col)

    def fresh(r: int, template: dict[int, int]) -> bytes:
        return cells.patch_row(None, r, by_row[r], template)

    if m.group(2):  # <sheetData/>: no rows at all
        by_row.update({i: dict(enumerate(v, start=1)) for i, v in enumerate(edits.append, start=1)})
        yield head + b"<" + prefix + b"sheetData>"
        yield BODY
        yield b"".join(fresh(r, {}) for r in sorted(by_row))
        yield TAIL
        yield b"</" + prefix + b"sheetData>" + _grow_filter(buf[m.end():] + b"".join(stream), added)
        return
    yield head + buf[m.start(): m.end()]
    yield BODY
    buf = buf[m.end():]
    held: list[bytes] = []  # from the last row with a value on: rows and what lies between them
    held_rows: dict[int, bytes] = {}
    last = r = 0
    next_edit = 0  # pending[next_edit:] are the edited rows not met yet
    while True:
        close = _SHEETDATA_CLOSE.search(buf)
        limit = close.start() if close else len(buf)
        out: list[bytes] = []  # a chunk's output is yielded at once: a row at a time would cost more
        at = done = 0  # output made up to ``at``; whole rows read up to ``done``
        for rm in _ROW.finditer(buf, 0, limit):
            r = int(rm.group(1)) if rm.group(1) else r + 1  # rows may omit r: they follow the previous one
            done = rm.end()
            if not added and (next_edit == len(pending) or pending[next_edit] > r):
                continue  # passes through as it is
            row, between = rm.group(0), buf[at:rm.start()]
            at = done
            while next_edit < len(pending) and pending[next_edit] < r:  # an edited row that does not exist
                between += fresh(pending[next_edit], {})
                next_edit += 1
            if next_edit < len(pending) and pending[next_edit] == r:
                row = cells.patch_row(row, r, by_row[r], {})
                next_edit += 1
            if not added:
                out += [between, row]
            elif _VALUE.search(row):
                out += held
                out.append(between)
                held, held_rows, last = [row], {r: row}, r
            else:
                held += [between, row]
                held_rows[r] = row
        if not added:
            out.append(buf[at:done])
            at = done
        if out:
            yield b"".join(out)
        if close:
            break
        buf = buf[done:]
        chunk = next(stream, None)
        if chunk is None:
            raise PatchError("sheetData not closed")
        buf += chunk
    rest = buf[at:limit]
    pending = pending[next_edit:]
    if added:
        # The last filled row and the rows after it, rebuilt with the appended rows in place.
        # New rows look like the last one; below a lone header, like the empty row prepared under it.
        template = _row_styles(held_rows[last] if last > 1 else held_rows.get(2, b""))

        def row(n: int) -> bytes:
            old = held_rows.get(n)
            if last < n <= last + added:
                values = enumerate(edits.append[n - last - 1], start=1)
                old = cells.new_row(n, values, template) if old is None else cells.patch_row(old, n, dict(values), template)
            if n in later:  # edited rows past the end of the sheet
                old = cells.patch_row(old, n, by_row[n], {})
            return old

        later = set(pending)
        numbers = sorted(set(held_rows) | set(range(last + 1, last + added + 1)) | later)
        for start in range(0, len(numbers), 1000):  # made and written in blocks: memory stays flat
            yield b"".join([row(n) for n in numbers[start: start + 1000]])
        yield rest
    else:
        yield rest + b"".join(fresh(n, {}) for n in pending)
    yield TAIL
    # What follows the rows is small (filter, merges, formats, page setup) and read whole: the auto-filter
    # may lie across chunks.
    yield buf[close.start():close.end()] + _grow_filter(buf[close.end():] + b"".join(stream), added)


# ------------------------------------------------------------------ segmented sheets (see .segments)

_ROW_OPEN = re.compile(rb"<(?:\w+:)?row\b[^>]*?(/?)>")
# The first cell of a row when it is column A holding text: its type, then its inline text or its value.
_FIRST_CELL = re.compile(rb'\s*<(?:\w+:)?c\b(?=[^>]*?\br="A[0-9])(?:(?=[^>]*?\bt="(\w+)"))?[^>]*?(?<!/)>\s*'
                         rb'(?:<(?:\w+:)?is>\s*<(?:\w+:)?t\b[^>]*>([^<]*)</(?:\w+:)?t>\s*</(?:\w+:)?is>'
                         rb'|<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>)')
_SST_KEY = "\x00"  # a key still to be looked up in the shared strings
_UNSET = object()
REWRITE_LIMIT = 1 << 20  # a segment with cells to set is rewritten in place up to this size


def _write_segmented(pack: Repack, zin: zipfile.ZipFile, info: zipfile.ZipInfo, edits: SheetEdits,
                     styles: "_Styles") -> None:
    """Write a sheet part as segments (see :func:`_segmented`)."""
    offset = pack.begin(info)
    pack.end(info, offset, *_segmented(pack.src, zin, info, edits, styles, pack.out))


Record = tuple[int, int, int, bytes]  # what a written entry's headers need: CRC-32, compressed size, size, extra


def _segmented(src: BinaryIO, zin: zipfile.ZipFile, info: zipfile.ZipInfo, edits: SheetEdits, styles: "_Styles",
               out: BinaryIO | Pieces) -> Record:
    """Write a sheet part's compressed bytes to ``out`` as segments: in place when its recorded layout
    holds, else streamed in full (which records a fresh layout)."""
    layout = read_layout(info)
    if layout is not None and (record := _append_in_place(src, zin, info, layout, edits, styles, out)):
        return record
    writer = SegmentWriter(out)
    writer.start(None)
    rows = last = None
    for chunk in _patch_sheet(iter_part(zin, info), edits, styles):
        if chunk is BODY:
            rows = _RowIndex(writer)
        elif chunk is TAIL:
            writer.start(None)
            rows, last = None, rows
        elif rows is not None:
            rows.feed(chunk)
        else:
            writer.write(chunk)
    writer.finish()
    new = None
    if last is not None and _VALUE.search(last.last):  # rows appended later follow a filled row
        new = Layout(writer.segments, last.row, _row_styles(last.last))
        _resolve_keys(new, zin, {})
    return writer.crc, writer.csize, writer.size, new.extra() if new else b""


def _append_in_place(src: BinaryIO, zin: zipfile.ZipFile, info: zipfile.ZipInfo, layout: Layout,
                     edits: SheetEdits, styles: "_Styles", out: BinaryIO | Pieces) -> Record | None:
    """Append rows, copying the existing segments' compressed bytes as they are.

    Only the head (the dimension), the tail (the auto-filter), the new rows and any small
    segment with cells to set are deflated. None, with nothing written, when the part does
    not hold what its layout says or a cell to set lies elsewhere.
    """
    segs, last = layout.segments, len(layout.segments) - 1
    by_row = edits.by_row()
    try:
        base = data_offset(src, info)

        def read(i: int) -> bytes:
            return b"".join(inflate(src, base + segs[i].cstart, base + layout.end(i, info.compress_size), segs[i]))

        head, tail = read(0), read(last)
        m = _SHEETDATA_OPEN.search(head)
        if not m or m.group(2) or head[m.end():].strip() or not tail.startswith(b"</" + m.group(1) + b"sheetData>"):
            return None
        prefix = m.group(1)
        cells = _CellWriter(prefix, styles, edits.formats)
        rewritten: dict[int, bytes] = {}
        elsewhere = set(by_row)
        for i in range(1, last):
            upto = segs[i + 1].row if i + 1 < last else layout.last_row + 1
            mine = {r: values for r, values in by_row.items() if segs[i].row <= r < upto}
            if mine:
                patched = _patch_rows(read(i), segs[i].row - 1, mine, cells) \
                    if segs[i].size <= REWRITE_LIMIT else None
                if patched is None:
                    return None
                rewritten[i] = patched
                elsewhere -= set(mine)
        if elsewhere:  # cells in rows no segment holds (before the first row, or new rows)
            return None
    except SegmentError:
        return None
    added = len(edits.append)
    max_col = _max_column(by_row, edits.append)
    close = len(b"</" + prefix + b"sheetData>")
    writer = SegmentWriter(out)
    writer.start(None)
    writer.write(_grow_dimension(head[: m.start()], added, max(by_row, default=0), max_col) + head[m.start():])
    rows = _RowIndex(writer)
    for i in range(1, last):
        if i in rewritten:
            rows.token, rows.row = _UNSET, segs[i].row - 1
            rows.feed(rewritten[i])
        else:
            writer.raw(src, base + segs[i].cstart, base + segs[i + 1].cstart, segs[i])
    block: list[bytes] = []
    shown: object = _UNSET
    for r, values in enumerate(edits.append, start=layout.last_row + 1):
        row = cells.new_row(r, enumerate(values, start=1), layout.template)
        if values[:1] != shown:  # a run of rows with the same column A is one segment
            writer.write(b"".join(block))
            block, shown = [], values[:1]
            key, sst = _key(_first_token(row, row.find(b">") + 1))
            writer.start(key, r, sst)
        block.append(row)
        if len(block) >= 1000:  # memory stays flat in the number of rows
            writer.write(b"".join(block))
            block = []
    writer.write(b"".join(block))
    writer.start(None)
    writer.write(tail[:close] + _grow_filter(tail[close:], added))
    writer.finish()
    new = Layout(writer.segments, layout.last_row + added, _row_styles(row) if added else layout.template)
    _resolve_keys(new, zin, {s.sst: s.key for s in layout.body if s.sst is not None})
    return writer.crc, writer.csize, writer.size, new.extra()


def _patch_rows(block: bytes, previous: int, by_row: dict[int, dict[int, Any]],
                cells: "_CellWriter") -> bytes | None:
    """A block of whole rows with cells set in existing rows; None if one of those rows is not there."""
    out, at, r, found = [], 0, previous, 0
    for rm in _ROW.finditer(block):
        r = _row_number(rm.group(0), r)
        if r in by_row:
            out += [block[at:rm.start()], cells.patch_row(rm.group(0), r, by_row[r], {})]
            at, found = rm.end(), found + 1
    out.append(block[at:])
    return b"".join(out) if found == len(by_row) else None


class _RowIndex:
    """Cuts a stream of whole rows into segments by the text column A shows; keeps the last row."""

    def __init__(self, writer: SegmentWriter) -> None:
        self.writer = writer
        self.token: object = _UNSET
        self.row = 0
        self.last = b""

    def feed(self, block: bytes) -> None:
        at = last = -1
        for m in _ROW_OPEN.finditer(block):
            self.row = _row_number(m.group(0), self.row)
            token = None if m.group(1) else _first_token(block, m.end())
            if token != self.token:
                self.writer.write(block[max(at, 0):m.start()])
                at = m.start()
                key, sst = _key(token)
                self.writer.start(key, self.row, sst)
                self.token = token
            last = m.start()
        self.writer.write(block[max(at, 0):])
        if last >= 0:
            row = _ROW.match(block, last)
            self.last = row.group(0) if row else b""


def _first_token(block: bytes, at: int) -> tuple[str, Any] | None:
    """What column A of the row starting at ``at`` shows: ("t", raw inline text), ("s", shared index) or None."""
    m = _FIRST_CELL.match(block, at)
    if not m:
        return None
    kind, text, value = m.groups()
    if kind == b"s":
        return ("s", int(value)) if value is not None and value.strip().isdigit() else None
    if kind in (b"inlineStr", b"str"):
        return ("t", text if text is not None else value)
    return None


def _key(token: tuple[str, Any] | None) -> tuple[str, int | None]:
    if token is None:
        return "", None
    if token[0] == "s":
        return f"{_SST_KEY}{token[1]}", token[1]
    return xml_text(token[1]), None


def _resolve_keys(layout: Layout, zin: zipfile.ZipFile, known: dict[int, str]) -> None:
    """Segment keys that refer to shared strings, looked up (the strings read only as far as needed)."""
    wanted = {s.sst for s in layout.body if s.key.startswith(_SST_KEY) and s.sst not in known}
    found = dict(known)
    if wanted:
        name = next((n for n in zin.namelist() if n.lower() == "xl/sharedstrings.xml"), None)
        found.update(shared_strings_at(zin, name, wanted))
    for s in layout.body:
        if s.key.startswith(_SST_KEY):
            s.key = found.get(s.sst, "")


def _max_column(by_row: dict[int, dict[int, Any]], append: list[list[Any]]) -> int:
    return max([max(values, default=0) for values in by_row.values()] + [len(values) for values in append] + [0])


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


class _CellWriter:
    """Cell elements for one sheet (its namespace prefix, the book's styles, number formats by column).

    The part after a cell's reference is memoised by column, value and style: a collect writes
    the same words, units, periods and times in thousands of rows.
    """

    MEMO = 1 << 16

    def __init__(self, prefix: bytes, styles: "_Styles", formats: dict[int, str]) -> None:
        self.prefix, self.p, self.styles, self.formats = prefix, prefix.decode(), styles, formats
        self._memo: dict[tuple[Any, ...], str] = {}
        self._runs: dict[tuple[int, ...], _Run] = {}  # by the columns a row's values set

    def cell(self, c: int, number: str, value: Any, style: int | None) -> str:
        key = (c, value.__class__, value, style)
        rest = self._memo.get(key)
        if rest is None:
            rest = _cell_rest(value, style, self.p, self.styles, self.formats.get(c))
            if len(self._memo) < self.MEMO:
                self._memo[key] = rest
        return f'<{self.p}c r="{_letter(c)}{number}"{rest}'

    def new_row(self, r: int, cells: Iterable[tuple[int, Any]], template: dict[int, int]) -> bytes:
        """A row element of the given (column, value) cells, in column order, styled as ``template``."""
        number = str(r)
        return (f'<{self.p}row r="{number}">' + "".join([
            self.cell(c, number, value, template.get(c)) for c, value in cells]) + f"</{self.p}row>").encode()

    def patch_row(self, row: bytes | None, r: int, values: dict[int, Any], template: dict[int, int]) -> bytes:
        """``row`` (None: a new one) with ``values`` set; new cells styled as ``template``."""
        if row is None:
            return self.new_row(r, sorted(values.items()), template)
        number = str(r)
        start = row.find(b">") + 1
        head = _SPANS.sub(b"", row[:start])
        if head.endswith(b"/>"):
            head = head[:-2] + b">"
        body = self._splice(row, start, number, values)
        if body is not None:
            return head + body
        cells = _cells(row)
        out = {c: cell for c, (cell, _) in cells.items()}
        for c, value in values.items():
            out[c] = self.cell(c, number, value, cells[c][1] if c in cells else template.get(c)).encode()
        return head + b"".join(out[c] for c in sorted(out)) + b"</" + self.prefix + b"row>"

    def _splice(self, row: bytes, start: int, number: str, values: dict[int, Any]) -> bytes | None:
        """The cells of ``row`` after its start tag with a run of neighbouring cells replaced, found by
        their references without parsing the others (collect sets nine neighbouring cells in each of
        20,000 task rows); None unless every column of the run has its cell, in order."""
        key = tuple(values)
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = _Run(sorted(values), self.prefix)
        if not run.columns:
            return None
        digits = number.encode()
        first = _cell_start(row, start, run.first + digits, run.open)
        last = _cell_start(row, first, run.last + digits, run.open) if first >= 0 else -1
        if last < 0:
            return None
        tag_end = row.find(b">", last)
        if row[tag_end - 1] == 47:  # "/": an empty cell
            end = tag_end + 1
        else:
            end = row.find(run.close, tag_end)
            if end < 0:
                return None
            end += len(run.close)
        old = _CELL_TAG.findall(row, first, end)
        if [letters for letters, _ in old] != run.letters:
            return None
        memo, p, cell = self._memo, self.p, self.cell
        new = []
        for c, ref, (_, style) in zip(run.columns, run.refs, old):
            value = values[c]
            s = int(style) if style else None
            rest = memo.get((c, value.__class__, value, s))
            new.append(f'<{p}c r="{ref}{number}"{rest}' if rest is not None else cell(c, number, value, s))
        return row[start:first] + "".join(new).encode() + row[end:]


class _Run:
    """A run of neighbouring columns a patch sets in each row, with what finding its cells needs."""

    def __init__(self, columns: list[int], prefix: bytes) -> None:
        whole = columns[-1] - columns[0] + 1 == len(columns)
        self.columns = columns if whole else []
        self.refs = [_letter(c) for c in columns]
        self.letters = [ref.encode() for ref in self.refs]
        self.first, self.last = b' r="' + self.letters[0], b' r="' + self.letters[-1]
        self.open, self.close = b"<" + prefix + b"c ", b"</" + prefix + b"c>"


def _cell_start(row: bytes, at: int, ref: bytes, tag: bytes) -> int:
    """Where the cell whose reference starts with ``ref`` (`` r="`` and the reference) starts in ``row``
    (searched from ``at``), or -1. Cell text cannot hold "<" (it is escaped), so the "<" before a match
    starts the tag it is in when no ">" lies between; ``tag`` is how a cell's start tag begins."""
    i = row.find(ref + b'"', at)
    if i < 0:
        return -1
    start = row.rfind(b"<", at, i)
    if start < 0 or row.find(b">", start, i) >= 0 or not row.startswith(tag, start):
        return -1
    return start


@functools.lru_cache(maxsize=None)
def _letter(c: int) -> str:
    return col_letter(c)


def _cell_rest(value: Any, style: int | None, p: str, styles: "_Styles", fmt: str | None) -> str:
    """A cell element after its reference: style, type, value (``fmt``: the number format for a value)."""
    kind = type(value)
    if kind is dt.date or kind is dt.datetime:
        fmt = fmt or (DATETIME_FORMAT if kind is dt.datetime else DATE_FORMAT)
        moment = value if kind is dt.datetime else dt.datetime.combine(value, dt.time())
        value, kind = (moment - _EPOCH).total_seconds() / 86400, float
    if fmt and value is not None:
        style = styles.with_format(style or 0, fmt)
    s = f' s="{style}"' if style else ""
    if kind is str and value:
        text = _xml_text(value)
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'{s} t="inlineStr"><{p}is><{p}t{space}>{text}</{p}t></{p}is></{p}c>'
    if value is None or value == "":
        return f"{s}/>"
    if kind is bool:
        return f'{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if kind is int or kind is float or isinstance(value, (int, float)):
        return f"{s}><{p}v>{value!r}</{p}v></{p}c>"
    return _cell_rest(str(value), style, p, styles, None)


def _xml_text(text: str) -> str:
    if "_x" in text:
        text = _ESCAPED.sub(r"_x005F_\1_", text)  # Excel reads _xHHHH_ as an escape
    if not text.isprintable():
        text = _CONTROL.sub("", text)
    return xml_escape(text)


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

    def copy(self) -> "_Styles":
        other = _Styles(self.xml)
        other.changed, other._cache = self.changed, dict(self._cache)
        return other

    def take(self, other: "_Styles") -> None:
        """Continue from ``other``: these styles with the formats derived in another process."""
        self.xml, self.changed, self._cache = other.xml, other.changed, other._cache

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
        code = xml_escape(fmt, quote=True).encode()
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
