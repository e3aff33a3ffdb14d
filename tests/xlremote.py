"""Drive scripts the way xlwings Server and Lite do, with no Excel present.

``payload`` turns a real .xlsx into the JSON a client sends; ``run_script``
calls a script through ``xlwings.server.custom_scripts_call`` on
``xw.Book(json=...)``; ``apply`` plays the returned actions onto plain
sheet values, so tests can assert what Excel would show.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import xlwings as xw
from python_calamine import CalamineWorkbook
from xlwings.server import custom_scripts_call


def _json_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.isoformat() + ".000Z"
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time()).isoformat() + ".000Z"
    if isinstance(v, dt.time):
        return v.isoformat()
    return v


def sheets_from_file(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        out[name] = [[_json_value(v) for v in row] for row in rows] or [[""]]
    return out


def payload(sheets: dict[str, list[list[Any]]], name: str = "总台账.xlsx") -> dict[str, Any]:
    return {
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": name, "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": [{"name": n, "values": _rect(v), "pictures": [], "tables": [], "charts": [], "shapes": []}
                   for n, v in sheets.items()],
    }


def _rect(values: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in values), default=1) or 1
    return [list(r) + [""] * (width - len(r)) for r in values] or [[""]]


def run_script(module: Any, name: str, sheets: dict[str, list[list[Any]]]) -> list[dict[str, Any]]:
    book = xw.Book(json=payload(sheets))
    asyncio.run(custom_scripts_call(module, name, typehint_to_value={xw.Book: book}))
    return book.json()["actions"]


HIDDEN: set[str] = set()  # sheets a script hid, and the sheet it activated last (for tests to look at)
ACTIVE: list[str] = []


def apply(sheets: dict[str, list[list[Any]]], actions: list[dict[str, Any]]) -> list[str]:
    """Play actions onto ``sheets`` in place; return the alert messages."""
    order = list(sheets)
    alerts = []
    for a in actions:
        f = a["func"]
        if f == "addSheet":
            position, name = a["args"][0], a["args"][1]
            order.insert(position, name)
            sheets[name] = [[""]]
        elif f == "setValues":
            grid = sheets[order[a["sheet_position"]]]
            r0, c0 = a["start_row"], a["start_column"]
            for i, row in enumerate(a["values"]):
                while len(grid) <= r0 + i:
                    grid.append([])
                line = grid[r0 + i]
                while len(line) < c0 + len(row):
                    line.append("")
                for j, v in enumerate(row):
                    line[c0 + j] = "" if v is None else v
        elif f == "sheetClearContents":
            name = order[a["sheet_position"]]
            sheets[name] = [[""]]
        elif f == "clearContents":
            name = order[a["sheet_position"]]
            r0, c0 = a["start_row"], a["start_column"]
            for i in range(a["row_count"]):
                for j in range(a["column_count"]):
                    if r0 + i < len(sheets[name]) and c0 + j < len(sheets[name][r0 + i]):
                        sheets[name][r0 + i][c0 + j] = ""
        elif f == "alert":
            alerts.append(a["args"][0])
        elif f == "setSheetVisibility":  # what Excel shows, not the values
            (HIDDEN.add if a["args"] == ["Hidden"] else HIDDEN.discard)(order[a["sheet_position"]])
        elif f == "activateSheet":
            ACTIVE[:] = [order[a["args"][0]]]
        else:
            raise AssertionError(f"unexpected action {f}")
    reordered = {n: sheets[n] for n in order}
    sheets.clear()
    sheets.update(reordered)
    return alerts
