"""What Excel and WPS write, rebuilt byte by byte where the programs cannot run here.

Each fixture starts from a clean, filled unit workbook and rewrites its parts
the way another program writes them. The facts come from the OOXML standard
(ECMA-376 5th ed. Part 1 = ISO/IEC 29500-1) and from notes on real files:

- shared strings and rich text runs: §18.4 (``<si>``, ``<r>``/``<rPr>``/``<t>``); Excel writes every
  text cell as a shared string and a partly formatted one as runs; openpyxl and the Open XML SDK
  write inline strings (``t="inlineStr"``, §18.3.1.4);
- shared formulas: §18.3.1.40 ``<f t="shared" ref=… si=…>`` on the first cell, ``<f t="shared" si=…/>``
  on the others, which is what Excel writes when a formula is filled down;
- Strict OOXML: ISO/IEC 29500-1 §A (namespace ``http://purl.oclc.org/ooxml/spreadsheetml/main`` and
  ``…/officeDocument/relationships``), Excel's "Strict Open XML Spreadsheet" (see the Library of
  Congress format description fdd000401);
- the 1904 date system: ``<workbookPr date1904="1"/>`` (§18.2.28) with serials counted from
  1904-01-01 (§18.17.4.1), as Excel for Mac workbooks keep it;
- number formats by id without a ``numFmt`` element (§18.8.30: 9 ``0%``, 10 ``0.00%``, 14 short date,
  27-36 and 50-58 the zh-CN dates) and by custom code (§18.8.31), as Excel and WPS in a Chinese
  locale write ``yyyy"年"m"月"d"日";@`` and ``[DBNum1][$-804]yyyy"年"m"月"d"日";@``;
- numbers stored as text (Excel's green-triangle cells: a string cell holding digits);
- no ``<dimension>`` (optional, §18.3.1.35) and rows and cells without ``r`` (optional, §18.3.1.73
  and §18.3.1.4: a row follows the previous one, a cell the previous cell);
- data validations in ``extLst`` (MS-XLSX §2.6.x ``x14:dataValidations``), which Excel writes for a
  list that refers to another sheet.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import zipcraft

from workbook import form as F
from workbook.filling import fill_unit_file
from workbook.master import read_master
from workbook.ooxml import sheetxml, zipguard
from workbook.ooxml.sheetxml import scan_sheet
from workbook.ooxml.zipguard import bounded_sheet, sheet_extent
from workbook.split import split_master
from workbook.validate import context_from_master, validate_file

UNIT = "市发改委"  # 10 tasks on rows 4-13 (2026-001..003 with targets), footer rows 15-17
NAME = f"{UNIT}_2026年6月.xlsx"
FORM_PART = "xl/worksheets/sheet1.xml"
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture(scope="module")
def office(tmp_path_factory, sample_master_file):
    root = tmp_path_factory.mktemp("fixtures")
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=[UNIT])
    clean = root / NAME
    shutil.copy(root / "下发" / NAME, clean)
    fill_unit_file(clean, dt.date(2026, 6, 30), seed=1, report_date=dt.date(2026, 6, 24),
                   overrides={"F8": "序时推进", "G8": 60, "H4": "7.4%"})
    ctx = context_from_master(read_master(master))
    sub = validate_file(clean, ctx)
    assert sub.findings == [] and len(sub.answers) == 10
    return clean, ctx, {a.task_id: a for a in sub.answers}, sub


def build(office, tmp_path: Path, parts: dict[str, bytes | None]) -> Path:
    """The clean file with parts replaced, added (name → bytes) or removed (name → None)."""
    clean = office[0]
    with zipfile.ZipFile(clean) as z:
        names = set(z.namelist())
    return zipcraft.rewrite(clean, tmp_path / NAME,
                            replace={k: v for k, v in parts.items() if v is not None and k in names},
                            add={k: v for k, v in parts.items() if v is not None and k not in names},
                            remove={k for k, v in parts.items() if v is None})


def part(office, name: str) -> bytes:
    return zipcraft.read(office[0], name)


def put_cell(sheet: bytes, ref: str, cell: str) -> bytes:
    """Replace cell ``ref`` (written by openpyxl as ``<c r="REF" …>…</c>`` or ``<c r="REF" …/>``)."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
    new, n = pattern.subn(lambda m: cell.encode(), sheet, count=1)
    assert n == 1, ref
    return new


