import datetime as dt
import shutil

import pytest
from xlremote import apply, run_script, sheets_from_file
from xlwings.server import custom_functions_meta, custom_scripts_meta

import xlplugin.functions as functions
import xlplugin.scripts as scripts
import soffice
from workbook import form as F
from workbook import schema as S
from workbook.collect import collect
from workbook.filling import fill_unit_file
from workbook.split import split_master


@pytest.fixture
def collected_master(sample_master_file, tmp_path):
    master = tmp_path / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, tmp_path / "下发", units=["市发改委", "市民政局"])
    for p in (tmp_path / "下发").iterdir():
        fill_unit_file(p, dt.date(2026, 6, 30))
    collect([tmp_path / "下发"], master)
    return master


def column(sheet, header):
    i = sheet[0].index(header)
    return [r[i] if i < len(r) else "" for r in sheet[1:]]


def test_metadata_lists_every_script_and_function():
    meta = {m["function_name"]: m for m in custom_scripts_meta(scripts)}
    assert set(meta) == set(scripts.BUTTONS)
    for name, (caption, shape, cell) in scripts.BUTTONS.items():
        assert meta[name]["button"] == f"[{shape}]操作台!{cell}" and meta[name]["name"] == caption
    funcs = {f["id"]: f for f in custom_functions_meta(functions)["functions"]}
    assert set(funcs) == {"DUBAN_DEADLINE", "DUBAN_DAYS_LEFT", "DUBAN_RATE", "DUBAN_LIGHT", "DUBAN_UNIT"}
    assert {f["name"] for f in funcs.values()} == {"DEADLINE", "DAYS_LEFT", "RATE", "LIGHT", "UNIT"}
    assert [p["name"] for p in funcs["DUBAN_RATE"]["parameters"]] == ["target", "actual", "reference"]
    assert [p["name"] for p in funcs["DUBAN_LIGHT"]["parameters"]] == ["deadline_text", "status", "progress", "as_of"]


def test_check_script_writes_findings_with_links(sample_master_file):
    sheets = sheets_from_file(sample_master_file)
    sheets[S.TASKS][5][7] = "13月底"
    alerts = apply(sheets, run_script(scripts, "duban_check_master", sheets))
    result = sheets["校验结果"]
    assert result[0] == ["级别", "代码", "位置", "说明", "建议"]
    codes = [r[1] for r in result[1:-1]]
    assert "deadline-impossible" in codes and "main-target-unplaced" in codes
    row = result[1 + codes.index("deadline-impossible")]
    assert row[2] == '=HYPERLINK("#\'任务分解\'!H6","任务分解!H6")'
    assert alerts and "错误 1 项" in alerts[0]


def test_unit_sheets_script(sample_master_file):
    sheets = sheets_from_file(sample_master_file)
    actions = run_script(scripts, "duban_unit_sheets", sheets)
    apply(sheets, actions)
    assert "市发改委" in sheets and "托县政府" in sheets
    ws = sheets["市发改委"]
    assert ws[F.HEADER_ROW - 1][: len(F.HEADERS)] == F.HEADERS and ws[3][0] == "2026-001"
    # speed guard: actions grow with the sheets written, not with the cells
    assert len(actions) <= 3 * 45 + 1
    again = run_script(scripts, "duban_unit_sheets", sheets)
    apply(sheets, again)
    assert len([n for n in sheets if n == "市发改委"]) == 1 and len(sheets) == len(S.MASTER_SHEETS) + 45


def test_rates_script_fills_rates_and_lights(collected_master):
    sheets = sheets_from_file(collected_master)
    actions = run_script(scripts, "duban_rates", sheets)
    assert len(actions) == 3
    alerts = apply(sheets, actions)
    lights = column(sheets[S.TASKS], "灯")
    assert set(lights) <= {"红", "黄", "绿"} and len(lights) == 189
    rates = column(sheets[S.TASKS], S.RATE)
    assert isinstance(rates[0], float)
    assert "红" in alerts[0]


def test_report_script_writes_bulletin_sheets(collected_master):
    sheets = sheets_from_file(collected_master)
    actions = run_script(scripts, "duban_report", sheets)
    apply(sheets, actions)
    assert "通报-指标完成情况" in sheets and "通报-未报送单位" in sheets
    indicators = sheets["通报-指标完成情况"]
    assert indicators[2][:5] == ["序号", "指标", "目标", "完成情况", "完成率"]
    missing = [r[0] for r in sheets["通报-未报送单位"][3:]]
    assert "市发改委" not in missing and "市财政局" in missing
    assert len(actions) <= 3 * 7 + 1


