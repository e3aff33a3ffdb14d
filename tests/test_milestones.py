"""Milestones (时间节点): kept in the master at import, used by 序时进度, lights, unit forms and the bulletin."""

import datetime as dt
import shutil

import openpyxl
import pytest
from test_checks import edit

from workbook import form as F
from workbook import schema as S
from workbook.checks import check_master
from workbook.cli import main
from workbook.filling import fill_unit_file
from workbook.importer import import_to_file
from workbook.language.deadlines import parse_deadline
from workbook.master import read_master
from workbook.metrics import compute, light, schedule_progress
from workbook.milestones import expected_progress, from_deadline
from workbook.report import DUE_SOON, OVERDUE, bulletin
from workbook.split import split_master
from workbook.validate import context_from_master, validate_file

D = dt.date
SOURCE = """2026年重点民生实事任务分解表
序号\t任务目标\t牵头单位\t完成时限
1\t新建城南市民广场\t市住建局\t3月底前完成方案，6月底前开工，12月底前完工
2\t开展职业技能培训1万人次\t市人社局\t12月底
3\t建设第二水厂（跨年度）\t市住建局\t到2027年底前
4\t农民工工资清零\t市人社局\t春节前
"""


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    root = tmp_path_factory.mktemp("节点 台账")
    source = root / "民生实事.txt"
    source.write_text(SOURCE, encoding="utf-8")
    master = root / "总台账.xlsx"
    _, report = import_to_file(source, master, 2026, "2026-07")
    return master, report


@pytest.fixture
def master_path(plan, tmp_path):
    path = tmp_path / "总台账.xlsx"
    shutil.copy(plan[0], path)
    return path


def test_import_keeps_each_dated_step_in_the_milestone_sheet(plan):
    master_path, report = plan
    ws = openpyxl.load_workbook(master_path)[S.MILESTONES]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == S.MILESTONE_COLUMNS
    assert [(r[0], r[1], r[2], r[3], r[4].date(), r[5]) for r in rows[1:]] == [
        ("2026-001", 1, "完成方案", "3月底前", D(2026, 3, 31), 33),
        ("2026-001", 2, "开工", "6月底前", D(2026, 6, 30), 67),
        ("2026-001", 3, "完工", "12月底前", D(2026, 12, 31), 100)]
    master = read_master(master_path)
    assert [t[S.DUE] for t in master.tasks] == [D(2026, 12, 31), D(2026, 12, 31), D(2027, 12, 31), D(2027, 2, 5)]
    # a multi-year task keeps its date as written, with an info finding; nothing is an error
    outside = [f for f in report.findings if f.code == "deadline-outside-year"]
    assert [(f.severity, f.cell) for f in outside] == [("info", "H4"), ("info", "H5")]
    assert report.valid and check_master(master).valid


def test_a_missed_milestone_is_red_in_july_though_the_year_end_is_far(master_path):
    edit(master_path, S.TASKS, {"K2": "序时推进", "L2": 40})  # 开工 (67%) was due 30 June
    m = compute(read_master(master_path), D(2026, 7, 15)).tasks.set_index(S.TASK_ID)
    assert m.loc["2026-001", "灯"] == "红"
    assert m.loc["2026-001", "序时进度"] == pytest.approx(69.7, abs=0.1)  # 67 + 33 × 15/184
    assert m.loc["2026-001", S.NEXT_MILESTONE] == "6月底前开工（6月30日）"
    # without its milestones the same task would only be yellow (behind 13.6 points)
    start = D(2026, 1, 1)
    expected = schedule_progress(D(2026, 12, 31), D(2026, 7, 15), start)
    assert light("序时推进", 40, D(2026, 12, 31), D(2026, 7, 15), expected) == "黄"
    # reached: green again
    edit(master_path, S.TASKS, {"L2": 70})
    m = compute(read_master(master_path), D(2026, 7, 15)).tasks.set_index(S.TASK_ID)
    assert m.loc["2026-001", "灯"] == "绿"


def test_expected_progress_runs_through_the_milestones():
    steps = from_deadline(parse_deadline("3月底前完成方案，6月底前开工，12月底前完工", 2026))
    start = D(2026, 1, 1)
    assert expected_progress(steps, D(2026, 12, 31), D(2026, 1, 1), start) == 0
    assert expected_progress(steps, D(2026, 12, 31), D(2026, 3, 31), start) == 33
    assert expected_progress(steps, D(2026, 12, 31), D(2026, 6, 30), start) == 67
    assert expected_progress(steps, D(2026, 12, 31), D(2027, 1, 5), start) == 100
    # an upcoming milestone within the 临期 window makes the task yellow
    assert light("序时推进", 60, D(2026, 12, 31), D(2026, 6, 20), 62, steps=steps) == "黄"


def test_bulletin_lists_overdue_and_due_soon_milestones(master_path):
    edit(master_path, S.TASKS, {"K2": "序时推进", "L2": 40, "K3": "序时推进", "L3": 60})
    master = read_master(master_path)
    tables = bulletin(master, compute(master, D(2026, 7, 15)))
    overdue = tables[OVERDUE]
    assert overdue.headers[2] == "时间节点"
    assert [(r[0], r[2], r[5], r[6], r[7]) for r in overdue.rows] == [
        ("2026-001", "第2个节点：开工（应达进度 67%）", "6月底前", D(2026, 6, 30), 15)]
    assert "其中时间节点 1 个" in overdue.title
    soon = bulletin(master, compute(master, D(2026, 6, 20)))[DUE_SOON]
    assert [(r[0], r[2]) for r in soon.rows] == [("2026-001", "第2个节点：开工（应达进度 67%）")]


