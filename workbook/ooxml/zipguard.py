"""Checks on the raw .xlsx zip before any spreadsheet parser sees it.

Submitted files come from outside. A 5 KB file with one styled cell at
XFD1048576 stalls openpyxl for minutes, python-calamine has aborted the whole
process on oversized sheets, and XML parsers can be made to expand entities.
So sizes, ratios, entry names, active content and sheet extents are checked
here, on bytes, with hard limits.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from itertools import islice
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..findings import Finding
from ..language.text import col_number
from .sheetxml import with_refs

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 500
MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_PART_BYTES = 30 * 1024 * 1024
MAX_RATIO = 200
MAX_ROWS = 5_000
MAX_COLS = 60

# Parts read whole (besides worksheets) because later scans parse them.
_WHOLE = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml")
# Parts no reader of a submission parses (document properties, the theme): not read at all.
_UNPARSED = ("docProps/", "xl/theme/")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)  # in a part's first 4 KB, in any case


@dataclass
class ZipReport:
    findings: list[Finding] = field(default_factory=list)
    sheets: dict[str, bytes] = field(default_factory=dict)  # worksheet and workbook parts → XML, for later scans
    # The file as checked: readers after the guard read these bytes, not the path again (which may
    # have changed meanwhile, e.g. under a sync client), and the file is read once.
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def inspect_zip(path: Path) -> ZipReport:
    """Every problem of the raw file as findings; ``ok`` means a parser may open it."""
    report = ZipReport()
    name = path.name

    def add(code: str, message: str, severity: str = "error") -> None:
        report.findings.append(Finding(code, message, severity, file=name))  # type: ignore[arg-type]

    size = path.stat().st_size
    if size == 0:
        add("file-empty", "文件是空的（0 字节），请重新保存后发送")
        return report
    if size > MAX_FILE_BYTES:
        add("file-too-large", f"文件过大（{size // 1024 // 1024} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB），"
                              "请删除无关内容、图片后重新保存")
        return report
    with open(path, "rb") as fh:
        # As much as the size just seen and a byte (a read of the limit allocates 20 MB first);
        # a file grown since is read on, as far as the limit.
        data = fh.read(size + 1)
        if len(data) > size:
            data += fh.read(MAX_FILE_BYTES + 1 - len(data))
    if len(data) > MAX_FILE_BYTES:  # grown since
        add("file-too-large", f"文件过大（上限 {MAX_FILE_BYTES // 1024 // 1024} MB），请删除无关内容、图片后重新保存")
        return report
    head = data[:8]
    if head.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            add("file-encrypted", "文件设置了打开密码，无法读取：请取消密码（文件→信息→保护工作簿）后重新发送")
        else:
            add("file-format", "文件是旧版 .xls/.et 格式，请用 Excel 或 WPS 另存为 .xlsx 后重新发送")
        return report
    if not head.startswith(b"PK"):
        add("file-format", "文件不是 Excel 工作簿（可能是 .csv、文本或其他格式改了扩展名），请另存为 .xlsx")
        return report
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, NotImplementedError (unknown zip version), ValueError, OSError …
        add("file-corrupt", "文件已损坏或不完整（可能是邮件附件未下载完整），请重新保存后发送")
        return report
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if len(infos) > MAX_ENTRIES:
            add("zip-too-many-entries", f"文件内部部件过多（{len(infos)} 个），不是正常的填报表")
            return report
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            add("zip-duplicate-entry", f"文件内部有重名部件（{dups[0]}），可能被篡改，请用原表重新填写")
            return report
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED:
            add("zip-bomb", "文件解压后过大，拒绝读取")
            return report
        for info in infos:
            if info.file_size > MAX_PART_BYTES or (
                info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            ):
                add("zip-bomb", f"文件内部部件 {info.filename} 解压后异常巨大，拒绝读取")
                return report
            if ".." in info.filename.split("/") or info.filename.startswith("/"):
                add("zip-bad-path", f"文件内部路径异常（{info.filename}）")
                return report
        lower = [n.lower() for n in names]
        if "xl/workbook.xml" not in lower or "[content_types].xml" not in lower:
            add("not-a-workbook", "文件不是 Excel 工作簿（缺少工作簿结构），请另存为 .xlsx 后重新发送")
            return report
        if any(n.endswith("vbaproject.bin") for n in lower):
            add("macro-present", "文件含有宏（VBA），不予接收：请另存为不含宏的 .xlsx（Excel 工作簿）")
        if any(n.startswith("xl/externallinks/") for n in lower):
            add("external-link", "文件含有指向其他工作簿的外部链接，请删除链接（数据→编辑链接→断开）后重新发送")
        if any(n.startswith("xl/embeddings/") or "oleobject" in n or n.startswith("xl/activex/") for n in lower):
            add("embedded-object", "文件嵌入了对象（OLE/ActiveX），不予接收，请删除后重新发送")
        for info in infos:
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")) or \
                    info.filename.startswith(_UNPARSED):
                continue
            is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            whole = is_sheet or info.filename.lower() in _WHOLE
            try:
                xml = _read_capped(zf, data, info, None if whole else 4096)
            except Exception:  # bad CRC, inflate errors, undecodable local names, unknown methods …
                add("file-corrupt", f"文件内部部件 {info.filename} 已损坏，请重新保存后发送")
                return report
            if xml.find(b"!", 0, 4096) >= 0 and _DTD.search(xml, 0, 4096):  # "!" is rare: memchr rules most parts out
                add("xml-dtd", "文件内部 XML 含有实体声明（DOCTYPE/ENTITY），可能是恶意文件，拒绝读取")
                return report
            if is_sheet:
                xml, size = bounded_sheet(xml)
                if size:
                    add("sheet-too-large", f"工作表 {info.filename.rsplit('/', 1)[-1]} 的使用范围过大"
                                           f"（{size}），请删除表格下方和右侧的多余内容和格式")
                    return report
                report.sheets[info.filename] = xml
            elif whole:
                report.sheets[info.filename.lower()] = xml
    report.data = data
    return report


def _read_capped(zf: zipfile.ZipFile, data: bytes, info: zipfile.ZipInfo, head: int | None = None) -> bytes:
    """The part's first ``head`` bytes, or all of it; never more than its declared size, which the
    limits bounded (the declared size can lie: a longer part is cut, and its CRC then refuses it)."""
    if info.flag_bits & _REFUSED_FLAGS or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with zf.open(info) as fh:  # zipfile's reader (which refuses these flags) for what no office program writes
            return fh.read(head or MAX_PART_BYTES)  # zipfile stops at the declared size, checks the CRC
    # Deflate and stored parts straight from the bytes in hand, as zipfile reads them: its reader
    # costs as much again as inflating a part of a unit workbook.
    raw = _compressed(data, info)
    size = min(head, info.file_size) if head else info.file_size
    if info.compress_size <= _SAME_KEY and size <= _SAME_BYTES and not info.filename.startswith("xl/worksheets/"):
        return _same_part(bytes(raw), info.compress_type, size, info.file_size, info.CRC)
    return _part(raw, info.compress_type, size, info.file_size, info.CRC)


def _part(raw: bytes | memoryview, method: int, size: int, file_size: int, crc: int) -> bytes:
    """The first ``size`` bytes of a stored or deflated part, its CRC checked if they reach its end."""
    if method == zipfile.ZIP_STORED:
        part, ended = bytes(raw[:size]), len(raw) <= size
    elif size:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        part = inflate.decompress(raw, size)
        ended = inflate.eof or not inflate.unconsumed_tail
    else:  # (a max_length of 0 is no limit to zlib)
        part, ended = b"", True
    # The CRC is checked once the read reaches the end of the part, whichever end it meets first.
    if (ended or len(part) == file_size) and zlib.crc32(part) != crc:
        raise zipfile.BadZipFile("bad CRC-32")
    return part


# The files of a batch come from one form: their workbook, relationship, styles and content-type
# parts are mostly byte for byte the same, compressed the same. Those parts are inflated once, by
# their compressed bytes (a part that does not inflate raises, and is not kept). Worksheets hold
# each unit's answers and are not kept; neither are large parts: a key is at most 16 KB compressed
# (copied and hashed for each file; a large sharedStrings.xml, whose head alone is read, is not),
# and at most 32 parts of 256 KB are kept.
# Later scans get the same bytes objects back, so their caches (sheetxml, numfmt) find them at once.
_SAME_KEY, _SAME_BYTES = 16 * 1024, 256 * 1024
_same_part = lru_cache(maxsize=32)(_part)


_REFUSED_FLAGS = 0x01 | 0x20 | 0x40  # encrypted, patched data, strong encryption
_LOCAL = struct.Struct("<4s2xH18xHH")  # a local file header: signature, flags, …, name length, extra length


def _compressed(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The compressed bytes of a part, found as zipfile finds them: through its local header, whose
    name must be the central directory's."""
    at = info.header_offset
    if at < 0:  # unpack_from would count from the end
        raise zipfile.BadZipFile(f"bad offset {info.filename}")
    magic, flags, name_len, extra_len = _LOCAL.unpack_from(data, at)
    name = data[at + _LOCAL.size:at + _LOCAL.size + name_len]
    if magic != b"PK\x03\x04" or name.decode("utf-8" if flags & 0x800 else "cp437") != info.orig_filename:
        raise zipfile.BadZipFile(f"bad local header {info.filename}")
    start = at + _LOCAL.size + name_len + extra_len
    return memoryview(data)[start:start + info.compress_size]


