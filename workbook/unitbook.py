"""The unit workbook file (单位工作簿): a unit's 填报 (protected, inputs unlocked), 说明 and very hidden _meta.

One layout, two writers. :func:`layout` lists every cell of the three sheets (value and style
name) in the order they are written. XlsxWriter writes a whole workbook from it, with the sheet
setup (columns, merged title rows, drop-downs, protection, print setup) that depends only on the
workbook's :class:`Shape`: that is the reference (:func:`write_with_xlsxwriter`).

:func:`write_unit_workbook` writes the same file at a fraction of XlsxWriter's cost, which is
per cell and per package rather than in any one place: a split writes hundreds of workbooks of a
few shapes. For the first workbook of each shape XlsxWriter writes a prototype in memory, and
every part that does not depend on the cells is taken from it as it is (the sheet XML around
``<sheetData>``, workbook.xml, relationships, theme, content types; styles.xml for each order in
which the styles are first used, since XlsxWriter numbers them in that order) and compressed once.
Per unit only the cells, the shared strings, the title and the company are serialised, exactly
as XlsxWriter serialises them, and the zip is written with the precompressed parts. The result
is the file XlsxWriter writes, byte for byte (tests/test_unitbook.py), with one deliberate
difference: a text that looks like rich-text markup (``<r>…</r>``) is escaped, where XlsxWriter
would copy it into sharedStrings.xml as markup.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from . import form as F
from . import schema as S
from .language.text import col_letter
from .ooxml.repack import Deflated, deflated, package
from .ooxml.rowstream import xml_escape

_BASE = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "top"}
_INPUT = {**_BASE, "locked": False, "bg_color": "#FFF2CC"}
# The XlsxWriter formats by name, in the order they are added (all distinct: XlsxWriter would
# merge identical ones into one style index).
FORMATS: dict[str, dict[str, Any]] = {
    "title": {"font_name": "宋体", "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"},
    "sub": {"font_name": "宋体", "font_size": 11, "align": "left", "valign": "vcenter"},
    "head": {**_BASE, "bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter", "text_wrap": True},
    "locked": {**_BASE},
    "locked_wrap": {**_BASE, "text_wrap": True},
    "locked_date": {**_BASE, "num_format": "yyyy-mm-dd"},
    "grey": {**_BASE, "bg_color": "#EDEDED"},
    "input": {**_INPUT},
    "input_wrap": {**_INPUT, "text_wrap": True},
    "input_date": {**_INPUT, "num_format": "yyyy-mm-dd"},
    "label": {**_BASE, "bold": True},
    "guide": {"font_name": "宋体", "font_size": 11, "text_wrap": True, "valign": "top"},
    "guide_head": {"font_name": "宋体", "font_size": 14, "bold": True},
}
SHEETS = [F.FORM, F.GUIDE, F.META]
TITLE_HEIGHT = 30
MERGED_ROWS = (0, 1)  # 0-based rows of 填报 merged across all columns: the title and the unit line
_LAST_COL = len(F.COLUMNS) - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = tuple[int, Any, "str | None"]  # 0-based column; str, number, datetime or None (blank); style name
Row = tuple[int, "float | None", list[Cell]]  # 0-based row; height in points (None: the default); cells by column


class Shape(NamedTuple):
    """What the sheet setup depends on besides the number of tasks (which only moves the ranges of
    :func:`_ranges`): the workbooks of one shape share everything but their cells."""

    any_tasks: bool
    statuses: tuple[str, ...]
    year: int
    password: str


@dataclass
class Layout:
    """The cells of 填报, 说明 and _meta, and the document properties."""

    sheets: list[list[Row]]
    title: str
    company: str
    shape: Shape
    tasks: int


def layout(form: F.UnitForm, password: str | None = None) -> Layout:
    """Every cell of a unit's workbook, sheet by sheet, row by row, column by column."""
    title, sub = form.title_lines()
    rows: list[Row] = [
        (0, TITLE_HEIGHT, [(0, title, "title")] + [(c, None, "title") for c in range(1, _LAST_COL + 1)]),
        (1, None, [(0, sub, "sub")] + [(c, None, "sub") for c in range(1, _LAST_COL + 1)]),
        (F.HEADER_ROW - 1, None, [(c, name, "head") for c, name in enumerate(F.HEADERS)]),
    ]
    for r, (values, quantitative) in enumerate(zip(form.rows, form.quantitative), start=F.FIRST_ROW - 1):
        cells: list[Cell] = []
        for c, (name, _, is_input) in enumerate(F.COLUMNS):
            value = values[c]
            if name == S.ACTUAL and not quantitative:
                style = "grey"
            elif is_input:
                style = "input_wrap" if name in F.WRAP else "input"
            else:
                style = "locked_wrap" if name in F.WRAP else "locked"
            if isinstance(value, dt.date):
                cells.append((c, dt.datetime.combine(value, dt.time()), "locked_date"))
            elif value is None or value == "":
                cells.append((c, None, style))
            elif isinstance(value, (int, float)):
                cells.append((c, value, style))
            else:
                cells.append((c, str(value), style))
        rows.append((r, F.row_height(values), cells))
    for label in F.FOOTER:
        rows.append((F.footer_row(len(form.rows), label) - 1, None,
                     [(0, label, "label"), (1, None, "input_date" if label == F.REPORT_DATE else "input")]))
    guide = [(r, None, [(0, line, "guide_head" if r == 0 else "guide")]) for r, line in enumerate(form.guide())]
    meta = [(r, None, [(0, key, None), (1, value if isinstance(value, int) else str(value), None)])
            for r, (key, value) in enumerate(form.meta())]
    shape = Shape(bool(form.rows), tuple(form.statuses), form.year, password or "")
    # Document properties are plain text: a control character would make the part unreadable.
    return Layout([rows, guide, meta], _CONTROL.sub("", title), _CONTROL.sub("", form.unit), shape, len(form.rows))


