import dataclasses
import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import zipcraft

from workbook import form as F
from workbook import validate as V
from workbook.cli import main
from workbook.findings import DubanError
from workbook.ooxml import zipguard
from workbook.procs import process_pool
from workbook.filling import fill_unit_file
from workbook.master import read_master
from workbook.split import split_master
from workbook.validate import context_from_master, validate_file, validate_paths

AS_OF = dt.date(2026, 6, 30)
UNIT = "市发改委"  # 10 tasks: rows 4-13, 2026-001..003 quantitative; footer rows 15-17


@pytest.fixture(scope="module")
def issued(tmp_path_factory, sample_master_file):
    root = tmp_path_factory.mktemp("issued")
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=[UNIT, "市财政局", "市商务局", "市文旅广电局"])
    clean = root / "clean.xlsx"
    shutil.copy(root / "下发" / f"{UNIT}_2026年6月.xlsx", clean)
    fill_unit_file(clean, AS_OF, seed=1, report_date=dt.date(2026, 6, 24))
    return master, root, clean


@pytest.fixture
def ctx(issued):
    return context_from_master(read_master(issued[0]))


@pytest.fixture
def submitted(issued, tmp_path):
    """A fresh copy of a clean, filled submission named as the unit names it."""
    path = tmp_path / f"{UNIT}_2026年6月.xlsx"
    shutil.copy(issued[2], path)
    return path


def unit_edit(path, change, sheet=F.FORM):
    wb = openpyxl.load_workbook(path)
    change(wb[sheet] if sheet else wb)
    wb.save(path)


def codes(sub):
    return [f.code for f in sub.findings]


def test_clean_file_has_no_findings(submitted, ctx):
    sub = validate_file(submitted, ctx)
    assert sub.findings == []
    assert sub.unit == UNIT and sub.period == "2026-06" and len(sub.answers) == 10
    assert sub.reporter == "张三" and sub.report_date == dt.date(2026, 6, 24)


def setter(**cells):
    def change(ws):
        for ref, value in cells.items():
            ws[ref] = value
    return change


CELL_CASES = [
    ("status-invalid", "F7", dict(F7="完成")),
    ("status-missing", "F7", dict(F7=None)),
    ("progress-missing", "G7", dict(G7=None)),
    ("progress-invalid", "G7", dict(G7=150)),
    ("progress-invalid", "G7", dict(G7=55.5)),
    ("progress-invalid", "G7", dict(G7="很多")),
    ("progress-as-text", "G7", dict(F7="序时推进", G7="80%")),
    ("status-progress-conflict", "G7", dict(F7="已完成", G7=50)),
    ("status-progress-conflict", "F7", dict(F7="序时推进", G7=100)),
    ("status-progress-conflict", "G7", dict(F7="未启动", G7=30)),
    ("narrative-missing", "I7", dict(I7=None)),
    ("problems-missing", "J7", dict(F7="滞后", G7=30, J7=None)),
    ("actual-missing", "H4", dict(H4=None)),
    ("actual-unparseable", "H4", dict(H4="总体较好")),
    ("formula-in-cell", "I7", dict(I7="=1+1")),
    ("formula-like-text", "I7", dict(I7="+1+1")),
    ("formula-like-text", "J7", dict(J7="@SUM(A1)")),
    ("formula-like-text", "K7", dict(K7="-2+3")),
    ("text-too-long", "I7", dict(I7="长" * 6000)),
    ("reporter-missing", "B15", dict(B15=None)),
    ("phone-missing", "B16", dict(B16=None)),
    ("phone-invalid", "B16", dict(B16="找张三")),
    ("report-date-missing", "B17", dict(B17=None)),
    ("report-date-invalid", "B17", dict(B17="下周")),
    ("locked-cell-changed", "B4", dict(B4="固定资产投资增长10%以上")),
    ("locked-cell-changed", "D4", dict(D4=dt.datetime(2026, 11, 30))),
    ("locked-cell-changed", "C4", dict(C4="11月底")),
    ("task-id-changed", "A5", dict(A5="2026-999")),
    ("extra-content", "M5", dict(M5="补充说明")),
    ("header-changed", "F3", dict(F3="状态")),
]


