"""Quantitative targets (指标): a task's rate within its master, and the rates published tables state (``duban rates``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import schema as S
from .findings import Report
from .language.quantities import AT_MOST, RELATIVE, SUFFIX_AT_MOST, UNITS, bare_number, find_quantities, prepare
from .language.rates import completion_rate, target_note
from .language.text import cell_text, col_letter, normalise_text
from .sources import read_document

if TYPE_CHECKING:
    from .master import Master


def reference_growth(master: "Master") -> str | None:
    """The GDP growth target of the plan: the reference of 与经济增长同步 targets."""
    for t in master.tasks:
        if "生产总值" in cell_text(t.get(S.TEXT)) and cell_text(t.get(S.TARGET)):
            return cell_text(t.get(S.TARGET))
    return None


def rate_for_task(target: str, actual: str, master: "Master") -> float | None:
    if not target or not actual:
        return None
    reference = reference_growth(master) if RELATIVE.search(prepare(target)) else None
    return completion_rate(target, actual, reference)


# Header words of published indicator tables (the same synonyms import reads), matched
# on the header text without spaces, line breaks or a bracketed unit (完成比例(%) → 完成比例).
TARGET_HEADERS = ("目标", "目标值", "预期目标", "年度目标", "全年目标", "目标任务", "年度目标任务", "工作目标",
                  "任务目标", "计划目标", "年度计划", "计划", "计划数", "目标数")
ACTUAL_HEADERS = ("完成情况", "完成值", "实际完成", "实际完成值", "实际", "完成", "完成数", "已完成数", "已完成",
                  "累计完成", "执行情况", "进度", "实绩")
RATE_HEADERS = ("完成率", "完成进度", "完成比例", "完成目标", "完成年度目标", "占年任务之比", "占年度目标",
                "占年度任务", "完成百分比", "目标完成率", "进度比例")
NAME_HEADERS = ("指标", "指标名称", "主要指标", "考核指标", "项目", "项目名称", "项目内容", "名称", "内容", "任务",
                "实事内容", "民生实事", "工作任务")
UNIT_HEADERS = ("单位", "计量单位")
_ACTUAL_PERIOD = re.compile(r"^(?:\d{4}年)?(?:1|一)[-—~至](?:\d{1,2}|[一二三四五六七八九十]{1,2})月(?:份)?(?:累计)?(?:完成|实际)?")
_NOT_NAME = re.compile(r"序号|编号|单位|领导|备注|牵头|责任|配合")
_PAREN = re.compile(r"[（(]([^（()）]*)[)）]")
_TABLE_UNIT = re.compile(r"单位[:：]\s*([^\s，,；;]+)")
_LOWER_BETTER = tuple(AT_MOST + SUFFIX_AT_MOST) + ("劣于", "劣Ⅴ类", "劣V类")
MAX_ROWS = 5000


@dataclass
class Group:
    """One target/actual/rate column triple (a table may hold several side by side)."""

    target: int
    actual: int | None = None
    rate: int | None = None
    name: str = ""  # the indicator, when it is the group's header above the columns
    percent: bool = False  # the rate column is headed (%): its numbers are percentages


@dataclass
class Layout:
    header_row: int  # 0-based
    groups: list[Group] = field(default_factory=list)
    name_col: int | None = None
    unit_col: int | None = None
    table_unit: str = ""


def check_indicator_table(path: Path, reference: str | None = None) -> Report:
    """Compare the rates an indicator table states (完成率) with the computed ones.

    The table may be an .xlsx (any sheet) or tab-separated text as copied from a web
    page. Its header row names a target, an actual and (optionally) a rate column
    with any of the synonyms above, once per indicator or once per group of
    columns; units are read from a 单位 column, a bracket in the indicator's name or
    header (``城镇新增就业(人)``, ``(亿元)``) or a ``单位：亿元`` line above the table, and
    a lower-is-better word there (``城镇登记失业率低于(%)``) makes a bare target a
    ceiling. A stated rate is checked at the precision it is printed with.
    """
    path = Path(path)
    report = Report()
    checked = found = 0
    sheets = _sheets(path)
    for sheet, rows in sheets:
        layout: Layout | None = None
        for r, row in enumerate(rows):
            found_layout = _layout(rows, r)
            if found_layout:
                layout = found_layout
                continue
            if layout is None:
                continue
            for group in layout.groups:
                result = _check_row(path.name, sheet, rows, r, layout, group, reference, report)
                found += result is not None
                checked += bool(result)
    if not found:
        seen = next((["“" + cell_text(v) + "”" for v in row if cell_text(v)] for _, rows in sheets for row in rows
                     if sum(1 for v in row if cell_text(v)) >= 3), [])
        report.add("indicator-rows-missing", "未找到指标行：表头应有目标列（" + "、".join(TARGET_HEADERS[:6])
                   + "…）和完成列（" + "、".join(ACTUAL_HEADERS[:5]) + "…），完成率列（"
                   + "、".join(RATE_HEADERS[:4]) + "…）可有可无"
                   + (f"；表中第一行表头为 {'、'.join(seen[:8])}" if seen else "；文件中没有表格"), "error", file=path.name)
    report.stats.update(checked=checked, rows=found)
    return report


def _sheets(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """The tables of the file, read as decompositions are (any sheet, Word table or text)."""
    return [(t.sheet, [r.texts() for r in t.rows[:MAX_ROWS]]) for t in read_document(path).tables]


def _header_key(value: Any) -> tuple[str, str]:
    """A header cell without spaces, its bracket and a leading year: (key, bracket text)."""
    text = re.sub(r"\s+", "", normalise_text(value))
    bracket = " ".join(_PAREN.findall(text))
    return re.sub(r"^\d{4}年(?:度)?", "", _PAREN.sub("", text)), bracket


def _kind(value: Any) -> str:
    key, _ = _header_key(value)
    if key in TARGET_HEADERS:
        return "target"
    if key in RATE_HEADERS:
        return "rate"
    if key in ACTUAL_HEADERS or _ACTUAL_PERIOD.match(key):
        return "actual"
    if key in UNIT_HEADERS:
        return "unit"
    if key in NAME_HEADERS:
        return "name"
    return ""


def _layout(rows: list[list[Any]], r: int) -> Layout | None:
    """The layout when row ``r`` is a header row (it names a target and an actual column)."""
    kinds = [_kind(v) for v in rows[r]]
    if "target" not in kinds or "actual" not in kinds:
        return None
    layout = Layout(r)
    for c, kind in enumerate(kinds):
        if kind == "target":
            layout.groups.append(Group(c))
        elif kind in ("actual", "rate") and layout.groups:
            group = layout.groups[-1]
            if kind == "actual" and group.actual is None:
                group.actual = c
            elif kind == "rate" and group.rate is None:
                group.rate = c
                group.percent = "%" in _header_key(rows[r][c])[1] or "%" in str(rows[r][c])
        elif kind == "unit" and layout.unit_col is None:
            layout.unit_col = c
        elif kind == "name" and layout.name_col is None:
            layout.name_col = c
    layout.groups = [g for g in layout.groups if g.actual is not None]
    above = rows[max(0, r - 6):r]
    for line in above:
        for v in line:
            if m := _TABLE_UNIT.search(cell_text(v)):
                layout.table_unit = m.group(1)
    if len(layout.groups) > 1:  # side by side: each group is one indicator, named above its columns
        for i, g in enumerate(layout.groups):
            end = layout.groups[i + 1].target if i + 1 < len(layout.groups) else g.target + 3
            names = [cell_text(line[c]) for line in reversed(above) for c in range(g.target, min(end, len(line)))
                     if cell_text(line[c])]
            g.name = next((n for n in names if _unit_in(n)), names[0] if names else "")
    return layout if layout.groups else None


def _cell(row: list[Any], c: int | None) -> Any:
    return row[c] if c is not None and c < len(row) else None


def _row_name(row: list[Any], layout: Layout, group: Group, header: list[Any]) -> str:
    if group.name:
        label = cell_text(_cell(row, 0))
        return f"{label} {group.name}".strip()
    if layout.name_col is not None and cell_text(_cell(row, layout.name_col)):
        candidates = range(layout.name_col, group.target)
    else:
        candidates = range(group.target)
    names = [cell_text(_cell(row, c)) for c in candidates
             if c != layout.unit_col and not _NOT_NAME.search(cell_text(_cell(header, c)))]
    names = [n for n in names if n and not re.fullmatch(r"[\d.*]+", n)]
    return names[-1] if names else ""


def _unit_in(text: str) -> str:
    """A unit word in brackets (城镇新增就业(人) → 人), or a unit cell's first unit (元/月/人 → 元)."""
    for part in _PAREN.findall(normalise_text(text)) + [normalise_text(text)]:
        part = part.strip()
        head = re.split(r"[/、]", part)[0]
        if head in UNITS:
            return head
    return ""


