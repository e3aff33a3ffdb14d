"""The history sheet written in segments: appended to without reading or recompressing what it holds.

Every append is checked against a plain rewrite of the same sheet (the same XML, byte for
byte), with tiny chunks so that every boundary falls across chunks somewhere; the bytes of
earlier segments are shown to be copied as they were; a record that does not match its
part (another program's save, a moved boundary, a record grafted onto other content) falls
back to the full path, which records a fresh one. Readers other than duban's own — zipfile,
python-calamine, openpyxl, LibreOffice — read the segmented part as any other.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

import soffice
from workbook import schema as S
from workbook.collect import read_history
from workbook.ooxml import repack
from workbook.ooxml.rowstream import rows_matching
from workbook.ooxml.segments import HEADER_ID, Layout, crc32_combine, data_offset, read_layout
from workbook.ooxml.sheetpatch import SheetEdits, patch_workbook
from workbook.ooxml.sheetxml import scan_book

WIDTH = len(S.HISTORY_COLUMNS)


def _rows(period: str, n: int, seed: int = 0) -> list[list[object]]:
    rnd = random.Random(seed)
    return [[period, f"单位{i % 7}", f"2026-{i + 1:03d}", rnd.choice(["序时推进", "滞后", "已完成"]),
             rnd.randrange(101), rnd.choice(["", "7.5%", "完成 3 个"]), f"进展<{i}> & “说明”" + " " * (i % 2), "", "下步",
             "张三", "0471", dt.date(2026, 6, 20), "x.xlsx", f"{seed:02x}" * 32, dt.datetime(2026, 7, 1, 9, 30), 1]
            for i in range(n)]


def _append(src: Path, dst: Path, rows: list[list[object]], segmented: bool = True) -> None:
    # As collect writes it: the rows, and the header cell of the last column (masters made before it).
    patch_workbook(src, dst, {S.HISTORY: SheetEdits(append=rows, cells={(1, WIDTH): S.HISTORY_COLUMNS[-1]},
                                                    segmented=segmented)})


def _part(path: Path) -> str:
    return scan_book(path, ()).parts[S.HISTORY]


def _layout(path: Path) -> Layout | None:
    with zipfile.ZipFile(path) as zf:
        return read_layout(zf.getinfo(_part(path)))


def _compressed(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        info = zf.getinfo(_part(path))
        fh.seek(data_offset(fh, info))
        return fh.read(info.compress_size)


def _sheet(path: Path) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(S.HISTORY).to_python()


@pytest.fixture(params=[97, 1 << 20], ids=["tiny-chunks", "1MB-chunks"])
def chunk(request, monkeypatch):
    monkeypatch.setattr(repack, "CHUNK", request.param)
    return request.param


@pytest.fixture
def history(master_copy, tmp_path):
    """Four appends (2026-06 twice, as a second collect of late files does, then 07 and 08), each
    written in segments and, beside it, as a plain rewrite: {step: (segmented, plain)}."""
    steps = [("2026-06", 30), ("2026-06", 5), ("2026-07", 40), ("2026-08", 25)]
    seg = plain = master_copy
    out = {}
    for i, (period, n) in enumerate(steps):
        rows = _rows(period, n, seed=i)
        seg_next, plain_next = tmp_path / f"seg{i}.xlsx", tmp_path / f"plain{i}.xlsx"
        _append(seg, seg_next, rows)
        _append(plain, plain_next, rows, segmented=False)
        out[i] = (seg_next, plain_next, rows)
        seg, plain = seg_next, plain_next
    return out


def test_crc32_combine_is_zlibs():
    rnd = random.Random(1)
    for _ in range(200):
        a, b = os.urandom(rnd.randrange(0, 2000)), os.urandom(rnd.choice([0, 1, 3, 8, rnd.randrange(0, 70000)]))
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_every_append_writes_the_xml_of_a_full_rewrite(history, chunk):
    for seg, plain, _ in history.values():
        with zipfile.ZipFile(seg) as a, zipfile.ZipFile(plain) as b:
            assert a.testzip() is None
            assert a.read(_part(seg)) == b.read(_part(plain))
            others = [n for n in b.namelist() if n != _part(plain)]
            assert all(a.read(n) == b.read(n) for n in others)
    seg, _, _ = history[3]
    xml = zipfile.ZipFile(seg).read(_part(seg))
    rows = len(_sheet(seg))
    assert re.search(rb'<dimension ref="A1:P(\d+)"', xml).group(1) == str(rows).encode()


def test_appends_copy_the_earlier_segments_as_they_are(history):
    for step in (1, 2, 3):
        before, after = history[step - 1][0], history[step][0]
        old, new = _layout(before), _layout(after)
        assert old is not None and new is not None
        assert new.last_row == old.last_row + len(history[step][2])
        old_data, new_data = _compressed(before), _compressed(after)
        copied = [s for s in old.body if s.row > 1]  # the header row's segment is rewritten (its cell is set)
        assert copied
        for s in copied:
            i = old.segments.index(s)
            raw = old_data[s.cstart: old.end(i, len(old_data))]
            at = next(n for n in new.body if n.row == s.row).cstart
            assert new_data[at: at + len(raw)] == raw
    keys = [(s.key, s.row) for s in _layout(history[3][0]).body]
    assert keys == [("填报期", 1), ("2026-06", 2), ("2026-07", 37), ("2026-08", 77)]  # runs merged


def test_a_period_is_read_from_its_segments_only(history, tmp_path, chunk):
    seg, _, _ = history[3]
    everything = _sheet(seg)
    for period in ("2026-06", "2026-07", "2026-08"):
        want = [(list(r) + [""] * WIDTH)[:WIDTH] for r in everything[1:] if r[0] == period]
        assert read_history(seg, period) == want
    assert read_history(seg, "2026-09") == []
    # Spoil the compressed bytes of every other period: 2026-07 is still read, from its own segment.
    layout = _layout(seg)
    spoiled = tmp_path / "spoiled.xlsx"
    data = bytearray(seg.read_bytes())
    with zipfile.ZipFile(seg) as zf, open(seg, "rb") as fh:
        info = zf.getinfo(_part(seg))
        base = data_offset(fh, info)
    for i, s in enumerate(layout.segments):
        if s.key not in ("2026-07", None, "填报期"):
            data[base + s.cstart: base + layout.end(i, info.compress_size)] = b"\xff" * (
                layout.end(i, info.compress_size) - s.cstart)
    spoiled.write_bytes(bytes(data))
    assert read_history(spoiled, "2026-07") == read_history(seg, "2026-07")


def test_a_record_that_does_not_hold_falls_back_to_the_full_path(history, tmp_path, chunk):
    seg, plain, _ = history[2]
    more = _rows("2026-08", 9, seed=9)
    want = tmp_path / "want.xlsx"
    _append(plain, want, more, segmented=False)
    expected = zipfile.ZipFile(want).read(_part(want))

    def rewrite(record: bytes, name: str) -> Path:
        """``seg`` with its history entry's record replaced by ``record`` (the data as it is)."""
        out = tmp_path / name
        with zipfile.ZipFile(seg) as zf, open(out, "wb") as fh, repack.Repack(seg, fh) as pack:
            for info in zf.infolist():
                block = struct.pack("<HH", HEADER_ID, len(record)) + record if info.filename == _part(seg) else b""
                pack.copy(info, block)
            pack.close()
        return out

    layout = _layout(seg)
    xml = zipfile.ZipFile(seg).read(_part(seg))

    def moved(i: int) -> Path:
        """The boundary after segment ``i`` moved off its flush point, the CRCs recomputed so that the
        record still adds up."""
        segs = list(layout.segments)
        start = sum(s.size for s in segs[:i])
        a, b = segs[i], segs[i + 1]
        segs[i] = type(a)(a.key, a.cstart, a.size + 3, zlib.crc32(xml[start: start + a.size + 3]), a.row, a.sst)
        segs[i + 1] = type(b)(b.key, b.cstart + 1, b.size - 3,
                              zlib.crc32(xml[start + a.size + 3: start + a.size + b.size]), b.row, b.sst)
        path = rewrite(Layout(segs, layout.last_row, layout.template).extra()[4:], f"moved{i}.xlsx")
        assert _layout(path) is not None  # it adds up …
        return path

    out = tmp_path / "after-moved.xlsx"
    _append(moved(0), out, more)  # … but the head does not inflate from there: written in full
    assert zipfile.ZipFile(out).read(_part(out)) == expected
    assert _layout(out) is not None and zipfile.ZipFile(out).testzip() is None
    bad = moved(2)  # between 2026-06 and 2026-07: those periods are read in full
    for period in ("2026-06", "2026-07"):
        assert read_history(bad, period) == read_history(seg, period) != []
    # A record grafted onto other content: its CRC no longer matches the entry.
    other = Layout(list(layout.segments), layout.last_row, layout.template)
    other.segments[-1] = type(other.segments[-1])(None, other.segments[-1].cstart, other.segments[-1].size, 12345)
    grafted = rewrite(other.extra()[4:], "grafted.xlsx")
    assert _layout(grafted) is None
    out = tmp_path / "after-grafted.xlsx"
    _append(grafted, out, more)
    assert zipfile.ZipFile(out).read(_part(out)) == expected and _layout(out) is not None
    assert read_history(out, "2026-08") == [(list(r) + [""] * WIDTH)[:WIDTH] for r in _sheet(out)[1:]
                                            if r[0] == "2026-08"]


