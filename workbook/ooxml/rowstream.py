"""The rows of a sheet whose first cell shows a given value, read as a stream.

The history sheet (进展记录) grows by a row per task and unit every month; a collect
needs only the rows of the current period (which files were already collected, the
latest answers, who reported). Reading the whole sheet with a spreadsheet library
would cost time and memory growing with the year's history; this reads the sheet
part and the shared strings in chunks and keeps only the matching rows.

Cells as Excel, LibreOffice and duban write them: shared strings (after a save by a
spreadsheet program), inline strings (duban's own rows), numbers, booleans, formula
results; numbers in a date format become datetimes, as python-calamine gives them.
The master is the office's own file, not a submission, but nothing here evaluates
anything either: regular expressions over bytes.
"""

from __future__ import annotations

import functools
import itertools
import re
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from .numfmt import NumberFormats, read_number_formats, serial_to_datetime
from .repack import iter_part
from .segments import Layout, Segment, SegmentError, data_offset, inflate, read_layout
from .sheetxml import scan_book

_ROW_END = re.compile(rb"</(?:\w+:)?row>|<(?:\w+:)?row\b[^>]*/>")
_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*?(?:/>|>.*?</(?:\w+:)?si>)", re.S)
_PLAIN_SST = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?<sst[\s>]")  # an unprefixed root
# One cell: its column letters, style and type (attributes in any order), then its value (<v>, after
# an optional formula) or its inline string (<is>), found in one C-speed match per cell.
_CELL = re.compile(
    rb'<(?:\w+:)?c\b(?:(?=[^>]*?\br="([A-Z]{1,3})[0-9]*"))?(?:(?=[^>]*?\bs="([0-9]+)"))?'
    rb'(?:(?=[^>]*?\bt="(\w+)"))?[^>]*?(?:/>|>\s*(?:<(?:\w+:)?f\b[^>]*?(?:/>|>.*?</(?:\w+:)?f>)\s*)?'
    rb'(?:<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|<(?:\w+:)?is>(.*?)</(?:\w+:)?is>)?.*?</(?:\w+:)?c>)', re.S)
_END = re.compile(rb"</(?:\w+:)?sheetData>")
_T_TEXT = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?t>)")  # text holds no "<"
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def rows_matching(path: Path, sheet: str, value: str, width: int) -> list[list[Any]]:
    """Rows of ``sheet`` whose column A shows ``value``, each ``width`` cells wide.

    A part duban wrote in segments (:mod:`.segments`) is read only where its index puts
    rows of ``value``. Otherwise rows of other values are skipped by one regular-expression
    search over the sheet's bytes (no per-row work), so a year of history costs little
    more than one inflate pass.
    """
    scan = scan_book(path, ())
    part = scan.parts.get(sheet)
    if not part:
        return []
    with zipfile.ZipFile(path) as zf:
        names = {n.lower(): n for n in zf.namelist()}
        if part.lower() not in names:
            return []
        info = zf.getinfo(names[part.lower()])
        formats = read_number_formats(_read(zf, names, "xl/styles.xml"), _read(zf, names, "xl/workbook.xml"))
        sst = names.get("xl/sharedstrings.xml")
        layout = read_layout(info)
        if layout is not None:
            chosen = [(i, s) for i, s in enumerate(layout.segments) if s.holds(value)]
            # The shared strings showing ``value`` are in the index, unless rows were merged.
            keys = _shared_keys(zf, sst, value) if any(s.keys for _, s in chosen) else \
                sorted({s.sst for _, s in chosen if s.sst is not None})
            try:
                return _rows(zf, sst, formats, width, _segments(path, info, layout, chosen), _row_start(value, keys))
            except SegmentError:
                pass  # the part does not hold what its index says: read all of it
        return _rows(zf, sst, formats, width, iter_part(zf, info), _row_start(value, _shared_keys(zf, sst, value)))


def _shared_keys(zf: zipfile.ZipFile, sst: str | None, value: str) -> list[int]:
    """The indices of the shared strings that show ``value``.

    A master's shared strings hold every task's text (tens of thousands), and once a spreadsheet
    program saved it, every history row's and every issued form's JSON (full of ``&quot;``) too:
    a string is decoded only when it holds escapes (see :func:`_shows`)."""
    if not sst:
        return []
    raw = xml_escape(value).encode()
    # No character is written in more than 10 bytes (&#1114111; &#x10FFFF; _x005F_ is 7).
    limit = 10 * len(value)
    return [i for i, si in enumerate(_shared_elements(zf, sst)) if _shows(si, value, raw, limit)]


