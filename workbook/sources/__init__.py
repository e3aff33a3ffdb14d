"""Readers of published decompositions, one per layout, all producing :class:`.table.SourceDocument`.

A layout found later needs one more reader here (or one more header synonym in
:mod:`.columns`); the column mapping and :mod:`.decomposition` stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..findings import DubanError
from .table import SourceDocument

MAX_SOURCE_BYTES = 20 * 1024 * 1024


def _text(path: Path) -> SourceDocument:
    from .textfile import read_text_file

    return read_text_file(path)


def _xlsx(path: Path) -> SourceDocument:
    from .xlsx import read_xlsx

    return read_xlsx(path)


def _docx(path: Path) -> SourceDocument:
    from .docx import read_docx

    return read_docx(path)


READERS: dict[str, Callable[[Path], SourceDocument]] = {
    ".txt": _text, ".tsv": _text, ".csv": _text, "": _text,
    ".xlsx": _xlsx, ".xlsm": _xlsx,
    ".docx": _docx,
}
_OLD = {".xls": "Excel 97-2003 工作簿", ".et": "WPS 表格", ".doc": "Word 97-2003 文档", ".wps": "WPS 文字"}


def read_document(path: Path) -> SourceDocument:
    """The document at ``path`` read by the reader of its layout."""
    path = Path(path)
    if not path.is_file():
        raise DubanError(f"找不到文件：{path}")
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise DubanError(f"文件过大（超过 20 MB）：{path}")
    suffix = path.suffix.lower()
    if suffix in _OLD:
        raise DubanError(f"{path.name} 是{_OLD[suffix]}格式：请用 Excel、Word 或 WPS 另存为 "
                         f"{'.docx' if suffix in ('.doc', '.wps') else '.xlsx'} 后再导入")
    reader = READERS.get(suffix)
    if reader is None:
        raise DubanError(f"不支持的文件类型“{path.suffix}”：请提供 .xlsx、.docx、制表符分隔的文本或段落文本（.txt）")
    return reader(path)
