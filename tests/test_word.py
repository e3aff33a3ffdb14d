"""The Word 通报 and the 督办通知单: format values read back with python-docx, and the documents
rendered by LibreOffice (one soffice run for every file) and read back from the PDF."""

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

import soffice
from workbook import schema as S
from workbook.cli import main
from workbook.collect import collect
from workbook.filling import fill_unit_file
from workbook.master import read_master
from workbook.report import bulletin_of
from workbook.split import split_master
from workbook.word import gbt9704 as G
from workbook.word.notices import add_working_days, notices_from_file
from workbook.word.tongbao import narrative

AS_OF = dt.date(2026, 7, 15)  # tasks due at the end of June and not done are overdue by then
UNITS = ["市发改委", "市民政局", "市财政局", "市教育局", "市文旅广电局"]
PT_PER_MM = 72 / 25.4


@pytest.fixture(scope="session")
def office(sample_master_file, tmp_path_factory):
    """A master after one collect: five units reported, the others did not."""
    root = tmp_path_factory.mktemp("word") / "督查室 台账"
    root.mkdir()
    master = root / "总台账.xlsx"
    shutil.copy(sample_master_file, master)
    split_master(master, root / "下发", units=UNITS)
    for path in (root / "下发").iterdir():
        fill_unit_file(path, dt.date(2026, 6, 30))
    collect([root / "下发"], master)
    return root


@pytest.fixture(scope="session")
def documents(office, sample_master_file):
    """Every document the tests read, written through the CLI, then one LibreOffice run to PDF."""
    out = office / "输出 文件"
    out.mkdir()
    master = office / "总台账.xlsx"
    args = ["--as-of", AS_OF.isoformat()]
    assert main(["report", str(master), "-o", str(out / "通报.docx"), *args]) == 0
    assert main(["report", str(master), "-o", str(out / "通报工作簿.xlsx"), *args]) == 0
    notices_master = office / "督办用台账.xlsx"
    shutil.copy(master, notices_master)
    assert main(["notices", str(notices_master), "-o", str(out / "督办通知单"), *args]) == 0
    assert main(["report", str(sample_master_file), "-o", str(out / "尚无报送.docx")]) == 0
    done = office / "全部完成.xlsx"
    shutil.copy(sample_master_file, done)
    wb = openpyxl.load_workbook(done)
    ws = wb[S.TASKS]
    col = {c.value: c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col[S.STATUS]).value, ws.cell(r, col[S.PROGRESS]).value = S.STATUS_DONE, 100
    wb.save(done)
    assert main(["report", str(done), "-o", str(out / "全部完成.docx")]) == 0
    biggest = max((out / "督办通知单").iterdir(), key=lambda p: len(Document(p).tables[0].rows))
    pdfs = render(out, [out / "通报.docx", out / "尚无报送.docx", out / "全部完成.docx", biggest, out / "通报工作簿.xlsx"])
    return {"dir": out, "master": master, "notices_master": notices_master, "notice": biggest, "pdf": pdfs}


def render(out: Path, files: list[Path]) -> dict[str, Path]:
    """One soffice run converting ``files``; fontconfig told which official-document fonts are serif."""
    if not shutil.which("pdftotext"):
        pytest.skip("LibreOffice (Writer, Calc) and poppler-utils are needed to render the documents")
    conf = out / "fonts.conf"
    system = os.environ.get("FONTCONFIG_FILE", "/etc/fonts/fonts.conf")
    conf.write_text(f'<?xml version="1.0"?>\n<fontconfig><include>{G.FONTCONFIG}</include>'
                    f"<include ignore_missing=\"yes\">{system}</include></fontconfig>\n", encoding="utf-8")
    pdf_dir = out / "pdf"
    proc = soffice.convert(files, "pdf", pdf_dir, timeout=240, env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    pdfs = {f.name: pdf_dir / f"{f.stem}.pdf" for f in files}
    assert all(p.exists() for p in pdfs.values()), proc.stderr
    return pdfs


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def pdf_words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page, every word with its box (x0, y0, x1, y1) in points from the top left."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    return [[(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in word.findall(page)]
            for page in html.split("<page ")[1:]]