_WIDE = re.compile(rb'\sr="(?:[A-Z]{3}|[C-Z][A-Z]|B[I-Z])[0-9]')  # a column beyond BH (60)
# A reference past row 999 or column BH; a literal start keeps the search in C.
# (Written by first letter, the strings of r="(?:[A-Z]{0,3}[0-9]{4}|[A-Z]{3}|[C-Z][A-Z]|B[I-Z]): the
# usual reference, a letter or two and a few digits, fails at once, a fifth faster.)
_FAR = re.compile(rb'r="(?:[C-Z](?:[A-Z]|[0-9]{4})|A(?:[0-9]{4}|[A-Z](?:[A-Z]|[0-9]{4}))'
                  rb'|B(?:[0-9]{4}|[I-Z]|[A-H](?:[A-Z]|[0-9]{4}))|[0-9]{4})')
# A cell holding content: its first child is a formula, a value or an inline string (the schema's order).
_VALUED = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>\s*<(?:\w+:)?(?:f|v|is)\b')
MAX_CELLS = MAX_ROWS * MAX_COLS


# Start tags of rows and cells; with a literal start the search runs in C. A plain r="…" right
# after the name is how every program writes them; anything else gets references rewritten.
_TAGS = {name: re.compile(rb"<" + name + rb'(?: r="|[\s/>])') for name in (b"row", b"c")}
_NOT_PLAIN = {name: re.compile(rb"<" + name + rb'(?! r=")[\s/>]') for name in (b"row", b"c")}
_NOT_PLAIN_TAG = re.compile(rb'<(?:row|c)(?! r=")[\s/>]')  # both in one search
_PREFIXED_TAGS = {name: re.compile(rb"<\w+:" + name + rb"[\s/>]") for name in (b"row", b"c")}
# How a prefixed row or cell tag ends: found fast (":" is rare in sheet XML), then _PREFIXED_TAGS decides.
_PREFIXED_END = re.compile(rb":(?:row|c)[\s/>]")
_FINDALL_BYTES = 1 << 20  # below this a list of every tag stays small


