import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from test_checks import edit

import soffice
from workbook import form as F
from workbook import schema as S
from workbook.cli import main
from workbook.findings import DubanError
from workbook.master import read_master
from workbook.split import (
    refresh_unit_sheets_in_file,
    safe_filename,
    sheet_title,
    split_master,
)

GOLDEN = Path(__file__).parent / "golden" / "市发改委_2026年6月.xlsx"


@pytest.fixture
def split_sample(master_copy, tmp_path):
    out = tmp_path / "单位 工作簿"
    result = split_master(master_copy, out)
    return master_copy, out, result


def test_every_unit_gets_exactly_its_tasks(split_sample):
    master_path, out, result = split_sample
    master = read_master(master_path)
    assert result.report.valid and not result.no_tasks
    assert len(result.files) == 45 == len(list(out.iterdir()))
    total = 0
    for unit, path in result.files.items():
        assert path.name == f"{unit}_2026年6月.xlsx"
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(F.FORM).to_python()
        expected = [t[S.TASK_ID] for t in master.tasks_of(unit)]
        ids = [r[0] for r in rows[F.FIRST_ROW - 1:F.FIRST_ROW - 1 + len(expected)]]
        assert ids == expected
        assert rows[F.FIRST_ROW - 1 + len(expected)][0] == ""
        total += len(expected)
    assert total == 190  # task 169 goes to both 土左旗政府 and 托县政府
    both = [u for u, p in result.files.items() if "2026-169" in str(
        CalamineWorkbook.from_path(str(p)).get_sheet_by_name(F.FORM).to_python())]
    assert sorted(both) == ["土左旗政府", "托县政府"]


def test_drop_downs_protection_and_locked_cells(split_sample):
    _, _, result = split_sample
    wb = openpyxl.load_workbook(result.files["市商务局"])
    assert wb.sheetnames == [F.FORM, F.GUIDE, F.META]
    ws = wb[F.FORM]
    assert ws.protection.sheet
    n = 9
    validations = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert validations["list"].formula1 == '"已完成,序时推进,滞后,未启动"'
    assert str(validations["list"].sqref) == f"F4:F{3 + n}"
    assert validations["whole"].formula1 == "0" and validations["whole"].formula2 == "100"
    assert "date" in validations
    for col in "ABCDE":
        assert ws[f"{col}4"].protection.locked
    for col in "FGIJK":
        assert not ws[f"{col}4"].protection.locked
    quantitative = [r for r in range(4, 4 + n) if ws[f"E{r}"].value]
    assert quantitative and all(not ws[f"H{r}"].protection.locked for r in quantitative)
    assert ws["H6"].protection.locked  # 2026-040 has no target: no actual value asked
    for label in F.FOOTER:
        row = F.footer_row(n, label)
        assert ws[f"A{row}"].value == label and not ws[f"B{row}"].protection.locked
    assert [c.value for c in ws[F.HEADER_ROW]] == F.HEADERS
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws["B4"].alignment.wrap_text


def test_meta_and_digest(split_sample):
    master_path, _, result = split_sample
    wb = openpyxl.load_workbook(result.files["市发改委"])
    assert wb[F.META].sheet_state == "veryHidden"
    meta = {r[0].value: r[1].value for r in wb[F.META].iter_rows()}
    master = read_master(master_path)
    assert meta["台账编号"] == master.settings.master_id
    assert meta["计划年度"] == 2026 and meta["填报期"] == "2026-06" and meta["单位"] == "市发改委"
    ids = [t[S.TASK_ID] for t in master.tasks_of("市发改委")]
    assert meta["任务编号"].split(",") == ids and meta["任务数"] == len(ids)
    rows = CalamineWorkbook.from_path(str(result.files["市发改委"])).get_sheet_by_name(F.FORM).to_python()
    width = len(F.HEADERS)
    locked = [F.locked((list(r) + [""] * width)[:width]) for r in rows[F.FIRST_ROW - 1:F.FIRST_ROW - 1 + len(ids)]]
    assert F.locked_digest(meta["台账编号"], 2026, "2026-06", "市发改委", locked) == meta["摘要SHA256"]
    issued = openpyxl.load_workbook(master_path)[S.ISSUED]
    assert issued.sheet_state == "hidden"
    records = {r[1]: r for r in issued.iter_rows(min_row=2, values_only=True)}
    assert len(records) == 45
    assert records["市发改委"][2] == meta["摘要SHA256"] and records["市发改委"][0] == "2026-06"
    assert records["市发改委"][3] == ",".join(ids)
    assert list((master_path.parent / "总台账_备份").iterdir())


