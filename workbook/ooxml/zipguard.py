"""Checks on the raw .xlsx zip before any spreadsheet parser sees it.

Submitted files come from outside. A 5 KB file with one styled cell at
XFD1048576 stalls openpyxl for minutes, python-calamine has aborted the whole
process on oversized sheets, and XML parsers can be made to expand entities.
So sizes, ratios, entry names, active content and sheet extents are checked
here, on bytes, with hard limits.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..findings import Finding
from ..language.text import col_number

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 500
MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_PART_BYTES = 30 * 1024 * 1024
MAX_RATIO = 200
MAX_ROWS = 5_000
MAX_COLS = 60

# Parts no reader of a submission parses (document properties, the theme): not read at all.
_UNPARSED = ("docProps/", "xl/theme/")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"')
_DIM = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{0,3}[0-9]{0,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')


@dataclass
class ZipReport:
    findings: list[Finding] = field(default_factory=list)
    sheets: dict[str, bytes] = field(default_factory=dict)  # worksheet and workbook parts → XML, for later scans

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
        head = fh.read(8)
    if head.startswith(OLE_MAGIC):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            add("file-encrypted", "文件设置了打开密码，无法读取：请取消密码（文件→信息→保护工作簿）后重新发送")
        else:
            add("file-format", "文件是旧版 .xls/.et 格式，请用 Excel 或 WPS 另存为 .xlsx 后重新发送")
        return report
    if not head.startswith(b"PK"):
        add("file-format", "文件不是 Excel 工作簿（可能是 .csv、文本或其他格式改了扩展名），请另存为 .xlsx")
        return report
    try:
        zf = zipfile.ZipFile(path)
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
            if ".." in PurePosixPath(info.filename).parts or info.filename.startswith("/"):
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
            whole = is_sheet or info.filename.lower() in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
            try:
                data = _read_capped(zf, info, None if whole else 4096)
            except Exception:  # bad CRC, inflate errors, undecodable local names, unknown methods …
                add("file-corrupt", f"文件内部部件 {info.filename} 已损坏，请重新保存后发送")
                return report
            if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data[:4096].upper():
                add("xml-dtd", "文件内部 XML 含有实体声明（DOCTYPE/ENTITY），可能是恶意文件，拒绝读取")
                return report
            if is_sheet:
                rows, cols = sheet_extent(data)
                if rows > MAX_ROWS or cols > MAX_COLS:
                    add("sheet-too-large", f"工作表 {info.filename.rsplit('/', 1)[-1]} 的使用范围过大"
                                           f"（{rows} 行 × {cols} 列），请删除表格下方和右侧的多余内容和格式")
                    return report
                report.sheets[info.filename] = data
            elif whole:
                report.sheets[info.filename.lower()] = data
    return report


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, head: int | None = None) -> bytes:
    # The declared size can lie; never inflate more than the limit.
    with zf.open(info) as fh:
        if head:
            return fh.read(head)
        data = fh.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise RuntimeError("part too large")
    return data


_WIDE = re.compile(rb'\sr="(?:[A-Z]{3}|[C-Z][A-Z]|B[I-Z])[0-9]')  # a column beyond BH (60)
_DEEP = re.compile(rb'\sr="[A-Z]{0,3}[0-9]{4,}"')  # a row number of four digits or more


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """The real extent (rows, columns) of a worksheet part, from its cells and rows.

    Columns are only counted exactly when some cell lies beyond column BH; a
    small sheet (the normal case) is cleared by two searches that run in C.
    """
    max_row = max_col = 0
    m = _DIM.search(xml[:2048])
    if m and m.group(2):
        max_row, max_col = int(m.group(3)), col_number(m.group(2).decode())
    rows = set(_ROW.findall(xml))
    if rows:
        max_row = max(max_row, max(int(r) for r in rows))
    if _WIDE.search(xml) or _DEEP.search(xml):
        refs = _REF.findall(xml)
        if refs:
            cols = {c for c, _ in refs}
            max_col = max(max_col, col_number(max(cols, key=lambda c: (len(c), c)).decode()))
            max_row = max(max_row, max(int(r) for r in {r for _, r in refs}))
    return max_row, max_col
