import datetime as dt
import errno
import os
import shutil

import openpyxl
import pytest
import zipcraft
from python_calamine import CalamineWorkbook
from test_validate import AS_OF, UNIT, setter, unit_edit

from workbook import collect as collect_module
from workbook import schema as S
from workbook.cli import main
from workbook.collect import collect
from workbook.filling import fill_unit_file
from workbook.findings import DubanError
from workbook.master import MasterChangedError, master_transaction, read_master
from workbook.ooxml import sheetpatch
from workbook.split import split_master


@pytest.fixture
def office(sample_master_file, tmp_path):
    """A master with issued workbooks for three units and their filled returns in an inbox."""
    root = tmp_path / "督查室 六月"
    root.mkdir()
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=[UNIT, "市财政局", "土左旗政府", "托县政府"])
    inbox = root / "收件箱"
    shutil.copytree(root / "下发", inbox)
    for i, path in enumerate(sorted(inbox.iterdir())):
        fill_unit_file(path, AS_OF, seed=i, report_date=dt.date(2026, 6, 20))
    return master, inbox


def history(master):
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(S.HISTORY).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def task_row(master, task_id):
    return next(t for t in read_master(master).tasks if t[S.TASK_ID] == task_id)


def test_collect_merges_and_keeps_history(office):
    master, inbox = office
    result = collect([inbox], master)
    assert len(result.accepted) == 4 and result.batch.valid
    rows = history(master)
    assert len(rows) == 10 + 4 + 4 + 5  # 市发改委, 市财政局, 土左旗政府, 托县政府
    first = rows[0]
    assert first["填报期"] == "2026-06" and first["单位"] and first["来源文件"].endswith(".xlsx")
    assert len(first["文件SHA256"]) == 64 and first["填报人"] == "张三"
    task = task_row(master, "2026-010")
    assert task[S.STATUS] in S.STATUSES and task[S.LAST_PERIOD] == "2026-06" and task[S.NARRATIVE]
    assert task_row(master, "2026-001")[S.RATE] is not None  # 8%以上 against a plausible actual
    assert (master.parent / "总台账_归档" / "2026-06" / f"{UNIT}_2026年6月.xlsx").exists()
    assert list((master.parent / "总台账_备份").iterdir())
    assert "市商务局" in result.missing_units and UNIT not in result.missing_units


def test_joint_task_combines_both_units(office):
    master, inbox = office
    unit_edit(inbox / "土左旗政府_2026年6月.xlsx", setter(F7="滞后", G7=40, J7="资金未到位"))
    unit_edit(inbox / "托县政府_2026年6月.xlsx", setter(F8="序时推进", G8=70))
    collect([inbox], master)
    task = task_row(master, "2026-169")
    assert task[S.STATUS] == "滞后" and task[S.PROGRESS] == 40
    assert "土左旗政府：" in task[S.NARRATIVE] and "托县政府：" in task[S.NARRATIVE]


def test_collect_is_idempotent(office):
    master, inbox = office
    collect([inbox], master)
    before = master.read_bytes()
    again = collect([inbox], master)
    assert not again.accepted and len(again.already) == 4
    assert master.read_bytes() == before


def test_newer_file_supersedes_and_both_stay_in_history(office, tmp_path):
    master, inbox = office
    collect([inbox / f"{UNIT}_2026年6月.xlsx"], master)
    newer = tmp_path / f"{UNIT}_2026年6月（更正）.xlsx"
    shutil.copy(inbox / f"{UNIT}_2026年6月.xlsx", newer)
    unit_edit(newer, setter(I7="更正后的进展情况", B17=dt.datetime(2026, 6, 24)))
    collect([newer], master)
    assert task_row(master, "2026-010")[S.NARRATIVE] == "更正后的进展情况"
    texts = [r["进展情况"] for r in history(master) if r["任务编号"] == "2026-010"]
    assert len(texts) == 2 and texts[1] == "更正后的进展情况"


def test_rejected_file_changes_nothing(office):
    master, inbox = office
    path = inbox / f"{UNIT}_2026年6月.xlsx"
    unit_edit(path, setter(F7="完成", I8="恶意内容"))
    before = master.read_bytes()
    result = collect([path], master)
    assert not result.accepted and master.read_bytes() == before
    assert main(["collect", str(path), "--master", str(master)]) == 1
    assert master.read_bytes() == before