def _too_many(xml: bytes, name: bytes, limit: int, maybe_prefixed: bool) -> tuple[bool, bool]:
    """Whether there are more than ``limit`` ``name`` elements, and whether all carry a plain ``r``.

    Prefixed ones (the Open XML SDK writes <x:row>, <x:c>) are counted as well, not instead: text
    in a cell may hold ":c" or ":row" too, and must not switch the count off. ``maybe_prefixed``:
    whether _PREFIXED_END found anything (one search for both names).
    """
    prefixed = maybe_prefixed and _PREFIXED_TAGS[name].search(xml) is not None
    if len(xml) <= limit * (len(name) + 2):
        # Each start tag takes len(name) + 2 bytes at least (<c/): too short to hold more than
        # limit, so only whether all are plain is asked (a search, not a list of every cell).
        return False, not (prefixed or _NOT_PLAIN[name].search(xml))
    tags = _tags(xml, _TAGS[name], limit)
    plain = tags.count(b"<" + name + b' r="') == len(tags)
    if prefixed:
        more = _tags(xml, _PREFIXED_TAGS[name], limit)
        return len(tags) + len(more) > limit, False
    return len(tags) > limit, plain


def _tags(xml: bytes, pattern: re.Pattern[bytes], limit: int) -> list[bytes]:
    return pattern.findall(xml) if len(xml) <= _FINDALL_BYTES else \
        [m.group(0) for m in islice(pattern.finditer(xml), limit + 1)]