def pdf_info(pdf: Path) -> str:
    return subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout


def body_text(path: Path) -> str:
    return "\n".join(p.text for p in Document(path).paragraphs)


# ------------------------------------------------------------------ format values (python-docx)


def test_page_fonts_and_spacing_follow_gbt9704(documents):
    doc = Document(documents["dir"] / "通报.docx")
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16) and normal.paragraph_format.first_line_indent == Pt(32)
    assert normal.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    line = normal.paragraph_format.line_spacing.pt
    assert 22 * line <= 225 * PT_PER_MM < 23 * line  # exactly 22 lines fill the text area
    pitch = 16 + int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert 28 * pitch <= 156 * PT_PER_MM < 29 * pitch  # exactly 28 characters fill a line

    paragraphs = doc.paragraphs
    title = paragraphs[0]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert [(r.font.size, fonts(r)) for r in title.runs] == [(Pt(22), {G.TITLE_FONT})]
    assert title.text == "关于2026年《政府工作报告》\n重点工作任务推进情况的通报"  # two lines, broken after 》
    headings = [p for p in paragraphs if re.match(r"[一二三四五六]、", p.text)]
    assert len(headings) == 6 and all(fonts(r) == {G.HEADING_FONT} for p in headings for r in p.runs)
    leads = [p.runs[0] for p in paragraphs if p.text.startswith("（一）")]
    assert leads and all(fonts(r) == {G.SUBHEADING_FONT} for r in leads)
    body = [r for p in paragraphs if p.text and p not in headings and p is not title for r in p.runs]
    assert all(r.font.size in (Pt(16), Pt(22)) for r in body)
    assert all(r._r.rPr.rFonts.get(qn("w:eastAsia")) for p in paragraphs for r in p.runs)
    texts = [p.text for p in paragraphs]
    note, date = texts.index("附件：逾期及红灯任务清单"), texts.index("2026年7月15日")
    assert texts[date - 1] == S.DEFAULT_ISSUER and note < date
    signature = paragraphs[date]
    assert signature.alignment == WD_ALIGN_PARAGRAPH.RIGHT and signature.paragraph_format.right_indent == Pt(64)
    assert texts[date + 1:date + 3] == ["附件", ""]  # the attachment on a page of its own
    assert paragraphs[date + 1].paragraph_format.page_break_before


def fonts(run) -> set[str]:
    f = run._r.rPr.rFonts
    return {f.get(qn(f"w:{a}")) for a in ("ascii", "hAnsi", "eastAsia")}


def test_page_numbers_fallback_fonts_and_table_rows(documents):
    doc = Document(documents["dir"] / "通报.docx")
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    assert odd.alignment == WD_ALIGN_PARAGRAPH.RIGHT and odd.paragraph_format.right_indent == Pt(14)
    assert even.alignment == WD_ALIGN_PARAGRAPH.LEFT and even.paragraph_format.left_indent == Pt(14)
    for p in (odd, even):
        assert p.text.startswith("— ") and p.text.endswith(" —") and "PAGE" in p._p.xml
        assert {r.font.size for r in p.runs} == {Pt(14)} and {fonts(r).pop() for r in p.runs} == {G.NUMBER_FONT}
    font_table = doc.part.part_related_by("http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable")
    xml = font_table.blob.decode()
    for name, alt in (("仿宋_GB2312", "仿宋"), ("楷体_GB2312", "楷体"), ("黑体", "SimHei"), ("方正小标宋简体", "宋体")):
        assert f'<w:font w:name="{name}"><w:altName w:val="{alt}"/>' in xml
    table = doc.tables[0]
    rows = table.rows
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in rows)
    assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [c.text for c in rows[0].cells] == ["序号", "任务目标", "牵头单位", "分管领导", "完成时限", "进展", "督办原因"]
    widths = [c.width for c in rows[1].cells]
    assert round(sum(w.mm for w in widths)) == 156  # the text area, nothing wider
    red = Document(documents["dir"] / "通报.docx")
    assert len(red.tables[0].rows) - 1 == overview(documents)["红灯"]