def test_dangerous_text_lands_as_text(office):
    master, inbox = office
    path = inbox / f"{UNIT}_2026年6月.xlsx"
    payload = "=cmd|' /C calc'!A0"
    unit_edit(path, setter(J8="+1+1", K8="@SUM(A1)"))
    sheet = zipcraft.sheet_part(path, "填报")
    xml = zipcraft.read(path, sheet)
    # A unit can store text that starts with "=" (quote prefix): put one in as a string cell.
    # openpyxl writes CJK text as UTF-8, or as character references when lxml is installed.
    text = "加快推进，确保按期完成。"
    encoded = next(e for e in (text.encode(), "".join(f"&#{ord(c)};" for c in text).encode()) if e in xml)
    xml = xml.replace(encoded, payload.replace("'", "&apos;").encode(), 1)
    zipcraft.rewrite(path, path, replace={sheet: xml})
    result = collect([path], master)
    assert result.accepted, [str(f) for f in result.batch.submissions[0].findings]
    ws = openpyxl.load_workbook(master)[S.TASKS]
    header = {c.value: c.column for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "2026-001")
    cell = ws.cell(row, header[S.NEXT_STEPS])
    assert cell.value == payload and cell.data_type == "s"
    hist = openpyxl.load_workbook(master)[S.HISTORY]
    values = [(c.value, c.data_type) for row in hist.iter_rows(min_row=2) for c in row if c.value]
    assert (payload, "s") in values and ("+1+1", "s") in values and ("@SUM(A1)", "s") in values


def test_failure_between_temp_write_and_replace_leaves_master_intact(office, monkeypatch):
    master, inbox = office
    before = master.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(DubanError, match="disk full"):
        collect([inbox], master)
    assert master.read_bytes() == before
    assert not [p for p in master.parent.rglob("*") if p.name.endswith(".tmp.xlsx")]


def test_many_originals_are_copied_while_the_master_is_written(office, monkeypatch):
    master, inbox = office
    monkeypatch.setattr(collect_module, "EARLY_COPY_MIN_FILES", 1)  # a child process copies them
    result = collect([inbox], master, workers=2)
    archive = master.parent / "总台账_归档" / "2026-06"
    assert result.archived == [archive / p.name for p in sorted(inbox.iterdir())]
    assert sorted(os.listdir(archive)) == sorted(os.listdir(inbox))  # no temp file left
    assert all((archive / p.name).read_bytes() == p.read_bytes() for p in inbox.iterdir())
    again = collect([inbox], master, workers=2)
    assert len(again.already) == 4 and sorted(os.listdir(archive)) == sorted(os.listdir(inbox))


def test_early_copies_are_removed_when_the_master_cannot_be_written(office, monkeypatch):
    master, inbox = office
    monkeypatch.setattr(collect_module, "EARLY_COPY_MIN_FILES", 1)
    before = master.read_bytes()

    def full(src, dst, edits):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sheetpatch, "patch_workbook", full)
    with pytest.raises(DubanError, match="磁盘空间不足.*未改动"):
        collect([inbox], master, workers=2)
    assert master.read_bytes() == before
    assert not os.listdir(master.parent / "总台账_归档" / "2026-06")  # the copies made meanwhile are gone


def test_history_written_by_a_child_process_is_the_same_master(office, tmp_path, monkeypatch):
    master, inbox = office
    alone = tmp_path / "alone.xlsx"
    shutil.copy(master, alone)
    now = dt.datetime(2026, 6, 30, 17, 5)
    collect([inbox], alone, workers=1, now=now)
    monkeypatch.setattr(collect_module, "HISTORY_ASIDE_MIN_ROWS", 1)
    monkeypatch.setattr(collect_module, "EARLY_COPY_MIN_FILES", 1)
    taken = []  # the child's bytes were used
    take = sheetpatch._Styles.take
    monkeypatch.setattr(sheetpatch._Styles, "take", lambda self, other: (taken.append(1), take(self, other)))
    result = collect([inbox], master, workers=2, now=now)
    assert len(result.accepted) == 4 and len(result.archived) == 4 and taken
    assert master.read_bytes() == alone.read_bytes()


def test_master_open_in_excel_is_refused(office, capsys):
    master, inbox = office
    (master.parent / "~$总台账.xlsx").write_bytes(b"lock")
    before = master.read_bytes()
    assert main(["collect", str(inbox), "--master", str(master)]) == 2
    assert "Excel" in capsys.readouterr().err
    assert master.read_bytes() == before


