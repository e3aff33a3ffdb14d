"""Unit workbooks edited and saved in real LibreOffice Calc, then validated and collected.

One headless soffice per test session (private profile, zh-CN locale as a
Chinese clerk's Calc, no "replace cell contents?" prompt) is driven through
UNO by ``tests/calc_driver.py`` under the system python. The issued workbook
of 市发改委 is first filled by typing every input in Calc; every case then
reopens that file in Calc, makes one clerk's edit and saves it. Each test
validates the saved file, collects it into a private copy of the master and
asserts both the findings and what lands in the master.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from workbook import form as F
from workbook import schema as S
from workbook.cli import main
from workbook.collect import collect
from workbook.filling import fill_unit_file
from workbook.findings import DubanError
from workbook.language.rates import completion_rate
from workbook.master import read_master
from workbook.split import split_master
from workbook.validate import context_from_master, validate_file

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"
UNIT = "市发改委"  # 10 tasks on rows 4-13 (2026-001..003 with targets), blank row 14, footer rows 15-17
FILE_NAME = f"{UNIT}_2026年6月.xlsx"
CALC_XLSX = "Calc MS Excel 2007 XML"
CALC_OOXML = "Calc Office Open XML"

# The profile a clerk's Calc would have: Chinese locale (2026/6/24 is a date), and no prompt
# before pasting onto filled cells (a headless Calc would answer it with "no").
PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">\
<value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Input"><prop oor:name="ReplaceCellsWarning" oor:op="fuse">\
<value>false</value></prop></item>
</oor:items>
"""


def _missing_libreoffice() -> str:
    if not shutil.which("soffice"):
        return "LibreOffice (soffice) is not installed"
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run([SYSTEM_PYTHON, "-c", "import uno"],
                                                          capture_output=True).returncode:
        return "python3-uno is not installed for the system python"
    return ""


class Calc:
    """One headless soffice and the UNO driver talking to it."""

    def __init__(self, root: Path) -> None:
        self.profile = root / "profile"
        (self.profile / "user").mkdir(parents=True)
        (self.profile / "user" / "registrymodifications.xcu").write_text(PROFILE)
        pipe = f"lo-13-{os.getpid()}-{root.name}"
        self.soffice = subprocess.Popen(
            ["soffice", f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--invisible",
             "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.driver = subprocess.Popen([SYSTEM_PYTHON, str(HERE / "calc_driver.py"), pipe], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert json.loads(self.driver.stdout.readline())["ready"]  # type: ignore[union-attr]

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.driver.stdin and self.driver.stdout
        self.driver.stdin.write(json.dumps({"cmd": cmd, **args}, ensure_ascii=False) + "\n")
        self.driver.stdin.flush()
        answer = json.loads(self.driver.stdout.readline())
        if not answer["ok"]:
            raise RuntimeError(answer["trace"])
        return answer

    def edit(self, src: Path, steps: list[list[Any]], saves: list[tuple[Path, str]],
             read: list[str] = ()) -> dict[str, str]:
        return self.call("edit", src=str(src), steps=steps, saves=[[str(p), f] for p, f in saves],
                         read=list(read))["shown"]

    def close(self) -> None:
        try:
            assert self.driver.stdin
            self.driver.stdin.write('{"cmd": "quit"}\n')  # no answer: the driver ends
            self.driver.stdin.flush()
            self.driver.wait(30)
            self.soffice.wait(30)
        finally:
            for proc in (self.driver, self.soffice):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


@pytest.fixture(scope="session")
def calc():
    reason = _missing_libreoffice()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="lo-13-"))
    session = Calc(root)
    try:
        yield session
    finally:
        session.close()
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- what the clerk types

NARRATIVE = {4: "固定资产投资同比增长7.5%，重点项目有序推进。", 5: "地区生产总值同比增长5.6%。",
             6: "已开工重点项目1320个，完成投资1650亿元。", 7: "碳排放预算管理制度已印发实施。",
             8: "已完成园区申报材料编制。", 9: "节能降碳目标任务分解到旗县区。", 10: "都市圈合作事项清单已梳理完成。",
             11: "已征集应用场景12个。", 12: "商业航天项目正在洽谈。", 13: "负面清单制度已推行。"}