# ------------------------------------------------------------- the reference: XlsxWriter


def write_with_xlsxwriter(form: F.UnitForm, path: Path | io.BytesIO, password: str | None = None,
                          created: dt.datetime | None = None) -> None:
    """Write a unit's workbook with XlsxWriter (the reference the fast writer is held to)."""
    _xlsxwriter(layout(form, password), path, created or dt.datetime(form.year, 1, 1))


def _xlsxwriter(book: Layout, target: Path | io.BytesIO, created: dt.datetime) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(target if isinstance(target, io.BytesIO) else str(target), {
        "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        "in_memory": True,
    })
    wb.set_properties({"title": book.title, "author": "duban", "company": book.company, "created": created})
    fmt = {name: wb.add_format(props) for name, props in FORMATS.items()}
    sheets = [wb.add_worksheet(name) for name in SHEETS]
    _setup(sheets, book.shape, book.tasks)
    for ws, rows in zip(sheets, book.sheets):
        for r, height, cells in rows:
            if height is not None:
                ws.set_row(r, height)
            if ws is sheets[0] and r in MERGED_ROWS:
                ws.merge_range(r, 0, r, _LAST_COL, cells[0][1], fmt[cells[0][2]])
                continue
            for c, value, style in cells:
                f = fmt[style] if style else None
                if value is None:
                    ws.write_blank(r, c, None, f)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, f)
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, f)
                else:
                    ws.write_number(r, c, value, f)
    wb.close()