def test_patching_other_sheets_keeps_the_record(history, tmp_path):
    seg, _, _ = history[3]
    out = tmp_path / "tasks.xlsx"
    patch_workbook(seg, out, {S.TASKS: SheetEdits(cells={(2, 12): "序时推进"})})
    assert _layout(out) == _layout(seg)
    assert _compressed(out) == _compressed(seg)


def _task_edits(path: Path, late: bool) -> SheetEdits:
    """Cells in every task row, as collect sets them; ``late``: a format that only the last row derives."""
    n = len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name(S.TASKS).to_python())
    rows = {r: {12: "序时推进", 13: 0.5, 14: dt.datetime(2026, 7, 1, 9, 30)} for r in range(2, n + 1)}
    if late:
        rows[n][15] = dt.date(2026, 7, 1)
    return SheetEdits(rows=rows, formats={13: "0.00%", 14: "yyyy-mm-dd hh:mm"})


@pytest.mark.parametrize("late", [False, True], ids=["formats-with-the-first-rows", "a-format-derived-late"])
def test_a_child_process_writes_the_history_byte_for_byte(master_copy, tmp_path, monkeypatch, late):
    """With a pool, 进展记录 is written in a child process while 任务分解 is patched: the package is
    byte for byte what writing them in turn makes, for a sheet rewritten whole and for an append in
    place (the earlier segments are copied from the file). When the task sheet derives a format after
    the child started, the child's bytes would number it wrongly: the sheet is written in turn."""
    from workbook.ooxml import sheetpatch
    from workbook.procs import process_pool

    if late:
        monkeypatch.setattr(repack, "CHUNK", 97)  # the task sheet's first rows come in a chunk of their own
    taken: list[int] = []
    take = sheetpatch._Styles.take
    monkeypatch.setattr(sheetpatch._Styles, "take", lambda self, other: (taken.append(1), take(self, other)))
    src = master_copy
    with process_pool(1) as pool:
        for i, period in enumerate(["2026-06", "2026-07"]):
            edits = {S.TASKS: _task_edits(src, late),
                     S.HISTORY: SheetEdits(append=_rows(period, 40, seed=i), segmented=True,
                                           cells={(1, WIDTH): S.HISTORY_COLUMNS[-1]})}
            apart, in_turn = tmp_path / f"apart{i}.xlsx", tmp_path / f"in-turn{i}.xlsx"
            patch_workbook(src, apart, edits, pool=pool)
            patch_workbook(src, in_turn, edits)
            assert apart.read_bytes() == in_turn.read_bytes()
            if i == 0:
                assert bool(taken) is not late and _layout(in_turn) is not None
            src = in_turn
    assert len(taken) == (1 if late else 2)  # the second time, the late format exists already
    assert len(_sheet(src)) == 81