@pytest.mark.parametrize("code, cell, cells", CELL_CASES, ids=[f"{c[0]}-{c[1]}" for c in CELL_CASES])
def test_each_cell_finding(submitted, ctx, code, cell, cells):
    unit_edit(submitted, setter(**cells))
    sub = validate_file(submitted, ctx)
    hits = [f for f in sub.findings if f.code == code]
    assert hits, codes(sub)
    assert hits[0].cell == cell and hits[0].file == submitted.name
    assert any("\u4e00" <= ch <= "\u9fff" for ch in hits[0].message)


def test_status_suggestion(submitted, ctx):
    unit_edit(submitted, setter(F7="完成"))
    (hit,) = [f for f in validate_file(submitted, ctx).findings if f.code == "status-invalid"]
    assert hit.suggestion == "已完成" and hit.severity == "error"


def test_progress_typed_as_text_is_accepted_and_normalised(submitted, ctx):
    unit_edit(submitted, setter(F7="序时推进", G7="80%"))
    sub = validate_file(submitted, ctx)
    assert sub.valid
    assert [a.progress for a in sub.answers if a.task_id == "2026-010"] == [80]


@pytest.mark.parametrize("code, change", [
    ("row-inserted", lambda ws: ws.insert_rows(6)),
    ("row-deleted", lambda ws: ws.delete_rows(6)),
    ("row-moved", lambda ws: [ws.cell(r, c).__setattr__("value", v) for r, c, v in
                              [(4, c, ws.cell(5, c).value) for c in range(1, 12)] +
                              [(5, c, ws.cell(4, c).value) for c in range(1, 12)]]),
    ("merged-cells", lambda ws: ws.merge_cells("I7:J7")),
    ("rows-hidden", lambda ws: setattr(ws.row_dimensions[7], "hidden", True)),
])
def test_structure_findings(submitted, ctx, code, change):
    unit_edit(submitted, change)
    assert code in codes(validate_file(submitted, ctx))


def test_overdue_task_needs_problems(issued, ctx, tmp_path):
    path = tmp_path / "市文旅广电局_2026年6月.xlsx"
    shutil.copy(issued[1] / "下发" / path.name, path)
    fill_unit_file(path, AS_OF, seed=3)
    # 2026-054 (4月底) is the seventh task of the unit: overdue at 2026-06-30 unless done.
    unit_edit(path, setter(A10=None) if False else setter(F10="序时推进", G10=60, J10=None))
    sub = validate_file(path, ctx)
    hit = [f for f in sub.findings if f.code == "problems-missing"]
    assert hit and hit[0].cell == "J10" and "截止日期" in hit[0].message


@pytest.mark.parametrize("code, change", [
    ("meta-missing", lambda wb: wb.remove(wb[F.META])),
    ("meta-visible", lambda wb: setattr(wb[F.META], "sheet_state", "visible")),
    ("wrong-master", lambda wb: wb[F.META].__setitem__("B1", "0000000000000000")),
    ("wrong-year", lambda wb: wb[F.META].__setitem__("B2", 2025)),
    ("wrong-period", lambda wb: wb[F.META].__setitem__("B3", "2026-05")),
    ("unit-unknown", lambda wb: wb[F.META].__setitem__("B4", "市XX局")),
    ("meta-edited", lambda wb: wb[F.META].__setitem__("B8", "0" * 64)),
    ("form-missing", lambda wb: setattr(wb[F.FORM], "title", "Sheet1")),
])
def test_identity_findings(submitted, ctx, code, change):
    unit_edit(submitted, change, sheet=None)
    assert code in codes(validate_file(submitted, ctx))


def test_last_months_file_is_an_error_naming_the_month(submitted, ctx):
    unit_edit(submitted, lambda wb: wb[F.META].__setitem__("B3", "2026-05"), sheet=None)
    (hit,) = validate_file(submitted, ctx).findings
    assert hit.severity == "error" and "往期（2026年5月）" in hit.message


def test_not_issued_unit(submitted, ctx):
    ctx.issued.pop((UNIT, "2026-06"))  # a master that has no record of issuing this file
    assert codes(validate_file(submitted, ctx)) == ["not-issued"]


@pytest.mark.parametrize("other", ["市教育局", "市财政局"])  # not issued this period / issued other tasks
def test_meta_of_another_unit_is_one_finding_naming_both(submitted, ctx, other):
    unit_edit(submitted, lambda wb: wb[F.META].__setitem__("B4", other), sheet=None)
    (hit,) = validate_file(submitted, ctx).findings
    assert hit.code == "wrong-unit" and (hit.sheet, hit.cell) == (F.META, "B4")
    assert f"“{other}”" in hit.message and f"下发给{UNIT}" in hit.message