def test_word_buttons_write_beside_the_master_and_record_the_numbers(collected_master, monkeypatch):
    """The classic route: files in folders beside the master on disk, 督办记录 rows into the open book."""
    from docx import Document

    monkeypatch.setattr(scripts, "desktop_path", lambda book: collected_master)
    sheets = sheets_from_file(collected_master)
    alerts = apply(sheets, run_script(scripts, "duban_tongbao", sheets))
    word = collected_master.parent / "督查通报_2026-06" / "督查通报_2026年6月.docx"
    assert word.exists() and str(word) in alerts[0]
    assert Document(word).paragraphs[0].text.startswith("关于2026年《政府工作报告》")
    alerts = apply(sheets, run_script(scripts, "duban_notices", sheets))
    folder = collected_master.parent / "督办通知单_2026-06"
    files = sorted(folder.iterdir())
    records = sheets[S.NOTICES][1:]
    assert len(files) == len(records) > 1 and "请保存台账" in alerts[0] and str(folder) in alerts[0]
    assert [r[0] for r in records] == [f"督办〔2026〕{n}号" for n in range(1, len(files) + 1)]
    # pressed again before anything changed: the same notices keep their numbers, nothing is appended
    alerts = apply(sheets, run_script(scripts, "duban_notices", sheets))
    assert sheets[S.NOTICES][1:] == records


def test_scripts_grow_actions_with_sheets_not_cells(sample_master_file):
    small = sheets_from_file(sample_master_file)
    big = sheets_from_file(sample_master_file)
    big[S.TASKS] = big[S.TASKS] + [list(r) for _ in range(3) for r in big[S.TASKS][1:]]
    for i, row in enumerate(big[S.TASKS][1:], start=1):
        row[0], row[1] = f"2026-{i:04d}", i
    n_small = len(run_script(scripts, "duban_rates", small))
    n_big = len(run_script(scripts, "duban_rates", big))
    assert n_small == n_big


def test_desktop_only_scripts_explain_themselves_in_a_remote_book(sample_master_file):
    sheets = sheets_from_file(sample_master_file)
    for name in ("duban_export_units", "duban_collect", "duban_tongbao", "duban_notices"):
        actions = run_script(scripts, name, sheets)
        assert [a["func"] for a in actions] == ["alert"]
        assert "桌面版" in actions[0]["args"][0]


def test_failure_shows_a_message_and_changes_nothing(sample_master_file):
    sheets = sheets_from_file(sample_master_file)
    del sheets[S.SETTINGS]
    actions = run_script(scripts, "duban_report", sheets)
    assert [a["func"] for a in actions] == ["alert"] and "未完成" in actions[0]["args"][0]


def test_text_that_looks_like_a_formula_is_written_as_text(collected_master):
    sheets = sheets_from_file(collected_master)
    i = sheets[S.TASKS][0].index(S.NARRATIVE)
    sheets[S.TASKS][1][i] = "=cmd|' /C calc'!A0"
    actions = run_script(scripts, "duban_unit_sheets", sheets)
    written = [v for a in actions if a["func"] == "setValues" for row in a["values"] for v in row]
    assert "'=cmd|' /C calc'!A0" in written and "=cmd|' /C calc'!A0" not in written


@pytest.mark.parametrize("call, expected", [
    (lambda: functions.DUBAN_DEADLINE("6月底前", 2026), dt.date(2026, 6, 30)),
    (lambda: functions.DUBAN_DEADLINE("按自治区安排统筹推进", 2026), ""),
    (lambda: functions.DUBAN_DAYS_LEFT("9月30日前", 2026, dt.date(2026, 9, 20)), 10),
    (lambda: functions.DUBAN_RATE("6.5%左右", "7.8%"), 1.2),
    (lambda: functions.DUBAN_RATE("10%以上", "1700亿元"), ""),
    (lambda: functions.DUBAN_RATE("与经济增长同步", "4.4%", "5.5%左右"), 0.8),
    (lambda: functions.DUBAN_LIGHT("3月底", "序时推进", 80, dt.date(2026, 6, 30)), "红"),
    (lambda: functions.DUBAN_LIGHT("12月底", "已完成", 100, "2026-06-30"), "绿"),
    (lambda: functions.DUBAN_LIGHT("3月底前完成方案，6月底前开工，12月底前完工", "序时推进", 40, "2026-07-15"), "红"),
    (lambda: functions.DUBAN_UNIT("呼和浩特 职业技术大学"), "呼和浩特职业技术大学"),
])
def test_cell_functions(call, expected):
    assert call() == expected


@pytest.mark.parametrize("call", [
    lambda: functions.DUBAN_DEADLINE("13月底", 2026),
    lambda: functions.DUBAN_DEADLINE("6月底", "明年"),
    lambda: functions.DUBAN_DAYS_LEFT("尽快", 2026, None),
    lambda: functions.DUBAN_LIGHT("10月底", "序时推进", "很多", None),
])
def test_bad_arguments_give_chinese_text(call):
    out = call()
    assert isinstance(out, str) and out.startswith("错误：")


