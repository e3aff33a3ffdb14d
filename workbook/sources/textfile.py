"""Text files: tab-separated text as Excel saves it, or the paragraph layout.

Excel's "文本文件(制表符分隔)" quotes a cell holding a tab, a line break or a
quote and doubles the quotes inside; "Unicode 文本" is UTF-16 with a BOM; files
from Chinese Windows are GBK (GB18030 reads GBK and more). A file without any tab
is the paragraph layout (一、… / 1.… / 牵头单位：…).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..findings import DubanError
from .paragraphs import LABEL, paragraph_table
from .table import SourceDocument, SourceTable

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"), (b"\xff\xfe", "utf-16", "UTF-16"),
         (b"\xfe\xff", "utf-16", "UTF-16"))
# Control characters no text editor writes: a sign of a wrong guess (or a binary file).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
ENCODINGS_TRIED = "UTF-8、UTF-16（带 BOM）、GB18030（含 GBK、GB2312）"


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The text and the name of its encoding; a readable error when it is none of those tried."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(codec), name), label
            except UnicodeDecodeError:
                break
    else:
        for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            # GB18030 decodes most byte soups; require the Chinese a decomposition is written in.
            if codec == "gb18030" and len(_CJK.findall(text)) < len(text.strip()) // 10:
                break
            return _checked(text, name), label
    raise DubanError(f"无法识别 {name} 的文字编码（已尝试 {ENCODINGS_TRIED}）：请在 Excel 或记事本中"
                     "另存为“UTF-8”或“Unicode 文本”后再导入")


def _checked(text: str, name: str) -> str:
    if _CONTROL.search(text):
        raise DubanError(f"{name} 含有文本文件中不应出现的控制字符，可能不是文本文件（已尝试 {ENCODINGS_TRIED}）")
    return text


def read_text_file(path: Path) -> SourceDocument:
    text, encoding = decode(path.read_bytes(), path.name)
    if path.suffix.lower() == ".csv":
        return SourceDocument(path.name, f"逗号分隔文本（{encoding}）", [_delimited(text, ",")])
    lines = [(line, n) for n, line in enumerate(text.splitlines(), start=1)]
    labelled = any(LABEL.search(line) for line, _ in lines)
    if "\t" not in text:
        return SourceDocument(path.name, f"段落文本（{encoding}）", [paragraph_table(lines, "正文")])
    doc = SourceDocument(path.name, f"制表符分隔文本（{encoding}）", [_delimited(text, "\t")])
    if labelled:  # a page copied whole: its metadata block has tabs, its decomposition is paragraphs
        doc.tables.append(paragraph_table([(line, n) for line, n in lines if "\t" not in line], "正文段落"))
    return doc


def _delimited(text: str, sep: str) -> SourceTable:
    """Rows as Excel writes them; a quoted cell may span lines and holds doubled quotes."""
    table = SourceTable("正文")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=False)
    start = 1
    for cells in reader:
        table.add_row([c.replace("\r\n", "\n") for c in cells], start)
        start = reader.line_num + 1
    return table
