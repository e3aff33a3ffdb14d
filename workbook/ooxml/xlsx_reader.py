"""Fast value reads of .xlsx files through python-calamine."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # imported when a file is read: the Excel plugin runs where python-calamine is missing (Pyodide)
    from python_calamine import CalamineWorkbook

from ..findings import DubanError


def open_book(path: Path) -> CalamineWorkbook:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        raise DubanError(f"无法读取工作簿 {path.name}：{exc}") from None


def read_sheet_rows(path: Path, sheet: str | None = None) -> list[list[Any]]:
    book = open_book(path)
    name = sheet or book.sheet_names[0]
    if name not in book.sheet_names:
        raise DubanError(f"工作簿 {path.name} 中没有“{name}”工作表")
    return sheet_rows(book, name)


def sheet_rows(book: CalamineWorkbook, name: str) -> list[list[Any]]:
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except BaseException as exc:  # calamine errors and Rust panics (a BaseException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise DubanError(f"无法读取“{name}”工作表：{type(exc).__name__}") from None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what native code writes to stderr (a Rust panic message) while reading a submitted file.

    The panic itself reaches Python as an exception and becomes a finding; its
    message must not reach the terminal of a batch run.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded in Excel): nothing to silence
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)  # a descriptor, not a file object: this runs once per file
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
