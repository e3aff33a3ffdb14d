import json
import subprocess
import sys

import openpyxl
import pytest

from workbook import schema as S
from workbook.checks import check_master
from workbook.cli import main
from workbook.master import read_master


def edit(path, sheet, changes):
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for ref, value in changes.items():
        if value == "DELETE_ROW":
            ws.delete_rows(int(ref))
        else:
            ws[ref] = value
    wb.save(path)


def codes(path):
    return check_master(read_master(path)).codes()


def test_sample_master_passes(master_copy):
    report = check_master(read_master(master_copy))
    assert report.valid
    assert set(report.codes()) == {"main-target-unplaced", "leader-count-mismatch"}


def test_filling_in_the_unplaced_leaders_reconciles_everything(master_copy):
    edit(master_copy, S.TASKS, {"G6": "刘继英副市长", "G10": "塔拉副市长"})
    assert codes(master_copy) == []


@pytest.mark.parametrize(
    "changes, code, cell",
    [
        ({"B5": 3}, "serial-duplicate", "B5"),
        ({"B5": "三"}, "serial-invalid", "B5"),
        ({"A5": "2026-001"}, "id-duplicate", "A2"),
        ({"A5": None}, "id-missing", "A5"),
        ({"D5": "  "}, "task-empty", "D5"),
        ({"E5": "市发展改革局"}, "unit-unknown", "E5"),
        ({"E5": None}, "unit-missing", "E5"),
        ({"E5": "土左旗"}, "unit-unnormalised", "E5"),
        ({"H5": "尽快"}, "deadline-unparseable", "H5"),
        ({"H5": "13月底"}, "deadline-impossible", "H5"),
        ({"H5": "2月30日"}, "deadline-impossible", "H5"),
        ({"H5": None}, "deadline-missing", "H5"),
        ({"H5": "2027年3月底", "I5": None}, "deadline-outside-year", "H5"),
        ({"I5": None}, "due-mismatch", "I5"),
        ({"G20": "王副市长"}, "leader-unknown", "G20"),
    ],
)
def test_each_check_fires(master_copy, changes, code, cell):
    edit(master_copy, S.TASKS, changes)
    report = check_master(read_master(master_copy))
    hits = [f for f in report.findings if f.code == code]
    assert hits, report.codes()
    assert hits[0].cell == cell and hits[0].sheet in (S.TASKS,)
    assert hits[0].file == "总台账.xlsx"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in hits[0].message)


def test_unknown_unit_suggests_the_closest_name(master_copy):
    edit(master_copy, S.TASKS, {"E5": "市财政厅"})
    (hit,) = [f for f in check_master(read_master(master_copy)).findings if f.code == "unit-unknown"]
    assert hit.suggestion == "市财政局" and hit.severity == "error" and "--add-units" in hit.message


def test_missing_serial(master_copy):
    edit(master_copy, S.TASKS, {"20": "DELETE_ROW"})
    assert "serial-missing" in codes(master_copy)


def test_leader_counts_that_do_not_reconcile_are_errors(master_copy):
    edit(master_copy, S.TASKS, {"G6": "刘继英副市长", "G10": "塔拉副市长"})
    edit(master_copy, S.LEADERS, {"B2": 36, "B3": 29})
    report = check_master(read_master(master_copy))
    errors = [f for f in report.errors if f.code == "leader-count-mismatch"]
    assert len(errors) == 2 and errors[0].sheet == S.LEADERS


def test_a_task_moved_to_another_leader_counts_as_declared(master_copy):
    """A leader changed in the master is a change of the decomposition (logged), not a count error."""
    edit(master_copy, S.TASKS, {"G6": "刘继英副市长", "G10": "塔拉副市长", "G100": "刘继英副市长"})
    report = check_master(read_master(master_copy))
    assert report.valid and "leader-count-mismatch" not in report.codes()
    (hit,) = [f for f in report.findings if f.code == "change-unrecorded"]
    assert hit.cell == "G100" and "调整分管领导" in hit.message and hit.severity == "info"


def test_cli_json_equals_the_library_report(master_copy, capsys):
    edit(master_copy, S.TASKS, {"H7": "13月底"})
    assert main(["check", str(master_copy), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out == json.loads(check_master(read_master(master_copy)).to_json())
    assert out["valid"] is False


def test_cli_exit_codes_and_one_line_errors(master_copy, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "workbook.cli", "check", str(master_copy)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "通过" in ok.stdout
    missing = subprocess.run([sys.executable, "-m", "workbook.cli", "check", str(tmp_path / "无.xlsx")],
                             capture_output=True, text=True)
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "找不到" in missing.stderr
    garbage = tmp_path / "坏 文件.xlsx"
    garbage.write_bytes(b"not a zip")
    bad = subprocess.run([sys.executable, "-m", "workbook.cli", "check", str(garbage)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    wrong = subprocess.run([sys.executable, "-m", "workbook.cli", "check"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_refuses_to_run_without_defusedxml(master_copy, monkeypatch, capsys):
    import openpyxl

    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    assert main(["check", str(master_copy)]) == 2
    assert "defusedxml" in capsys.readouterr().err
