import datetime as dt
import shutil

import openpyxl
import pytest
from conftest import SOURCE

from workbook import schema as S
from workbook.findings import DubanError
from workbook.importer import import_decomposition, import_to_file
from workbook.master import read_master


def source_rows():
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.split("\t")[0].isdigit()]


def test_sample_keeps_every_task_verbatim(sample_master_file):
    master = read_master(sample_master_file)
    assert [int(t[S.SERIAL]) for t in master.tasks] == list(range(1, 190))
    assert [t[S.TEXT] for t in master.tasks] == [r[1] for r in source_rows()]
    assert [t[S.DEADLINE_TEXT] for t in master.tasks] == [r[3] for r in source_rows()]
    assert master.tasks[0][S.TASK_ID] == "2026-001" and master.tasks[-1][S.TASK_ID] == "2026-189"


def test_sample_imports_with_only_the_documented_findings():
    _, report = import_decomposition(SOURCE, 2026, "2026-06")
    assert report.valid
    assert sorted(report.codes()) == sorted(["main-target-unplaced"] * 2 + ["leader-count-mismatch"] * 2)
    unplaced = [f.cell for f in report.findings if f.code == "main-target-unplaced"]
    assert unplaced == ["G6", "G10"]  # serials 5 (统计调查队) and 9 (市投资促进局)


def test_leaders_and_main_targets(sample_master_file):
    master = read_master(sample_master_file)
    by_leader = {}
    for t in master.tasks:
        by_leader.setdefault(t.get(S.LEADER), []).append(int(t[S.SERIAL]))
    assert by_leader["王心宇副市长"] == [68, 69, 70, 71]
    assert by_leader["伊德尔主任"] == list(range(181, 190))
    assert {1, 2, 3, 4} <= set(by_leader["刘继英副市长"])
    assert {7, 8} <= set(by_leader["王昆副市长"])
    assert 6 in by_leader["塔拉副市长"]
    assert by_leader[None] == [5, 9]
    leaders = {r[S.LEADER_NAME]: r for r in master.leaders}
    assert len(leaders) == 10
    assert leaders["刘继英副市长"][S.LEADER_DECLARED] == 35
    assert leaders["刘继英副市长"][S.LEADER_DECLARED_MAIN] == 5
    assert sum(r[S.LEADER_DECLARED] for r in leaders.values()) == 189
    categories = [t[S.CATEGORY] for t in master.tasks]
    assert categories.count(S.CATEGORY_MAIN) == 9


def test_units_are_normalised_split_and_annotated(sample_master_file):
    master = read_master(sample_master_file)
    task = {int(t[S.SERIAL]): t for t in master.tasks}
    assert task[169][S.LEAD] == "土左旗政府、托县政府"
    assert task[145][S.LEAD] == "呼和浩特职业技术大学"
    assert task[5][S.LEAD] == "国家统计局呼和浩特调查队"
    assert "提供数据" in task[5][S.NOTE]
    assert task[1][S.TARGET] == "8%以上"
    assert task[8][S.TARGET] == "超过280亿元，10%以上"
    assert task[106][S.DUE] is None
    assert task[10][S.DUE] == dt.date(2026, 6, 30)
    names = master.unit_names()
    assert len(names) == len(set(names)) == 45
    kinds = {u[S.UNIT_NAME]: u[S.UNIT_KIND] for u in master.units}
    assert kinds["土左旗政府"] == "旗县区" and kinds["和林格尔新区"] == "开发区"


def test_master_is_formatted(sample_master_file):
    wb = openpyxl.load_workbook(sample_master_file)
    assert wb.sheetnames[:6] == [S.TASKS, S.MILESTONES, S.LEADERS, S.UNITS, S.SETTINGS, S.HISTORY]
    ws = wb[S.TASKS]
    assert [c.value for c in ws[1]] == S.TASK_COLUMNS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    assert ws["D2"].alignment.wrap_text
    assert ws["I2"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["D"].width >= 40
    assert [c.value for c in wb[S.HISTORY][1]] == S.HISTORY_COLUMNS
    settings = {r[0].value: r[1].value for r in wb[S.SETTINGS].iter_rows(min_row=2)}
    assert settings[S.S_YEAR] == 2026 and settings[S.S_PERIOD] == "2026-06"
    assert settings[S.S_STATUSES] == "已完成、序时推进、滞后、未启动"


def test_xlsx_source_with_the_same_columns(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        ws.append(line.split("\t") if line.strip() else [])
    src = tmp_path / "分解方案.xlsx"
    wb.save(src)
    master, report = import_decomposition(src, 2026)
    assert len(master.tasks) == 189 and report.valid


def test_tasks_published_without_a_deadline_are_due_at_year_end(tmp_path):
    """民生实事 lists often have no 完成时限 column: a warning per task, due 12月31日, and split is not blocked."""
    src = tmp_path / "民生实事.txt"
    src.write_text("序号\t实事内容\t责任单位\n1\t新建公办幼儿园3所\t县教科局\n2\t改造老旧小区10个\t县住建局\n",
                   encoding="utf-8")
    master, report = import_decomposition(src, 2026)
    assert [t[S.DUE] for t in master.tasks] == [dt.date(2026, 12, 31)] * 2
    assert report.valid and report.codes().count("deadline-missing") == 2
    assert all(f.severity == "warning" and "2026-12-31" in f.message for f in report.findings
               if f.code == "deadline-missing")


def test_chinese_path_with_a_space(tmp_path):
    folder = tmp_path / "呼和浩特 督查室"
    folder.mkdir()
    src = folder / "分解 方案.txt"
    shutil.copy(SOURCE, src)
    out = folder / "总 台账.xlsx"
    import_to_file(src, out, 2026)
    assert len(read_master(out).tasks) == 189


def test_existing_master_is_not_overwritten(sample_master_file, tmp_path):
    out = tmp_path / "总台账.xlsx"
    import_to_file(SOURCE, out, 2026)
    before = out.read_bytes()
    with pytest.raises(DubanError):
        import_to_file(SOURCE, out, 2026)
    assert out.read_bytes() == before
    import_to_file(SOURCE, out, 2026, force=True)
    assert list((tmp_path / "总台账_备份").iterdir())


def test_source_without_tasks(tmp_path):
    src = tmp_path / "空.txt"
    src.write_text("标题\n\n", encoding="utf-8")
    _, report = import_decomposition(src, 2026)
    assert "import-no-table" in report.codes() and not report.valid
    out = tmp_path / "总台账.xlsx"
    import_to_file(src, out, 2026)
    assert not out.exists()  # nothing found: no empty master


def test_header_without_task_rows(tmp_path):
    src = tmp_path / "表头.txt"
    src.write_text("序号\t任务目标\t牵头单位\t完成时限\n", encoding="utf-8")
    _, report = import_decomposition(src, 2026)
    assert report.codes() == ["import-no-tasks"]
