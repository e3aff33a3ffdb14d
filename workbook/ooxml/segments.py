"""A sheet part stored as independently inflatable deflate segments, indexed by column A.

The history sheet (进展记录) grows by a period's rows every month and duban only appends
to it. Rewriting it on every collect would cost an inflate and a deflate of the whole
year's history, and reading the current period's rows an inflate of all of it. So its
part is deflated in segments, each ended with ``Z_FULL_FLUSH`` (an empty stored block:
the output is byte-aligned and the dictionary reset, so a raw inflater can start at the
next byte — RFC 1951 §3.2.4, zlib.h on ``Z_FULL_FLUSH``):

* the head, up to and including the ``<sheetData>`` start tag (it holds the dimension);
* one segment per run of rows whose column A shows the same text (the 填报期), with the
  number of its first row;
* the tail, from ``</sheetData>`` (it holds the auto-filter), ended with ``Z_FINISH``.

The zip entry's central directory record carries the list of segments (where each
starts in the compressed data, its length and CRC-32, its column-A text, its first row),
the last row and its styles, in an extra field of its own (APPNOTE 4.5.1: header ID,
data size, data; IDs above 31 are for third parties; 4.6.2: readers skip the blocks
they do not know; 4.6.3: a signature starts the data). Appending copies the old
segments' compressed bytes as they are, deflates the new rows, the head and the tail,
and combines the CRC-32s (:func:`crc32_combine`); reading a period inflates its
segments only, each checked against its CRC-32. Another program that saves the
workbook writes a new zip without the record; a record that does not match its entry
(lengths, the CRC-32s combined), or a segment that does not inflate to what it
records, is ignored: the part is then read and written in full, which records a
fresh index. Too many runs to record (a history sorted by unit) are recorded as one
segment of mixed rows, listing the texts it holds.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator
from zipfile import ZipInfo

from . import repack

HEADER_ID = 0x6264  # "db"; not among the IDs of APPNOTE 4.5.2 / 4.6.1
SIGNATURE = b"duban-segments\x00"
VERSION = 1
MAX_RECORD = 0x4000  # well below the 64 KiB an extra field may hold (APPNOTE 4.6.2)


class SegmentError(Exception):
    """A segment does not inflate to what the index records: read and write the part in full."""


@dataclass
class Segment:
    key: str | None  # the text column A shows in its rows ("" for none); None for the head and the tail
    cstart: int  # offset of its first compressed byte in the entry's data
    size: int  # uncompressed bytes
    crc: int  # CRC-32 of them
    row: int = 0  # its first row (body segments)
    sst: int | None = None  # the shared string column A refers to, when it is not inline text
    # Rows of several texts in any order (key ""): older runs merged when there were too many to
    # record one by one (a history sorted by unit in a spreadsheet program and saved).
    keys: tuple[str, ...] = ()

    def holds(self, value: str) -> bool:
        """Whether rows showing ``value`` may be in this segment."""
        return self.key == value or value in self.keys

    def record(self) -> list[Any]:
        item = [self.key, self.cstart, self.size, self.crc, self.row, self.sst]
        return item + [list(self.keys)] if self.keys else item


@dataclass
class Layout:
    """The segments of a part in order (head, body segments, tail) and what appending needs."""

    segments: list[Segment]
    last_row: int  # the last row of the sheet (it holds a value: appended rows follow it)
    template: dict[int, int] = field(default_factory=dict)  # column → style of the last row

    @property
    def body(self) -> list[Segment]:
        return self.segments[1:-1]

    def end(self, i: int, csize: int) -> int:
        """Where segment ``i``'s compressed bytes end."""
        return self.segments[i + 1].cstart if i + 1 < len(self.segments) else csize

    def extra(self) -> bytes:
        """The extra-field block recording this layout (older runs merged if there are too many to
        record); empty when even that would be too large."""
        data = self._encode(self.segments)
        if len(data) > MAX_RECORD:
            data = self._encode(self._merged())
        return struct.pack("<HH", HEADER_ID, len(data)) + data if len(data) <= MAX_RECORD else b""

    def _encode(self, segments: list[Segment]) -> bytes:
        return SIGNATURE + json.dumps({"v": VERSION, "last": self.last_row, "template": sorted(self.template.items()),
                                       "segments": [s.record() for s in segments]},
                                      ensure_ascii=False, separators=(",", ":")).encode()

    def _merged(self) -> list[Segment]:
        """The segments with the older body runs (after the first, the header's) merged into one of mixed
        rows, keeping as many of the newest runs as half the record holds: rows are still appended in
        place, and a period whose rows all came after the merge is still read alone."""
        body = self.body
        budget = MAX_RECORD // 2
        keep = 0
        for s in reversed(body[1:]):
            budget -= len(json.dumps(s.record(), ensure_ascii=False)) + 1
            if budget < 0:
                break
            keep += 1
        older = body[1: len(body) - keep]
        if len(older) < 2:
            return self.segments
        crc = size = 0
        for s in older:
            crc, size = crc32_combine(crc, s.crc, s.size), size + s.size
        keys = tuple(sorted({k for s in older for k in (s.keys or (s.key or "",)) if k}))
        mixed = Segment("", older[0].cstart, size, crc, older[0].row, None, keys)
        return [self.segments[0], body[0], mixed, *body[len(body) - keep:], self.segments[-1]]


