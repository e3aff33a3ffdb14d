"""Whole-range reads and writes on an xlwings Book (classic, Lite or Server alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlwings as xw

from workbook import schema as S
from workbook.master import Master, master_from_rows

from .decorators import CLASSIC, LITE

PANEL = "操作台"
STATUS_CELL = "B3"  # on the panel: where every script says what it did (Lite has no message box)


def sheet_names(book: xw.Book) -> list[str]:
    return [s.name for s in book.sheets]


def read_sheet(book: xw.Book, name: str) -> list[list[Any]]:
    """All values of a sheet in one call ('' for empty cells, as calamine gives)."""
    values = book.sheets[name].used_range.options(ndim=2).value or []
    return [["" if v is None else v for v in row] for row in values]


def read_master(book: xw.Book) -> tuple[Master, dict[str, list[list[Any]]]]:
    names = sheet_names(book)
    rows = {n: read_sheet(book, n) for n in S.MASTER_SHEETS if n in names}
    master = master_from_rows(rows, book.name)
    master.path = desktop_path(book)
    return master, rows


def desktop_path(book: xw.Book) -> Path | None:
    """The master's file on disk in classic desktop Excel; None in Lite and Server.

    Under the server the book's name comes from the client, so it never names a path.
    """
    if not CLASSIC:
        return None
    try:
        path = Path(book.fullname)
    except Exception:
        return None
    return path if path.is_absolute() and path.is_file() else None


def replace_sheet(book: xw.Book, name: str, values: list[list[Any]], after: str | None = None) -> xw.Sheet:
    """Clear (or add) a sheet and write ``values`` in one call."""
    if name in sheet_names(book):
        sheet = book.sheets[name]
        sheet.clear_contents()
    else:
        sheet = book.sheets.add(name, after=book.sheets[after] if after and after in sheet_names(book) else
                                book.sheets[len(book.sheets) - 1])
    if values:
        sheet["A1"].value = values
    return sheet


def write_block(sheet: xw.Sheet, top_left: str, values: list[list[Any]]) -> None:
    if values and values[0]:
        sheet[top_left].value = values


def status(book: xw.Book, text: str | None) -> None:
    try:
        book.app.status_bar = text  # classic desktop only
    except Exception:
        pass


def alert(book: xw.Book, message: str, title: str = "督办") -> None:
    """A message box (classic, Server) and the panel's status cell (every route that has the panel)."""
    if PANEL in sheet_names(book):
        book.sheets[PANEL][STATUS_CELL].value = "'" + message if message[:1] in "=+-@" else message
    if LITE:
        return
    try:
        book.app.alert(message, title=title)
    except Exception:
        pass