def test_title_lines_break_between_words():
    assert G.split_title("关于2026年《政府工作报告》重点工作任务推进情况的通报", 20) == [
        "关于2026年《政府工作报告》", "重点工作任务推进情况的通报"]
    assert G.split_title("督办通知单", 20) == ["督办通知单"]
    long = "关于呼和浩特市2026年国民经济和社会发展计划重点项目及民生实事推进落实情况的通报"
    lines = G.split_title(long, 20)
    assert "".join(lines) == long and all(G.em_width(x) <= 20 for x in lines) and len(lines) == 2
    assert not any(a[-1:].isdigit() and b[:1].isdigit() for a, b in zip(lines, lines[1:]))
    assert G.date_text(dt.date(2026, 6, 30)) == "2026年6月30日"


# ------------------------------------------------------------------ the words and their numbers


def overview(documents) -> dict:
    wb = openpyxl.load_workbook(documents["dir"] / "通报工作簿.xlsx")
    return {r[0]: r[1] for r in wb["总体情况"].iter_rows(min_row=4, values_only=True) if r[0]}


def sheet_rows(documents, name) -> list[dict]:
    ws = openpyxl.load_workbook(documents["dir"] / "通报工作簿.xlsx")[name]
    header = [c.value for c in ws[3]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None
            and not str(r[0]).startswith(("多个", "按到期", "截至", "（无）"))]


def test_every_number_in_the_narrative_is_the_workbooks(documents):
    text = body_text(documents["dir"] / "通报.docx")
    ov = overview(documents)
    total = ov["任务总数"]
    pct = "{:.2%}".format
    assert f"共确定重点工作任务{total}项" in text
    for key, label in (("已完成", "已完成"), ("序时推进", "序时推进"), ("滞后", "滞后"), ("未报送", "尚未报送进展")):
        n = ov[f"状态：{key}"]
        if n:
            assert f"{label}{n}项，占{pct(n / total)}" in text
    assert f"已完成{ov['已完成']}项，占{pct(ov['总体完成率'])}" in text  # the share done is the overall rate
    assert (f"到期任务{ov['到期任务']}项，已完成{ov['到期已完成']}项，到期完成率{pct(ov['到期完成率'])}；"
            f"全部任务总体完成率{pct(ov['总体完成率'])}，平均进度{ov['平均进度(%)']:g}%") in text
    assert f"红灯任务{ov['红灯']}项、黄灯任务{ov['黄灯']}项、绿灯任务{ov['绿灯']}项" in text
    assert f"逾期未完成{ov['逾期任务']}项、15日内临期{ov['临期任务']}项" in text
    assert ov["逾期任务"] > 0 and f"{ov['逾期任务']}项任务已过完成时限仍未完成" in text

    leaders = {r["名称"]: r for r in sheet_rows(documents, "按分管领导")}
    for name, due, overall in re.findall(r"([^，、；：]+?)分管领域（到期完成率([\d.]+)%，总体完成率([\d.]+)%）", text):
        assert (pct(leaders[name]["到期完成率"]), pct(leaders[name]["总体完成率"])) == (due + "%", overall + "%")
    named = re.findall(r"([^，、；：]+?)分管领域红灯任务(\d+)项(?:（其中逾期(\d+)项）)?", text)
    assert named
    for name, red, late in named:
        assert (leaders[name]["红"], leaders[name]["逾期"]) == (int(red), int(late or 0))
    units = {r["名称"]: r for r in sheet_rows(documents, "按牵头单位")}
    named = re.findall(r"([^，、；：]+?)红灯任务(\d+)项(?:（其中逾期(\d+)项）)?", text.split("三、")[1].split("四、")[0])
    assert named
    for name, red, late in named:
        assert (units[name]["红"], units[name]["逾期"]) == (int(red), int(late or 0))
    missing = sheet_rows(documents, "未报送单位")
    assert f"应报送单位{len(units)}个，已报送{len(units) - len(missing)}个，未报送{len(missing)}个：" in text
    assert "、".join(m["单位"] for m in missing) in text
    indicators = sheet_rows(documents, "指标完成情况")
    short = re.findall(r"([^：、；]+)（完成率([\d.]+)%）", text)
    for name, rate in short:
        assert any(str(r["指标"]).startswith(name) and pct(r["完成率"]) == rate + "%" for r in indicators), name
    # every other number in the narrative (dates and quoted task names aside) is one of these
    allowed = {str(v) for r in [ov, *leaders.values(), *units.values()] for v in r.values() if isinstance(v, int)}
    allowed |= {str(len(x)) for x in (leaders, units, missing, indicators)} | {"15", "25"}  # 临期天数, 每月报送日
    reported = [r for r in indicators if r["完成情况"] != "未报送"]
    allowed |= {str(len(reported)), str(sum(1 for r in reported if (r["完成率"] or 0) >= 1)), str(len(short)),
                str(len(indicators) - len(reported))}
    narrative_only = re.sub(r"[^：、；]+（完成率[\d.]+%）|《[^》]*》|“[^”]*”|\d+年\d+月(?:\d+日)?|\d+月\d+日|\d+月底|（[一二三四五六]）|\d+\.(?=“)", "",
                            text[text.index("为推动"):text.index("六、下步工作要求")])
    for number in re.findall(r"(?<![\d.])\d+(?![\d.%])", narrative_only):
        assert number in allowed, number