def add_styles(styles: bytes, formats: list[tuple[int, str | None]]) -> tuple[bytes, list[int]]:
    """Append one cell style per (numFmtId, custom code or None for a built-in id); return the indexes."""
    count = int(re.search(rb'<cellXfs count="([0-9]+)"', styles).group(1))
    xfs = b"".join(b'<xf numFmtId="%d" fontId="2" fillId="3" borderId="1" applyNumberFormat="1" xfId="0">'
                   b'<protection locked="0" hidden="0"/></xf>' % fmt for fmt, _ in formats)
    styles = styles.replace(b"</cellXfs>", xfs + b"</cellXfs>").replace(
        b'<cellXfs count="%d"' % count, b'<cellXfs count="%d"' % (count + len(formats)))
    custom = b"".join(b'<numFmt numFmtId="%d" formatCode="%s"/>' % (fmt, code.replace('"', "&quot;").encode())
                      for fmt, code in formats if code)
    if custom:
        styles = styles.replace(b"</numFmts>", custom + b"</numFmts>")
    return styles, list(range(count, count + len(formats)))


def codes(sub) -> list[str]:
    return sorted(f.code for f in sub.findings)


def answers(sub) -> dict:
    return {a.task_id: a for a in sub.answers}


# ---------------------------------------------------------------- strings


def test_inline_strings_as_openpyxl_and_the_sdk_write_them(office):
    assert b't="inlineStr"' in part(office, FORM_PART) and b"sharedStrings" not in part(office, "[Content_Types].xml")
    assert office[3].findings == []


def test_shared_strings_with_rich_text_runs_as_excel_writes_them(office, tmp_path):
    strings: list[str] = []

    def shared(xml: bytes) -> bytes:
        def one(m: re.Match[bytes]) -> bytes:
            strings.append(m.group(2).decode())
            return m.group(1) + b't="s"><v>%d</v></c>' % (len(strings) - 1)
        return re.sub(rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")? )t="inlineStr"><is><t>(.*?)</t></is></c>', one, xml)

    sheets = {f"xl/worksheets/sheet{i}.xml": shared(part(office, f"xl/worksheets/sheet{i}.xml")) for i in (1, 2, 3)}
    narrative = office[2]["2026-001"].narrative
    items = []
    for text in strings:
        if text == narrative:  # the first words in bold: Excel writes the cell as runs
            items.append('<si><r><rPr><b/><sz val="11"/><rFont val="宋体"/><charset val="134"/></rPr>'
                         f'<t>{text[:3]}</t></r><r><rPr><sz val="11"/><rFont val="宋体"/><charset val="134"/></rPr>'
                         f'<t xml:space="preserve">{text[3:]}</t></r><phoneticPr fontId="1" type="noConversion"/></si>')
        else:
            items.append(f"<si><t>{text}</t></si>")
    sst = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN.decode()}" '
           f'count="{len(strings)}" uniqueCount="{len(strings)}">{"".join(items)}</sst>').encode()
    types = part(office, "[Content_Types].xml").replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    rels = part(office, "xl/_rels/workbook.xml.rels").replace(b"</Relationships>", (
        b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
    path = build(office, tmp_path, {**sheets, "xl/sharedStrings.xml": sst, "[Content_Types].xml": types,
                                    "xl/_rels/workbook.xml.rels": rels})
    sub = validate_file(path, office[1])
    assert sub.findings == [] and b"inlineStr" not in zipcraft.read(path, FORM_PART)
    assert answers(sub)["2026-001"].narrative == narrative
    assert [a.__dict__ for a in sub.answers] == [a.__dict__ for a in office[3].answers]


# ---------------------------------------------------------------- formulas


def test_shared_formula_filled_down_is_one_finding_per_cell(office, tmp_path):
    sheet = part(office, FORM_PART)
    sheet = put_cell(sheet, "G4", '<c r="G4" s="7"><f t="shared" ref="G4:G6" si="0">40+10</f><v>50</v></c>')
    sheet = put_cell(sheet, "G5", '<c r="G5" s="7"><f t="shared" si="0"/><v>50</v></c>')
    sheet = put_cell(sheet, "G6", '<c r="G6" s="7"><f t="shared" si="0"/><v>50</v></c>')
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet}), office[1])
    assert [(f.code, f.cell) for f in sub.findings] == [("formula-in-cell", c) for c in ("G4", "G5", "G6")]