@pytest.mark.parametrize("cell, value, code, named", [
    ("B1", "0000000000000000", "wrong-master", ["0000000000000000", "本台账为 "]),
    ("B2", 2025, "wrong-year", ["2025", "2026"]),
    ("B3", "2026-07", "wrong-period", ["2026年7月", "2026年6月"]),
])
def test_meta_identity_is_one_finding_naming_found_and_expected(submitted, ctx, cell, value, code, named):
    unit_edit(submitted, lambda wb: wb[F.META].__setitem__(cell, value), sheet=None)
    (hit,) = validate_file(submitted, ctx).findings
    assert hit.code == code and all(n in hit.message for n in named), hit.message


def test_meta_hidden_the_way_calc_writes_it_is_not_shown(submitted, ctx):
    unit_edit(submitted, lambda wb: setattr(wb[F.META], "sheet_state", "hidden"), sheet=None)
    assert validate_file(submitted, ctx).findings == []


def test_renamed_file_trusts_meta_and_warns(submitted, ctx):
    renamed = submitted.with_name("市财政局_2026年6月.xlsx")
    submitted.rename(renamed)
    sub = validate_file(renamed, ctx)
    assert sub.unit == UNIT and codes(sub) == ["name-mismatch"]
    assert sub.findings[0].severity == "warning" and UNIT in sub.findings[0].message


def test_recomputed_meta_digest_is_caught_by_the_masters_record(submitted, ctx):
    def tamper(wb):
        wb[F.FORM]["C4"] = "2027年12月底"
        rows = [[wb[F.FORM].cell(r, c).value for c in range(1, 6)] for r in range(4, 14)]
        wb[F.META]["B8"] = F.locked_digest(ctx.master_id, 2026, "2026-06", UNIT, rows)
    unit_edit(submitted, tamper, sheet=None)
    sub = validate_file(submitted, ctx)
    assert not sub.valid and "locked-cell-changed" in codes(sub)


def test_master_edited_after_issue(issued, submitted, tmp_path):
    """The office's edit is no fault of the unit; the unit's edit of a locked cell is, even to the new text."""
    master = tmp_path / "台账.xlsx"
    shutil.copy(issued[0], master)
    wb = openpyxl.load_workbook(master)
    wb["任务分解"]["D2"] = "固定资产投资增长9%以上"
    wb.save(master)
    ctx = context_from_master(read_master(master))
    sub = validate_file(submitted, ctx)
    assert sub.valid and codes(sub) == ["task-revised"] and len(sub.answers) == 10
    assert sub.findings[0].severity == "info" and sub.findings[0].cell == "B4"
    unit_edit(submitted, setter(B4="固定资产投资增长9%以上"))
    sub = validate_file(submitted, ctx)
    (hit,) = [f for f in sub.findings if f.code == "locked-cell-changed"]
    assert hit.cell == "B4" and "下发时为“固定资产投资增长8%以上”" in hit.message and not sub.valid


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def write_ole(path: Path, encrypted: bool) -> Path:
    body = "EncryptedPackage".encode("utf-16-le") if encrypted else b"Workbook"
    path.write_bytes(zipguard.OLE_MAGIC + b"\0" * 504 + body + b"\0" * 1024)
    return path


