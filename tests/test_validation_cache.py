"""The validation context kept between runs (workbook.validation_cache): used only for the same master
and the same duban, never trusted when it could have been planted, never in the way."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import openpyxl
import pytest

from workbook import validation_cache as cache
from workbook.filling import fill_unit_file
from workbook.master import read_master
from workbook.split import split_master
from workbook.validate import context_from_master, master_context, validate_paths

UNIT = "市发改委"


@pytest.fixture(scope="module")
def office(tmp_path_factory, sample_master_file):
    root = tmp_path_factory.mktemp("cache office")
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=[UNIT])
    inbox = root / "收件箱"
    inbox.mkdir()
    shutil.copy(root / "下发" / f"{UNIT}_2026年6月.xlsx", inbox)
    fill_unit_file(inbox / f"{UNIT}_2026年6月.xlsx", dt.date(2026, 6, 30), seed=1)
    return master, inbox


@pytest.fixture
def private(tmp_path, monkeypatch):
    root = tmp_path / "缓存"
    root.mkdir(mode=0o700)
    monkeypatch.setenv(cache.CACHE_ENV, str(root))
    return root


def entries(root):
    return sorted(root.glob("validation-*.json"))


def kept(inbox, master):
    """Validate twice: the context is written the second time a master is read."""
    validate_paths([inbox], master)
    return validate_paths([inbox], master)


def test_a_master_validated_again_is_not_read_again(office, private):
    master, inbox = office
    first = validate_paths([inbox], master)
    assert first.master is not None and entries(private) == [] and len(list(private.glob("seen-*"))) == 1
    second = validate_paths([inbox], master)
    assert second.master is not None and len(entries(private)) == 1 and not list(private.glob("seen-*"))
    third = validate_paths([inbox], master)
    assert third.master is None and third.master_path == master
    assert third.to_dict() == second.to_dict() == first.to_dict() and third.valid
    assert master_context(master)[0] == context_from_master(read_master(master))


def test_a_changed_master_is_read_again(office, private, tmp_path):
    master = tmp_path / "台账.xlsx"
    shutil.copy(office[0], master)
    kept(office[1], master)
    wb = openpyxl.load_workbook(master)
    wb["任务分解"]["D2"] = "固定资产投资增长9%以上"  # the office revises a task of the unit
    wb.save(master)
    batch = kept(office[1], master)
    assert batch.master is not None and len(entries(private)) == 2
    assert [f.code for f in batch.submissions[0].findings] == ["task-revised"]


def test_another_duban_does_not_use_the_context(office, private, monkeypatch):
    kept(office[1], office[0])
    monkeypatch.setattr(cache, "_code", lambda: "another version")
    assert validate_paths([office[1]], office[0]).master is not None


def test_a_cache_others_may_write_to_is_not_used(office, private):
    private.chmod(0o755)
    assert cache.cache_dir() is None
    assert kept(office[1], office[0]).master is not None and list(private.iterdir()) == []


@pytest.mark.parametrize("planted", [b"not json", b'{"key": "another"}', b'{"key": "%s", "tasks": 1}', b"[1]"])
def test_a_planted_or_broken_context_is_not_trusted(office, private, planted):
    master, inbox = office
    key = cache.cache_key(read_master(master).sha256)
    path = private / f"validation-{key}.json"
    path.write_bytes(planted.replace(b"%s", key.encode()))
    path.chmod(0o600)
    batch = kept(inbox, master)
    assert batch.master is not None and batch.valid
    assert json.loads(path.read_bytes())["key"] == key  # replaced by the real one


def test_a_context_others_may_write_is_not_trusted(office, private):
    kept(office[1], office[0])
    (path,) = entries(private)
    path.chmod(0o666)
    assert validate_paths([office[1]], office[0]).master is not None


def test_only_the_newest_contexts_are_kept(office, private, tmp_path):
    masters = []
    for i in range(cache.KEEP + 2):
        path = tmp_path / f"台账{i}.xlsx"
        shutil.copy(office[0], path)
        wb = openpyxl.load_workbook(path)
        wb["任务分解"]["D3"] = f"第{i}版"
        wb.save(path)
        masters.append(path)
        kept(office[1], path)
    assert len(entries(private)) == cache.KEEP
    assert validate_paths([office[1]], masters[-1]).master is None
    assert validate_paths([office[1]], masters[0]).master is not None


def test_a_master_read_for_validation_keeps_each_task_column_it_needs_as_the_full_read_has_it(sample_master_file):
    from workbook import schema as S
    from workbook.master import master_from_rows
    from workbook.ooxml.xlsx_reader import open_book, sheet_rows
    from workbook.validate import CONTEXT_COLUMNS

    book = open_book(sample_master_file)
    sheets = {n: sheet_rows(book, n) for n in book.sheet_names}
    rows = sheets[S.TASKS]
    lead = rows[0].index(S.LEAD)
    # A second 牵头单位 column (the last one counts), a row cut short before it, a blank row.
    sheets[S.TASKS] = [rows[0] + [S.LEAD]] + [r + [f"另{i}"] for i, r in enumerate(rows[1:])] \
        + [rows[1][:lead], [""] * len(rows[0])]
    full = master_from_rows(sheets, "x")
    part = master_from_rows(sheets, "x", CONTEXT_COLUMNS)
    assert [list(t) for t in part.tasks[:-1]] == [[c for c in t if c in CONTEXT_COLUMNS + ("_row",)]
                                                  for t in full.tasks[:-1]]
    assert [{c: t.get(c) for c in CONTEXT_COLUMNS} for t in part.tasks] == \
           [{c: t.get(c) for c in CONTEXT_COLUMNS} for t in full.tasks]
    assert part.tasks[-1][S.LEAD] is None and full.tasks[-1].get(S.LEAD) is None and len(part.tasks) == len(rows)
    assert context_from_master(part) == context_from_master(full)