# ---------------------------------------------------------------- Strict OOXML

STRICT = {
    MAIN: b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": b"http://purl.oclc.org/ooxml/"
                                                                            b"officeDocument/relationships",
    b"http://schemas.openxmlformats.org/drawingml/2006/main": b"http://purl.oclc.org/ooxml/drawingml/main",
}


def test_strict_ooxml_namespaces(office, tmp_path):
    parts = {}
    with zipfile.ZipFile(office[0]) as z:
        for name in z.namelist():
            data = z.read(name)
            for transitional, strict in STRICT.items():
                data = data.replace(transitional, strict)
            parts[name] = data
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
    path = build(office, tmp_path, parts)
    assert b"purl.oclc.org/ooxml/spreadsheetml/main" in zipcraft.read(path, FORM_PART)
    sub = validate_file(path, office[1])
    assert sub.findings == []
    assert [a.__dict__ for a in sub.answers] == [a.__dict__ for a in office[3].answers]


# ---------------------------------------------------------------- dates


def test_1904_date_system(office, tmp_path):
    """A workbook kept in the 1904 system stores every date 1,462 days lower; the dates read the same."""
    date_styles = {b"6", b"11"}  # 截止日期 (locked) and 填报日期 (input), yyyy-mm-dd
    sheet = re.sub(rb'(<c r="[A-Z]+[0-9]+" s="([0-9]+)" t="n"><v>)([0-9.]+)(</v>)',
                   lambda m: m.group(1) + (b"%g" % (float(m.group(3)) - 1462) if m.group(2) in date_styles
                                           else m.group(3)) + m.group(4), part(office, FORM_PART))
    book = re.sub(rb"<workbookPr\b", b'<workbookPr date1904="1"', part(office, "xl/workbook.xml"), count=1)
    assert b'date1904="1"' in book
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet, "xl/workbook.xml": book}), office[1])
    assert sub.findings == [] and sub.report_date == dt.date(2026, 6, 24)


def test_dates_by_builtin_id(office, tmp_path):
    """Excel writes its short date as id 14 and zh-CN dates as ids 27-36 and 50-58, with no numFmt element."""
    styles, (short, long_cn, month_day) = add_styles(part(office, "xl/styles.xml"), [(14, None), (31, None), (58, None)])
    serial = (dt.date(2026, 6, 24) - dt.date(1899, 12, 30)).days
    sheet = part(office, FORM_PART)
    sheet = put_cell(sheet, "D4", f'<c r="D4" s="{short}"><v>{serial + 190}</v></c>')  # 2026-12-31, locked
    sheet = put_cell(sheet, "B17", f'<c r="B17" s="{long_cn}"><v>{serial}</v></c>')
    sheet = put_cell(sheet, "I5", f'<c r="I5" s="{month_day}"><v>{serial + 1}</v></c>')
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet, "xl/styles.xml": styles}), office[1])
    assert sub.findings == [] and sub.report_date == dt.date(2026, 6, 24)
    assert answers(sub)["2026-002"].narrative == "6月25日"