def _setup(sheets: list[Any], shape: Shape, tasks: int) -> None:
    """The sheet setup of a workbook: it may depend on nothing but ``shape`` and the ranges of
    :func:`_ranges` (the prototypes rely on it)."""
    ws, guide, meta = sheets
    ranges = _ranges(tasks)
    for c, (_, width, _) in enumerate(F.COLUMNS):
        ws.set_column(c, c, width)
    if shape.any_tasks:
        ws.data_validation(*ranges["status"], {
            "validate": "list", "source": list(shape.statuses),
            "error_title": "完成状态", "error_message": "请从下拉列表选择：" + "、".join(shape.statuses)})
        ws.data_validation(*ranges["progress"], {
            "validate": "integer", "criteria": "between", "minimum": 0, "maximum": 100,
            "error_title": "完成进度", "error_message": "请填 0 到 100 的整数"})
    ws.data_validation(*ranges["date"], {"validate": "date", "criteria": ">=",
                                         "minimum": dt.date(shape.year - 1, 1, 1),
                                         "error_message": "请填写日期，如 2026-06-25"})
    ws.freeze_panes(F.HEADER_ROW, 2)
    ws.repeat_rows(F.HEADER_ROW - 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.protect(shape.password, {"format_columns": True, "format_rows": True})
    guide.set_column(0, 0, 90)
    guide.fit_to_pages(1, 0)
    guide.set_paper(9)
    guide.protect(shape.password)
    meta.very_hidden()
    meta.protect(shape.password)
    ws.activate()


def _ranges(tasks: int) -> dict[str, tuple[int, int, int, int]]:
    """The drop-downs' ranges of 填报 (0-based first row, column, last row, column) for ``tasks`` tasks."""
    first, last = F.FIRST_ROW - 1, F.FIRST_ROW - 2 + tasks
    date = F.footer_row(tasks, F.REPORT_DATE) - 1
    return {"status": (first, F.COL[S.STATUS], last, F.COL[S.STATUS]),
            "progress": (first, F.COL[S.PROGRESS], last, F.COL[S.PROGRESS]),
            "date": (date, 1, date, 1)}


# ------------------------------------------------------------- the fast writer


def write_unit_workbook(form: F.UnitForm, path: Path, password: str | None = None,
                        created: dt.datetime | None = None) -> None:
    """Write one unit's workbook: the file XlsxWriter writes (see the module's docstring)."""
    book = layout(form, password)
    created = created or dt.datetime(form.year, 1, 1)
    styles = _style_indices(book)
    proto, styles_part = _PROTOTYPES.get(book.shape), _STYLES.get(tuple(styles))
    if proto is None or proto.tasks not in (None, book.tasks) or styles_part is None:
        proto, styles_part = _learn(book)
    slots = {_slot_of(name): _ref(*cells) for name, cells in _ranges(book.tasks).items()}
    sst = _Strings()
    generated = {"docProps/core.xml": proto.core.replace(_ISO_SENTINEL, created.strftime("%Y-%m-%dT%H:%M:%SZ"))
                                                .replace(_TITLE_SENTINEL, xml_escape(book.title)),
                 "docProps/app.xml": proto.app.replace(_COMPANY_SENTINEL, xml_escape(book.company))}
    for k, rows in enumerate(book.sheets):
        before, after = proto.sheets[k]
        before = before.replace(_DIMENSION, _ref(*_used(rows)))
        for slot, ref in slots.items():
            after = after.replace(slot, ref)
        generated[f"xl/worksheets/sheet{k + 1}.xml"] = before + _sheet_data(rows, styles, sst) + after
    generated["xl/sharedStrings.xml"] = sst.xml(proto.sst)
    parts = []
    for info in proto.infos:
        if info.filename in generated:
            parts.append(deflated(info, generated[info.filename].encode("utf-8")))
        elif info.filename == "xl/styles.xml":
            parts.append(styles_part)
        else:
            parts.append(proto.static[info.filename])
    data = package(parts)
    with open(path, "wb") as fh:
        fh.write(data)


@dataclass
class _Prototype:
    infos: list[zipfile.ZipInfo]  # the parts, in XlsxWriter's order
    static: dict[str, Deflated]  # the parts every workbook of the shape shares
    sheets: list[tuple[str, str]]  # each sheet's XML before and after its cells, with slots for the ranges
    sst: tuple[str, str]  # sharedStrings.xml before the counts, after the last string
    core: str  # with _TITLE_SENTINEL and _ISO_SENTINEL
    app: str  # with _COMPANY_SENTINEL
    tasks: int | None  # None: for any number of tasks; else only for this one (the ranges were not found)


_PROTOTYPES: dict[Shape, _Prototype] = {}
_STYLES: dict[tuple[str, ...], Deflated] = {}  # styles.xml by the order styles are first used in
_TITLE_SENTINEL, _COMPANY_SENTINEL = "\ue000title\ue000", "\ue000company\ue000"
_SENTINEL_DATE = dt.datetime(1999, 9, 9, 9, 9, 9)
_ISO_SENTINEL = _SENTINEL_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
_DIMENSION = "\ue000dimension\ue000"
_GENERATED = {"docProps/core.xml", "docProps/app.xml", "xl/sharedStrings.xml", "xl/styles.xml",
              *(f"xl/worksheets/sheet{k}.xml" for k in range(1, len(SHEETS) + 1))}


def _learn(book: Layout) -> tuple[_Prototype, Deflated]:
    """Let XlsxWriter write ``book`` (with sentinels for the title, company and date); keep what
    the workbooks of its shape share, with slots where the ranges go, and its styles."""
    for cache in (_PROTOTYPES, _STYLES):
        if len(cache) > 64:  # bounded, whatever a long-running process splits
            cache.clear()
    buffer = io.BytesIO()
    _xlsxwriter(Layout(book.sheets, _TITLE_SENTINEL, _COMPANY_SENTINEL, book.shape, book.tasks), buffer,
                _SENTINEL_DATE)
    with zipfile.ZipFile(buffer) as z:
        infos = z.infolist()
        text = {i.filename: z.read(i).decode("utf-8") for i in infos if i.filename in _GENERATED}
        static = {i.filename: deflated(i, z.read(i)) for i in infos if i.filename not in _GENERATED}
        styles_info = next(i for i in infos if i.filename == "xl/styles.xml")
        styles = _STYLES[tuple(_style_indices(book))] = deflated(styles_info, z.read(styles_info))
    general = True
    sheets = []
    for k, rows in enumerate(book.sheets):
        xml = text[f"xl/worksheets/sheet{k + 1}.xml"]
        start, end = xml.index("<sheetData>") + len("<sheetData>"), xml.rindex("</sheetData>")
        dimension = f'<dimension ref="{_ref(*_used(rows))}"/>'
        before, ok = _slot(xml[:start], dimension, f'<dimension ref="{_DIMENSION}"/>')
        after = xml[end:]
        general &= ok
        if k == 0 and book.shape.any_tasks:
            for name, cells in _ranges(book.tasks).items():
                after, ok = _slot(after, f'sqref="{_ref(*cells)}"', f'sqref="{_slot_of(name)}"')
                general &= ok
        sheets.append((before, after))
    sst = text["xl/sharedStrings.xml"]
    proto = _Prototype(infos, static, sheets, (sst[:sst.index(' count="')], sst[sst.rindex("</si>") + 5:]),
                       text["docProps/core.xml"], text["docProps/app.xml"], None if general else book.tasks)
    _PROTOTYPES[book.shape] = proto
    return proto, styles


def _slot(xml: str, found: str, slot: str) -> tuple[str, bool]:
    """``xml`` with ``found`` made a slot, if it is there exactly once (else the prototype stays as it is)."""
    return (xml.replace(found, slot), True) if xml.count(found) == 1 else (xml, False)


def _slot_of(name: str) -> str:
    return f"\ue000{name}\ue000"


def _ref(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """A range as XlsxWriter writes it: ``F4:F23``, a single cell ``B27``."""
    first, last = f"{col_letter(first_col + 1)}{first_row + 1}", f"{col_letter(last_col + 1)}{last_row + 1}"
    return first if first == last else f"{first}:{last}"


def _used(rows: list[Row]) -> tuple[int, int, int, int]:
    """The range a sheet's cells cover (its dimension)."""
    return (rows[0][0], min(cells[0][0] for _, _, cells in rows),
            rows[-1][0], max(cells[-1][0] for _, _, cells in rows))


def _style_indices(book: Layout) -> dict[str, int]:
    """Style name → index in styles.xml: XlsxWriter numbers the styles in the order cells use them first."""
    indices: dict[str, int] = {}
    for rows in book.sheets:
        for _, _, cells in rows:
            for _, _, style in cells:
                if style and style not in indices:
                    indices[style] = len(indices) + 1  # 0 is the default style
    return indices


_COLS = [col_letter(c + 1) for c in range(len(F.COLUMNS))]
_DEFAULT_PIXELS = 20  # XlsxWriter's default row height (15 points)


def _sheet_data(rows: list[Row], styles: dict[str, int], sst: "_Strings") -> str:
    """The rows of one sheet as XlsxWriter writes them (spans per block of 16 rows, heights in points)."""
    spans: dict[int, tuple[int, int]] = {}
    for r, _, cells in rows:
        lo, hi = spans.get(r // 16, (cells[0][0], cells[-1][0]))
        spans[r // 16] = (min(lo, cells[0][0]), max(hi, cells[-1][0]))
    out = []
    add = sst.add
    for r, height, cells in rows:
        n = r + 1
        lo, hi = spans[r // 16]
        head = f'<row r="{n}" spans="{lo + 1}:{hi + 1}"'
        if height is not None and (pixels := int(height * 4.0 / 3.0 + 0.5)) != _DEFAULT_PIXELS:
            head += f' ht="{pixels * 0.75:.16g}" customHeight="1"'
        out.append(head + ">")
        for c, value, style in cells:
            s = f' s="{styles[style]}"' if style else ""
            if value is None:
                out.append(f'<c r="{_COLS[c]}{n}"{s}/>')
            elif isinstance(value, str):
                out.append(f'<c r="{_COLS[c]}{n}"{s} t="s"><v>{add(value)}</v></c>')
            else:
                if isinstance(value, dt.datetime):
                    value = _excel_date(value)
                out.append(f'<c r="{_COLS[c]}{n}"{s}><v>{value:.16G}</v></c>')
        out.append("</row>")
    return "".join(out)


def _excel_date(value: dt.datetime) -> float:
    """A date (at midnight, as the form writes them) as Excel's serial number, 1900 leap-year bug included."""
    days = (value - dt.datetime(1899, 12, 31)).days
    if value.date() == dt.date(1900, 1, 1):
        days -= 1  # as XlsxWriter has it
    return float(days + 1 if days > 59 else days)


_STRMAX = 32767  # Excel's limit, in UTF-16 units
_X_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_SST_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"^\s|\s$")


class _Strings:
    """The shared strings of one workbook, numbered in the order they are first written."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def add(self, text: str) -> int:
        if len(text) > _STRMAX // 2:
            text = _utf16_truncate(text)
        self.count += 1
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def xml(self, frame: tuple[str, str]) -> str:
        items = "".join(map(_si, self.index))
        return f'{frame[0]} count="{self.count}" uniqueCount="{len(self.index)}">{items}{frame[1]}'


def _si(text: str) -> str:
    """One shared string: control characters as ``_xHHHH_`` (and a literal ``_xHHHH_`` escaped in turn)."""
    if "_x" in text:
        text = _X_ESCAPE.sub(r"_x005F\1", text)
    if not text.isprintable():
        text = _SST_CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    return f"<si><t{space}>{xml_escape(text)}</t></si>"


def _utf16_truncate(text: str) -> str:
    """At most 32,767 UTF-16 units, never half a character (XlsxWriter truncates longer text so)."""
    length = 0
    for i, ch in enumerate(text):
        length += 2 if ord(ch) > 0xFFFF else 1
        if length > _STRMAX:
            return text[:i]
    return text
