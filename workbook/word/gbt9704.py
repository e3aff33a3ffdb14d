"""Word documents in the party and government official-document format (GB/T 9704-2012).

A4 paper; margins 37 mm top, 35 mm bottom, 28 mm left (订口), 26 mm right, leaving
the 156 × 225 mm text area the standard fixes; 22 lines of 28 characters; title
2号 方正小标宋简体; body 3号 仿宋_GB2312 indented two characters; headings 一、
in 黑体 and （一） in 楷体_GB2312; page numbers 4号 宋体 as ``— 1 —``, odd pages
right and even pages left, one character in from the edge of the text area.

Fonts are named on every run (``w:eastAsia`` too, so Word uses them for Chinese
text) and in the font table with the alternative Word and WPS take when a font is
missing (``仿宋_GB2312`` → 仿宋, ``楷体_GB2312`` → 楷体, ``黑体`` → SimHei,
``方正小标宋简体`` → 宋体). LibreOffice ignores the font table's alternatives and
asks fontconfig, which files every unknown Chinese font under sans-serif;
``fonts.conf`` beside this module tells it which are Song-style (serif) and which
Hei-style (sans-serif).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

PAGE_MM = (210, 297)
MARGIN_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGIN_MM["left"] - MARGIN_MM["right"]  # 156
TEXT_HEIGHT_MM = PAGE_MM[1] - MARGIN_MM["top"] - MARGIN_MM["bottom"]  # 225
TEXT_WIDTH_PT = TEXT_WIDTH_MM / 25.4 * 72
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
# 22 lines of 28.95 pt fill the 225 mm (637.8 pt) text area; a 23rd does not fit.
LINE_PT = 28.95
TITLE_LINE_PT = 35  # a 2号 title needs more than 28.95 pt, or its glyph tops are clipped
# 3号 glyphs are 16 pt; 28 of them need 448 pt, the line has 442.2 pt. Tightening
# every character by 0.25 pt gives a 15.75 pt pitch: 28 fit (441 pt), 29 do not.
CHAR_SPACING_PT = -0.25
CELL_MARGIN_MM = 1
FOOTER_MM = 25  # puts the page number's dashes about 7 mm below the text area

SIZE_2, SIZE_3, SIZE_4, SIZE_5 = 22.0, 16.0, 14.0, 10.5  # 2号, 3号, 4号, 5号 in points
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
NUMBER_FONT = "宋体"
DASH = "—"  # 一字线


@dataclass(frozen=True)
class FontInfo:
    alt: str  # what Word and WPS use when the font is not installed
    panose: str
    family: str
    pitch: str


FONTS = {
    BODY_FONT: FontInfo("仿宋", "02010609030101010101", "modern", "fixed"),
    SUBHEADING_FONT: FontInfo("楷体", "02010609030101010101", "modern", "fixed"),
    HEADING_FONT: FontInfo("SimHei", "02010609060101010101", "modern", "fixed"),
    TITLE_FONT: FontInfo("宋体", "02000000000000000000", "auto", "variable"),
    NUMBER_FONT: FontInfo("SimSun", "02010600030101010101", "auto", "variable"),
}
FONTCONFIG = Path(__file__).with_name("fonts.conf")


def em_width(text: str) -> float:
    """Width of ``text`` in 3号 characters: Chinese characters and full-width punctuation one, the rest half."""
    return sum(1.0 if ord(ch) >= 0x2E80 or ch in "—…“”‘’·" else 0.5 for ch in text)


def date_text(day: dt.date) -> str:
    """``2026年6月30日``: the 成文日期 as GB/T 9704 writes it (Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def split_title(text: str, max_width: float) -> list[str]:
    """A title in as few lines as fit, broken where the words allow and the lines balance.

    GB/T 9704 asks for complete words on each line and a trapezoid or diamond
    outline: lines of similar length, a break after a closing book-title mark or
    before ``……情况的通报`` rather than inside a number or a name.
    """
    total = em_width(text)
    if total <= max_width:
        return [text]
    widths = [0.0]
    for ch in text:
        widths.append(widths[-1] + em_width(ch))
    allowed = {i: c for i in range(1, len(text)) if (c := _break_cost(text, i)) is not None}
    for n in range(math.ceil(total / max_width), 5):
        target = total / n
        best: tuple[float, tuple[int, ...]] | None = None
        for breaks in combinations(sorted(allowed), n - 1):
            bounds = (0, *breaks, len(text))
            lines = [widths[b] - widths[a] for a, b in pairwise(bounds)]
            if max(lines) > max_width:
                continue
            cost = sum(allowed[b] for b in breaks) + sum((w - target) ** 2 for w in lines) / 4
            cost += 0.5 if n == 2 and lines[0] > lines[1] else 0.0  # two lines: shorter on top, a trapezoid
            if best is None or cost < best[0]:
                best = (cost, bounds)
        if best:
            return [text[a:b] for a, b in pairwise(best[1])]
    lines, line = [], ""  # a title this long: fill line by line
    for ch in text:
        if em_width(line + ch) > max_width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line]