STATUS = {4: "序时推进", 5: "序时推进", 6: "序时推进", 7: "已完成", 8: "序时推进", 9: "序时推进", 10: "已完成",
          11: "序时推进", 12: "滞后", 13: "序时推进"}
PROGRESS = {4: 50, 5: 50, 6: 55, 7: 100, 8: 60, 9: 50, 10: 100, 11: 40, 12: 30, 13: 50}
ACTUAL = {4: "7.5%", 5: "5.6%", 6: "1320个，1650亿元"}
TASK = {4: "2026-001", 5: "2026-002", 6: "2026-003", 7: "2026-010", 8: "2026-011", 9: "2026-012",
        10: "2026-013", 11: "2026-014", 12: "2026-015", 13: "2026-016"}


def _fill_steps() -> list[list[Any]]:
    steps: list[list[Any]] = []
    for r in range(4, 14):
        steps += [["type", f"F{r}", STATUS[r]], ["type", f"G{r}", str(PROGRESS[r])], ["type", f"I{r}", NARRATIVE[r]],
                  ["type", f"K{r}", "下步继续加快推进。"]]
        if r in ACTUAL:
            steps.append(["type", f"H{r}", ACTUAL[r]])
    steps += [["type", "J12", "项目审批进度慢于预期。"], ["type", "B15", "张三"], ["type", "B16", "13800138000"],
              ["type", "B17", "2026/6/24"]]
    return steps


# ---------------------------------------------------------------- the edits


@dataclass
class Edit:
    name: str
    steps: list[list[Any]]
    codes: list[str]  # exactly these findings (sorted)
    # task ID → column → value in 任务分解 after collect; None: rejected, the master stays byte-identical.
    # A value "shown:CELL" is the text Calc displayed in that cell.
    master: dict[str, dict[str, Any]] | None = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)  # column → value on every 进展记录 row of the file
    src: str = "base"  # base (filled by typing in Calc), issued (as split wrote it), filled (by openpyxl)
    save: str = CALC_XLSX
    suffix: str = ".xlsx"
    rename: str = ""  # saved under suffix, then renamed to this suffix
    read: list[str] = field(default_factory=list)


REJECTED = None
PROTECTED = [["unprotect"]]

