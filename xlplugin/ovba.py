"""MS-OVBA 2.4.1 compression, the run-length/LZ77 format of every stream in a vbaProject.bin.

ms-ovba builds the VBA project's streams from source text, but the compressor of
ms-ovba-compression 1.0.1 corrupts inputs longer than a few kilobytes (a round
trip through olevba's decompressor gives other text), so the project is built
with this one, checked against olevba in the tests.
"""

from __future__ import annotations

import struct

_CHUNK = 4096


def compress(data: bytes) -> bytes:
    """A CompressedContainer: signature byte, then one chunk per 4,096 bytes of input."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        out += _chunk(data[start:start + _CHUNK])
    return bytes(out)


def _chunk(chunk: bytes) -> bytes:
    body = bytearray()
    heads: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions in this chunk
    pos = 0
    while pos < len(chunk):
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if pos >= len(chunk):
                break
            length, offset, bits = _match(chunk, pos, heads)
            if length >= 3:
                body[flag_at] |= 1 << bit
                body += struct.pack("<H", ((offset - 1) << (16 - bits)) | (length - 3))
                step = length
            else:
                body.append(chunk[pos])
                step = 1
            for p in range(pos, pos + step):
                heads.setdefault(chunk[p:p + 3], []).append(p)
            pos += step
    if len(body) > _CHUNK:  # incompressible: a raw chunk (only possible for a full chunk)
        if len(chunk) != _CHUNK:
            raise ValueError("MS-OVBA cannot store a short incompressible chunk")
        return struct.pack("<H", 0x3000 | (_CHUNK - 1)) + chunk
    return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + bytes(body)


def _match(chunk: bytes, pos: int, heads: dict[bytes, list[int]]) -> tuple[int, int, int]:
    """Longest earlier match at ``pos``: (length, offset, bit count of the offset field)."""
    bits = max((pos - 1).bit_length(), 4) if pos else 4
    max_length = min((0xFFFF >> bits) + 3, len(chunk) - pos)
    best_length, best_offset = 0, 0
    for start in reversed(heads.get(chunk[pos:pos + 3], ())[-64:]):
        length = 0
        while length < max_length and chunk[start + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_length, best_offset = length, pos - start
            if length == max_length:
                break
    return best_length, best_offset, bits
