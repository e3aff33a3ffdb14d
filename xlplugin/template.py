"""Build the master template with its 操作台 (control panel): ``python -m xlplugin.template``.

The template is an empty master plus a panel with one button per script:
a form-control button for classic desktop Excel (it runs the macro of the same
name, which xlwings' "Import Functions" creates from the ``@script`` functions)
and a named shape that xlwings Lite and xlwings Server bind with
``script(button="[shape]操作台!cell")``.
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

import xlsxwriter

from workbook import schema as S

from .scripts import BUTTONS, PANEL

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "总台账模板.xlsm"
DESCRIPTIONS = {
    "duban_check_master": "检查序号、单位名称、完成时限、分管领导任务数，结果写入“校验结果”表（可点击跳转）",
    "duban_unit_sheets": "在本台账内为每个牵头单位生成（或刷新）一张填报表",
    "duban_export_units": "在台账旁生成“单位填报表_期次”文件夹，每个单位一个工作簿（仅桌面版）",
    "duban_collect": "校验台账旁“报送文件”文件夹中各单位发回的文件，通过的汇总进台账（仅桌面版）",
    "duban_rates": "按“设置”中的截至日期计算完成率、序时进度和红黄绿灯",
    "duban_report": "生成月度督查通报各表（带图表的通报文件请用命令行 duban report）",
}


def _vba_project() -> bytes:
    """The xlwings VBA module (RunPython, ImportPythonUDFs) from xlwings' own quickstart workbook."""
    import xlwings

    with zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart.xlsm") as z:
        return z.read("xl/vbaProject.bin")


def build(path: Path = TEMPLATE) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        vba = Path(tmp) / "vbaProject.bin"
        vba.write_bytes(_vba_project())
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
        wb.add_vba_project(str(vba))
        wb.set_vba_name("ThisWorkbook")
        title = wb.add_format({"font_name": "黑体", "font_size": 18, "bold": True})
        text = wb.add_format({"font_name": "宋体", "font_size": 11, "text_wrap": True, "valign": "vcenter"})
        head = wb.add_format({"font_name": "宋体", "bold": True, "bg_color": "#DDEBF7", "border": 1})
        panel = wb.add_worksheet(PANEL)
        panel.write_string(0, 1, "督办 · 操作台", title)
        panel.merge_range(1, 1, 1, 5, "桌面版 Excel：点击左列按钮（需先在 xlwings 选项卡点“Import Functions”）；"
                                      "xlwings Lite / Server：点击右列按钮。", text)
        panel.set_row(1, 30)
        panel.set_landscape()
        panel.set_paper(9)
        panel.fit_to_pages(1, 1)
        panel.set_column(0, 0, 2)
        panel.set_column(1, 1, 18)
        panel.set_column(2, 2, 2)
        panel.set_column(3, 3, 18)
        panel.set_column(4, 4, 2)
        panel.set_column(5, 5, 70)
        for name, (caption, shape, cell) in BUTTONS.items():
            row = int(cell[1:]) - 1
            panel.set_row(row, 36)
            panel.insert_button(row, 1, {"macro": name, "caption": caption, "width": 128, "height": 40})
            panel.insert_textbox(row, 3, caption, {
                "object_name": shape, "width": 128, "height": 40,
                "fill": {"color": "#2F5597"}, "font": {"color": "white", "bold": True, "size": 12, "name": "宋体"},
                "align": {"vertical": "middle", "horizontal": "center"}})
            panel.write_string(row, 5, DESCRIPTIONS[name], text)
        sheets = [(S.TASKS, S.TASK_COLUMNS), (S.LEADERS, S.LEADER_COLUMNS), (S.UNITS, S.UNIT_COLUMNS),
                  (S.SETTINGS, [S.SETTING_KEY, S.SETTING_VALUE]), (S.HISTORY, S.HISTORY_COLUMNS),
                  (S.ISSUED, S.ISSUED_COLUMNS)]
        for sheet_name, headers in sheets:
            ws = wb.add_worksheet(sheet_name)
            for c, h in enumerate(headers):
                ws.write_string(0, c, h, head)
                ws.set_column(c, c, 40 if h == S.TEXT else 12)
            ws.freeze_panes(1, 0)
            if sheet_name == S.SETTINGS:
                for r, key in enumerate([S.S_TITLE, S.S_HEAD, S.S_YEAR, S.S_PERIOD, S.S_AS_OF, S.S_REPORT_DAY,
                                         S.S_STATUSES, S.S_LAG_RED, S.S_DUE_SOON, S.S_MASTER_ID, S.S_SCHEMA], 1):
                    ws.write_string(r, 0, key)
                ws.write_string(7, 1, "、".join(S.STATUSES))
                ws.write_number(8, 1, S.DEFAULT_LAG_RED)
                ws.write_number(9, 1, S.DEFAULT_DUE_SOON)
                ws.write_number(6, 1, S.DEFAULT_REPORT_DAY)
                ws.write_number(11, 1, S.SCHEMA_VERSION)
            if sheet_name == S.ISSUED:
                ws.hide()
        wb.close()
    _name_shapes(path, [shape for _, shape, _ in BUTTONS.values()])
    return path


def _name_shapes(path: Path, names: list[str]) -> None:
    """XlsxWriter names text boxes "TextBox N"; Lite/Server find buttons by shape name."""
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "xl/drawings/drawing1.xml":
                text = data.decode()
                for i, name in enumerate(names, start=1):
                    text = text.replace(f'name="TextBox {i}"', f'name="{name}"', 1)
                data = text.encode()
            z.writestr(info, data)
    tmp.replace(path)


if __name__ == "__main__":
    print(f"模板已生成：{build(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE)}")
