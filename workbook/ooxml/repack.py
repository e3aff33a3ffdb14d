"""Rewriting a zip package with most parts copied as they are, compressed bytes and all.

A master holds parts duban never changes (the 任务分解 and 时间节点 sheets when only the
history grows, styles, drawings, VBA); a patch rewrites one or two sheets. Copying the
other parts' compressed bytes instead of inflating and deflating them again keeps a
patch proportional to what it changes. Parts that are written anew may be streamed, so
a large sheet never has to be held in memory whole.

Only what a spreadsheet package needs is written: no encryption, no ZIP64 (a master
stays far below 4 GB; larger input is refused with :class:`PatchError`).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, NamedTuple


_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sBBHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")
_LIMIT = 0xFFFFFFFF
CHUNK = 1 << 20
# Parts written anew are compressed fast: a rewritten sheet of a year's history is large, and
# level 1 deflates it several times faster than the default for a slightly larger file.
LEVEL = 1


class PatchError(Exception):
    """The workbook cannot be patched in place (e.g. a sheet is missing): fall back or refuse."""


def iter_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The decompressed bytes of one part, in chunks (its CRC is checked by zipfile at the end)."""
    with zf.open(info) as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def read_range(src: BinaryIO, start: int, end: int, what: str = "the source") -> Iterator[bytes]:
    """Bytes ``start``–``end`` of ``src`` in chunks; :class:`PatchError` (naming ``what``) if it ends sooner."""
    src.seek(start)
    left = end - start
    while left > 0:
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            raise PatchError(f"{what} is truncated")
        yield chunk
        left -= len(chunk)