_GOOD_AFTER = "》”）」，、："
_NO_BREAK_BEFORE = "》”）」，。、：；！？%％"
_NO_BREAK_AFTER = "《“（「"
_GOOD_BEFORE = ("推进情况", "落实情况", "进展情况", "完成情况", "情况的通报", "的通报")


def _break_cost(text: str, i: int) -> float | None:
    """Cost of breaking ``text`` before index ``i`` (None: not allowed)."""
    a, b = text[i - 1], text[i]
    if b in _NO_BREAK_BEFORE or a in _NO_BREAK_AFTER:
        return None
    if a.isascii() and b.isascii() and a.isalnum() and b.isalnum():
        return None  # inside a number or a Latin word
    if a in _GOOD_AFTER:
        return 0.0
    if any(text.startswith(w, i) for w in _GOOD_BEFORE):
        return 1.0
    return 4.0 if a.isdigit() or b.isdigit() else 3.0


class OfficialDocument:
    """A python-docx document laid out per GB/T 9704, with the elements a 通报 or 通知单 uses."""

    def __init__(self, title: str, author: str, day: dt.date) -> None:
        self.doc = Document()
        self._page()
        self._styles()
        self._font_table()
        self._page_numbers()
        props = self.doc.core_properties
        props.title, props.author, props.last_modified_by = title, author, author
        props.created = props.modified = dt.datetime.combine(day, dt.time(9))
        props.revision, props.comments, props.keywords, props.language = 1, "", "", "zh-CN"
        package = self.doc.part.package
        for rid, rel in list(package.rels.items()):  # python-docx's template ships an English thumbnail
            if rel.reltype == RT.THUMBNAIL:
                del package.rels[rid]

    # ------------------------------------------------------------ set-up

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.top_margin, section.bottom_margin = Mm(MARGIN_MM["top"]), Mm(MARGIN_MM["bottom"])
        section.left_margin, section.right_margin = Mm(MARGIN_MM["left"]), Mm(MARGIN_MM["right"])
        section.gutter = 0
        section.header_distance, section.footer_distance = Mm(15), Mm(FOOTER_MM)
        grid = section._sectPr.find(qn("w:docGrid"))
        grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))  # Word's page set-up then shows 22 lines

    def _styles(self) -> None:
        styles = self.doc.styles.element
        defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        fonts = defaults.find(qn("w:rFonts"))
        for attr in list(fonts.attrib):  # theme fonts would win over the names set below
            del fonts.attrib[attr]
        set_fonts(defaults, BODY_FONT)
        lang = defaults.find(qn("w:lang"))
        lang.set(qn("w:val"), "en-US")  # Western text stays Western: numbers are not broken across lines
        lang.set(qn("w:eastAsia"), "zh-CN")
        normal = self.doc.styles["Normal"]
        rpr = normal.element.get_or_add_rPr()
        set_fonts(rpr, BODY_FONT)
        normal.font.size = Pt(SIZE_3)
        _child(rpr, "w:spacing").set(qn("w:val"), str(round(CHAR_SPACING_PT * 20)))
        pf = normal.paragraph_format
        pf.line_spacing = Pt(LINE_PT)  # a length means "exactly"
        pf.space_before = pf.space_after = Pt(0)
        pf.first_line_indent = Pt(2 * SIZE_3)
        pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        pf.widow_control = False
        _child(normal.element.get_or_add_pPr(), "w:overflowPunct").set(qn("w:val"), "0")  # no punctuation past the margin
        ind = normal.element.get_or_add_pPr().find(qn("w:ind"))
        ind.set(qn("w:firstLineChars"), "200")  # Word shows "2 字符"

    def _font_table(self) -> None:
        part = self.doc.part.part_related_by(RT.FONT_TABLE)
        entries = "".join(
            f'<w:font w:name="{name}"><w:altName w:val="{f.alt}"/><w:panose1 w:val="{f.panose}"/>'
            f'<w:charset w:val="86"/><w:family w:val="{f.family}"/><w:pitch w:val="{f.pitch}"/></w:font>'
            for name, f in FONTS.items())
        part._blob = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:fonts xmlns:w='
                      '"http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                      f"{entries}</w:fonts>").encode()

    def _page_numbers(self) -> None:
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer,
                                                                          WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            pf = p.paragraph_format
            pf.alignment, pf.first_line_indent, pf.line_spacing = align, Pt(0), 1.0
            if align == WD_ALIGN_PARAGRAPH.RIGHT:  # 单页码居右空一字, 双页码居左空一字
                pf.right_indent = Pt(SIZE_4)
            else:
                pf.left_indent = Pt(SIZE_4)
            run(p, f"{DASH} ", NUMBER_FONT, SIZE_4)
            for field in ('<w:fldChar w:fldCharType="begin"/>', '<w:instrText xml:space="preserve"> PAGE </w:instrText>',
                          '<w:fldChar w:fldCharType="separate"/>', "<w:t>1</w:t>", '<w:fldChar w:fldCharType="end"/>'):
                p._p.append(parse_xml(f"<w:r {nsdecls('w')}>{_rpr(NUMBER_FONT, SIZE_4)}{field}</w:r>"))
            run(p, f" {DASH}", NUMBER_FONT, SIZE_4)

    # ------------------------------------------------------------ elements

    def title(self, text: str) -> None:
        """The title, 2号 小标宋, centred, in lines broken where the words allow."""
        p = self._plain(WD_ALIGN_PARAGRAPH.CENTER, TITLE_LINE_PT)
        lines = split_title(text, math.floor(TEXT_WIDTH_PT / (SIZE_2 + CHAR_SPACING_PT)))
        run(p, "\n".join(lines), TITLE_FONT, SIZE_2)

    def centred(self, text: str, font: str = BODY_FONT, size: float = SIZE_3) -> Paragraph:
        p = self._plain(WD_ALIGN_PARAGRAPH.CENTER)
        run(p, text, font, size)
        return p

    def blank(self, lines: int = 1) -> None:
        for _ in range(lines):
            self._plain(WD_ALIGN_PARAGRAPH.LEFT)

    def flush_left(self, text: str) -> Paragraph:
        """A paragraph without indent: the 主送机关 line."""
        p = self._plain(WD_ALIGN_PARAGRAPH.JUSTIFY)
        run(p, text, BODY_FONT, SIZE_3)
        return p

    def body(self, text: str, lead: str = "") -> Paragraph:
        """A body paragraph; ``lead`` (e.g. ``（一）逾期任务。``) in 楷体 before the text, as a second-level heading."""
        p = self.doc.add_paragraph()
        if lead:
            run(p, lead, SUBHEADING_FONT, SIZE_3)
        if text:
            run(p, text, BODY_FONT, SIZE_3)
        return p

    def heading(self, text: str) -> Paragraph:
        """A first-level heading (``一、总体情况``) in 黑体, indented like the body."""
        p = self.doc.add_paragraph()
        p.paragraph_format.keep_with_next = True
        _child(p._p.get_or_add_pPr(), "w:outlineLvl").set(qn("w:val"), "0")
        run(p, text, HEADING_FONT, SIZE_3)
        return p

    def signature(self, issuer: str, day: dt.date, space: int = 2) -> None:
        """落款 for a sealed document: ``space`` lines for the seal, then the issuer centred above the date,
        the date four characters in from the right. The last paragraph before it moves with it to a
        new page rather than leave the 落款 alone on one."""
        if self.doc.paragraphs:
            self.doc.paragraphs[-1].paragraph_format.keep_with_next = True
        for _ in range(space):
            self._plain(WD_ALIGN_PARAGRAPH.LEFT).paragraph_format.keep_with_next = True
        date = date_text(day)
        pitch = SIZE_3 + CHAR_SPACING_PT
        date_right = 4 * SIZE_3
        issuer_right = max(0.0, date_right + (em_width(date) - em_width(issuer)) * pitch / 2)
        for text, right in ((issuer, issuer_right), (date, date_right)):
            p = self._plain(WD_ALIGN_PARAGRAPH.RIGHT)
            p.paragraph_format.right_indent = Pt(right)
            p.paragraph_format.keep_with_next = text == issuer
            run(p, text, BODY_FONT, SIZE_3)

    def attachment_heading(self, title: str, number: int | None = None) -> None:
        """A new page headed ``附件`` (黑体, flush left, first line) with the attachment's title on line three."""
        p = self._plain(WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.page_break_before = True
        run(p, "附件" + (str(number) if number else ""), HEADING_FONT, SIZE_3)
        self.blank()
        self.title(title)
        self.blank()

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], widths_mm: Sequence[float],
              centred: Sequence[int] = (), size: float = SIZE_5) -> Table:
        """A bordered table across the text area: the header row repeats on every page, no row splits."""
        table = self.doc.add_table(rows=0, cols=len(headers))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            b = OxmlElement(f"w:{side}")
            for k, v in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "000000")):
                b.set(qn(f"w:{k}"), v)
            borders.append(b)
        tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook")
        margins = OxmlElement("w:tblCellMar")  # 1 mm each side: a column of 6 characters stays 6 characters
        for side in ("left", "right"):
            m = OxmlElement(f"w:{side}")
            m.set(qn("w:w"), str(round(CELL_MARGIN_MM / 25.4 * 1440)))
            m.set(qn("w:type"), "dxa")
            margins.append(m)
        tbl_pr.insert_element_before(margins, "w:tblLook")
        for col, w in zip(table.columns, widths_mm):
            col.width = Mm(w)
        # Rows as XML, one parse each: python-docx's per-cell proxies take seconds for a long attachment.
        line = round(size * 1.5 * 20)
        widths = [round(w / 25.4 * 1440) for w in widths_mm]
        for r, values in enumerate([list(headers)] + [list(v) for v in rows]):
            font = HEADING_FONT if r == 0 else BODY_FONT
            cells = "".join(
                f'<w:tc><w:tcPr><w:tcW w:w="{widths[c]}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                f'<w:p><w:pPr><w:spacing w:line="{line}" w:lineRule="exact"/>'
                f'<w:ind w:firstLine="0" w:firstLineChars="0"/>'
                f'<w:jc w:val="{"center" if r == 0 or c in centred else "left"}"/></w:pPr>'
                f'{_run_xml("" if value is None else str(value), font, size)}</w:p></w:tc>'
                for c, value in enumerate(values))
            header = "<w:tblHeader/>" if r == 0 else ""
            table._tbl.append(parse_xml(f"<w:tr {nsdecls('w')}><w:trPr><w:cantSplit/>{header}</w:trPr>{cells}</w:tr>"))
        return table

    def save(self, path: Path) -> None:
        """Write the .docx to ``path`` (callers pass a temp file of the atomic write path)."""
        self.doc.save(str(path))

    def _plain(self, align: Any, line_pt: float = LINE_PT) -> Paragraph:
        p = self.doc.add_paragraph()
        pf = p.paragraph_format
        pf.first_line_indent, pf.alignment = Pt(0), align
        _child(p._p.get_or_add_pPr(), "w:ind").set(qn("w:firstLineChars"), "0")
        if line_pt != LINE_PT:
            pf.line_spacing = Pt(line_pt)
        return p