def _counted(xml: bytes) -> tuple[bytes, bool]:
    """Which element there are too many of (b"row", b"c" or b"" for neither), and whether every row
    and cell carries a plain ``r``."""
    maybe_prefixed = _PREFIXED_END.search(xml) is not None
    if not maybe_prefixed and not _NOT_PLAIN_TAG.search(xml):
        # Every row and cell tag starts <row r=" or <c r=", as every program writes them: a count is
        # of that literal, and only where the part is long enough to hold more than the limit (two
        # searches in all, where _too_many asks each question of each name on its own).
        if len(xml) > MAX_ROWS * len(b'<row r="') and xml.count(b'<row r="') > MAX_ROWS:
            return b"row", True
        if len(xml) > MAX_CELLS * len(b'<c r="') and xml.count(b'<c r="') > MAX_CELLS:
            return b"c", True
        return b"", True
    many_rows, plain_rows = _too_many(xml, b"row", MAX_ROWS, maybe_prefixed)
    if many_rows:
        return b"row", plain_rows
    many_cells, plain_cells = _too_many(xml, b"c", MAX_CELLS, maybe_prefixed)
    return b"c" if many_cells else b"", plain_rows and plain_cells


def bounded_sheet(xml: bytes) -> tuple[bytes, str]:
    """The part with plain references, and what makes it too large ("" when nothing does)."""
    many, plain = _counted(xml)
    if many == b"row":
        return xml, f"超过 {MAX_ROWS} 行"
    if many == b"c":
        return xml, f"超过 {MAX_CELLS} 个单元格"
    if not plain:
        xml = with_refs(xml)  # bounded by the counts above
    if not _FAR.search(xml):
        return xml, ""  # every reference within row 999 and column BH: the common case
    rows, cols = sheet_extent(xml)
    return xml, (f"{rows} 行 × {cols} 列" if rows > MAX_ROWS or cols > MAX_COLS else "")


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """The real extent (rows, columns) of a worksheet part with plain references.

    Rows reach the last cell that holds something (a formula, value or inline
    string): neither ``<dimension>`` nor empty styled rows count, since Calc
    writes ``<dimension ref="A1:K1048576"/>`` and an empty styled row 1048576
    once a row was deleted. Columns reach the last cell with content, and
    any cell beyond column BH counts even when empty: no ordinary edit
    writes styled cells far right of the form, while one styled cell at XFD
    is how hostile files make parsers sweep whole rows. Callers bound the
    number of row and cell elements first (a bomb of empty formatted rows is
    refused by its count, in bounded time and memory).
    """
    valued = _VALUED.findall(xml)
    max_row = max((int(r) for _, r in valued), default=0)
    cols = {c for c, _ in valued}
    if _WIDE.search(xml):
        cols |= {c for c, _ in _REF.findall(xml)}
    max_col = col_number(max(cols, key=lambda c: (len(c), c)).decode()) if cols else 0
    return max_row, max_col