def _shows(si: bytes, value: str, raw: bytes, limit: int) -> bool:
    """Whether the ``<si>`` element shows ``value`` (``raw``: its bytes as XML text, ``limit``: the
    most bytes it takes however escaped). Without escapes or phonetic runs, a string's text is its
    runs' bytes joined (LibreOffice splits text into runs wherever the font changes)."""
    if b"rPh" in si:
        return _si_text(si) == value
    if b"&" in si or b"_x" in si:
        return sum(map(len, _T.findall(si))) <= limit and _si_text(si) == value
    if si.count(b"<") <= 4:  # <si><t>…</t></si>: one run, whose bytes are the text
        return raw in si and _T.findall(si) == [raw]
    return b"".join(_T.findall(si)) == raw


def shared_strings_at(zf: zipfile.ZipFile, name: str | None, wanted: Iterable[int]) -> dict[int, str]:
    """The shared strings at the indices ``wanted``, read only as far as the last of them (the others
    are not decoded)."""
    wanted = set(wanted)
    found: dict[int, str] = {}
    if not name or not wanted:
        return found
    last = max(wanted)
    for i, si in enumerate(_shared_elements(zf, name)):
        if i in wanted:
            found[i] = _si_text(si)
        if i >= last:
            break
    return found


def _segments(path: Path, info: zipfile.ZipInfo, layout: Layout, chosen: list[tuple[int, Segment]]) -> Iterator[bytes]:
    """The uncompressed bytes of some segments of a part, one after the other."""
    with open(path, "rb") as fh:
        base = data_offset(fh, info)
        for i, s in chosen:
            yield from inflate(fh, base + s.cstart, base + layout.end(i, info.compress_size), s)


def _rows(zf: zipfile.ZipFile, sst: str | None, formats: NumberFormats, width: int, chunks: Iterable[bytes],
          starts: re.Pattern[bytes]) -> list[list[Any]]:
    selected: list[dict[int, tuple[bytes, bytes, int]]] = []
    needed: set[int] = set()
    for row in _matching_rows(chunks, starts):
        cells = _cells(row, width)
        selected.append(cells)
        needed.update(int(raw) for kind, raw, _ in cells.values() if kind == b"s" and raw.isdigit())
    strings = shared_strings_at(zf, sst, needed)
    return [[_value(cells.get(c), strings, formats) for c in range(1, width + 1)] for cells in selected]


def _row_start(value: str, keys: list[int]) -> re.Pattern[bytes]:
    """A row element whose first cell is column A holding ``value`` (inline, or a shared string in ``keys``)."""
    escaped = xml_escape(value)
    forms = {escaped.encode(), "".join(c if c.isascii() else f"&#{ord(c)};" for c in escaped).encode()}
    inline = (rb'\bt="(?:inlineStr|str)"[^>]*>\s*(?:<(?:\w+:)?is>\s*<(?:\w+:)?t\b[^>]*>|<(?:\w+:)?v>)(?:'
              + b"|".join(re.escape(f) for f in forms) + rb")<")
    alternatives = [inline]
    if keys:
        alternatives.append(rb'\bt="s"[^>]*>\s*<(?:\w+:)?v>(?:' + b"|".join(b"%d" % k for k in keys) + rb")<")
    return re.compile(rb'<(?:\w+:)?row\b[^>]*>\s*<(?:\w+:)?c\b(?=[^>]*?\br="A[0-9])[^>]*?(?:'
                      + b"|".join(alternatives) + b")")


def _matching_rows(chunks: Iterable[bytes], start: re.Pattern[bytes]) -> Iterator[bytes]:
    """The complete row elements that ``start`` finds, across chunk boundaries."""
    buf = b""
    for chunk in chunks:
        buf += chunk
        cut = buf.rfind(b"row>")  # the end of the last complete row: rows before it are whole
        if cut < 0:
            continue
        cut += 4
        for m in start.finditer(buf, 0, cut):
            end = _ROW_END.search(buf, m.end())
            yield buf[m.start(): end.end() if end else cut]
        buf = buf[cut:]
        if _END.search(buf):
            return