def run(p: Paragraph, text: str, font: str, size: float) -> Any:
    """Append a run with its font named for every script (East Asian included) and its size;
    a line feed in ``text`` becomes a line break."""
    r = parse_xml(_run_xml(text, font, size, nsdecls("w")))
    p._p.append(r)
    return r


def _rpr(font: str, size: float) -> str:
    font = escape(font, {'"': "&quot;"})
    half_points = round(size * 2)
    return (f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>'
            f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>')


def _run_xml(text: str, font: str, size: float, namespaces: str = "") -> str:
    text = _CONTROL.sub("", text)
    lines = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in text.split("\n"))
    return f"<w:r{' ' + namespaces if namespaces else ''}>{_rpr(font, size)}{lines}</w:r>"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML


def set_fonts(rpr: Any, font: str) -> None:
    fonts = _child(rpr, "w:rFonts")
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), font)


# Child order of the properties elements this module edits (ECMA-376 Part 1, 17.3 and 17.4).
_ORDER = {
    "rPr": ("rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
            "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText "
            "vertAlign rtl cs em lang eastAsianLayout specVanish oMath").split(),
    "pPr": ("pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
            "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
            "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
            "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange").split(),
    "trPr": ("cnfStyle divId gridBefore gridAfter wBefore wAfter cantSplit trHeight tblHeader tblCellSpacing jc "
             "hidden ins del trPrChange").split(),
}


def _child(parent: Any, tag: str) -> Any:
    """The child ``tag`` of a properties element (rPr, pPr, trPr), created in schema order if missing."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    element = OxmlElement(tag)
    order = _ORDER[parent.tag.rsplit("}", 1)[1]]
    name = tag.split(":")[1]
    parent.insert_element_before(element, *(f"w:{t}" for t in order[order.index(name) + 1:]))
    return element
