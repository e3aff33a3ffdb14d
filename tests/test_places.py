"""Every decomposition of the corpus (tests/data/places/) imports with the counts written by hand from its page."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from workbook import schema as S
from workbook.importer import import_decomposition
from workbook.language.deadlines import deadline_or_none

PLACES = Path(__file__).parent / "data" / "places"
DOCUMENTS = sorted(p.parent.name for p in PLACES.glob("*/expected.toml"))

# Due dates written by hand whose phrase the deadline parser on main does not read yet
# (verb after the date, several dates in one cell, a quarter's milestone). The list may
# only shrink: a phrase the parser learns must leave it, and then its due date is asserted.
PENDING_DEADLINES: set[str] = set()


def _expected(name: str) -> dict:
    return tomllib.loads((PLACES / name / "expected.toml").read_text(encoding="utf-8"))


def _gap(request: pytest.FixtureRequest, exp: dict, test: str) -> None:
    """A known gap (``[gaps]`` in expected.toml): the test states what the document should give and is
    expected to fail until the gap is closed; a test that passes then fails as XPASS(strict)."""
    reason = exp.get("gaps", {}).get(test)
    if reason:
        request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(scope="module", params=DOCUMENTS)
def imported(request: pytest.FixtureRequest):
    exp = _expected(request.param)
    master, report = import_decomposition(PLACES / request.param / exp["source"], exp["year"])
    return exp, master, report


def test_corpus_is_what_the_issue_asks_for():
    readme = (PLACES / "README.md").read_text(encoding="utf-8")
    assert len(DOCUMENTS) >= 12
    for name in DOCUMENTS:
        assert name in readme and (PLACES / name / _expected(name)["source"]).is_file()
    provinces = {name.split("-")[0] for name in DOCUMENTS}
    assert len(provinces) >= 8
    with_milestones = [name for name in DOCUMENTS if any("steps" in t for t in _expected(name).get("task", []))]
    assert len(with_milestones) >= 2
    for name in DOCUMENTS:
        assert set(_expected(name).get("gaps", {})) <= {"counts", "tasks", "due", "milestones"}


def test_counts_units_and_leaders(imported, request):
    exp, master, report = imported
    _gap(request, exp, "counts")
    assert len(master.tasks) == exp["tasks"]
    assert not [f for f in report.findings if f.code.startswith("import-")], report.to_table()
    assert sorted(master.unit_names()) == sorted(exp["units"])
    assert [lead[S.LEADER_NAME] for lead in master.leaders] == exp["leaders"]
    assert [int(t[S.SERIAL]) for t in master.tasks] == list(range(1, exp["tasks"] + 1))


def test_tasks_as_written(imported, request):
    exp, master, _ = imported
    _gap(request, exp, "tasks")
    for want in exp.get("task", []):
        task = master.tasks[want["serial"] - 1]
        assert task[S.TEXT].startswith(want.get("text", ""))
        assert task[S.LEAD] == "、".join(want["lead"])
        assert task[S.SUPPORT] == "、".join(want.get("support", []))
        assert (task[S.LEADER] or "") == want.get("leader", "")
        if "deadline" in want:
            assert task[S.DEADLINE_TEXT] == want["deadline"]
        if "category" in want:
            assert task[S.CATEGORY] == want["category"]
        for note in want.get("notes", []) + ([f"原序号：{want['published']}"] if "published" in want else []):
            assert note in task[S.NOTE]


def test_due_dates(imported, request):
    exp, master, _ = imported
    _gap(request, exp, "due")
    for want in exp.get("task", []):
        if "due" not in want:
            continue
        task = master.tasks[want["serial"] - 1]
        parsed = deadline_or_none(want["deadline"], exp["year"])
        if parsed is None or parsed.due is None:
            assert want["deadline"] in PENDING_DEADLINES, f"{want['deadline']} is not read and not listed as pending"
            continue
        assert want["deadline"] not in PENDING_DEADLINES, f"{want['deadline']} is read now: remove it from the list"
        assert task[S.DUE] == dt.date.fromisoformat(want["due"])


def test_milestones(imported, request):
    """Each dated step of a task (时间节点) is a row of the master's milestone sheet, in date order."""
    exp, master, _ = imported
    _gap(request, exp, "milestones")
    for want in exp.get("task", []):
        if "steps" not in want:
            continue
        task = master.tasks[want["serial"] - 1]
        steps = master.steps_of(task[S.TASK_ID])
        assert [[s.when, s.due.isoformat()] for s in steps] == want["steps"]
        assert steps[-1].due == task[S.DUE]


def test_pending_list_only_holds_corpus_phrases():
    phrases = {t["deadline"] for name in DOCUMENTS for t in _expected(name).get("task", []) if "due" in t}
    assert PENDING_DEADLINES <= phrases
