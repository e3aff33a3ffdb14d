"""The unit workbook writer (workbook/unitbook.py) writes the very file XlsxWriter writes.

Excel and WPS cannot run here. What they open is what XlsxWriter writes (the golden file, the
LibreOffice and Calc round trips hold it there); the fast writer is held to XlsxWriter byte for
byte, every zip part and the zip itself, over units that reach the edges of the layout (no task,
one, many; with and without 指标目标; a second version prefilled; a password; milestones) and of
XlsxWriter's serialisation (escaping, control characters, ``_xHHHH_``-like text, whitespace,
characters beyond the BMP, text over Excel's length limit, dates around 1900).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from workbook import form as F
from workbook import schema as S
from workbook import unitbook as U
from workbook.importer import import_to_file
from workbook.master import read_master
from workbook.split import split_master

TEXTS = [
    'A & B < C > D "quoted" \'apostrophe\'',
    "_x0041_ looks like an escape, _X00ff_ too; _x12_ and _x00G1_ do not",
    "control \x01\x02\x08\x0b\x0c\x1f characters, a tab\tand CR LF\r\nand a lone CR\r",
    "  leading and trailing spaces  ",
    "\u3000\u3000全角空格缩进",
    "trailing newline\n",
    "emoji 😀🇨🇳 and Extension B 𠀀𪚥",
    "第一行\n第二行\n第三行",
    "很长的任务目标，" * 400,
    "=SUM(A1:A3) looks like a formula",
    "https://example.com/looks-like-a-link",
    "1234.50",
    "noncharacters \ufffe and \uffff",
    "x" * 40_000,  # longer than Excel's 32,767: truncated
    "😀" * 20_000,  # 40,000 UTF-16 units: truncated without splitting a character
    "\x00",
]
DATES = [dt.date(2026, 6, 30), dt.datetime(2026, 12, 31, 17, 30), dt.date(1900, 1, 1), dt.date(1900, 2, 28),
         dt.date(1900, 3, 1), dt.date(1899, 12, 31), None, "待定"]


def reference(form: F.UnitForm, password: str | None = None, created: dt.datetime | None = None) -> bytes:
    buffer = io.BytesIO()
    U.write_with_xlsxwriter(form, buffer, password, created)
    return buffer.getvalue()


def fast(form: F.UnitForm, folder: Path, password: str | None = None, created: dt.datetime | None = None) -> bytes:
    path = folder / f"{form.unit[:20]}.xlsx".replace("/", "_")
    U.write_unit_workbook(form, path, password, created)
    return path.read_bytes()


def parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def assert_same(form: F.UnitForm, folder: Path, password: str | None = None,
                created: dt.datetime | None = None) -> None:
    want, got = reference(form, password, created), fast(form, folder, password, created)
    want_parts, got_parts = parts(want), parts(got)
    assert [n for n, _ in got_parts] == [n for n, _ in want_parts]
    for (name, a), (_, b) in zip(got_parts, want_parts):
        assert a == b, name
    assert got == want  # the zip too: same entries, headers and compressed bytes


@pytest.fixture(scope="module")
def sample(sample_master_file: Path) -> tuple[object, list[F.UnitForm]]:
    master = read_master(sample_master_file)
    return master, [F.unit_form(master, u) for u in master.units_with_tasks()]


def with_rows(form: F.UnitForm, rows: list[list[object]], **changes: object) -> F.UnitForm:
    return dataclasses.replace(form, rows=rows, quantitative=[bool(r[F.COL[S.TARGET]]) for r in rows], **changes)


def edge_rows() -> list[list[object]]:
    """Every edge text in every text column, every kind of 截止日期 and 完成进度."""
    rows = []
    progress = [None, 0, 55, 100, 12.5, 7]
    for i, text in enumerate(TEXTS):
        rows.append([f"2026-{i + 1:03d}", text, text[:40], DATES[i % len(DATES)], text if i % 2 else "",
                     S.STATUSES[i % len(S.STATUSES)] if i % 3 else "", progress[i % len(progress)],
                     text if i % 2 else "", text, text[::-1], text[:100], text if i % 3 == 0 else ""])
    return rows


def test_every_sample_unit(sample, tmp_path):
    """45 units of a real decomposition: 1 to 18 tasks, with and without 指标目标."""
    _, forms = sample
    for form in forms:
        assert_same(form, tmp_path)


def test_edges_of_text_dates_and_numbers(sample, tmp_path):
    _, forms = sample
    form = with_rows(forms[0], edge_rows())
    assert_same(form, tmp_path)
    assert_same(form, tmp_path, password="密码 & <pass>", created=dt.datetime(2026, 6, 1, 9, 30, 15))


def test_shapes_no_task_one_task_many_tasks(sample, tmp_path):
    _, forms = sample
    base = forms[0]
    row = list(base.rows[0])
    plain, quantitative = row[:4] + [""] + row[5:], row[:4] + ["新增就业2万人"] + row[5:]
    for rows in ([], [plain], [quantitative], [quantitative] * 3, [plain] * 15, [plain] * 16, [plain] * 17,
                 [quantitative if i % 5 else plain for i in range(130)]):
        assert_same(with_rows(base, [[f"2026-{i:03d}"] + r[1:] for i, r in enumerate(rows)]), tmp_path)


def test_names_titles_and_settings_with_special_characters(sample, tmp_path):
    _, forms = sample
    form = dataclasses.replace(forms[1], unit="市<发改>委 & \"局\"\x07", title="2026年\x01重点工作 <任务> & 目标",
                               statuses=("完成&验收", '"按期"', "<滞后>", "未启动"), master_id="ID&<>", year=2027,
                               period="2027-01", period_label="2027年1月", reporting_day=dt.date(2027, 1, 25))
    assert_same(form, tmp_path)
    assert_same(dataclasses.replace(form, statuses=("已完成",)), tmp_path, password="p")


def test_a_second_version_prefilled_with_the_answers(sample, tmp_path):
    master, _ = sample
    unit = "市发改委"
    tasks = master.tasks_of(unit)
    answers = {tasks[0][S.TASK_ID]: {S.STATUS: "序时推进", S.PROGRESS: 60, S.ACTUAL: "7.8%", S.NARRATIVE: "已起草\n制度文本",
                                     S.PROBLEMS: "+3 个问题", S.NEXT_STEPS: "  下月报批"},
               tasks[1][S.TASK_ID]: {S.STATUS: "已完成", S.PROGRESS: "100"}}
    form = F.unit_form(master, unit, version=2, answers=answers)
    assert "第2版" in form.title_lines()[0] and form.rows[0][F.COL[S.PROGRESS]] == 60
    assert_same(form, tmp_path)


def test_milestones_in_the_next_step_column(tmp_path):
    source = tmp_path / "民生实事.txt"
    source.write_text("2026年重点民生实事任务分解表\n序号\t任务目标\t牵头单位\t完成时限\n"
                      "1\t新建城南市民广场\t市住建局\t3月底前完成方案，6月底前开工，12月底前完工\n"
                      "2\t开展职业技能培训1万人次\t市住建局\t12月底\n", encoding="utf-8")
    import_to_file(source, tmp_path / "总台账.xlsx", 2026, "2026-05")
    form = F.unit_form(read_master(tmp_path / "总台账.xlsx"), "市住建局")
    assert form.rows[0][F.COL[S.NEXT_MILESTONE]]
    assert_same(form, tmp_path)


def test_split_writes_what_xlsxwriter_writes(master_copy, tmp_path):
    """Through ``split``, with a password: every file as XlsxWriter would write it."""
    result = split_master(master_copy, tmp_path / "out", password="s3cret", workers=1)
    master = read_master(master_copy)
    assert len(result.files) == 45
    for unit, path in result.files.items():
        assert path.read_bytes() == reference(F.unit_form(master, unit), password="s3cret"), unit


def test_one_prototype_serves_every_workbook_of_a_shape(sample, tmp_path, monkeypatch):
    """XlsxWriter writes a prototype once per shape and style order, not per unit nor per number of tasks."""
    _, forms = sample
    monkeypatch.setattr(U, "_PROTOTYPES", {})
    monkeypatch.setattr(U, "_STYLES", {})
    learned = []
    learn = U._learn
    monkeypatch.setattr(U, "_learn", lambda book: learned.append(book.tasks) or learn(book))
    for form in forms:
        U.write_unit_workbook(form, tmp_path / "x.xlsx")
    orders = {tuple(U._style_indices(U.layout(f))) for f in forms}
    assert len({f.statuses for f in forms}) == 1 and len({len(f.rows) for f in forms}) > 5
    assert len(learned) == len(orders) == len(U._STYLES) and len(U._PROTOTYPES) == 1
    assert U._PROTOTYPES[U.layout(forms[0]).shape].tasks is None  # good for any number of tasks


def test_text_that_looks_like_rich_text_stays_text(sample, tmp_path):
    """XlsxWriter copies a string shaped like ``<r>…</r>`` into sharedStrings.xml as markup; duban
    escapes it like any other text, so it reads back as written."""
    _, forms = sample
    text = "<r><t>看似富文本</t></r>"
    form = with_rows(forms[0], [list(forms[0].rows[0][:1]) + [text] + list(forms[0].rows[0][2:])])
    path = tmp_path / "富文本.xlsx"
    U.write_unit_workbook(form, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(F.FORM).to_python()
    assert rows[F.FIRST_ROW - 1][F.COL[S.TEXT]] == text
    assert "&lt;r&gt;&lt;t&gt;看似富文本" in zipfile.ZipFile(path).read("xl/sharedStrings.xml").decode()


def test_what_reads_back_is_what_was_written(sample, tmp_path):
    """calamine (validation's reader) sees every edge text as the form holds it (truncated at Excel's limit)."""
    _, forms = sample
    form = with_rows(forms[0], edge_rows())
    path = tmp_path / "edges.xlsx"
    U.write_unit_workbook(form, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(F.FORM).to_python()
    for i, text in enumerate(TEXTS):
        got = rows[F.FIRST_ROW - 1 + i][F.COL[S.TEXT]]
        if "\ufffe" in text:
            assert got == text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")  # calamine keeps the escape
        elif len(text.encode("utf-16-le")) // 2 <= 32767:
            assert got == text.replace("\r\n", "\n").replace("\r", "\n") or got == text, repr(text[:30])
        else:
            assert text.startswith(got) and 32766 <= len(got.encode("utf-16-le")) // 2 <= 32767