def test_unit_form_shows_the_next_milestone_and_validates(master_path, tmp_path):
    edit(master_path, S.SETTINGS, {"B5": "2026-06", "B6": D(2026, 6, 30)})  # 当前填报期, 截至日期
    result = split_master(master_path, tmp_path / "下发", units=["市住建局"])
    path = result.files["市住建局"]
    ws = openpyxl.load_workbook(path)[F.FORM]
    assert ws.cell(F.HEADER_ROW, F.COL[S.NEXT_MILESTONE] + 1).value == S.NEXT_MILESTONE
    assert ws.cell(F.FIRST_ROW, F.COL[S.NEXT_MILESTONE] + 1).value == "6月底前开工（6月30日）"
    assert ws.cell(F.FIRST_ROW, F.COL[S.NEXT_MILESTONE] + 1).protection.locked
    ctx = context_from_master(read_master(master_path))
    fill_unit_file(path, D(2026, 6, 30), seed=3, report_date=D(2026, 6, 24))
    assert validate_file(path, ctx).findings == []
    wb = openpyxl.load_workbook(path)
    wb[F.FORM].cell(F.FIRST_ROW, F.COL[S.NEXT_MILESTONE] + 1).value = "12月底前完工"
    wb.save(path)
    sub = validate_file(path, ctx)
    assert ("locked-cell-changed", f"{F.letter(S.NEXT_MILESTONE)}{F.FIRST_ROW}") in [(f.code, f.cell) for f in sub.findings]


def test_a_missed_milestone_asks_the_unit_for_its_problems(master_path, tmp_path):
    edit(master_path, S.SETTINGS, {"B5": "2026-07", "B6": D(2026, 7, 31)})  # 当前填报期, 截至日期
    result = split_master(master_path, tmp_path / "下发", units=["市住建局"])
    path = result.files["市住建局"]
    row = F.FIRST_ROW
    fill_unit_file(path, D(2026, 7, 31), seed=3, report_date=D(2026, 7, 24), overrides={
        f"{F.letter(S.STATUS)}{row}": S.STATUS_ON_TRACK, f"{F.letter(S.PROGRESS)}{row}": 40,
        f"{F.letter(S.PROBLEMS)}{row}": None})
    sub = validate_file(path, context_from_master(read_master(master_path)))
    missing = [f for f in sub.findings if f.code == "problems-missing"]
    assert missing and "时间节点" in missing[0].message and missing[0].cell == f"{F.letter(S.PROBLEMS)}{row}"


@pytest.mark.parametrize("changes, code, cell", [
    ({"A2": "2026-099"}, "milestone-task-unknown", "A2"),
    ({"E3": "下月"}, "milestone-due-invalid", "E3"),
    ({"E3": D(2027, 3, 1)}, "milestone-after-deadline", "E3"),
    ({"F3": 150}, "milestone-share-invalid", "F3"),
])
def test_milestone_sheet_checks(master_path, changes, code, cell):
    edit(master_path, S.MILESTONES, changes)
    report = check_master(read_master(master_path))
    hit = next(f for f in report.findings if f.code == code)
    assert hit.sheet == S.MILESTONES and hit.cell == cell


def test_a_deadline_edited_after_import_no_longer_matches_its_milestones(master_path):
    edit(master_path, S.TASKS, {"H2": "3月底前完成方案，9月底前开工，12月底前完工"})
    hit = next(f for f in check_master(read_master(master_path)).findings if f.code == "milestone-mismatch")
    assert hit.cell == "H2" and "9月30日" in hit.message and hit.severity == "warning"


def test_staff_can_set_the_share_of_a_milestone(master_path):
    edit(master_path, S.MILESTONES, {"F3": 30})  # 开工 stands for 30%, not 67%
    edit(master_path, S.TASKS, {"K2": "序时推进", "L2": 40})
    m = compute(read_master(master_path), D(2026, 7, 15)).tasks.set_index(S.TASK_ID)
    assert m.loc["2026-001", "灯"] != "红"


def test_a_master_without_the_milestone_sheet_still_reads(master_path):
    wb = openpyxl.load_workbook(master_path)
    del wb[S.MILESTONES]
    wb.save(master_path)
    master = read_master(master_path)
    assert master.milestones == [] and master.read_report.findings == []
    assert main(["check", str(master_path)]) == 0


def test_a_published_cell_with_two_dates_becomes_two_milestones():
    """Sichuan, Dazhu 2016 (tests/data/places): 5月底前动工；12月底前 in one 完成时限 cell."""
    import tomllib
    from pathlib import Path

    from workbook.importer import import_decomposition

    place = Path(__file__).parent / "data" / "places" / "sichuan-dazhu-2016"
    exp = tomllib.loads((place / "expected.toml").read_text(encoding="utf-8"))
    master, _ = import_decomposition(place / exp["source"], exp["year"])
    assert [(m[S.TASK_ID], m[S.DEADLINE_TEXT], m[S.DUE], m[S.MS_SHARE]) for m in master.milestones] == [
        ("2016-005", "5月底前", D(2016, 5, 31), 50), ("2016-005", "12月底前", D(2016, 12, 31), 100)]
    task = master.tasks[4]
    assert task[S.DUE] == D(2016, 12, 31)
    tasks = compute(master, D(2016, 6, 15)).tasks.set_index(S.TASK_ID)
    assert tasks.loc["2016-005", "灯"] == "红"  # not reported, 动工 due 31 May
