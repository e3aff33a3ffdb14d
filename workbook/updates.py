"""Updates of the master as plain data, applied to the file or to an open Excel book.

A step that changes several sheets (``duban check --fix``, recording an issue) plans a
:class:`SheetUpdate` per sheet; the command line patches those cells into the file under
the master's lock (:func:`apply_to_file`), the Excel plugin writes the same values as ranges
(``xlplugin.bookio.apply_updates``). Columns are named, never numbered, so a sheet whose
columns staff moved, or an old sheet that lacks a newer column, is written where its
header says (a missing column is added after the last one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from . import schema as S
from .language.text import cell_text
from .ooxml.sheetpatch import SheetEdits

if TYPE_CHECKING:
    from openpyxl import Workbook

    from .master import MasterTransaction


@dataclass
class SheetUpdate:
    """What changes in one sheet: cells of existing rows, rows appended, or every data row replaced."""

    cells: dict[tuple[int, str], Any] = field(default_factory=dict)  # (sheet row, column name) → value
    append: list[dict[str, Any]] = field(default_factory=list)  # rows by column name
    body: list[dict[str, Any]] | None = None  # when set: the sheet's data rows, all of them

    def __bool__(self) -> bool:
        return bool(self.cells or self.append or self.body is not None)


Updates = dict[str, SheetUpdate]


def merge(*updates: Updates) -> Updates:
    """One plan from several (a later plan's cells win; appended rows are kept in order)."""
    out: Updates = {}
    for plan in updates:
        for name, u in plan.items():
            mine = out.setdefault(name, SheetUpdate())
            mine.cells.update(u.cells)
            mine.append += u.append
            if u.body is not None:
                mine.body = u.body
    return {n: u for n, u in out.items() if u}


class Grid:
    """The header of one sheet and where each named column is; a column it lacks goes after the last."""

    def __init__(self, header: list[Any]) -> None:
        self.header = [cell_text(h) for h in header]
        while self.header and not self.header[-1]:
            self.header.pop()
        self.index = {h: i for i, h in enumerate(self.header) if h}
        self.added: list[str] = []

    def column(self, name: str) -> int:
        """0-based column of ``name``."""
        if name not in self.index:
            self.index[name] = len(self.header)
            self.header.append(name)
            self.added.append(name)
        return self.index[name]

    def row(self, values: dict[str, Any]) -> list[Any]:
        for name in values:
            self.column(name)
        return [values.get(h) for h in self.header]


def sheet_edits(update: SheetUpdate, header: list[Any], data_rows: int) -> SheetEdits:
    """The cell edits of ``update`` for a sheet with this header row (empty: it gets one) and this
    many rows below it."""
    grid = Grid(header)
    edits = SheetEdits()
    for (r, name), value in update.cells.items():
        edits.cells[(r, grid.column(name) + 1)] = value
    if update.body is not None:
        rows = [grid.row(values) for values in update.body + update.append]
        for r, values in enumerate(rows, start=2):
            for c, value in enumerate(values, start=1):
                edits.cells[(r, c)] = value
        for r in range(len(rows) + 2, data_rows + 2):  # rows the new body no longer fills
            for c in range(1, len(grid.header) + 1):
                edits.cells[(r, c)] = None
    else:
        edits.append = [grid.row(values) for values in update.append]
    for name in grid.added:
        edits.cells[(1, grid.index[name] + 1)] = name
    return edits


def apply_to_file(tx: "MasterTransaction", updates: Updates,
                  prepare: Callable[[Workbook], None] | None = None) -> None:
    """Patch ``updates`` into the master of a transaction (sheets it lacks are added first;
    ``prepare`` edits the openpyxl workbook before, in the same write: see ``MasterTransaction.patch``)."""
    from .ooxml.xlsx_reader import open_book, sheet_rows

    updates = {n: u for n, u in updates.items() if u}
    if not updates and prepare is None:
        return
    book = open_book(tx.path)
    edits = {}
    for name, update in updates.items():
        rows = sheet_rows(book, name) if name in book.sheet_names else []
        # a sheet the master lacks is added with its columns (MasterTransaction.patch)
        header = rows[0] if rows else S.SHEET_COLUMNS.get(name, [])
        edits[name] = sheet_edits(update, header, max(len(rows) - 1, 0))
    tx.patch(edits, prepare)