def test_dates_by_custom_code_as_wps_and_excel_write_them(office, tmp_path):
    styles, (plain, numerals) = add_styles(part(office, "xl/styles.xml"), [
        (176, 'yyyy"年"m"月"d"日";@'), (177, '[DBNum1][$-804]yyyy"年"m"月"d"日";@')])
    sheet = part(office, FORM_PART)
    sheet = put_cell(sheet, "B17", f'<c r="B17" s="{plain}"><v>46197</v></c>')
    sheet = put_cell(sheet, "I5", f'<c r="I5" s="{plain}"><v>46198</v></c>')
    sheet = put_cell(sheet, "I6", f'<c r="I6" s="{numerals}"><v>46198</v></c>')
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet, "xl/styles.xml": styles}), office[1])
    assert sub.findings == [] and sub.report_date == dt.date(2026, 6, 24)
    assert answers(sub)["2026-002"].narrative == "2026年6月25日"
    assert answers(sub)["2026-003"].narrative == "二〇二六年六月二十五日"


# ---------------------------------------------------------------- percents


@pytest.mark.parametrize("actual, code, shown", [
    (0.075, (10, None), "7.5%"),  # built-in 0.00%: what Excel applies when 7.5% is typed
    (0.08, (9, None), "8%"),  # built-in 0%
    (0.075, (176, "0.0%"), "7.5%"),
    (0.0755, (177, '0.00%;[Red]-0.00%'), "7.55%"),
])
def test_percent_formats_give_what_the_clerk_typed(office, tmp_path, actual, code, shown):
    styles, (style, whole) = add_styles(part(office, "xl/styles.xml"), [code, (9, None)])
    sheet = put_cell(part(office, FORM_PART), "H4", f'<c r="H4" s="{style}"><v>{actual}</v></c>')
    sheet = put_cell(sheet, "G8", f'<c r="G8" s="{whole}"><v>0.75</v></c>')  # 75% typed as progress
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet, "xl/styles.xml": styles}), office[1])
    assert sub.findings == []
    assert answers(sub)["2026-001"].actual == shown and answers(sub)["2026-011"].progress == 75


def test_fractional_percent_progress_is_quoted_as_seen(office, tmp_path):
    styles, (style,) = add_styles(part(office, "xl/styles.xml"), [(10, None)])
    sheet = put_cell(part(office, FORM_PART), "G8", f'<c r="G8" s="{style}"><v>0.755</v></c>')
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet, "xl/styles.xml": styles}), office[1])
    (hit,) = sub.findings
    assert (hit.code, hit.cell) == ("progress-invalid", "G8") and "“75.5%”" in hit.message


# ---------------------------------------------------------------- numbers as text, extents, references


def test_numbers_stored_as_text(office, tmp_path):
    sheet = put_cell(part(office, FORM_PART), "G4", '<c r="G4" s="7" t="inlineStr"><is><t>50</t></is></c>')
    sheet = put_cell(sheet, "H6", '<c r="H6" s="7" t="inlineStr"><is><t>1320</t></is></c>')
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet}), office[1])
    assert [(f.code, f.cell, f.severity) for f in sub.findings] == [("progress-as-text", "G4", "warning")]
    assert answers(sub)["2026-001"].progress == 50 and answers(sub)["2026-003"].actual == "1320"


def test_no_dimension_element(office, tmp_path):
    sheet = re.sub(rb"<dimension [^>]*/>", b"", part(office, FORM_PART))
    assert b"<dimension" not in sheet
    assert validate_file(build(office, tmp_path, {FORM_PART: sheet}), office[1]).findings == []


def test_rows_and_cells_without_references(office, tmp_path):
    parts = {}
    for i in (1, 2, 3):
        xml = part(office, f"xl/worksheets/sheet{i}.xml")
        xml = re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", xml)
        parts[f"xl/worksheets/sheet{i}.xml"] = re.sub(rb'(<row) r="[0-9]+"', rb"\1", xml)
    assert b' r="' not in parts[FORM_PART].split(b"<sheetData>")[1].split(b"</sheetData>")[0]
    sub = validate_file(build(office, tmp_path, parts), office[1])
    assert sub.findings == []
    assert [a.__dict__ for a in sub.answers] == [a.__dict__ for a in office[3].answers]


