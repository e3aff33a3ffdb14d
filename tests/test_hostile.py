"""Issue #7 guarantees, on every file of the generated corpus (tests/corpus/make_corpus.py)."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from corpus.make_corpus import build

from workbook import schema as S
from workbook.collect import collect
from workbook.master import read_master
from workbook.validate import context_from_master, validate_file

MEMORY_LIMIT = 2 * 1024 ** 3
TIMEOUT = 120


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    return build(tmp_path_factory.mktemp("语料 库"))


def test_corpus_is_large_enough(corpus):
    assert len(corpus.cases) >= 40
    assert len({c.name for c in corpus.cases}) == len(corpus.cases)


def test_every_case_gives_its_findings(corpus):
    ctx = context_from_master(read_master(corpus.master))
    problems = []
    for case in corpus.cases:
        sub = validate_file(case.file, ctx)
        codes = {f.code for f in sub.findings}
        if "file-unreadable" in codes:
            problems.append(f"{case.name}: internal error")
        if not case.codes - {"superseded"} <= codes:
            problems.append(f"{case.name}: expected {case.codes}, got {codes}")
        if sub.valid == case.rejected:
            problems.append(f"{case.name}: rejected={not sub.valid}, expected {case.rejected}")
        for f in sub.findings:
            if not (f.file and f.code and f.message and f.severity in ("error", "warning", "info")):
                problems.append(f"{case.name}: incomplete finding {f}")
    assert not problems, "\n".join(problems)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _duban(*args: str, timeout: int = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbook.cli", *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limits)


def test_validate_whole_corpus_in_a_bounded_subprocess(corpus):
    proc = _duban("validate", str(corpus.files), "--master", str(corpus.master), "--json", "--workers", "1")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    data = json.loads(proc.stdout)
    assert data["stats"]["files"] == len(corpus.cases)
    names = {Path(f["file"]).name for f in data["files"]}
    assert names == {c.file.name for c in corpus.cases}
    by_name = {Path(f["file"]).name: f for f in data["files"]}
    older = next(c for c in corpus.cases if c.name == "two_files_older")
    assert by_name[older.file.name]["superseded_by"]


@pytest.mark.parametrize("name", ["zip_bomb", "too_many_entries", "duplicate_entries", "xml_billion_laughs",
                                  "xml_external_entity", "dimension_xfd", "rows_100k_formatted", "text_10mb",
                                  "duration_overflow"])
def test_hostile_file_alone_in_a_bounded_subprocess(corpus, name):
    case = next(c for c in corpus.cases if c.name == name)
    assert case.hostile
    proc = _duban("validate", str(case.file), "--master", str(corpus.master), "--json", timeout=60)
    assert proc.returncode == 1 and proc.stderr == ""
    (entry,) = json.loads(proc.stdout)["files"]
    assert case.codes <= {f["code"] for f in entry["findings"]}


def test_rejected_files_leave_the_master_byte_identical(corpus, tmp_path):
    master = tmp_path / "总台账.xlsx"
    shutil.copy(corpus.master, master)
    before = master.read_bytes()
    for case in corpus.cases:
        if case.rejected:
            result = collect([case.file], master)
            assert not result.accepted, case.name
            assert master.read_bytes() == before, case.name
    assert not (tmp_path / "总台账_归档").exists()


def test_accepted_dangerous_text_lands_as_text(corpus, tmp_path):
    master = tmp_path / "总台账.xlsx"
    shutil.copy(corpus.master, master)
    expected = {"equals_text": "=cmd|' /C calc'!A0", "plus_text": "+1+1", "minus_text": "-2+3",
                "at_sum_text": "@SUM(1,2)", "emoji_ext_b": "已完成😀，涉及𠀀𪚥𫝀等生僻字"}
    for name, text in expected.items():
        case = next(c for c in corpus.cases if c.name == name)
        result = collect([case.file], master)
        assert result.accepted, (name, [str(f) for f in result.batch.submissions[0].findings])
        wb = openpyxl.load_workbook(master)
        found = [c for row in wb[S.TASKS].iter_rows(min_row=2) for c in row if c.value == text]
        assert found and all(c.data_type == "s" for c in found), name
        history = [c for row in wb[S.HISTORY].iter_rows(min_row=2) for c in row if c.value == text]
        assert history and all(c.data_type == "s" for c in history), name