def test_master_changed_meanwhile_is_refused(sample_master_file, tmp_path):
    """Excel and WPS do not honour duban's lock: a save between our read and our write is never lost."""
    path = tmp_path / "台账.xlsx"
    shutil.copy(sample_master_file, path)
    with pytest.raises(MasterChangedError):
        with master_transaction(path) as tx:
            tx.master()
            path.write_bytes(path.read_bytes() + b"saved by a colleague")
            tx.write(lambda tmp: tmp.write_bytes(b"new"))
    assert path.read_bytes().endswith(b"saved by a colleague")


def test_staff_edits_and_formatting_survive(office):
    master, inbox = office
    wb = openpyxl.load_workbook(master)
    ws = wb[S.TASKS]
    ws["T5"] = "督查室备注：重点盯办"
    ws.column_dimensions["D"].width = 77
    wb.save(master)
    collect([inbox], master)
    wb = openpyxl.load_workbook(master)
    ws = wb[S.TASKS]
    assert ws["T5"].value == "督查室备注：重点盯办" and ws.column_dimensions["D"].width == 77
    assert ws.freeze_panes == "A2" and ws.data_validations.dataValidation


@pytest.mark.filterwarnings("ignore:Data Validation extension")
def test_collect_changes_only_the_cells_it_owns(office):
    """Excel extensions openpyxl does not model (x14 validations here) survive byte for byte."""
    master, inbox = office
    part = zipcraft.sheet_part(master, S.TASKS)
    ext = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           b'<x14:dataValidations count="0" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
           b"</ext></extLst>")
    xml = zipcraft.read(master, part).replace(b"</worksheet>", ext + b"</worksheet>")
    zipcraft.rewrite(master, master, replace={part: xml})
    import zipfile

    with zipfile.ZipFile(master) as z:
        before = {n: z.read(n) for n in z.namelist()}
    collect([inbox], master)
    with zipfile.ZipFile(master) as z:
        after = {n: z.read(n) for n in z.namelist()}
    assert set(after) == set(before)
    changed = {n for n in before if before[n] != after[n]}
    history_part = zipcraft.sheet_part(master, S.HISTORY)
    assert changed <= {part, history_part, "xl/styles.xml"}
    assert ext in after[part]
    wb = openpyxl.load_workbook(master)
    assert wb[S.TASKS].freeze_panes == "A2" and wb[S.TASKS].conditional_formatting


def test_split_records_issues_without_rewriting_the_master(sample_master_file, tmp_path):
    import zipfile

    master = tmp_path / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    with zipfile.ZipFile(master) as z:
        before = {n: z.read(n) for n in z.namelist()}
    split_master(master, tmp_path / "out", period="2026-07", units=[UNIT])
    with zipfile.ZipFile(master) as z:
        after = {n: z.read(n) for n in z.namelist()}
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {zipcraft.sheet_part(master, S.ISSUED), zipcraft.sheet_part(master, S.SETTINGS),
                       zipcraft.sheet_part(master, S.ISSUED_CONTENT), "xl/styles.xml"}
    settings = read_master(master).settings
    assert settings.period == "2026-07" and settings.as_of == dt.date(2026, 7, 31)


def test_process_killed_between_temp_write_and_replace(office, tmp_path):
    """A real kill -9 after the temp file is written: the master is untouched, the next run works."""
    import signal
    import subprocess
    import sys

    master, inbox = office
    before = master.read_bytes()
    script = (
        "import sys, time, os\n"
        "def hang(src, dst):\n"
        "    if not str(dst).endswith('总台账.xlsx'):\n"
        "        return real(src, dst)\n"
        "    print('written', flush=True)\n"
        "    time.sleep(60)\n"
        "real, os.replace = os.replace, hang\n"
        "from workbook.collect import collect\n"
        f"collect([{str(inbox)!r}], {str(master)!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    temps = list(master.parent.glob(".总台账.*.tmp.xlsx"))
    assert temps and temps[0].stat().st_size > 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert master.read_bytes() == before
    result = collect([inbox], master)  # the dead run's lock and temp file are cleared

    assert result.accepted and master.read_bytes() != before
    assert not list(master.parent.glob(".总台账.*.tmp.xlsx"))