def _with_unit(value: Any, unit: str, lower_better: bool) -> str:
    """A target or actual cell as a quantity: a bare number takes the header's unit and bound."""
    text = cell_text(value)
    if not text or bare_number(text) is None:
        return text
    number = prepare(text)
    text = number + unit if unit and unit in UNITS else number
    return ("不超过" + text) if lower_better else text


def _check_row(file: str, sheet: str, rows: list[list[Any]], r: int, layout: Layout, group: Group,
               reference: str | None, report: Report) -> bool | None:
    """Check one indicator of one row: ``None`` when it holds none, else whether a stated rate was checked."""
    row = rows[r]
    target_raw, actual_raw = cell_text(_cell(row, group.target)), cell_text(_cell(row, group.actual))
    if not target_raw or target_raw in ("-", "—", "/") or (not actual_raw and group.rate is None):
        return None
    header = rows[layout.header_row]
    name = _row_name(row, layout, group, header)
    unit = (_unit_in(cell_text(_cell(row, layout.unit_col))) if layout.unit_col is not None else "") \
        or _unit_in(group.name or name) or _unit_in(cell_text(header[group.target])) or _unit_in(layout.table_unit)
    lower_better = any(w in (group.name or name) for w in _LOWER_BETTER) and not find_quantities(target_raw)
    target = _with_unit(target_raw, unit, lower_better)
    actual = _with_unit(actual_raw, unit, False)
    computed = completion_rate(target, actual, reference)
    stated = _stated(_cell(row, group.rate), group.percent)
    report.stats.setdefault("rates", []).append({
        "cell": f"{col_letter(group.target + 1)}{r + 1}", "indicator": name, "target": target_raw, "actual": actual_raw,
        "stated": f"{stated[0]}%" if stated else cell_text(_cell(row, group.rate)),
        "computed": None if computed is None else float(_round(computed * 100, 2))})
    where = {"file": file, "sheet": sheet, "cell": f"{col_letter(group.target + 1)}{r + 1}"}
    if note := target_note(target):
        report.add("target-range", f"{name}：{note}", "info", **where)
    if stated is None:
        return False
    where["cell"] = f"{col_letter((group.rate or 0) + 1)}{r + 1}"
    shown, places = stated
    if computed is None:
        report.add("rate-not-computable", f"{name}：表中完成率 {shown}% 无法由目标“{target_raw}”和完成情况“{actual_raw}”"
                   "算出（计量单位不同或不是数值），请核对", "warning", **where)
        return True
    expected = _round(computed * 100, places)
    if expected == Decimal(shown):
        return True
    exact = f"{_round(computed * 100, 4).normalize():f}%"
    low, high = _rounding_range(target, actual, reference)
    if low is not None and high is not None and _round(low * 100, places) <= Decimal(shown) <= _round(high * 100, places):
        report.add("stated-rate-rounding", f"{name}：表中完成率 {shown}% 与按 {actual_raw}÷{target_raw} 计算的 {exact} "
                   f"不同，但目标和完成数是四舍五入后的数，其范围内完成率为 {_round(low * 100, places)}%～"
                   f"{_round(high * 100, places)}%，表中数值在此范围内", "info", **where)
    else:
        how = f"{target_raw}÷{actual_raw}" if lower_better or target.startswith(("不超过", "控制在", "低于")) \
            else f"{actual_raw}÷{target_raw}"
        report.add("stated-rate-mismatch", f"{name}：表中完成率 {shown}% 与按 {how} 计算的 {exact}"
                   f"（保留 {places} 位小数为 {expected}%）不一致", "warning", suggestion=f"{expected}%", **where)
    return True


