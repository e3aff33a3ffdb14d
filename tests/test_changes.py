"""The decomposition changes during the year: new, revised, extended, reassigned and cancelled tasks.

The office edits the master as staff do in Excel (openpyxl edits of the real file), the units'
workbooks are made by ``duban split`` and filled by ``fill_unit_file``; every step runs through
the command line or the library the command line calls.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from xlremote import ACTIVE, HIDDEN, apply, run_script, sheets_from_file

import xlplugin.scripts as scripts
from workbook import form as F
from workbook import schema as S
from workbook.checks import check_master
from workbook.cli import main
from workbook.collect import collect
from workbook.filling import fill_unit_file
from workbook.fixes import plan_fixes
from workbook.language.text import cell_text, to_date
from workbook.master import read_master
from workbook.metrics import compute
from workbook.report import ADJUSTMENTS, DUE_SOON, OVERDUE, bulletin_of
from workbook.split import split_master
from workbook.validate import validate_paths

AS_OF = dt.date(2026, 6, 30)
UNITS = ["市发改委", "市住建局", "市财政局", "土左旗政府", "市外事办"]
NEW_TASK = {S.CATEGORY: S.CATEGORY_OTHER, S.TEXT: "建成城市运行管理服务平台", S.LEAD: "市财政局",
            S.LEADER: "刘继英副市长", S.DEADLINE_TEXT: "3月底前完成方案，9月底前上线"}


# ------------------------------------------------------------------ helpers


def staff_edit(master: Path, tasks: dict[str, dict[str, Any]] | None = None, add: list[dict[str, Any]] = (),
               delete: list[str] = (), sheet_cells: dict[str, dict[str, Any]] | None = None) -> None:
    """Edit the master as staff do in Excel: cells of tasks by ID and column, rows added at the bottom, rows deleted."""
    wb = openpyxl.load_workbook(master)
    ws = wb[S.TASKS]
    header = [c.value for c in ws[1]]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for tid, values in (tasks or {}).items():
        for column, value in values.items():
            ws.cell(rows[tid], header.index(column) + 1).value = value
    for values in add:
        r = ws.max_row + 1
        for column, value in values.items():
            ws.cell(r, header.index(column) + 1).value = value
    for tid in sorted(delete, key=lambda t: -rows[t]):
        ws.delete_rows(rows[tid])
    for name, cells in (sheet_cells or {}).items():
        for ref, value in cells.items():
            wb[name][ref] = value
    wb.save(master)


def sheet(path: Path, name: str) -> list[dict[str, Any]]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(v not in ("", None) for v in r)]


def task(master: Path, tid: str) -> dict[str, Any]:
    return next(t for t in read_master(master).tasks if t[S.TASK_ID] == tid)


def plain(value: Any) -> str:
    """A cell as text, a date as its day whether it came from a file or from Office.js."""
    day = to_date(value) if isinstance(value, (str, dt.date)) else None
    return day.isoformat() if day else cell_text(value)


def codes(sub: Any) -> list[str]:
    return [f.code for f in sub.findings]


def by_file(batch: Any) -> dict[str, Any]:
    return {s.unit: s for s in batch.submissions}


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory, sample_master_file: Path) -> Path:
    """An office folder: the master, the June workbooks of five units, and their filled returns."""
    root = tmp_path_factory.mktemp("changes") / "督查室 台账"
    root.mkdir()
    shutil.copy(sample_master_file, root / "总台账.xlsx")
    split_master(root / "总台账.xlsx", root / "下发", units=UNITS)
    (root / "报送").mkdir()
    for i, path in enumerate(sorted((root / "下发").iterdir())):
        shutil.copy(path, root / "报送" / path.name)
        fill_unit_file(root / "报送" / path.name, AS_OF, seed=i, report_date=dt.date(2026, 6, 24))
    return root


@pytest.fixture
def office(issued: Path, tmp_path: Path) -> Path:
    root = tmp_path / "督查室 台账"
    shutil.copytree(issued, root)
    return root


# ------------------------------------------------------------------ duban check --fix


def test_plain_check_only_reports_and_says_what_fix_would_do(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "9月底"}}, add=[NEW_TASK])
    before, stamp = master.read_bytes(), master.stat().st_mtime_ns
    files = sorted(office.rglob("*"))
    master.chmod(0o444)  # a user who may only read the master
    try:
        assert main(["check", str(master)]) == 1
    finally:
        master.chmod(0o644)
    out = capsys.readouterr().out
    assert master.read_bytes() == before and master.stat().st_mtime_ns == stamp
    assert sorted(office.rglob("*")) == files  # no backup, no lock file, nothing written
    assert "id-missing" in out and "建议：2026-190" in out and "change-unrecorded" in out
    assert "可自动修正" in out and "--fix" in out


def test_fix_applies_what_the_office_clearly_meant(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "9月底"}, "2026-036": {S.LEAD: "土左旗"}},
               add=[dict(NEW_TASK, **{S.LEAD: "市财政局，土左旗"})])
    assert main(["check", str(master), "--fix"]) == 0
    out = capsys.readouterr().out
    new = task(master, "2026-190")
    assert new[S.SERIAL] == 190 and new[S.DUE] == dt.date(2026, 9, 30) and new[S.LEAD] == "市财政局、土左旗政府"
    assert task(master, "2026-010")[S.DUE] == dt.date(2026, 9, 30)
    assert task(master, "2026-036")[S.LEAD] == "土左旗政府"  # an alias is no change of the lead unit
    steps = read_master(master).steps_of("2026-190")
    assert [(m.due, m.share) for m in steps] == [(dt.date(2026, 3, 31), 50), (dt.date(2026, 9, 30), 100)]
    log = sheet(master, S.CHANGES)
    assert [(r[S.TASK_ID], r[S.CH_KIND], r[S.CH_OLD], r[S.CH_NEW]) for r in log] == [
        ("2026-010", S.KIND_EXTENDED, "6月底", "9月底"), ("2026-190", S.KIND_ADDED, "", NEW_TASK[S.TEXT])]
    assert all(r[S.CH_PERIOD] == "2026-06" and isinstance(r[S.CH_TIME], dt.datetime) for r in log)
    ws = openpyxl.load_workbook(master)[S.CHANGES]  # staff read it: the rows look like the table's
    assert ws["A3"].border.left.style == "thin" and ws["F3"].alignment.wrap_text and ws.page_setup.orientation == "landscape"
    assert "任务分解!A191" in out and "新增任务编号 2026-190" in out and "已记入“调整记录” 2 条" in out
    assert "原台账已备份到" in out
    assert check_master(read_master(master)).valid
    assert main(["check", str(master), "--fix"]) == 0  # nothing left: the master is not written again
    assert "台账未改动" in capsys.readouterr().out
    assert len(sheet(master, S.CHANGES)) == 2


def test_fix_json(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, add=[NEW_TASK])
    assert main(["check", str(master), "--fix", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and out["stats"]["changes"] == [
        {"task_id": "2026-190", "kind": "新增", "old": "", "new": NEW_TASK[S.TEXT]}]
    assert {f["cell"] for f in out["stats"]["fixes"]} >= {"A191", "B191", "I191"}


def test_ids_are_never_given_twice(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-189": {S.STATUS: "撤销", S.NOTE: "并入2026-188"}}, add=[NEW_TASK])
    assert main(["check", str(master), "--fix"]) == 0
    assert task(master, "2026-189")[S.STATUS] == S.STATUS_CANCELLED and task(master, "2026-190")
    staff_edit(master, delete=["2026-190"])  # a row deleted: reported, and its ID stays used
    assert main(["check", str(master)]) == 1
    out = capsys.readouterr().out
    assert "task-deleted" in out and "2026-190" in out and "已撤销" in out
    staff_edit(master, add=[dict(NEW_TASK, **{S.TEXT: "另一项新任务"})])
    assert main(["check", str(master), "--fix"]) == 1  # the deleted row is still an error
    assert task(master, "2026-191")[S.TEXT] == "另一项新任务"
    assert "2026-190" not in {t[S.TASK_ID] for t in read_master(master).tasks}


def test_a_copied_row_becomes_a_new_task_and_a_cleared_id_comes_back(office: Path) -> None:
    master = office / "总台账.xlsx"
    wb = openpyxl.load_workbook(master)
    ws = wb[S.TASKS]
    copy = ws.max_row + 1
    for c in range(1, ws.max_column + 1):  # Excel: copy the row of 2026-020, paste it below, edit the text
        ws.cell(copy, c).value = ws.cell(21, c).value
    ws.cell(copy, 4).value = "编制国土空间专项规划"
    ws["A30"] = None  # 2026-029's ID cleared by mistake
    wb.save(master)
    assert {"id-duplicate", "id-missing"} <= set(check_master(read_master(master)).codes())
    plan = plan_fixes(read_master(master))
    assert [(f.cell, f.message) for f in plan.fixes if f.sheet == S.TASKS] == [
        ("A30", "恢复任务编号 2026-029（任务目标与原任务 2026-029 相同）"),
        (f"A{copy}", "新增任务编号 2026-190（原编号 2026-020 与另一行重复）"), (f"B{copy}", "2026-190 的序号设为 190")]
    assert [(c.task_id, c.kind) for c in plan.changes] == [("2026-190", S.KIND_ADDED)]


def test_unknown_units_stay_errors_unless_added(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-020": {S.LEAD: "市大数据局"}})
    assert main(["check", str(master), "--fix"]) == 1
    out = capsys.readouterr().out
    assert "unit-unknown" in out and "建议：市大数据管理局" in out
    assert main(["check", str(master), "--fix", "--add-units"]) == 0
    out = capsys.readouterr().out
    assert "新增单位“市大数据局”（市直部门）；与已有的“市大数据管理局”相近" in out
    assert {"单位名称": "市大数据局", "别名": "", "类型": "市直部门"} in sheet(master, S.UNITS)
    assert [r[S.CH_KIND] for r in sheet(master, S.CHANGES)] == [S.KIND_LEAD]
    assert main(["check", str(master), "--add-units"]) == 2 and "--fix" in capsys.readouterr().err


def test_a_due_date_changed_alone_is_not_overwritten(office: Path) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-010": {S.DUE: dt.datetime(2026, 9, 30)}})
    plan = plan_fixes(read_master(master))
    assert not plan.fixes and not plan.changes
    assert "due-mismatch" in check_master(read_master(master)).codes()


def test_cancelling_needs_a_reason_and_drops_the_task_out(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-047": {S.STATUS: S.STATUS_CANCELLED}})
    report = check_master(read_master(master))
    (hit,) = [f for f in report.findings if f.code == "cancel-reason-missing"]
    assert hit.severity == "warning" and hit.cell == "T48"
    assert main(["check", str(master), "--fix"]) == 0
    (row,) = sheet(master, S.CHANGES)
    assert row[S.CH_KIND] == S.KIND_CANCELLED and row[S.CH_NEW] == S.STATUS_CANCELLED
    (hit,) = [f for f in check_master(read_master(master)).findings if f.code == "cancel-reason-missing"]
    assert hit.sheet == S.CHANGES and hit.cell == "H2"
    staff_edit(master, sheet_cells={S.CHANGES: {"G2": "市政府办公室〔2026〕12号"}})
    assert "cancel-reason-missing" not in check_master(read_master(master)).codes()
    m = read_master(master)
    assert "市外事办" not in m.units_with_tasks() and not m.tasks_of("市外事办")
    assert "2026-047" not in set(compute(m).tasks[S.TASK_ID])
    capsys.readouterr()
    assert main(["split", str(master), "-o", str(office / "七月"), "--period", "2026-07"]) == 0
    assert not (office / "七月" / "市外事办_2026年7月.xlsx").exists()
    assert "市外事办" in capsys.readouterr().out  # no tasks: no file


def test_leader_counts_reconcile_with_logged_changes(office: Path) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-005": {S.LEADER: "刘继英副市长"}, "2026-009": {S.LEADER: "塔拉副市长"},
                        "2026-050": {S.LEADER: "刘继英副市长"}},
               add=[NEW_TASK, dict(NEW_TASK, **{S.TEXT: "第二项新任务"})])
    before = check_master(read_master(master))
    assert "leader-count-mismatch" not in before.codes()
    assert main(["check", str(master), "--fix"]) == 0
    report = check_master(read_master(master))
    assert report.codes() == [] and report.valid
    kinds = [r[S.CH_KIND] for r in sheet(master, S.CHANGES)]
    assert kinds == [S.KIND_LEADER, S.KIND_ADDED, S.KIND_ADDED]  # the unplaced targets' leaders are not changes


@pytest.mark.parametrize("old", ["made before the sheets existed", "sheets copied into the template"])
def test_an_old_master_gets_its_state_and_log_on_the_first_fix(office: Path, capsys: pytest.CaptureFixture,
                                                               old: str) -> None:
    master = office / "总台账.xlsx"
    wb = openpyxl.load_workbook(master)
    if old.startswith("made"):
        for name in (S.CHANGES, S.STATE, S.ISSUED_CONTENT):
            del wb[name]
    else:  # the template's 台账状态 is empty: nothing was recorded yet, nothing is "new"
        wb[S.STATE].delete_rows(2, wb[S.STATE].max_row)
    wb.save(master)
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "9月底"}})
    assert check_master(read_master(master)).valid  # nothing to compare with yet
    assert main(["check", str(master), "--fix"]) == 0
    assert "已建立“台账状态”" in capsys.readouterr().out
    wb = openpyxl.load_workbook(master)
    assert wb[S.STATE].sheet_state == "hidden" and wb[S.CHANGES].sheet_state == "visible"
    assert len(sheet(master, S.STATE)) == 189 and sheet(master, S.CHANGES) == []
    assert task(master, "2026-010")[S.DUE] == dt.date(2026, 9, 30)  # no record: the 完成时限 wins


# ------------------------------------------------------------------ returns after the master changed


def edit_after_issue(master: Path) -> None:
    """The office, after the June workbooks went out: a typo fixed, a deadline extended, a task moved,
    a target changed, a task cancelled and one added."""
    staff_edit(master, {
        "2026-011": {S.TEXT: "培育创建2个自治区级零碳园区（含1个国家级）"},
        "2026-010": {S.DEADLINE_TEXT: "9月底"},
        "2026-012": {S.LEAD: "市住建局"},
        "2026-004": {S.TARGET: "6%左右"},
        "2026-019": {S.STATUS: S.STATUS_CANCELLED, S.NOTE: "经市政府常务会议研究撤销"},
    }, add=[NEW_TASK])


def test_old_returns_are_accepted_and_say_what_changed(office: Path) -> None:
    master = office / "总台账.xlsx"
    edit_after_issue(master)
    assert main(["check", str(master), "--fix"]) == 0
    batch = validate_paths([office / "报送"], master)
    subs = by_file(batch)
    assert batch.valid and all(s.used for s in subs.values())
    info = {(f.code, f.cell): f for s in subs.values() for f in s.findings}
    assert {f.severity for f in info.values()} == {"info"}
    assert info[("task-revised", "B8")].message.startswith("2026-011 任务内容已修订")
    assert info[("deadline-changed", "C7")].message == "2026-010 完成时限已由 6月底 调整为 9月底"
    assert info[("task-reassigned", "A9")].message == "2026-012 任务已调整至 市住建局，本单位填报内容未采用"
    assert info[("target-changed", "E4")].message == "2026-004 指标目标已由 5%左右 调整为 6%左右"
    assert info[("task-cancelled", "A7")].message == "2026-019 任务已撤销，本单位填报内容未采用"
    assert len(subs["市发改委"].tasks) == 9 and "2026-012" not in subs["市发改委"].tasks
    assert subs["市财政局"].tasks == ["2026-004", "2026-017", "2026-018"]
    assert subs["市住建局"].findings == [] and subs["土左旗政府"].findings == []


def test_requirements_follow_what_the_unit_was_given(office: Path) -> None:
    """An 实际完成值 only where the issued row had a target; 存在问题 for an overdue task only when
    both the issued and the extended deadline have passed."""
    master = office / "总台账.xlsx"
    path = office / "报送" / "市发改委_2026年6月.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM]
    ws["F7"], ws["G7"], ws["J7"] = S.STATUS_ON_TRACK, 60, None  # 2026-010, due 6月底, as of 7月15日
    wb.save(path)
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "9月底"}, "2026-011": {S.TARGET: "2个"}},
               sheet_cells={S.SETTINGS: {"B6": dt.datetime(2026, 7, 15)}})
    assert main(["check", str(master), "--fix"]) == 0
    sub = by_file(validate_paths([path], master))["市发改委"]
    assert sub.valid, codes(sub)
    assert {"deadline-changed", "target-changed"} <= set(codes(sub))


def test_a_unit_that_edits_a_locked_cell_is_told_what_was_issued(office: Path) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "9月底"}})
    main(["check", str(master), "--fix"])
    path = office / "报送" / "市发改委_2026年6月.xlsx"

    def tamper(wb: openpyxl.Workbook) -> None:  # the unit "updates" the deadline itself, and the digest
        wb[F.FORM]["C7"] = "9月底"
        rows = [[wb[F.FORM].cell(r, F.COL[c] + 1).value for c in F.LOCKED] for r in range(4, 14)]
        m = read_master(master).settings
        wb[F.META]["B8"] = F.locked_digest(m.master_id, 2026, "2026-06", "市发改委", rows)

    wb = openpyxl.load_workbook(path)
    tamper(wb)
    wb.save(path)
    sub = by_file(validate_paths([path], master))["市发改委"]
    (hit,) = [f for f in sub.findings if f.code == "locked-cell-changed"]
    assert hit.cell == "C7" and "下发时为“6月底”" in hit.message and not sub.valid


def test_the_record_of_what_was_issued_is_split_and_checked(office: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """发放内容 keeps long records in parts; a record that no longer gives its digest is not trusted."""
    monkeypatch.setattr(S, "ISSUED_CONTENT_PART", 200)
    master = office / "总台账.xlsx"
    split_master(master, office / "七月", period="2026-07", units=["市发改委"])
    parts = sheet(master, S.ISSUED_CONTENT)
    assert [p["分段"] for p in parts] == list(range(1, len(parts) + 1)) and len(parts) > 3
    path = office / "七月" / "市发改委_2026年7月.xlsx"
    fill_unit_file(path, dt.date(2026, 7, 31), seed=1)
    wb = openpyxl.load_workbook(path)
    wb[F.FORM]["C7"] = "9月底"
    wb.save(path)
    (hit,) = [f for f in by_file(validate_paths([path], master))["市发改委"].findings if f.code == "locked-cell-changed"]
    assert "下发时为“6月底”" in hit.message
    wb = openpyxl.load_workbook(master)  # someone "corrects" the hidden record: it no longer matches its digest
    ws = wb[S.ISSUED_CONTENT]
    ws["E2"] = ws["E2"].value.replace("2026-001", "2026-002")
    wb.save(master)
    (hit,) = [f for f in by_file(validate_paths([path], master))["市发改委"].findings if f.code == "locked-cell-changed"]
    assert "应为“6月底”" in hit.message  # compared with the master instead


def test_changes_before_issue_give_clean_workbooks(office: Path) -> None:
    master = office / "总台账.xlsx"
    edit_after_issue(master)
    assert main(["check", str(master), "--fix"]) == 0
    out = office / "七月"
    assert main(["split", str(master), "-o", str(out), "--period", "2026-07", "--unit", "市财政局",
                 "--unit", "市住建局"]) == 0
    for path in out.iterdir():  # 2026-190 is past its first milestone (3月底, 50%): its progress says so
        fill_unit_file(path, dt.date(2026, 7, 31), seed=3, overrides={"G7": 60} if "财政" in path.name else None)
    batch = validate_paths([out], master)
    subs = by_file(batch)
    assert batch.valid and all(s.findings == [] for s in subs.values())
    assert "2026-190" in subs["市财政局"].tasks and "2026-019" not in subs["市财政局"].tasks
    assert "2026-012" in subs["市住建局"].tasks


def test_split_records_unrecorded_changes_in_the_new_period(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "9月底", S.DUE: dt.datetime(2026, 9, 30)}})
    assert main(["split", str(master), "-o", str(office / "七月"), "--period", "2026-07", "--unit", "市发改委"]) == 0
    assert "随本次下发记入“调整记录”1 条" in capsys.readouterr().out
    (row,) = sheet(master, S.CHANGES)
    assert row[S.CH_PERIOD] == "2026-07" and row[S.CH_KIND] == S.KIND_EXTENDED
    (content,) = sheet(master, S.ISSUED_CONTENT)  # June's records went with June
    assert content["填报期"] == "2026-07" and content["单位"] == "市发改委" and content["分段"] == 1
    locked = json.loads(content["锁定内容"])
    assert [r[0] for r in locked] == [t[S.TASK_ID] for t in read_master(master).tasks_of("市发改委")]
    assert locked[3][1:4] == ["建立碳排放预算管理制度", "9月底", "2026-09-30"]


# ------------------------------------------------------------------ split --changed and versions


def test_split_changed_issues_new_versions_only_where_tasks_changed(office: Path, capsys: pytest.CaptureFixture) -> None:
    master = office / "总台账.xlsx"
    assert main(["collect", str(office / "报送"), "--master", str(master)]) == 0
    edit_after_issue(master)
    staff_edit(master, {"2026-047": {S.STATUS: S.STATUS_CANCELLED, S.NOTE: "不再单列"}})
    assert main(["check", str(master), "--fix"]) == 0
    capsys.readouterr()
    out = office / "第2版"
    assert main(["split", str(master), "-o", str(out), "--changed"]) == 0
    text = capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == ["市住建局_2026年6月（第2版）.xlsx", "市发改委_2026年6月（第2版）.xlsx", "市财政局_2026年6月（第2版）.xlsx"]
    assert "市发改委_2026年6月（第2版）.xlsx：调整 2026-010、2026-011；移出 2026-012" in text
    assert "市财政局_2026年6月（第2版）.xlsx：新增 2026-190；调整 2026-004；移出 2026-019" in text
    assert "市住建局_2026年6月（第2版）.xlsx：新增 2026-012" in text
    assert "不重新下发的单位 1 个" in text and "已无牵头任务" in text and "市外事办" in text
    issued = [r for r in sheet(master, S.ISSUED) if r["单位"] == "市发改委"]
    assert len(issued) == 2 and issued[1]["文件名"] == "市发改委_2026年6月（第2版）.xlsx"
    # prefilled with the answers given so far; a task new to the unit starts blank
    form = CalamineWorkbook.from_path(str(out / "市住建局_2026年6月（第2版）.xlsx")).get_sheet_by_name(F.FORM).to_python()
    rows = {r[0]: r for r in form[F.FIRST_ROW - 1:] if str(r[0]).startswith("2026-")}
    history = {(r["单位"], r[S.TASK_ID]): r for r in sheet(master, S.HISTORY)}
    assert rows["2026-132"][F.COL[S.NARRATIVE]] == history[("市住建局", "2026-132")][S.NARRATIVE]
    assert rows["2026-012"][F.COL[S.STATUS]] == "" and rows["2026-012"][F.COL[S.NARRATIVE]] == ""
    assert "第2版" in form[0][0] and "请以本版为准" in form[1][0]
    assert main(["split", str(master), "-o", str(office / "又一次"), "--changed"]) == 0
    assert not list((office / "又一次").iterdir())  # nothing changed since


def test_versions_newest_wins_and_an_older_one_still_counts(office: Path) -> None:
    master = office / "总台账.xlsx"
    edit_after_issue(master)
    main(["check", str(master), "--fix"])
    split_master(master, office / "第2版", changed=True)
    v1, v2 = office / "报送" / "市财政局_2026年6月.xlsx", office / "第2版" / "市财政局_2026年6月（第2版）.xlsx"
    fill_unit_file(v2, AS_OF, seed=5, report_date=dt.date(2026, 6, 20),
                   overrides={"I4": "第2版的进展", "I5": "第2版的进展"})
    late = office / "晚到" / "市财政局_2026年6月.xlsx"
    late.parent.mkdir()
    shutil.copy(v1, late)
    fill_unit_file(late, AS_OF, seed=6, report_date=dt.date(2026, 6, 28), overrides={"I4": "第1版的进展"})
    both = office / "两版"
    both.mkdir()
    shutil.copy(v2, both / v2.name)
    shutil.copy(late, both / late.name)
    batch = validate_paths([both], master)
    versions = {s.file: s for s in batch.submissions}
    assert batch.valid and versions[v2.name].version == 2 and versions[late.name].version == 1
    assert versions[late.name].superseded_by == v2.name  # a later date, but an older version
    # returned one after the other: the older version is accepted, the newer one's answers win
    assert collect([v2], master).batch.valid
    result = collect([late], master)
    assert result.batch.valid and [s.file for s in result.accepted] == [late.name]
    assert task(master, "2026-004")[S.NARRATIVE] == "第2版的进展"
    # and the old version alone still counts for the tasks it holds
    fresh = office / "只有第1版.xlsx"
    shutil.copy(office / "下发" / "市发改委_2026年6月.xlsx", fresh)
    fill_unit_file(fresh, AS_OF, seed=2, overrides={"I4": "只交了第1版"})
    assert collect([fresh], master).batch.valid
    assert task(master, "2026-001")[S.NARRATIVE] == "只交了第1版"
    assert "市发改委" not in (task(master, "2026-012")[S.NARRATIVE] or "")


# ------------------------------------------------------------------ reports


def test_reports_use_the_current_deadline_and_show_the_changes(office: Path) -> None:
    master = office / "总台账.xlsx"
    edit_after_issue(master)
    before = compute(read_master(master), dt.date(2026, 7, 10)).tasks.set_index(S.TASK_ID)
    main(["check", str(master), "--fix"])
    m = read_master(master)
    metrics, tables = bulletin_of(m, dt.date(2026, 7, 10))
    after = metrics.tasks.set_index(S.TASK_ID)
    assert before.at["2026-010", "逾期"] and not after.at["2026-010", "逾期"]
    assert after.at["2026-010", S.DUE] == dt.date(2026, 9, 30)
    assert after.at["2026-010", "序时进度"] < before.at["2026-010", "序时进度"]
    assert "2026-019" not in after.index and len(after) == 189  # 189 - 1 cancelled + 1 added
    listed = {r[0]: r for r in tables[OVERDUE].rows + tables[DUE_SOON].rows}
    assert "2026-010" not in listed or "延期，原为6月底" in listed["2026-010"][5]
    adjustments = tables[ADJUSTMENTS]
    assert "新增 1 项、延期 1 项、调整牵头单位 1 项、撤销 1 项、内容修订 2 项" in adjustments.title
    assert [r[2] for r in adjustments.rows] == [S.KIND_REVISED, S.KIND_EXTENDED, S.KIND_REVISED, S.KIND_LEAD,
                                                S.KIND_CANCELLED, S.KIND_ADDED]


def test_extended_tasks_are_marked_in_the_task_lists(office: Path) -> None:
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-010": {S.DEADLINE_TEXT: "7月10日"}})
    main(["check", str(master), "--fix"])
    _, tables = bulletin_of(read_master(master), dt.date(2026, 7, 1))
    (row,) = [r for r in tables[DUE_SOON].rows if r[0] == "2026-010"]
    assert row[5] == "7月10日（延期，原为6月底）"


# ------------------------------------------------------------------ the scenario of the issue


def test_a_year_of_changes_rejects_no_correct_return(office: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Fix a typo, extend a deadline, move a task and add one after the workbooks went out: every
    unit's correct return is accepted, and the change log and the bulletin say what changed."""
    master = office / "总台账.xlsx"
    staff_edit(master, {"2026-011": {S.TEXT: "培育创建2个自治区级零碳园区"[:-2] + "产业园区"},
                        "2026-010": {S.DEADLINE_TEXT: "9月底"}, "2026-012": {S.LEAD: "市住建局"}},
               add=[NEW_TASK])
    assert main(["check", str(master), "--fix"]) == 0
    assert main(["collect", str(office / "报送"), "--master", str(master)]) == 0
    out = capsys.readouterr().out
    assert "已汇总 5 个文件" in out and "退回" not in out.split("已汇总")[1]
    assert main(["split", str(master), "-o", str(office / "第2版"), "--changed"]) == 0
    for i, path in enumerate(sorted((office / "第2版").iterdir())):
        fill_unit_file(path, AS_OF, seed=20 + i, report_date=dt.date(2026, 6, 26))
    assert main(["collect", str(office / "第2版"), "--master", str(master)]) == 0
    assert read_master(master).tasks[-1][S.STATUS]  # the new task was answered by 市财政局
    log = sheet(master, S.CHANGES)
    assert [(r[S.TASK_ID], r[S.CH_KIND]) for r in log] == [
        ("2026-010", S.KIND_EXTENDED), ("2026-011", S.KIND_REVISED), ("2026-012", S.KIND_LEAD), ("2026-190", S.KIND_ADDED)]
    capsys.readouterr()
    assert main(["report", str(master), "-o", str(tmp_path / "通报.xlsx")]) == 0
    rows = CalamineWorkbook.from_path(str(tmp_path / "通报.xlsx")).get_sheet_by_name(ADJUSTMENTS).to_python()
    assert "新增 1 项、延期 1 项、调整牵头单位 1 项、撤销 0 项、内容修订 1 项" in rows[0][0]
    assert [r[0] for r in rows[3:7]] == ["2026-010", "2026-011", "2026-012", "2026-190"]
    assert "尚未记入" not in capsys.readouterr().out
    assert main(["report", str(master), "-o", str(tmp_path / "通报.docx")]) == 0
    import docx

    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "通报.docx")).paragraphs)
    assert "五、任务调整情况" in text and "新增任务1项，延期1项" in text and "六、报送情况" in text
    assert "“建立碳排放预算管理制度”完成时限由6月底延至9月底" in text


