"""The streamed paths of the master: repacking the zip, appending to the history, reading one period of it.

Each is checked against the plain reading of the same file by python-calamine, with tiny
chunks so that every element boundary falls across chunks somewhere, and on masters as
LibreOffice saves them (shared strings instead of duban's inline strings).
"""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from python_calamine import CalamineWorkbook

import soffice
from workbook import schema as S
from workbook.collect import collect, read_history
from workbook.filling import fill_unit_file
from workbook.ooxml import repack
from workbook.ooxml.rowstream import rows_matching
from workbook.ooxml.sheetpatch import SheetEdits, patch_workbook
from workbook.split import split_master


def _sheet(path, name):
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    return [r for r in rows if any(v not in ("", None) for v in r)]


@pytest.fixture
def collected(master_copy, tmp_path):
    """A master after one collect of three units (history rows of 2026-06)."""
    split_master(master_copy, tmp_path / "下发", units=["市发改委", "市财政局", "市教育局"])
    for i, path in enumerate(sorted((tmp_path / "下发").iterdir())):
        fill_unit_file(path, dt.date(2026, 6, 30), seed=i, report_date=dt.date(2026, 6, 20))
    collect([tmp_path / "下发"], master_copy)
    return master_copy


@pytest.fixture(params=[97, 1 << 20], ids=["tiny-chunks", "1MB-chunks"])
def chunk(request, monkeypatch):
    monkeypatch.setattr(repack, "CHUNK", request.param)
    return request.param


def test_period_rows_equal_the_plain_read(collected, chunk):
    width = len(S.HISTORY_COLUMNS)
    want = [(list(r) + [""] * width)[:width] for r in _sheet(collected, S.HISTORY)[1:] if r[0] == "2026-06"]
    got = rows_matching(collected, S.HISTORY, "2026-06", width)
    assert len(got) == len(want) > 10
    assert got == want
    assert rows_matching(collected, S.HISTORY, "2026-05", width) == []


def test_appending_keeps_every_other_part(collected, chunk, tmp_path):
    rows = [["2026-07", "市发改委", "2026-001", "序时推进", 50, "7.5%", "文字<&>\"'", "", "下步", "张三",
             "0471", dt.date(2026, 7, 20), "x.xlsx", "ab" * 32, dt.datetime(2026, 7, 25, 9, 30), 1]] * 3
    assert len(rows[0]) == len(S.HISTORY_COLUMNS)
    streamed, with_cell = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    patch_workbook(collected, streamed, {S.HISTORY: SheetEdits(append=rows)})
    patch_workbook(collected, with_cell, {S.HISTORY: SheetEdits(cells={(1, 1): "填报期"}, append=rows)})
    assert _sheet(streamed, S.HISTORY) == _sheet(with_cell, S.HISTORY) == _sheet(collected, S.HISTORY) + [
        [v if not isinstance(v, int) else float(v) for v in r] for r in rows]
    with zipfile.ZipFile(collected) as before, zipfile.ZipFile(streamed) as after:
        assert after.testzip() is None
        unchanged = [i.filename for i in before.infolist() if "sheet" not in i.filename and "styles" not in i.filename]
        assert all(before.read(n) == after.read(n) for n in unchanged)