def _read(zf: zipfile.ZipFile, names: dict[str, str], name: str) -> bytes | None:
    return zf.read(names[name]) if name in names else None


def _elements(chunks: Iterable[bytes], pattern: re.Pattern[bytes]) -> Iterator[bytes]:
    """Complete elements matching ``pattern`` across chunk boundaries."""
    buf = b""
    for chunk in chunks:
        buf += chunk
        at = 0
        for m in pattern.finditer(buf):
            yield m.group(0)
            at = m.end()
        buf = buf[at:]


def _shared_elements(zf: zipfile.ZipFile, name: str | None) -> Iterator[bytes]:
    """The ``<si>`` elements of the shared strings part, undecoded, in order.

    A master a spreadsheet program saved holds tens of thousands: they are cut at ``</si>`` (one C
    call per chunk) where the part writes them without a prefix, as every office program does; a
    piece that does not start with a plain ``<si>`` (an empty ``<si/>`` before it), and a prefixed
    part, go through the element pattern. (Empty strings after the last one are not needed: an
    index past the end shows "" too.)"""
    if not name:
        return
    chunks = iter_part(zf, zf.getinfo(name))
    first = next(chunks, b"")
    if not _PLAIN_SST.match(first):
        yield from _elements(itertools.chain([first], chunks), _SI)
        return
    buf = b""
    for chunk in itertools.chain([first], chunks):
        *pieces, buf = (buf + chunk).split(b"</si>")
        for piece in pieces:
            start = piece.find(b"<si")
            if start >= 0 and piece[start + 3:start + 4] == b">":  # <si>…</si>: nothing else can be inside
                yield piece[start:] + b"</si>"
            else:
                yield from _elements([piece + b"</si>"], _SI)


def _si_text(si: bytes) -> str:
    """A shared string's text (rich text runs joined, phonetic runs left out)."""
    if b"<rPh" in si or b":rPh" in si:
        si = _PHONETIC.sub(b"", si)
    return "".join(xml_text(t.group(1) or b"") for t in _T.finditer(si))


def _cells(row: bytes, width: int) -> dict[int, tuple[bytes, bytes, int]]:
    """Column → (type, raw value, style) for the cells of a row up to ``width``."""
    out: dict[int, tuple[bytes, bytes, int]] = {}
    column = 0
    for letters, style, kind, value, inline in _CELL.findall(row, row.find(b">") + 1):
        column = _column(letters) if letters else column + 1  # cells may omit r: they follow the previous one
        if column > width:
            break
        if kind == b"inlineStr":
            if b"rPh" in inline:
                inline = _PHONETIC.sub(b"", inline)
            value = b"".join(_T_TEXT.findall(inline))
        out[column] = (kind or b"n", value, int(style) if style else 0)
    return out


@functools.lru_cache(maxsize=None)
def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _value(cell: tuple[bytes, bytes, int] | None, strings: dict[int, str], formats: NumberFormats) -> Any:
    """A cell's value as python-calamine would give it ('' for an empty cell)."""
    if cell is None:
        return ""
    kind, raw, style = cell
    if kind == b"s":
        return strings.get(int(raw), "") if raw.isdigit() else ""
    if kind in (b"inlineStr", b"str", b"e"):
        return xml_text(raw)
    if kind == b"b":
        return raw.strip() in (b"1", b"true")
    if not raw:
        return ""
    try:
        number = float(raw)
    except ValueError:
        return xml_text(raw)
    if style in formats.dates:
        moment = serial_to_datetime(number, formats.date1904)
        if moment is not None:  # a date format without a time gives a date, as python-calamine does
            return moment if _has_time(formats.code(style)) else moment.date()
    return int(number) if number.is_integer() else number


@functools.lru_cache(maxsize=None)
def _has_time(code: str) -> bool:
    return bool(re.search(r"[hs]|AM/PM|上午", re.sub(r'"[^"]*"|\[[^\]]*\]', "", code), re.I))


def xml_escape(text: str, quote: bool = False) -> str:
    """``text`` as XML character data (``quote``: for a double-quoted attribute as well)."""
    if "&" in text or "<" in text or ">" in text:  # mostly not: the replaces are skipped
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if "_x" in text:  # OOXML escapes characters XML cannot hold as _xHHHH_ (and a literal _x as _x005F_)
        text = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return _NAMED[name]