# ------------------------------------------------------------------ the Excel button


def test_apply_changes_button_does_what_fix_does(office: Path) -> None:
    master = office / "总台账.xlsx"
    edit_after_issue(master)
    staff_edit(master, {"2026-036": {S.LEAD: "土左旗"}})
    sheets = sheets_from_file(master)
    del sheets[S.CHANGES]  # a book made before 调整记录 existed: the button adds it
    plan = plan_fixes(read_master(master))
    HIDDEN.clear()
    alerts = apply(sheets, run_script(scripts, "duban_apply_changes", sheets))
    assert "已修正" in alerts[0] and "记入“调整记录” 6 条" in alerts[0] and "请保存台账" in alerts[0]
    assert ACTIVE == [S.CHANGES] and S.STATE not in HIDDEN
    main(["check", str(master), "--fix"])
    cli = CalamineWorkbook.from_path(str(master))
    for name in (S.TASKS, S.MILESTONES, S.STATE):
        want = [[v for v in r] for r in cli.get_sheet_by_name(name).to_python() if any(v not in ("", None) for v in r)]
        got = [r for r in sheets[name] if any(v not in ("", None) for v in r)]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert [plain(x) for x in g[:len(w)]] == [plain(x) for x in w], name
    logged = [r[2:6] for r in sheets[S.CHANGES][1:]]
    assert logged == [[r[S.TASK_ID], r[S.CH_KIND], r[S.CH_OLD], r[S.CH_NEW]] for r in sheet(master, S.CHANGES)]
    fixed = [r for r in sheets[scripts.CHECK_SHEET] if r[0] == "已修正"]
    assert len(fixed) == len(plan.fixes) == 6 and any("2026-190" in r[3] for r in fixed)
    again = run_script(scripts, "duban_apply_changes", sheets)
    assert "无需修正" in apply(sheets, again)[0]