def test_style_only_rows_after_the_last_row_take_the_new_values(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    path = tmp_path / "t.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    ws.append(["a", "b"])
    ws.append(["1", "2"])
    ws["A4"].fill = PatternFill("solid", fgColor="FFFF00")  # formatted, empty: not data
    wb.save(path)
    out = tmp_path / "o.xlsx"
    patch_workbook(path, out, {"表": SheetEdits(append=[["3", "4"], ["5", "6"]])})
    assert _sheet(out, "表") == [["a", "b"], ["1", "2"], ["3", "4"], ["5", "6"]]


def test_a_master_saved_by_libreoffice_reads_and_collects_the_same(collected, tmp_path):
    """LibreOffice writes shared strings and its own XML; reading a period and appending still agree."""
    out = tmp_path / "lo"
    out.mkdir()
    soffice.convert([collected], "xlsx:Calc MS Excel 2007 XML", out).check_returncode()
    saved = out / collected.name
    with zipfile.ZipFile(saved) as zf:
        assert "xl/sharedStrings.xml" in zf.namelist()
    width = len(S.HISTORY_COLUMNS)
    assert read_history(saved, "2026-06") == read_history(collected, "2026-06")
    row = read_history(collected, "2026-06")[0]
    appended = tmp_path / "appended.xlsx"
    patch_workbook(saved, appended, {S.HISTORY: SheetEdits(append=[row])})
    assert rows_matching(appended, S.HISTORY, "2026-06", width)[-1] == row


def test_cells_set_in_existing_missing_and_later_rows(tmp_path, chunk):
    from openpyxl import Workbook

    path = tmp_path / "t.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    for row in (["a", "b", "c"], ["1", "2", "3"], [], ["4", "5", "6"]):
        ws.append(row)
    wb.save(path)
    out = tmp_path / "o.xlsx"
    edits = {(2, 2): "二", (3, 1): "新", (4, 4): 9, (7, 1): "后"}
    patch_workbook(path, out, {"表": SheetEdits(cells=edits)})
    assert _sheet(out, "表") == [["a", "b", "c", ""], ["1", "二", "3", ""], ["新", "", "", ""],
                                 ["4", "5", "6", 9.0], ["后", "", "", ""]]


def _sst_book(path, strings: list[bytes], prefix: str = "") -> None:
    """A zip holding only a shared strings part with the given ``<si>`` elements as written."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    body = b"".join(s.replace(b"<si", f"<{p}si".encode()).replace(b"</si", f"</{p}si".encode())
                    .replace(b"<t", f"<{p}t".encode()).replace(b"</t", f"</{p}t".encode())
                    .replace(b"<r>", f"<{p}r>".encode()).replace(b"</r>", f"</{p}r>".encode()) for s in strings)
    xml = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<' + f"{p}sst {ns}".encode() + b">" + body + \
        f"</{p}sst>".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", xml)


@pytest.mark.parametrize("prefix", ["", "x"])
def test_shared_strings_showing_a_value_however_written(tmp_path, chunk, prefix):
    """Shared strings as office programs write them: one run, runs split where the font changes
    (LibreOffice), character references, _xHHHH_ escapes, phonetic runs, empty strings, long JSON
    full of &quot;. Only those whose text is the value count, and every index stays in place."""
    from workbook.ooxml.rowstream import _shared_keys

    run = b'<r><rPr><sz val="11"/><rFont val="Noto Sans CJK SC"/></rPr><t xml:space="preserve">%s</t></r>'
    strings = [
        b"<si><t>2026-07</t></si>",  # 0: plain
        b"<si><t>2026-07 </t></si>",
        b"<si>" + run % b"2026" + run % b"-07" + b"</si>",  # 2: split into runs
        b"<si><t>&#50;026-07</t></si>",  # 3: a character reference
        b"<si/>",
        b"<si><t>_x0032_026-07</t></si>",  # 5: an OOXML escape
        b'<si><t>2026-07</t><rPh sb="0" eb="1"><t>x</t></rPh></si>',  # 6: a phonetic run
        b"<si><t>" + b"&quot;2026-07&quot;" * 2000 + b"</t></si>",
        b"<si>" + run % b"2026-0" + run % b"8" + b"</si>",
        b"<si><t/></si>",
        b'<si foo="1"/>',
        b"<si><t>2026-07</t></si>",  # 11
        b"<si/>",
    ]
    path = tmp_path / "sst.xlsx"
    _sst_book(path, strings, prefix)
    with zipfile.ZipFile(path) as zf:
        assert _shared_keys(zf, "xl/sharedStrings.xml", "2026-07") == [0, 2, 3, 5, 6, 11]
        assert _shared_keys(zf, "xl/sharedStrings.xml", '"2026-07"' * 2000) == [7]