class Repack:
    """Write a new zip to ``out`` from the entries of ``src``: each copied raw or written anew."""

    def __init__(self, src: Path, out: BinaryIO) -> None:
        self._src = open(src, "rb")
        self._out = out
        self._central: list[bytes] = []

    def __enter__(self) -> "Repack":
        return self

    def __exit__(self, *exc: object) -> None:
        self._src.close()

    def copy(self, info: zipfile.ZipInfo, extra: bytes = b"") -> None:
        """Copy an entry's compressed bytes as they are (``extra``: its central extra field blocks to keep)."""
        if info.flag_bits & 0x1:
            raise PatchError(f"{info.filename} is encrypted")
        self._src.seek(info.header_offset)
        head = self._src.read(_LOCAL.size)
        if head[:4] != b"PK\x03\x04":
            raise PatchError(f"bad local header for {info.filename}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = info.header_offset + _LOCAL.size + name_len + extra_len
        offset = self._header(info, info.compress_type, info.CRC, info.compress_size, info.file_size)
        for chunk in read_range(self._src, start, start + info.compress_size, info.filename):
            self._out.write(chunk)
        self._record(info, info.compress_type, info.CRC, info.compress_size, info.file_size, offset, extra)

    def copy_range(self, start: int, end: int) -> None:
        """Copy bytes ``start``–``end`` of the source as they are (compressed data of an entry being written)."""
        for chunk in read_range(self._src, start, end):
            self._out.write(chunk)

    def write(self, info: zipfile.ZipInfo, chunks: Iterable[bytes]) -> None:
        """Write an entry anew from its uncompressed ``chunks`` (deflated as they come)."""
        offset = self.begin(info)
        deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        crc = size = csize = 0
        for chunk in chunks:
            if not chunk:
                continue
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            data = deflate.compress(chunk)
            csize += len(data)
            self._out.write(data)
        data = deflate.flush()
        csize += len(data)
        self._out.write(data)
        self.end(info, offset, crc, csize, size)

    def begin(self, info: zipfile.ZipInfo) -> int:
        """Start a deflated entry: its local header (sizes filled in by :meth:`end`); the caller writes
        the compressed bytes to :attr:`out` next. Returns the entry's offset."""
        return self._header(info, zipfile.ZIP_DEFLATED, 0, 0, 0)

    def end(self, info: zipfile.ZipInfo, offset: int, crc: int, csize: int, size: int, extra: bytes = b"") -> None:
        """Finish an entry started with :meth:`begin` (``extra``: blocks for its central extra field)."""
        if size > _LIMIT or csize > _LIMIT:
            raise PatchError(f"{info.filename} is too large")
        end = self._out.tell()
        self._out.seek(offset + 14)  # crc, compressed and uncompressed size of the local header
        self._out.write(struct.pack("<LLL", crc, csize, size))
        self._out.seek(end)
        self._record(info, zipfile.ZIP_DEFLATED, crc, csize, size, offset, extra)

    @property
    def out(self) -> BinaryIO:
        return self._out

    @property
    def src(self) -> BinaryIO:
        """The source package, for reading entries' compressed bytes."""
        return self._src

    def close(self) -> None:
        self._out.write(_central_directory(self._central, self._out.tell()))

    # -- headers

    def _header(self, info: zipfile.ZipInfo, method: int, crc: int, csize: int, size: int) -> int:
        offset = self._out.tell()
        if offset > _LIMIT:
            raise PatchError("package too large for a plain zip")
        self._out.write(_local_header(info, method, crc, csize, size))
        return offset

    def _record(self, info: zipfile.ZipInfo, method: int, crc: int, csize: int, size: int, offset: int,
                extra: bytes = b"") -> None:
        self._central.append(_central_record(info, method, crc, csize, size, offset, extra))


class Deflated(NamedTuple):
    """One part, compressed once, to be stored in many packages (:func:`package`)."""

    info: zipfile.ZipInfo
    crc: int
    size: int
    data: bytes


def deflated(info: zipfile.ZipInfo, data: bytes) -> Deflated:
    """``data`` deflated as :mod:`zipfile` deflates a part (the default level, in one piece), so a
    package of these entries is byte for byte the zip that ``ZipFile.writestr`` writes."""
    deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return Deflated(info, zlib.crc32(data), len(data), deflate.compress(data) + deflate.flush())


def package(entries: Iterable[Deflated]) -> bytes:
    """A whole zip, in memory, of entries already compressed (small packages: a unit workbook)."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for e in entries:
        head = _local_header(e.info, zipfile.ZIP_DEFLATED, e.crc, len(e.data), e.size)
        central.append(_central_record(e.info, zipfile.ZIP_DEFLATED, e.crc, len(e.data), e.size, offset))
        out += (head, e.data)
        offset += len(head) + len(e.data)
    if offset > _LIMIT:
        raise PatchError("package too large for a plain zip")
    out.append(_central_directory(central, offset))
    return b"".join(out)


# -- headers (as zipfile writes them to a seekable file: sizes in the local header, no data descriptor)


def _local_header(info: zipfile.ZipInfo, method: int, crc: int, csize: int, size: int) -> bytes:
    name = _name(info)
    date, time = _dos(info.date_time)
    return _LOCAL.pack(b"PK\x03\x04", 20, _flags(info), method, time, date, crc, csize, size, len(name), 0) + name


def _central_record(info: zipfile.ZipInfo, method: int, crc: int, csize: int, size: int, offset: int,
                    extra: bytes = b"") -> bytes:
    """A central directory record (``extra``: blocks of its extra field, APPNOTE 4.5)."""
    name = _name(info)
    date, time = _dos(info.date_time)
    return _CENTRAL.pack(b"PK\x01\x02", 20, info.create_system, 20, _flags(info), method, time, date, crc, csize,
                         size, len(name), len(extra), 0, 0, info.internal_attr, info.external_attr,
                         offset) + name + extra


def _central_directory(records: list[bytes], start: int) -> bytes:
    size = sum(map(len, records))
    if len(records) > 0xFFFF or start > _LIMIT:
        raise PatchError("too many entries or too large for a plain zip")
    return b"".join(records) + _END.pack(b"PK\x05\x06", 0, 0, len(records), len(records), size, start, 0)


def _name(info: zipfile.ZipInfo) -> bytes:
    try:
        return info.filename.encode("ascii")
    except UnicodeEncodeError:
        return info.filename.encode("utf-8")


def _flags(info: zipfile.ZipInfo) -> int:
    # Sizes are always in the headers here (no data descriptor); UTF-8 names say so.
    return 0x800 if not info.filename.isascii() else 0


def _dos(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    y = min(max(y, 1980), 2107)
    return (y - 1980) << 9 | mo << 5 | d, h << 11 | mi << 5 | s // 2