def test_rows_without_references_keep_their_findings(office, tmp_path):
    """Cell positions come from the order when ``r`` is missing: a formula is still found where it is."""
    xml = put_cell(part(office, FORM_PART), "I7", '<c r="I7" s="8"><f>1+1</f><v>2</v></c>')
    xml = re.sub(rb'(<row) r="[0-9]+"', rb"\1", re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", xml))
    sub = validate_file(build(office, tmp_path, {FORM_PART: xml}), office[1])
    assert [(f.code, f.cell) for f in sub.findings] == [("formula-in-cell", "I7")]


def test_x14_data_validations_in_extlst(office, tmp_path):
    ext = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
           b'<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
           b"<x14:formula1><xm:f>'\xe8\xaf\xb4\xe6\x98\x8e'!$A$10:$A$13</xm:f></x14:formula1>"
           b"<xm:sqref>F4:F13</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>")
    sheet = part(office, FORM_PART).replace(b"</worksheet>", ext)
    sheet = sheet.replace(b"<worksheet ", b'<worksheet xmlns:mc="http://schemas.openxmlformats.org/markup-'
                                          b'compatibility/2006" mc:Ignorable="x14ac" ', 1)
    assert validate_file(build(office, tmp_path, {FORM_PART: sheet}), office[1]).findings == []


# ---------------------------------------------------------------- extents


CALC_TAIL = (b'<row r="1048576" customFormat="false" ht="12.8" hidden="false" customHeight="false" '
             b'outlineLevel="0" collapsed="false"></row>')


def _sheet(rows: bytes, dimension: bytes = b"A1:K17") -> bytes:
    return (b'<worksheet xmlns="' + MAIN + b'"><dimension ref="' + dimension + b'"/><sheetData>' + rows
            + b"</sheetData></worksheet>")


def test_extent_comes_from_cells_with_content():
    rows = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>0</v></c><c r="K%d"><v>1</v></c><c r="L%d" s="3"/></row>'
                    % (r, r, r, r)
                    for r in range(1, 18))
    assert sheet_extent(_sheet(rows)) == (17, 11)
    assert sheet_extent(_sheet(rows + CALC_TAIL, b"A1:K1048576")) == (17, 11)  # Calc after deleting a row
    styled = b'<row r="900000" s="4" customFormat="1"><c r="B900000" s="4"/></row>'
    assert sheet_extent(_sheet(rows + styled)) == (17, 11)  # an empty styled row far below
    assert sheet_extent(_sheet(rows + b'<row r="900000"><c r="B900000"><v>1</v></c></row>')) == (900000, 11)
    assert sheet_extent(_sheet(rows + b'<row r="9"><c r="XFD9" s="1"/></row>'))[1] == 16384  # styled far right
    bomb = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % r for r in range(30, 10030))
    assert bounded_sheet(_sheet(rows + bomb))[1] == "超过 5000 行"  # refused by the count of rows
    assert bounded_sheet(_sheet(rows + CALC_TAIL, b"A1:K1048576"))[1] == ""
    hidden_far = _sheet(b"<row><c t='n' r = 'B7000'><v>1</v></c></row>")  # other quoting is read as a parser would
    assert bounded_sheet(hidden_far)[1] == "7000 行 × 2 列"


def test_cell_text_that_looks_like_a_prefixed_tag_keeps_the_count():
    """Text holding ":row" or ":c" (an inline string) must not switch the guard's count of rows and cells off."""
    text = b'<row r="1"><c r="A1" t="inlineStr"><is><t>a:row b:c</t></is></c></row>'
    bomb = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % r for r in range(30, 10030))
    assert bounded_sheet(_sheet(text + bomb))[1] == "超过 5000 行"
    xml = _sheet(text)
    assert bounded_sheet(xml) == (xml, "")  # plain references: nothing to rewrite


def _counted_name_by_name(xml: bytes) -> tuple[bytes, bool]:
    """What zipguard._counted answers, asked of each name on its own (the general way)."""
    maybe_prefixed = zipguard._PREFIXED_END.search(xml) is not None
    many_rows, plain_rows = zipguard._too_many(xml, b"row", zipguard.MAX_ROWS, maybe_prefixed)
    if many_rows:
        return b"row", plain_rows
    many_cells, plain_cells = zipguard._too_many(xml, b"c", zipguard.MAX_CELLS, maybe_prefixed)
    return b"c" if many_cells else b"", plain_rows and plain_cells