def test_previous_answers_are_prefilled(master_copy, tmp_path):
    edit(master_copy, S.TASKS, {"K11": "序时推进", "L11": 60, "O11": "已起草制度文本", "P11": "+3 个问题"})
    result = split_master(master_copy, tmp_path / "out", units=["市发改委"])
    ws = openpyxl.load_workbook(result.files["市发改委"])[F.FORM]
    row = 3 + 4  # 2026-010 is the fourth task of 市发改委
    assert ws[f"A{row}"].value == "2026-010"
    assert ws[f"F{row}"].value == "序时推进" and ws[f"G{row}"].value == 60
    assert ws[f"I{row}"].value == "已起草制度文本"
    assert ws[f"J{row}"].value == "+3 个问题" and ws[f"J{row}"].data_type == "s"


def test_existing_files_are_not_overwritten(split_sample):
    master_path, out, result = split_sample
    before = result.files["市发改委"].read_bytes()
    with pytest.raises(DubanError, match="已存在"):
        split_master(master_path, out)
    assert result.files["市发改委"].read_bytes() == before
    assert split_master(master_path, out, force=True).files


def test_master_with_errors_is_refused(master_copy, tmp_path):
    edit(master_copy, S.TASKS, {"H5": "13月底"})
    result = split_master(master_copy, tmp_path / "out")
    assert not result.report.valid and "deadline-impossible" in result.report.codes()
    assert not (tmp_path / "out").exists()
    assert main(["split", str(master_copy), "-o", str(tmp_path / "out")]) == 1


def test_unit_without_tasks_is_listed(master_copy, tmp_path, capsys):
    edit(master_copy, S.UNITS, {"A47": "市审计局", "C47": "市直部门"})
    assert main(["split", str(master_copy), "-o", str(tmp_path / "out")]) == 0
    assert "市审计局" in capsys.readouterr().out
    assert not list((tmp_path / "out").glob("市审计局*"))


def test_period_option_moves_the_master_on(master_copy, tmp_path):
    result = split_master(master_copy, tmp_path / "out", period="2026-07", units=["市民政局"])
    assert result.files["市民政局"].name == "市民政局_2026年7月.xlsx"
    settings = read_master(master_copy).settings
    assert settings.period == "2026-07" and settings.as_of == dt.date(2026, 7, 31)


def test_unit_names_that_cannot_be_file_names():
    assert safe_filename('市"发改"委/办公室') == "市_发改_委_办公室"
    assert safe_filename("CON") == "_CON"
    assert safe_filename("局. ") == "局"
    assert len(sheet_title("很" * 40)) == 31
    assert sheet_title("A[1]") == "A_1_"


def test_unit_sheets_inside_the_master_are_refreshed_not_duplicated(master_copy):
    first = refresh_unit_sheets_in_file(master_copy)
    second = refresh_unit_sheets_in_file(master_copy)
    assert first == second and len(first) == 45
    wb = openpyxl.load_workbook(master_copy)
    assert len(wb.sheetnames) == len(S.MASTER_SHEETS) + 45
    ws = wb["市发改委"]
    assert [c.value for c in ws[F.HEADER_ROW]] == F.HEADERS
    assert ws["A4"].value == "2026-001"


def scrubbed_parts(path: Path) -> dict[str, bytes]:
    import re

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>", b"",
                                        parts["docProps/core.xml"])
    return parts


def test_unit_workbook_matches_the_golden_file(sample_master_file, tmp_path):
    """XlsxWriter-style golden test: zip parts compared after scrubbing timestamps.

    Regenerate after an intended layout change with: python tests/make_golden.py
    """
    from make_golden import build

    out = build(sample_master_file, tmp_path)
    got, want = scrubbed_parts(out), scrubbed_parts(GOLDEN)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name


def test_libreoffice_opens_and_converts_a_unit_workbook(split_sample, tmp_path):
    _, _, result = split_sample
    src = tmp_path / "转换 测试"
    src.mkdir()
    shutil.copy(result.files["市科技局"], src / "市科技局_2026年6月.xlsx")
    proc = soffice.convert([src / "市科技局_2026年6月.xlsx"], "pdf", src)
    pdf = src / "市科技局_2026年6月.pdf"
    assert pdf.exists(), proc.stderr
    assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 5000