@pytest.mark.parametrize("code, make", [
    ("file-empty", lambda p, s: write(p, b"")),
    ("file-corrupt", lambda p, s: write(p, s.read_bytes()[:3000])),
    ("file-format", lambda p, s: write_ole(p, False)),
    ("file-format", lambda p, s: write(p, "任务编号,完成状态\n2026-001,已完成\n".encode())),
    ("file-encrypted", lambda p, s: write_ole(p, True)),
    ("not-a-workbook", lambda p, s: zipfile.ZipFile(p, "w").writestr("hello.txt", "x") or p),
    ("zip-duplicate-entry", lambda p, s: zipcraft.rewrite(s, p, duplicate=[("xl/styles.xml", b"<styleSheet/>")])),
    ("zip-bomb", lambda p, s: zipcraft.rewrite(s, p, add={"xl/media/pad.xml": b"0" * (40 * 1024 * 1024)})),
    ("zip-too-many-entries", lambda p, s: zipcraft.rewrite(s, p, add={f"xl/x/{i}.bin": b"" for i in range(600)})),
    ("zip-bad-path", lambda p, s: zipcraft.rewrite(s, p, add={"../evil.txt": b"x"})),
    ("macro-present", lambda p, s: zipcraft.rewrite(s, p, add={"xl/vbaProject.bin": b"\0" * 64})),
    ("external-link", lambda p, s: zipcraft.rewrite(s, p, add={"xl/externalLinks/externalLink1.xml": b"<x/>"})),
    ("embedded-object", lambda p, s: zipcraft.rewrite(s, p, add={"xl/embeddings/oleObject1.bin": b"\0"})),
    ("xml-dtd", lambda p, s: zipcraft.rewrite(s, p, replace={"xl/styles.xml": b'<?xml version="1.0"?>'
                                                               b'<!DOCTYPE x [<!ENTITY a "aaaa">]><styleSheet/>'})),
    ("sheet-too-large", lambda p, s: zipcraft.rewrite(s, p, replace={
        "xl/worksheets/sheet1.xml": zipcraft.read(s, "xl/worksheets/sheet1.xml").replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>')})),
])
def test_raw_file_findings(submitted, ctx, tmp_path, code, make):
    target = tmp_path / "坏 文件" / f"{UNIT}_2026年6月.xlsx"
    target.parent.mkdir()
    path = make(target, submitted)
    sub = validate_file(path, ctx)
    assert code in codes(sub) and not sub.valid


def test_xls_extension(submitted, ctx):
    xls = submitted.with_suffix(".xls")
    submitted.rename(xls)
    assert codes(validate_file(xls, ctx)) == ["file-format"]


def test_oversized_file_is_refused_before_reading(submitted, ctx, monkeypatch):
    monkeypatch.setattr(zipguard, "MAX_FILE_BYTES", 1000)
    assert codes(validate_file(submitted, ctx)) == ["file-too-large"]


def test_two_files_for_one_unit_newest_wins(issued, tmp_path):
    folder = tmp_path / "收件箱 六月"
    folder.mkdir()
    old, new = folder / f"{UNIT}_2026年6月.xlsx", folder / f"{UNIT}_2026年6月（更正）.xlsx"
    shutil.copy(issued[2], old)
    shutil.copy(issued[2], new)
    unit_edit(new, setter(B17=dt.datetime(2026, 6, 26)))
    batch = validate_paths([folder], issued[0])
    by_name = {s.file: s for s in batch.submissions}
    assert by_name[old.name].superseded_by == new.name and by_name[new.name].used
    assert "superseded" in codes(by_name[old.name])


def test_cli_validate_json_out_and_exit_codes(issued, submitted, tmp_path, capsys):
    import json

    broken = tmp_path / "市财政局_2026年6月.xlsx"
    shutil.copy(issued[1] / "下发" / broken.name, broken)
    fill_unit_file(broken, AS_OF)
    unit_edit(broken, setter(F4="完成"))
    out = tmp_path / "结果"
    code = main(["validate", str(submitted), str(broken), "--master", str(issued[0]), "--json",
                 "--out", str(out), "--workers", "1"])
    assert code == 1
    data = json.loads(capsys.readouterr().out.split("\n校验结果已写入")[0])
    assert data["valid"] is False and data["stats"]["files"] == 2
    files = {Path(f["file"]).name: f for f in data["files"]}
    assert files[submitted.name]["valid"] and files[submitted.name]["unit"] == UNIT
    assert files[broken.name]["findings"][0]["code"] == "status-invalid"
    rows = list(openpyxl.load_workbook(out / "校验结果.xlsx")["校验结果"].iter_rows(min_row=2, values_only=True))
    assert rows[0][:6] == (broken.name, "市财政局", "填报", "F4", "status-invalid", "错误")
    marked = openpyxl.load_workbook(out / "退回_市财政局_2026年6月.xlsx")
    assert marked["填报"]["F4"].comment and "已完成" in marked["填报"]["F4"].comment.text
    assert marked["填报"]["F4"].fill.fgColor.rgb.endswith("FF9999")
    assert main(["validate", str(submitted), "--master", str(issued[0])]) == 0
    assert main(["validate", str(tmp_path / "不存在"), "--master", str(issued[0])]) == 2


def test_parallel_workers_give_the_same_findings(issued, tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10):
        p = folder / f"{UNIT}_{i}.xlsx"
        shutil.copy(issued[2], p)
        if i % 2:
            unit_edit(p, setter(F7="完成"))
    pools = []
    monkeypatch.setattr(V, "POOL_MIN_FILES", 4)
    monkeypatch.setattr(V, "process_pool", lambda n: pools.append(n) or process_pool(n))
    one = validate_paths([folder], issued[0], workers=1).to_dict()
    two = validate_paths([folder], issued[0], workers=2).to_dict()
    assert pools == [2] and one == two


def test_few_files_are_read_without_worker_processes(issued, tmp_path, monkeypatch):
    def no_pool(n):
        raise AssertionError("a worker process started for a handful of files")
    monkeypatch.setattr(V, "process_pool", no_pool)
    folder = tmp_path / "few"
    folder.mkdir()
    for i in range(3):
        shutil.copy(issued[2], folder / f"{UNIT}_{i}.xlsx")
    assert V.POOL_MIN_FILES > 3 and validate_paths([folder], issued[0], workers=4).valid


def test_a_master_that_cannot_be_read_stops_the_workers(issued, tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        shutil.copy(issued[2], folder / f"{UNIT}_{i}.xlsx")
    monkeypatch.setattr(V, "POOL_MIN_FILES", 4)
    with pytest.raises(DubanError, match="找不到台账文件"):
        validate_paths([folder], tmp_path / "没有这个台账.xlsx", workers=2)


def test_read_then_check_is_validate_file(submitted, ctx):
    unit_edit(submitted, setter(F5="完成", G6=150, C7="改过的时限"))
    sub, book = V.read_submission(submitted)
    assert book is not None and sub.findings == [] and sub.sha256
    checked = V.check_submission(sub, book, ctx)
    assert [f.to_dict() for f in checked.findings] == [f.to_dict() for f in validate_file(submitted, ctx).findings]
    assert {"status-invalid", "progress-invalid", "locked-cell-changed"} <= set(codes(checked))


def test_the_bytes_the_guard_checked_are_the_bytes_read(submitted, ctx, tmp_path, monkeypatch):
    """A file replaced on disk after the raw-zip guard (a sync client, an attacker) is read as it was checked."""
    other = tmp_path / "other.xlsx"
    shutil.copy(submitted, other)
    unit_edit(other, setter(F4="乱填的状态"))

    def guard_then_replace(path):
        report = zipguard.inspect_zip(path)
        shutil.copy(other, path)
        return report
    monkeypatch.setattr(V, "inspect_zip", guard_then_replace)
    sub = validate_file(submitted, ctx)
    assert sub.findings == [] and len(sub.answers) == 10


def test_issued_rows_are_read_when_asked_and_only_when_they_give_their_digest_back(ctx):
    digest, rows = next((d, rows) for d, [(unit, text)] in ctx.content.items()
                        for rows in [json.loads(text)] if unit == UNIT)
    assert ctx.issued_rows(digest) == rows and ctx.issued_rows("0" * 64) is None
    edited = json.dumps([["改过"] + row[1:] for row in rows], ensure_ascii=False)
    forged = dataclasses.replace(ctx, content={digest: [(UNIT, "[[不是 JSON")], "x": [(UNIT, "[1]")]})
    assert forged.issued_rows(digest) is None and forged.issued_rows("x") is None
    last = dataclasses.replace(ctx, content={digest: [(UNIT, json.dumps(rows, ensure_ascii=False)), (UNIT, edited)]})
    assert last.issued_rows(digest) == rows  # the edited record does not give the digest back


@pytest.mark.parametrize("args", [["validate", "x.xlsx", "--master", "m.xlsx"], ["collect", "x.xlsx", "--master", "m.xlsx"],
                                  ["split", "m.xlsx", "-o", "out"]])
@pytest.mark.parametrize("workers", ["0", "-2"])
def test_workers_must_be_a_positive_number(args, workers, capsys):
    assert main([*args, "--workers", workers]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--workers" in err and workers in err


def test_default_workers_are_the_cpus_this_process_may_use(monkeypatch):
    import os

    from workbook import procs
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert procs.default_workers() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert procs.default_workers() == procs.MAX_DEFAULT_WORKERS
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert procs.default_workers() == 2