def test_narrative_for_a_master_without_submissions_and_with_everything_done(documents, sample_master_file):
    fresh = body_text(documents["dir"] / "尚无报送.docx")
    assert "尚未报送进展189项，占100.00%" in fresh and "均未报送推进情况" in fresh
    assert "按完成进度为零评价" in fresh and "各分管领域暂无已完成任务" in fresh
    done = body_text(documents["dir"] / "全部完成.docx")
    assert "全部189项任务均已完成" in done and "均已全部完成" in done and "红灯任务0项" in done
    assert "附件：" not in done and not Document(documents["dir"] / "全部完成.docx").tables
    master = read_master(sample_master_file)
    sections = narrative(master, *bulletin_of(master))
    assert [s.heading for s in sections][1:] == ["一、总体情况", "二、分管领导领域推进情况", "三、牵头单位推进情况",
                                                 "四、逾期和临期任务", "五、报送情况", "六、下步工作要求"]


def test_next_steps_and_issuer_come_from_settings(master_copy, tmp_path):
    wb = openpyxl.load_workbook(master_copy)
    ws = wb[S.SETTINGS]
    keys = {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}
    keys[S.S_ISSUER].value = "呼和浩特市人民政府督查室"
    keys[S.S_NEXT_STEPS].value = "（一）抓好整改。逐项整改到位。\n请各单位对照执行。"
    keys[S.S_ADDRESSEES].value = "各有关单位"
    wb.save(master_copy)
    out = tmp_path / "通报.docx"
    assert main(["report", str(master_copy), "-o", str(out)]) == 0
    doc = Document(out)
    texts = [p.text for p in doc.paragraphs]
    assert "各有关单位：" in texts and "呼和浩特市人民政府督查室" in texts
    steps = texts[texts.index("六、下步工作要求") + 1:]
    assert steps[:2] == ["（一）抓好整改。逐项整改到位。", "请各单位对照执行。"]
    lead = next(p for p in doc.paragraphs if p.text.startswith("（一）抓好整改"))
    assert [r.text for r in lead.runs] == ["（一）抓好整改。", "逐项整改到位。"]
    assert fonts(lead.runs[0]) == {G.SUBHEADING_FONT} and fonts(lead.runs[1]) == {G.BODY_FONT}