def test_cell_functions_through_the_server_call():
    import asyncio

    import xlwings as xw
    from xlwings.server import custom_functions_call

    data = {"func_name": "DUBAN_RATE", "args": [[["6.5%左右"]], [["7.8%"]], [[None]]], "version": xw.__version__,
            "client": "Office.js", "caller_address": "Sheet1!A1", "formula_name": "DUBAN_RATE",
            "culture_info_name": "zh-CN", "date_format": "yyyy/m/d", "runtime": "1.4"}
    assert asyncio.run(custom_functions_call(data, functions)) == [[1.2]]


@pytest.fixture(scope="module")
def built_template(tmp_path_factory):
    from xlplugin.template import build

    return build(tmp_path_factory.mktemp("template") / "模板 副本.xlsm")


def test_template_has_a_button_per_script(built_template):
    import zipfile

    import openpyxl

    from xlplugin.template import TEMPLATE

    for path in (TEMPLATE, built_template):
        with zipfile.ZipFile(path) as z:
            vml = z.read("xl/drawings/vmlDrawing1.vml").decode()
            drawing = z.read("xl/drawings/drawing1.xml").decode()
            rels = z.read("xl/drawings/_rels/drawing1.xml.rels").decode()
            assert "xl/vbaProject.bin" in z.namelist()
        for name, (_, shape, cell) in scripts.BUTTONS.items():
            assert f"[0]!{name}" in vml  # the form button is assigned to the Sub of the same name
            assert f'name="{shape}"' in drawing
            assert f"#'操作台'!{cell}" in rels  # the shape links to its cell, so script(button=...) binds
        wb = openpyxl.load_workbook(path, keep_vba=True)
        assert wb.sheetnames[:2] == ["操作台", S.TASKS]
        assert [c.value for c in wb[S.TASKS][1]] == S.TASK_COLUMNS
        conf = wb["xlwings.conf"]
        assert conf.sheet_state == "hidden" and [conf["A1"].value, conf["B1"].value] == ["UDF Modules", "xlplugin.functions"]


def _macros(path):
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {vba_name: code for _, _, vba_name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_template_vba_runs_each_script_from_a_zero_argument_sub(built_template):
    """olevba reads the VBA project as Excel stores it: one Sub per button, no argument, RunPython on a real script."""
    import ast
    import pathlib
    import re

    import xlwings

    from xlplugin.template import TEMPLATE

    for path in (TEMPLATE, built_template):
        modules = _macros(path)
        assert set(modules) >= {"ThisWorkbook.cls", "xlwings.bas", "duban.bas"}
        code = modules["duban.bas"]
        subs = dict(re.findall(r'^Sub (\w+)\(\)\r?\n\s+RunPython "([^"]+)"\r?\nEnd Sub', code, re.M))
        assert set(subs) == set(scripts.BUTTONS)
        assert not re.search(r"^Sub \w+\([^)]", code, re.M)  # no Sub takes an argument
        for name, command in subs.items():
            tree = ast.parse(command)  # valid Python, calling run_caller on an existing script
            call = tree.body[-1].value
            assert ast.unparse(tree.body[0]) == "import xlplugin.scripts as s"
            assert ast.unparse(call.func) == "s.run_caller" and call.args[0].value == name
            assert callable(getattr(scripts, name)) and callable(scripts.run_caller)
        source = (pathlib.Path(xlwings.__file__).parent / "xlwings.bas").read_text()
        assert "Public Function RunPython(" in modules["xlwings.bas"]
        assert [ln for ln in modules["xlwings.bas"].splitlines() if not ln.startswith("Attribute ")] == \
            [ln for ln in source.splitlines() if not ln.startswith("Attribute ")]


def test_libreoffice_binds_each_button_to_its_macro(built_template, tmp_path):
    """A second real reader of the VBA project: LibreOffice imports the modules and the button assignments."""
    import zipfile

    soffice.convert([built_template], "ods", tmp_path).check_returncode()
    with zipfile.ZipFile(tmp_path / (built_template.stem + ".ods")) as z:
        content = z.read("content.xml").decode()
        module = z.read("Basic/VBAProject/duban.xml").decode()
    for name in scripts.BUTTONS:
        assert f"vnd.sun.star.script:VBAProject.duban.{name}?" in content
        assert f"Sub {name}()" in module


def test_ovba_compression_round_trips_through_olevba():
    import os

    from oletools.olevba import decompress_stream

    from xlplugin.ovba import compress

    for data in (b"", b"a", b"Sub x()\r\nEnd Sub\r\n" * 900, os.urandom(5000), bytes(range(256)) * 40):
        assert decompress_stream(bytearray(compress(data))) == data


def test_run_caller_refuses_unknown_names():
    with pytest.raises(ValueError):
        scripts.run_caller("os.system")


def test_panel_status_cell_shows_the_message(sample_master_file):
    sheets = sheets_from_file(sample_master_file)
    sheets = {"操作台": [[""] * 4 for _ in range(4)], **sheets}
    apply(sheets, run_script(scripts, "duban_export_units", sheets))
    assert "桌面版" in sheets["操作台"][2][1]