def read_layout(info: ZipInfo) -> Layout | None:
    """The layout recorded for a zip entry, if there is one and it matches the entry."""
    data = _own_block(info.extra)
    if data is None or not data.startswith(SIGNATURE) or info.compress_type != zlib.DEFLATED:
        return None
    try:
        raw = json.loads(data[len(SIGNATURE):])
        if raw.get("v") != VERSION:
            return None
        segments = [Segment(k if k is None else str(k), int(c), int(n), int(crc), int(r), None if s is None else int(s),
                            tuple(str(x) for x in keys[0]) if keys else ())
                    for k, c, n, crc, r, s, *keys in raw["segments"]]
        layout = Layout(segments, int(raw["last"]), {int(c): int(s) for c, s in raw["template"]})
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if len(segments) < 2 or segments[0].key is not None or segments[-1].key is not None or segments[0].cstart:
        return None
    if any(s.key is None for s in layout.body) or any(s.size <= 0 for s in segments):
        return None
    if any(a.cstart >= b.cstart for a, b in zip(segments, segments[1:])) or segments[-1].cstart >= info.compress_size:
        return None
    crc, size = 0, 0
    for s in segments:
        crc, size = crc32_combine(crc, s.crc, s.size), size + s.size
    if size != info.file_size or crc != info.CRC:
        return None
    return layout


def carried(extra: bytes) -> bytes:
    """Our block of an entry's extra field, to keep when the entry is copied unchanged."""
    data = _own_block(extra)
    return b"" if data is None else struct.pack("<HH", HEADER_ID, len(data)) + data


def _own_block(extra: bytes) -> bytes | None:
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind == HEADER_ID:
            return extra[at + 4: at + 4 + size]
        at += 4 + size
    return None


