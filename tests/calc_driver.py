"""Drive a running LibreOffice Calc through UNO the way a unit clerk edits a workbook.

Run with the system python (python3-uno; the project's virtualenv cannot import
``uno``): ``/usr/bin/python3 tests/calc_driver.py PIPE_NAME``. It connects to
an soffice started with ``--accept=pipe,name=PIPE_NAME;urp;`` and then reads
one JSON command per line on stdin, answering one JSON line on stdout:

- ``{"cmd": "edit", "src": PATH, "steps": [[OP, ARG...], ...], "saves": [[PATH, FILTER], ...], "read": [CELL]}``
  opens ``src``, makes the edits, saves a copy per entry of ``saves`` (filters
  such as "Calc MS Excel 2007 XML", "Calc Office Open XML", "calc8", "MS Excel 97")
  and closes it without saving ``src`` → ``{"shown": {CELL: text as Calc displays it}}``;
- ``{"cmd": "hold", "path": PATH}`` opens a document and keeps it open (LibreOffice
  writes its ``.~lock.NAME#`` beside it) → ``{"id": N}``; ``{"cmd": "release", "id": N}`` closes it;
- ``{"cmd": "quit"}`` ends the driver and asks soffice to terminate.

Edit steps (cells as ``B4`` or ``_meta!B4``, rows 1-based as on screen):
``type`` CELL TEXT (typed as on the keyboard: Calc recognises 7.5%, dates, numbers),
``set`` CELL TEXT (put in as text, no recognition: a multi-line text as Alt+Enter makes it),
``delete_rows`` ROW COUNT, ``insert_rows`` ROW COUNT, ``sort`` RANGE COLUMN DESCENDING,
``hide_column`` COL, ``width`` COL HUNDREDTHS_OF_MM, ``paste_values`` SOURCE_RANGE TARGET_CELL,
``comment`` CELL TEXT, ``unprotect`` [SHEET], ``show_sheet`` SHEET, ``merge`` RANGE.
"""

from __future__ import annotations

import json
import sys
import time
import traceback

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.table import CellAddress

FORM = "填报"


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


class Driver:
    def __init__(self, pipe: str) -> None:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.time() + 60
        while True:
            try:
                self.ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
        self.held: dict[int, object] = {}

    # ------------------------------------------------------------------ commands

    def load(self, path: str, hidden: bool = True):
        return self.desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                                 (prop("Hidden", hidden),))

    def edit(self, src: str, steps: list, saves: list, read: list = ()) -> dict:
        doc = self.load(src)
        try:
            for step in steps:
                getattr(self, "op_" + step[0])(doc, *step[1:])
            shown = {ref: self.cell(doc, ref).getString() for ref in read}  # as displayed, formats applied
            for dst, filter_name in saves:
                doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", filter_name),))
        finally:
            doc.close(True)
        return {"shown": shown}

    def hold(self, path: str) -> dict:
        doc = self.load(path)
        key = len(self.held) + 1
        self.held[key] = doc
        return {"id": key}

    def release(self, id: int) -> dict:
        self.held.pop(id).close(True)
        return {}

    # ------------------------------------------------------------------ edit steps

    @staticmethod
    def sheet_and_ref(doc, ref: str):
        name, _, ref = ref.rpartition("!")
        return doc.Sheets.getByName(name or FORM), ref

    def cell(self, doc, ref: str):
        sheet, ref = self.sheet_and_ref(doc, ref)
        return sheet.getCellRangeByName(ref)

    def op_type(self, doc, ref: str, text: str) -> None:
        """Typed into the cell as a clerk does: Calc applies its input recognition (percent, dates)."""
        sheet, ref = self.sheet_and_ref(doc, ref)
        controller = doc.getCurrentController()
        controller.setActiveSheet(sheet)
        controller.select(sheet.getCellRangeByName(ref))
        self.dispatcher.executeDispatch(controller.getFrame(), ".uno:EnterString", "", 0,
                                        (prop("StringName", text),))

    def op_set(self, doc, ref: str, text: str) -> None:
        self.cell(doc, ref).setString(text)

    def op_delete_rows(self, doc, row: int, count: int = 1) -> None:
        doc.Sheets.getByName(FORM).getRows().removeByIndex(row - 1, count)

    def op_insert_rows(self, doc, row: int, count: int = 1) -> None:
        doc.Sheets.getByName(FORM).getRows().insertByIndex(row - 1, count)

    def op_sort(self, doc, ref: str, column: int, descending: bool = False) -> None:
        rng = self.cell(doc, ref)
        field = uno.createUnoStruct("com.sun.star.table.TableSortField")
        field.Field, field.IsAscending = column, not descending
        rng.sort((prop("SortFields", uno.Any("[]com.sun.star.table.TableSortField", (field,))),
                  prop("ContainsHeader", False)))

    def op_hide_column(self, doc, col: str) -> None:
        doc.Sheets.getByName(FORM).getColumns().getByName(col).IsVisible = False

    def op_width(self, doc, col: str, width: int) -> None:
        doc.Sheets.getByName(FORM).getColumns().getByName(col).Width = width

    def op_paste_values(self, doc, source: str, target: str) -> None:
        """Copy, then 选择性粘贴 → 仅数值/文本/日期 (Paste Special, values only)."""
        sheet, source = self.sheet_and_ref(doc, source)
        controller = doc.getCurrentController()
        frame = controller.getFrame()
        controller.setActiveSheet(sheet)
        controller.select(sheet.getCellRangeByName(source))
        self.dispatcher.executeDispatch(frame, ".uno:Copy", "", 0, ())
        controller.select(self.cell(doc, target))
        self.dispatcher.executeDispatch(frame, ".uno:InsertContents", "", 0, (
            prop("Flags", "SVD"), prop("FormulaCommand", 0), prop("SkipEmptyCells", False),
            prop("Transpose", False), prop("AsLink", False), prop("MoveMode", 4)))

    def op_comment(self, doc, ref: str, text: str) -> None:
        sheet, ref = self.sheet_and_ref(doc, ref)
        address = sheet.getCellRangeByName(ref).getCellAddress()
        sheet.getAnnotations().insertNew(CellAddress(address.Sheet, address.Column, address.Row), text)

    def op_unprotect(self, doc, name: str = FORM) -> None:
        doc.Sheets.getByName(name).unprotect("")

    def op_show_sheet(self, doc, name: str) -> None:
        doc.Sheets.getByName(name).IsVisible = True

    def op_merge(self, doc, ref: str) -> None:
        self.cell(doc, ref).merge(True)


def main() -> None:
    driver = Driver(sys.argv[1])
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        command = request.pop("cmd")
        if command == "quit":
            break
        try:
            answer = {"ok": True, **getattr(driver, command)(**request)}
        except Exception as exc:  # reported to the test, which fails with the UNO error
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        print(json.dumps(answer), flush=True)
    for doc in driver.held.values():
        doc.close(True)
    try:
        driver.desktop.terminate()
    except Exception:  # the bridge goes down with soffice
        pass


if __name__ == "__main__":
    main()