EDITS = [
    Edit("fill_all_by_typing", [], [], {
        "2026-001": {S.STATUS: "序时推进", S.PROGRESS: 50, S.ACTUAL: "7.5%", S.RATE: 0.9375, S.NARRATIVE: NARRATIVE[4]},
        "2026-002": {S.ACTUAL: "5.6%", S.RATE: completion_rate("5.5%左右", "5.6%")},
        "2026-003": {S.ACTUAL: "1320个，1650亿元"},
        "2026-015": {S.STATUS: "滞后", S.PROGRESS: 30, S.PROBLEMS: "项目审批进度慢于预期。"}},
         {"填报人": "张三", "联系电话": "13800138000", "填报日期": dt.date(2026, 6, 24)}),
    Edit("save_as_office_open_xml", [], [], {"2026-001": {S.ACTUAL: "7.5%", S.RATE: 0.9375}},
         {"联系电话": "13800138000"}, save=CALC_OOXML),
    Edit("type_status_and_problems", [["type", "F8", "滞后"], ["type", "J8", "征地手续未办结。"]], [],
         {"2026-011": {S.STATUS: "滞后", S.PROBLEMS: "征地手续未办结。"}}),
    Edit("type_progress_number", [["type", "G9", "65"]], [], {"2026-012": {S.PROGRESS: 65}}),
    Edit("type_percent_actual", [["type", "H4", "8.2%"]], [],
         {"2026-001": {S.ACTUAL: "8.2%", S.RATE: pytest.approx(1.025)}}),
    Edit("type_whole_percent_actual", [["type", "H4", "8%"]], [], {"2026-001": {S.ACTUAL: "8%", S.RATE: 1.0}}),
    Edit("type_percent_progress", [["type", "G8", "75%"]], [], {"2026-011": {S.PROGRESS: 75}}),
    Edit("type_fractional_percent_progress", [["type", "G8", "75.5%"]], ["progress-invalid"], REJECTED),
    Edit("type_date_as_narrative", [["type", "I11", "2026-6-25"]], [], {"2026-014": {S.NARRATIVE: "shown:I11"}},
         read=["I11"]),
    Edit("type_chinese_date_as_narrative", [["type", "I11", "2026年6月25日"]], [],
         {"2026-014": {S.NARRATIVE: "shown:I11"}}, read=["I11"]),
    Edit("type_chinese_report_date", [["type", "B17", "2026年6月20日"]], [], {}, {"填报日期": dt.date(2026, 6, 20)}),
    Edit("type_landline_phone", [["type", "B16", "0471-6601234"]], [], {}, {"联系电话": "0471-6601234"}),
    Edit("type_number_as_actual", [["type", "H6", "1320"]], [], {"2026-003": {S.ACTUAL: "1320"}}),
    Edit("multi_line_text", [["set", "I8", "一、园区申报材料已编制。\n二、专家评审已完成。"]], [],
         {"2026-011": {S.NARRATIVE: "一、园区申报材料已编制。\n二、专家评审已完成。"}}),
    Edit("long_text", [["type", "I9", "推进" * 2000]], [], {"2026-012": {S.NARRATIVE: "推进" * 2000}}),
    Edit("text_over_the_limit", [["type", "I9", "推进" * 3000]], ["text-too-long"], REJECTED),
    Edit("delete_blank_row", PROTECTED + [["delete_rows", 14, 1]], [], {"2026-016": {S.PROGRESS: 50}},
         {"填报人": "张三"}),
    Edit("delete_task_row", PROTECTED + [["delete_rows", 7, 1]], ["row-deleted"], REJECTED),
    Edit("insert_blank_row_among_tasks", PROTECTED + [["insert_rows", 8, 1]], ["row-inserted"], REJECTED),
    Edit("insert_task_row", PROTECTED + [["insert_rows", 8, 1], ["type", "A8", "2026-999"],
                                         ["type", "B8", "新增任务"], ["type", "F8", "序时推进"]],
         ["row-inserted"], REJECTED),
    Edit("insert_rows_below_the_footer", PROTECTED + [["insert_rows", 18, 3]], [], {"2026-001": {S.PROGRESS: 50}}),
    Edit("sort_by_progress", PROTECTED + [["sort", "A4:K13", 6, True]], ["row-moved"], REJECTED),
    Edit("sort_by_task_id", PROTECTED + [["sort", "A4:K13", 0, False]], [], {"2026-016": {S.PROGRESS: 50}}),
    Edit("hide_columns", [["hide_column", "E"], ["hide_column", "C"]], [], {"2026-001": {S.ACTUAL: "7.5%"}}),
    Edit("change_widths", [["width", "I", 12000], ["width", "B", 3000]], [], {"2026-001": {S.PROGRESS: 50}}),
    Edit("paste_values", [["paste_values", "I4", "I5"]], [], {"2026-002": {S.NARRATIVE: NARRATIVE[4]}}),
    Edit("add_comment", [["comment", "I8", "此项请分管领导审核"]], [], {"2026-011": {S.NARRATIVE: NARRATIVE[8]}}),
    Edit("unprotect_only", PROTECTED, [], {"2026-001": {S.ACTUAL: "7.5%"}}),
    Edit("unprotect_and_edit_locked_text", PROTECTED + [["type", "B4", "固定资产投资增长10%以上"]],
         ["locked-cell-changed"], REJECTED),
    Edit("unprotect_and_edit_locked_date", PROTECTED + [["type", "D7", "2026-12-31"]], ["locked-cell-changed"],
         REJECTED),
    Edit("show_meta", [["show_sheet", F.META]], ["meta-visible"], {"2026-001": {S.ACTUAL: "7.5%"}}),
    Edit("meta_changed_to_another_unit", [["show_sheet", F.META], ["unprotect", F.META],
                                          ["type", f"{F.META}!B4", "市财政局"]], ["wrong-unit"], REJECTED),
    Edit("merge_input_cells", PROTECTED + [["merge", "I9:J9"]], ["merged-cells"], REJECTED),
    Edit("formula_typed", [["type", "I9", "=1+1"]], ["formula-in-cell"], REJECTED),
    Edit("status_typed_by_hand", [["type", "F9", "完成"], ["type", "G9", "100"]], ["status-invalid"], REJECTED),
    Edit("save_as_ods", [], ["file-format"], REJECTED, save="calc8", suffix=".ods"),
    Edit("save_as_xls", [], ["file-format"], REJECTED, save="MS Excel 97", suffix=".xls"),
    Edit("xls_renamed_to_xlsx", [], ["file-format"], REJECTED, save="MS Excel 97", suffix=".xls", rename=".xlsx"),
    Edit("open_and_save_issued_file", [], sorted(["narrative-missing"] * 10 + ["progress-missing"] * 10
                                                  + ["status-missing"] * 10 + ["actual-missing"] * 3
                                                  + ["reporter-missing", "phone-missing", "report-date-missing"])
         , REJECTED, src="issued"),
    Edit("open_and_save_filled_file", [], [], {}, {"联系电话": "0471-6601234"}, src="filled"),
]