def test_openpyxl_reads_the_segmented_sheet(history):
    from openpyxl import load_workbook

    seg, plain, _ = history[3]
    values = []
    for path in (seg, plain):
        wb = load_workbook(path)
        values.append([[c.value for c in row] for row in wb[S.HISTORY].iter_rows()])
    assert values[0] == values[1]
    assert len(values[0]) == len(_sheet(seg)) == 1 + 30 + 5 + 40 + 25


def test_libreoffice_reads_it_and_a_save_by_it_falls_back(history, tmp_path):
    """LibreOffice reads every history row of a segmented master; its own save of the master has no
    record (a plain zip of its own), so the next append is written in full and records one again."""
    seg, _, _ = history[3]
    out = tmp_path / "lo"
    out.mkdir()
    soffice.convert([seg], "xlsx:Calc MS Excel 2007 XML", out).check_returncode()
    saved = out / seg.name
    assert _sheet(saved) == _sheet(seg)
    assert _layout(saved) is None
    once, twice = tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    _append(saved, once, _rows("2026-09", 12, seed=12))
    _append(once, twice, _rows("2026-09", 4, seed=13))
    layout = _layout(twice)
    assert layout is not None and zipfile.ZipFile(twice).testzip() is None
    assert [s.key for s in layout.body][-1] == "2026-09"
    assert _sheet(twice)[: len(_sheet(saved))] == _sheet(saved)
    for period in ("2026-06", "2026-08", "2026-09"):
        assert read_history(twice, period) == [(list(r) + [""] * WIDTH)[:WIDTH] for r in _sheet(twice)[1:]
                                               if r[0] == period]
    assert rows_matching(twice, S.HISTORY, "2026-09", 2) == [[r[0], r[1]] for r in _sheet(twice)[1:]
                                                              if r[0] == "2026-09"]