def test_report_refuses_other_suffixes_and_the_master_itself(master_copy, capsys):
    assert main(["report", str(master_copy), "-o", str(master_copy.with_name("通报.pdf"))]) == 2
    assert main(["report", str(master_copy), "-o", str(master_copy)]) == 2
    err = capsys.readouterr().err
    assert ".docx" in err and "会覆盖台账" in err and "Traceback" not in err


# ------------------------------------------------------------------ 督办通知单


def test_notices_are_numbered_once_and_recorded(documents, tmp_path):
    master = documents["notices_master"]
    rows = list(openpyxl.load_workbook(master)[S.NOTICES].iter_rows(values_only=True))
    assert rows[0] == tuple(S.NOTICE_COLUMNS)
    files = sorted((documents["dir"] / "督办通知单").iterdir())
    assert len(rows) - 1 == len(files) > 1
    assert [r[0] for r in rows[1:]] == [f"督办〔2026〕{n}号" for n in range(1, len(files) + 1)]
    assert {f"督办通知单_{r[3]}.docx" for r in rows[1:]} == {f.name for f in files}
    assert all(r[6] == dt.datetime(2026, 7, 22) for r in rows[1:])  # 5 working days after Wednesday 15 July
    # The same notices again keep their numbers; a later date continues the sequence.
    copy = tmp_path / "台账.xlsx"
    shutil.copy(master, copy)
    again = notices_from_file(copy, tmp_path / "again", AS_OF)
    assert not any(n.new for n in again.notices) and again.backup is None
    assert [n.code for n in again.notices] == [r[0] for r in rows[1:]]
    later = notices_from_file(copy, tmp_path / "later", dt.date(2026, 8, 14))
    assert later.notices[0].number == len(files) + 1 and all(n.new for n in later.notices)
    recorded = list(openpyxl.load_workbook(copy)[S.NOTICES].iter_rows(values_only=True))
    assert len(recorded) == len(rows) + len(later.notices)
    assert len({r[0] for r in recorded[1:]}) == len(recorded) - 1  # no number twice


def test_notice_content(documents):
    doc = Document(documents["notice"])
    texts = [p.text for p in doc.paragraphs]
    unit = documents["notice"].stem.split("_", 1)[1]
    assert texts[0] == "督办通知单" and re.fullmatch(r"督办〔2026〕\d+号", texts[1]) and f"{unit}：" in texts
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "任务目标", "完成时限", "进展", "督办原因"]
    reasons = [r.cells[4].text for r in table.rows[1:]]
    assert all(re.fullmatch(r"已超过完成时限\d+天仍未完成|未按期达到节点：.+|落后序时进度[\d.]+个百分点", x)
               for x in reasons)
    assert any("前将整改措施和推进情况书面反馈" in t and "2026年7月22日" in t for t in texts)
    assert texts[-2:] == [S.DEFAULT_ISSUER, "2026年7月15日"]


def test_working_days_skip_weekends():
    friday = dt.date(2026, 7, 17)
    assert add_working_days(friday, 1) == dt.date(2026, 7, 20)
    assert add_working_days(friday, 5) == dt.date(2026, 7, 24)
    assert add_working_days(dt.date(2026, 7, 18), 5) == dt.date(2026, 7, 24)  # from a Saturday


def test_a_master_without_the_record_sheet_gets_one(master_copy, tmp_path):
    wb = openpyxl.load_workbook(master_copy)
    del wb[S.NOTICES]
    wb.save(master_copy)
    result = notices_from_file(master_copy, tmp_path / "督办", AS_OF)
    rows = list(openpyxl.load_workbook(master_copy)[S.NOTICES].iter_rows(values_only=True))
    assert rows[0] == tuple(S.NOTICE_COLUMNS) and len(rows) == len(result.notices) + 1 > 1


def test_notices_change_only_the_record_sheet(documents, tmp_path):
    import zipfile

    before, after = documents["master"], documents["notices_master"]
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        changed = {n for n in a.namelist() if a.read(n) != b.read(n)}
    sheets = openpyxl.load_workbook(after).sheetnames
    part = f"xl/worksheets/sheet{sheets.index(S.NOTICES) + 1}.xml"
    assert changed <= {part, "xl/styles.xml"}