def test_master_without_issue_sheet_gets_one(master_copy, tmp_path):
    wb = openpyxl.load_workbook(master_copy)
    wb.remove(wb[S.ISSUED])
    wb.save(master_copy)
    split_master(master_copy, tmp_path / "out", period="2026-07", units=["市民政局"])
    wb = openpyxl.load_workbook(master_copy)
    rows = list(wb[S.ISSUED].iter_rows(values_only=True))
    assert rows[0] == tuple(S.ISSUED_COLUMNS) and rows[1][:2] == ("2026-07", "市民政局")
    assert read_master(master_copy).settings.period == "2026-07"


def test_a_temp_left_by_a_killed_in_master_split_is_removed_by_the_next_run(master_copy, tmp_path):
    """The openpyxl copy an --in-master split stages beside the master has a temp name of the master's."""
    from workbook.ooxml.safe_write import final_of, temp_name

    left = temp_name(master_copy)
    assert final_of(left) == master_copy
    left.write_bytes(b"PK")  # as a kill -9 during its save leaves it
    split_master(master_copy, tmp_path / "out", units=["市民政局"], in_master=True)
    assert not left.exists() and not [p for p in master_copy.parent.iterdir() if ".tmp" in p.name]


def _outcome(check, *args):
    try:
        return check(*args)
    except DubanError as exc:
        return str(exc)


def test_outputs_checked_together_are_refused_as_each_alone(tmp_path):
    """split checks its unit workbooks with one listing of the folder (check_outputs), and refuses
    exactly what check_output refuses: the master or a link to it, a folder, an existing file
    without --force, a file a spreadsheet program holds open (in any case of its name)."""
    from workbook.ooxml.safe_write import check_output, check_outputs

    out = tmp_path / "下发 七月"
    out.mkdir()
    master = out / "总台账.xlsx"
    master.write_bytes(b"PK")
    (out / "链接_2026年6月.xlsx").symlink_to(master)
    (out / "文件夹_2026年6月.xlsx").mkdir()
    (out / "已有_2026年6月.xlsx").write_bytes(b"PK")
    (out / "~$打开_2026年6月.xlsx").write_bytes(b"\x02ab")
    (out / ".~lock.办公_2026年6月.xlsx#").write_bytes("赵六,zhaoliu,PC-督查室,25.06.2026 10:32,".encode())
    (out / "~$大小写_2026年6月.XLSX").write_bytes(b"")
    names = ["总台账.xlsx", "链接_2026年6月.xlsx", "文件夹_2026年6月.xlsx", "已有_2026年6月.xlsx", "打开_2026年6月.xlsx",
             "办公_2026年6月.xlsx", "大小写_2026年6月.xlsx", "新_2026年6月.xlsx"]
    protected = [(master, "台账")]
    for force in (False, True):
        for name in names:
            alone = _outcome(check_output, out / name, force, protected)
            together = _outcome(lambda p, *a: check_outputs([p], *a)[0], out / name, force, protected)
            assert together == alone, name
    assert "正被 Excel/WPS 打开" in _outcome(check_output, out / "打开_2026年6月.xlsx", True, protected)
    assert "正被 LibreOffice 打开（赵六" in _outcome(check_output, out / "办公_2026年6月.xlsx", True, protected)
    assert check_outputs([out / "新_2026年6月.xlsx", out / "另一个_2026年6月.xlsx"], False, protected) == [
        out.resolve() / "新_2026年6月.xlsx", out.resolve() / "另一个_2026年6月.xlsx"]


def test_progress_that_is_no_finite_number_is_left_blank(master_copy, tmp_path):
    edit(master_copy, S.TASKS, {"L2": "nan", "L3": "inf", "L4": "55"})
    result = split_master(master_copy, tmp_path / "out", units=["市发改委"])
    rows = CalamineWorkbook.from_path(str(result.files["市发改委"])).get_sheet_by_name(F.FORM).to_python()
    progress = [r[F.COL[S.PROGRESS]] for r in rows[F.FIRST_ROW - 1:F.FIRST_ROW + 2]]
    assert progress == ["", "", 55]


def test_workers_by_default_only_where_they_pay():
    from workbook.split import UNITS_PER_WORKER, default_workers

    cores = default_workers()
    assert 1 <= cores <= 4
    assert default_workers(45) == default_workers(UNITS_PER_WORKER - 1) == 1
    assert default_workers(UNITS_PER_WORKER * 2) == min(2, cores)
    assert default_workers(100_000) == cores