def test_too_many_runs_are_merged_and_rows_still_appended_in_place(master_copy, tmp_path, chunk):
    """A history sorted by unit and saved (runs of a row or two per period) has more runs than a record
    holds: the older runs are recorded as one segment of mixed rows; rows are still appended in place,
    and a period that came after is still read from its own segment."""
    sorted_rows = [_rows(f"2026-{6 + i % 3:02d}", 1, seed=i)[0] for i in range(700)]
    seg, plain = tmp_path / "seg.xlsx", tmp_path / "plain.xlsx"
    _append(master_copy, seg, sorted_rows)
    _append(master_copy, plain, sorted_rows, segmented=False)
    layout = _layout(seg)
    assert layout is not None
    mixed = [s for s in layout.body if s.keys]
    assert len(mixed) == 1 and mixed[0].keys == ("2026-06", "2026-07", "2026-08")
    more = _rows("2026-09", 20, seed=99)
    seg2, plain2 = tmp_path / "seg2.xlsx", tmp_path / "plain2.xlsx"
    _append(seg, seg2, more)
    _append(plain, plain2, more, segmented=False)
    assert zipfile.ZipFile(seg2).read(_part(seg2)) == zipfile.ZipFile(plain2).read(_part(plain2))
    new = _layout(seg2)
    i = layout.segments.index(mixed[0])
    raw = _compressed(seg)[mixed[0].cstart: layout.segments[i + 1].cstart]
    at = next(s for s in new.body if s.keys).cstart
    assert _compressed(seg2)[at: at + len(raw)] == raw  # copied as it was
    assert [s.key for s in new.body][-1] == "2026-09"
    everything = _sheet(seg2)
    for period in ("2026-07", "2026-09"):
        assert read_history(seg2, period) == [(list(r) + [""] * WIDTH)[:WIDTH] for r in everything[1:]
                                              if r[0] == period]
