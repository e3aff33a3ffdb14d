"""Fast value reads of .xlsx files through python-calamine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from .findings import DubanError


def open_book(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        raise DubanError(f"无法读取工作簿 {path.name}：{exc}") from None


def read_sheet_rows(path: Path, sheet: str | None = None) -> list[list[Any]]:
    book = open_book(path)
    name = sheet or book.sheet_names[0]
    if name not in book.sheet_names:
        raise DubanError(f"工作簿 {path.name} 中没有“{name}”工作表")
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def sheet_rows(book: CalamineWorkbook, name: str) -> list[list[Any]]:
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