def _stated(value: Any, percent_header: bool) -> tuple[str, int] | None:
    """A stated rate as printed, in percent, with its number of decimal places; ``None`` when it is no number."""
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(%?)", prepare(value))
    if not m:
        return None
    text = m.group(1)
    if not m.group(2) and not percent_header and abs(Decimal(text)) <= 10:
        # A fraction: what an Excel percentage cell holds (its format, not its value, says how it is
        # printed; published tables print two decimals, 68.75%).
        percent = Decimal(text) * 100
        places = max(2, -percent.normalize().as_tuple().exponent)  # type: ignore[operator]
        return f"{percent:.{places}f}", places
    places = len(text.split(".")[1]) if "." in text else 0
    return text, places


def _round(value: float, places: int) -> Decimal:
    return Decimal(repr(round(value, 8))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _rounding_range(target: str, actual: str, reference: str | None) -> tuple[float | None, float | None]:
    """The lowest and highest rate the printed figures allow when they were rounded to their decimals."""
    def variants(text: str) -> list[str]:
        m = re.search(r"\d+\.(\d+)", text)
        if not m:
            return [text]
        half = Decimal(1).scaleb(-len(m.group(1))) / 2
        number = Decimal(m.group(0))
        return [text[:m.start()] + f"{number + d:f}" + text[m.end():] for d in (-half, half)]
    rates = [completion_rate(t, a, reference) for t in variants(target) for a in variants(actual)]
    found = [x for x in rates if x is not None]
    if len(found) < 2:
        return None, None
    return min(found), max(found)
