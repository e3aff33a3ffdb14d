"""Excel workbooks (.xlsx): every visible sheet, merged cells filled in, hidden rows marked.

Published sheets merge a category row across the table and a task cell down over
the rows of its several units; each covered cell gets the merged text and knows it
is a copy, so the decomposition step can tell a continuation row from a new task.
Values come from python-calamine (formulas are never evaluated), hidden rows from
the sheet XML, after the raw-zip guard has bounded the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..findings import DubanError
from ..language.text import cell_text, col_letter
from ..ooxml.sheetxml import scan_book
from ..ooxml.xlsx_reader import open_book, sheet_rows
from ..ooxml.zipguard import inspect_zip
from .table import SourceCell, SourceDocument, SourceRow, SourceTable

# What a publisher's workbook may well contain and duban never runs: not a reason to refuse it.
_HARMLESS = {"macro-present", "external-link", "embedded-object"}


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime) and not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return cell_text(value)


def read_xlsx(path: Path) -> SourceDocument:
    guard = inspect_zip(path)
    problems = [f for f in guard.findings if f.severity == "error" and f.code not in _HARMLESS]
    if problems:
        raise DubanError(f"无法导入 {path.name}：{problems[0].message}")
    book = open_book(path)
    scan = scan_book(path, tuple(book.sheet_names), guard.sheets)
    doc = SourceDocument(path.name, "Excel 工作簿")
    for name in book.sheet_names:
        if scan.states.get(name, "visible") != "visible":
            continue
        values = sheet_rows(book, name)
        try:
            merges = book.get_sheet_by_name(name).merged_cell_ranges or []
        except BaseException as exc:  # calamine errors and Rust panics
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            merges = []
        sheet_scan = scan.sheets.get(name)
        doc.tables.append(_table(name, values, merges, sheet_scan.hidden_rows if sheet_scan else set()))
    return doc


def _table(name: str, values: list[list[Any]], merges: list, hidden: set[int]) -> SourceTable:
    table = SourceTable(f"工作表“{name}”", sheet=name)
    grid = [[SourceCell(_text(v), f"{col_letter(c + 1)}{r + 1}") for c, v in enumerate(row)]
            for r, row in enumerate(values)]
    for (r0, c0), (r1, c1) in merges:
        if r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        origin = grid[r0][c0]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, len(grid[r]) - 1) + 1):
                if (r, c) != (r0, c0):
                    grid[r][c].text, grid[r][c].merged_from = origin.text, origin.ref
    table.rows = [SourceRow(cells, r + 1, (r + 1) in hidden) for r, cells in enumerate(grid)]
    return table