@pytest.mark.parametrize("rows, cells, tail", [
    (4999, 1, b""), (5000, 1, b""), (5001, 1, b""), (5001, 0, b""), (2, 150_001, b""), (3, 100_001, b""),
    (5001, 1, b'<row><c r="A1"/></row>'), (5001, 1, b'<x:row r="9"/>'), (2, 150_001, b"<c/>"), (10, 3, b":c>"),
])
def test_the_usual_sheet_is_counted_as_each_name_on_its_own(rows, cells, tail):
    """The short way (every tag with a plain r: one search and a count of the literal) gives the general answer."""
    body = b"".join(b'<row r="%d">' % r + b'<c r="A%d"/>' % r * cells + b"</row>" for r in range(1, rows + 1))
    xml = _sheet(body + tail)
    assert zipguard._counted(xml) == _counted_name_by_name(xml)


def test_far_references_and_formulas_are_found_as_the_plain_patterns_find_them():
    """The faster spellings of two searches match the same strings as the plain ones they replace."""
    rng = random.Random(18)
    far = re.compile(rb'r="(?:[A-Z]{0,3}[0-9]{4}|[A-Z]{3}|[C-Z][A-Z]|B[I-Z])')
    formula = (re.compile(rb"<f(?!\w)"), re.compile(rb":f(?!\w)"))
    for _ in range(50_000):
        text = bytes(rng.choice(b'ABHIZ019"r=<:fx ') for _ in range(rng.randint(0, 12)))
        assert bool(zipguard._FAR.search(b'r="' + text)) == bool(far.search(b'r="' + text)), text
        assert bool(sheetxml._F_NAME.search(text)) == any(p.search(text) for p in formula), text


def test_scans_tell_formulas_and_merges_from_what_only_looks_like_them():
    text = b'<row r="4"><c r="B4" t="inlineStr"><is><t>mergeCell ref="A1:B2" &lt;f&gt;1</t></is></c></row>'
    validation = (b'<dataValidations count="1"><dataValidation type="list" sqref="F4"><formula1>"a,b"</formula1>'
                  b"</dataValidation></dataValidations>")
    looks = scan_sheet(_sheet(text).replace(b"</worksheet>", validation + b"</worksheet>"))
    assert looks.formulas == set() and looks.merges == []
    cells = b'<row r="5"><c r="G5"><f>1+1</f><v>2</v></c><c r="H5" xmlns:x="' + MAIN + b'"><x:f>2</x:f></c></row>'
    merges = b'<mergeCells count="1"><mergeCell ref="F6:H6"/></mergeCells>'
    real = scan_sheet(_sheet(text + cells).replace(b"</worksheet>", merges + validation + b"</worksheet>"))
    assert real.formulas == {"G5", "H5"} and real.merges == ["F6:H6"]


def test_calc_tail_row_and_dimension_are_accepted(office, tmp_path):
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:K1048576"', part(office, FORM_PART))
    sheet = sheet.replace(b"</sheetData>", CALC_TAIL + b"</sheetData>")
    sub = validate_file(build(office, tmp_path, {FORM_PART: sheet}), office[1])
    assert sub.findings == []


def test_deleted_task_row_names_the_task_even_with_calc_extents(office, tmp_path):
    import openpyxl

    path = tmp_path / "删行" / NAME
    path.parent.mkdir()
    shutil.copy(office[0], path)
    wb = openpyxl.load_workbook(path)
    wb[F.FORM].delete_rows(7)
    wb.save(path)
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:K1048576"', zipcraft.read(path, FORM_PART))
    sheet = sheet.replace(b"</sheetData>", CALC_TAIL + b"</sheetData>")
    zipcraft.rewrite(path, path, replace={FORM_PART: sheet})
    (hit,) = validate_file(path, office[1]).findings
    assert hit.code == "row-deleted" and "2026-010" in hit.message