def data_offset(fh: BinaryIO, info: ZipInfo) -> int:
    """Where an entry's compressed bytes start (after its local header, whose extra field may differ)."""
    fh.seek(info.header_offset)
    head = fh.read(30)
    if head[:4] != b"PK\x03\x04":
        raise SegmentError(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return info.header_offset + 30 + name_len + extra_len


def inflate(fh: BinaryIO, start: int, end: int, segment: Segment) -> Iterator[bytes]:
    """The uncompressed bytes of the compressed range ``start``–``end`` of a file (one segment, or
    several in a row), checked against ``segment``'s length and CRC at the end."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    crc = size = 0
    try:
        for data in repack.read_range(fh, start, end):
            out = inflater.decompress(data)
            if out:
                crc, size = zlib.crc32(out, crc), size + len(out)
                yield out
    except (zlib.error, repack.PatchError) as exc:
        raise SegmentError(str(exc)) from None
    if size != segment.size or crc != segment.crc:
        raise SegmentError("segment does not match its index")


class SegmentWriter:
    """Deflates a part segment by segment into ``out``; segments of another entry may be copied in raw.

    A body segment that continues the previous one (same column-A text) extends it, so the
    index stays as small as the number of runs of periods.
    """

    def __init__(self, out: BinaryIO | Pieces) -> None:
        self._out = out
        self._deflate = zlib.compressobj(repack.LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.segments: list[Segment] = []
        self.crc = self.size = self.csize = 0
        self._pending = False  # the compressor holds input of the current segment

    def start(self, key: str | None, row: int = 0, sst: int | None = None, keys: tuple[str, ...] = ()) -> None:
        """Begin a segment (the head and the tail have ``key`` None)."""
        self._flush()
        last = self.segments[-1] if self.segments else None
        if last is not None and key is not None and (last.key, last.sst, last.keys, keys) == (key, sst, (), ()):
            return
        if last is not None and last.size == 0:
            self.segments.pop()
        self.segments.append(Segment(key, self.csize, 0, 0, row, sst, keys))

    def write(self, data: bytes) -> None:
        if not data:
            return
        seg = self.segments[-1]
        seg.crc, seg.size = zlib.crc32(data, seg.crc), seg.size + len(data)
        self.crc, self.size = zlib.crc32(data, self.crc), self.size + len(data)
        self._emit(self._deflate.compress(data))
        self._pending = True

    def raw(self, src: BinaryIO, start: int, end: int, segment: Segment) -> None:
        """Copy an existing body segment's compressed bytes (``start``–``end`` in ``src``) as they are."""
        self.start(segment.key, segment.row, segment.sst, segment.keys)
        seg = self.segments[-1]
        seg.crc, seg.size = crc32_combine(seg.crc, segment.crc, segment.size), seg.size + segment.size
        self.crc, self.size = crc32_combine(self.crc, segment.crc, segment.size), self.size + segment.size
        if isinstance(self._out, Pieces):
            self._out.copy(start, end)
            self.csize += end - start
            return
        for data in repack.read_range(src, start, end):
            self._emit(data)

    def finish(self) -> None:
        """End the stream (the last segment, the tail, ends with the final block)."""
        self._emit(self._deflate.flush(zlib.Z_FINISH))
        if self.segments and self.segments[-1].size == 0:
            self.segments.pop()

    def _flush(self) -> None:
        if self._pending:
            self._emit(self._deflate.flush(zlib.Z_FULL_FLUSH))
            self._pending = False

    def _emit(self, data: bytes) -> None:
        if data:
            self._out.write(data)
            self.csize += len(data)


class Pieces:
    """A part's compressed bytes as made, with ranges of the source file between them still to copy.

    A child process that appends to a segmented part sends back only what it made: the segments
    kept as they are stay in the file (a year's history), and the process that writes the
    package copies them from there. Memory stays flat in the history."""

    def __init__(self) -> None:
        self.items: list[bytes | tuple[int, int]] = []
        self._made: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._made.append(data)

    def copy(self, start: int, end: int) -> None:
        self._join()
        self.items.append((start, end))

    def done(self) -> list[bytes | tuple[int, int]]:
        self._join()
        return self.items

    def _join(self) -> None:
        if self._made:
            self.items.append(b"".join(self._made))
            self._made = []


# ------------------------------------------------------------------ CRC-32 of concatenations
# zlib's crc32_combine (not exposed by Python's zlib): the CRC of A+B from crc(A), crc(B) and len(B),
# by multiplying crc(A) with x^(8·len(B)) modulo the CRC polynomial (as zlib 1.2.12+ computes it).

_POLY = 0xEDB88320  # the CRC-32 polynomial, reflected


def _multmodp(a: int, b: int) -> int:
    """a·b modulo the polynomial (reflected bit order: bit 31 is x^0)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _x2n_table()  # x^(2^k) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of two byte strings one after the other, from their CRCs and the second's length."""
    if len2 <= 0:
        return crc1
    p, k, n = 1 << 31, 3, len2  # x^0; a byte is x^8 = x^(2^3)
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2