@dataclass
class Office:
    master: Path
    files: dict[str, Path]
    shown: dict[str, dict[str, str]]
    filled: Path  # filled by another program (openpyxl), for the open-and-save case


@pytest.fixture(scope="session")
def office(calc, sample_master_file, tmp_path_factory) -> Office:
    root = tmp_path_factory.mktemp("督查室 往返")
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=[UNIT, "市财政局"])
    issued = root / "下发" / FILE_NAME
    filled = root / "filled.xlsx"
    shutil.copy(issued, filled)
    fill_unit_file(filled, dt.date(2026, 6, 30), seed=2, report_date=dt.date(2026, 6, 22))
    base = root / "base.xlsx"
    calc.edit(issued, _fill_steps(), [(base, CALC_XLSX)])
    files, shown = {}, {}
    for edit in EDITS:
        folder = root / edit.name
        folder.mkdir()
        out = folder / (Path(FILE_NAME).stem + edit.suffix)
        src = {"base": base, "issued": issued, "filled": filled}[edit.src]
        shown[edit.name] = calc.edit(src, edit.steps, [(out, edit.save)], edit.read)
        if edit.rename:
            out = out.rename(out.with_suffix(edit.rename))
        files[edit.name] = out
    return Office(master, files, shown, filled)


def _history(master: Path) -> list[dict[str, Any]]:
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(S.HISTORY).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.mark.parametrize("edit", EDITS, ids=[e.name for e in EDITS])
def test_clerk_edit_in_calc(office, edit, tmp_path):
    path = office.files[edit.name]
    master = tmp_path / "总台账.xlsx"
    shutil.copy(office.master, master)
    sub = validate_file(path, context_from_master(read_master(master)))
    assert sorted(f.code for f in sub.findings) == sorted(edit.codes), [str(f) for f in sub.findings]
    for f in sub.findings:
        assert f.file == path.name and any("\u4e00" <= ch <= "\u9fff" for ch in f.message)

    before = master.read_bytes()
    result = collect([path], master)
    if edit.master is REJECTED:
        assert not result.accepted and master.read_bytes() == before
        return
    assert [s.file for s in result.accepted] == [path.name]
    tasks = {t[S.TASK_ID]: t for t in read_master(master).tasks}
    expected = dict(edit.master)
    if edit.src == "filled":  # opened and saved without edits: every answer exactly as before
        rows = CalamineWorkbook.from_path(str(office.filled)).get_sheet_by_name(F.FORM).to_python()
        for r, task_id in TASK.items():
            expected[task_id] = {c: rows[r - 1][F.COL[c]] or None for c in (S.STATUS, S.ACTUAL, S.NARRATIVE)}
            expected[task_id][S.PROGRESS] = int(rows[r - 1][F.COL[S.PROGRESS]])
    for task_id, values in expected.items():
        for column, want in values.items():
            if isinstance(want, str) and want.startswith("shown:"):
                want = office.shown[edit.name][want[6:]]
            assert tasks[task_id][column] == want, (task_id, column)
    rows = [r for r in _history(master) if r["来源文件"] == path.name]
    assert len(rows) == 10 and {r[S.TASK_ID] for r in rows} == set(TASK.values())
    for column, want in edit.history.items():
        assert {r[column] for r in rows} == {want}, column
    for row in rows:  # the history keeps what the master shows, as text (7.5%, not 0.075)
        if S.ACTUAL in expected.get(row[S.TASK_ID], {}):
            assert (row[S.ACTUAL] or None) == tasks[row[S.TASK_ID]][S.ACTUAL]