# ------------------------------------------------------------------ rendered by LibreOffice


def test_rendered_pages_are_a4_numbered_and_inside_the_text_area(documents):
    for name in ("通报.docx", "尚无报送.docx", "全部完成.docx", documents["notice"].name):
        pdf = documents["pdf"][name]
        info = pdf_info(pdf)
        assert "595.3" in info and "841.89" in info, name  # A4 in points
        pages = pdf_pages(pdf)
        assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(pages)
        for number, (text, words) in enumerate(zip(pages, pdf_words(pdf)), start=1):
            footer = [w for w in words if w[1] > (297 - 35) * PT_PER_MM]
            assert "".join(w[4] for w in footer) == f"—{number}—", (name, number)
            right = [w for w in footer if w[4] == str(number)][0]
            odd_side = right[0] > 105 * PT_PER_MM
            assert odd_side == (number % 2 == 1), (name, number)  # odd pages right, even pages left
            for x0, y0, x1, y1, w in words:
                if (x0, y0, x1, y1, w) in footer:
                    continue
                assert y0 >= 37 * PT_PER_MM - 2 and y1 <= (297 - 35) * PT_PER_MM + 1, (name, number, w)
                assert x0 >= 28 * PT_PER_MM - 1, (name, number, w)
                # LibreOffice reads w:overflowPunct upside down (it hangs punctuation where Word
                # does not): a closing mark may reach one character past the right edge.
                limit = (210 - 26) * PT_PER_MM + (16.5 if w[-1] in "，。、；：）”’" else 1)
                assert x1 <= limit, (name, number, w)
    last = pdf_pages(documents["pdf"][documents["notice"].name])[-1]
    assert "书面反馈" in last and "2026 年 7 月 15 日" in last  # the 落款 never stands alone on a page


def test_rendered_body_has_22_lines_of_28_characters(documents):
    pdf = documents["pdf"]["通报.docx"]
    words = pdf_words(pdf)[1]  # page 2: body text only
    lines: dict[int, list] = {}
    for w in words:
        if w[1] < (297 - 35) * PT_PER_MM:
            lines.setdefault(round(w[1]), []).append(w)
    assert len(lines) == 22
    for line in lines.values():
        text = "".join(w[4] for w in sorted(line))
        assert G.em_width(text) <= 28.5, text


def test_rendered_fonts_and_first_page(documents, tmp_path):
    pdf = documents["pdf"]["通报.docx"]
    fonts_used = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    # body and title in a Song (serif) face, headings in a Hei (sans) face, as fontconfig was told
    assert "NotoSerifCJK" in fonts_used and "NotoSansCJK" in fonts_used
    first = pdf_pages(pdf)[0]
    assert "关于 2026 年《政府工作报告》" in first and "重点工作任务推进情况的通报" in first
    assert first.index("重点工作任务") > first.index("关于")  # the title's second line
    pages = pdf_pages(pdf)
    attachment = next(i for i, p in enumerate(pages) if p.lstrip().startswith("附件\n"))
    assert "逾期及红灯任务清单" in pages[attachment] and "督办原因" in pages[attachment + 1]  # header repeated
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_workbook_bulletin_prints_each_chart_on_one_page(documents):
    pages = pdf_pages(documents["pdf"]["通报工作簿.xlsx"])
    sheets = [re.search(r"督查通报\s+(\S+)", p).group(1) for p in pages]
    assert sheets.count("总体情况") == 1  # both charts beside the table, on the first page
    for name in ("按分管领导", "按牵头单位"):
        own = [p for p, s in zip(pages, sheets) if s == name]
        with_ticks = [p for p in own if {"20%", "40%", "60%", "80%"} <= set(p.split())]
        assert len(with_ticks) == 1 and f"{name}完成率" in with_ticks[0], name  # the whole axis on the title's page
        assert with_ticks[0] is own[-1]