def test_findings_quote_what_the_clerk_saw(office):
    ctx = context_from_master(read_master(office.master))
    (hit,) = validate_file(office.files["type_fractional_percent_progress"], ctx).findings
    assert hit.cell == "G8" and "“75.5%”" in hit.message
    (hit,) = validate_file(office.files["delete_task_row"], ctx).findings
    assert hit.cell == "A7" and "2026-010" in hit.message
    (hit,) = validate_file(office.files["meta_changed_to_another_unit"], ctx).findings
    assert "市财政局" in hit.message and UNIT in hit.message


def test_calc_writes_what_used_to_be_rejected(office):
    """The facts behind the fixes: Calc's xlsx as this suite sees it."""
    import zipfile

    with zipfile.ZipFile(office.files["delete_blank_row"]) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
        book = z.read("xl/workbook.xml")
        styles = z.read("xl/styles.xml")
    # Rows far below the form (Calc 7.4: <dimension ref="A1:K1048576"/> and an empty row 1048576),
    # which the sheet extent used to count.
    declared = re.findall(rb'<dimension ref="[A-Z]+[0-9]+:[A-Z]+([0-9]+)"|<row r="([0-9]+)"', sheet)
    assert max(int(dimension or row) for dimension, row in declared) > 5000
    assert re.search(rb'<sheet name="_meta"[^>]*state="hidden"', book)  # very hidden comes back as hidden
    assert b'formatCode="0.00%"' in styles  # 7.5% typed: the number 0.075 and a percent format


def test_cli_validate_of_calc_files(office, capsys):
    files = [str(office.files[n]) for n in ("fill_all_by_typing", "delete_task_row", "save_as_xls")]
    assert main(["validate", *files, "--master", str(office.master), "--json", "--workers", "1"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["valid"] for f in data["files"]] == [True, False, False]


def test_master_open_in_calc_is_not_written(calc, office, tmp_path):
    """The lock-file part of the round trip: a master Calc holds open is never replaced."""
    master = tmp_path / "总台账.xlsx"
    shutil.copy(office.master, master)
    held = calc.call("hold", path=str(master))["id"]
    try:
        assert (tmp_path / f".~lock.{master.name}#").exists()
        before = master.read_bytes()
        with pytest.raises(DubanError, match="LibreOffice"):
            collect([office.files["fill_all_by_typing"]], master)
        assert master.read_bytes() == before
    finally:
        calc.call("release", id=held)
    assert not (tmp_path / f".~lock.{master.name}#").exists()
    assert collect([office.files["fill_all_by_typing"]], master).accepted  # closed: written


def test_master_changed_in_calc_after_issue(calc, office, tmp_path, capsys):
    """Staff extend a deadline, move a task and type a new task into the master in Calc after the
    workbooks went out: duban check --fix works on the file Calc saved, and the unit's return issued
    before the change is accepted with what changed."""
    master = tmp_path / "总台账.xlsx"
    row = ["其他经济社会发展任务", "建成城市运行管理服务平台", "市财政局", None, "刘继英副市长", "9月底"]
    typed = [["type", f"任务分解!{col}191", v] for col, v in zip("CDEFGH", row) if v]
    calc.edit(office.master, [["type", "任务分解!H11", "9月底"], ["type", "任务分解!E13", "市住建局"]] + typed,
              [(master, CALC_XLSX)])
    assert main(["check", str(master), "--fix"]) == 0
    out = capsys.readouterr().out
    assert "新增任务编号 2026-190" in out and "截止日期 2026-06-30 → 2026-09-30" in out
    log = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(S.CHANGES).to_python()
    assert [r[2:4] for r in log[1:]] == [["2026-010", "延期"], ["2026-012", "调整牵头单位"], ["2026-190", "新增"]]
    import openpyxl

    states = {ws.title: ws.sheet_state for ws in openpyxl.load_workbook(master)}
    assert states[S.STATE] == states[S.ISSUED_CONTENT] == states[S.ISSUED] == "hidden"
    assert states[S.CHANGES] == "visible"
    sub = validate_file(office.filled, context_from_master(read_master(master)))
    assert sub.valid and len(sub.answers) == 9, [str(f) for f in sub.findings]
    assert {f.code for f in sub.findings} == {"deadline-changed", "task-reassigned", "name-mismatch"}  # filled.xlsx
