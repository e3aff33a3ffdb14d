"""Reading a published task decomposition (重点工作任务分解方案).

The published table is a flat run of lines: a title, the person in overall
charge, section lines ((一) 主要预期目标), a header row repeated on every page,
leader lines (``刘继英副市长分管领域35项（含主要预期目标5项）``) and numbered task
rows. This module turns that into tasks placed under their leaders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import schema as S
from ..findings import DubanError, Report
from ..language.quantities import extract_target
from ..language.text import cell_text, normalise_text
from ..language.units import UnitName, split_units

_LEADER = re.compile(
    r"^(?P<name>\S+?)(?:分管领域|分管工作|分管|负责)(?:共)?(?P<n>\d+)项"
    r"(?:\(含主要预期目标(?P<main>\d+)项\))?"
)
_SECTION = re.compile(r"^[(（]?[一二三四五六七八九十]+[)）、.]\s*(?P<name>\S.*)$")
_HEAD = re.compile(r"^(?P<name>\S+?)为总负责人")
_HEADERS = {
    "序号": S.SERIAL, "任务目标": S.TEXT, "重点任务": S.TEXT, "任务": S.TEXT, "工作任务": S.TEXT,
    "牵头单位": S.LEAD, "责任单位": S.LEAD, "配合单位": S.SUPPORT, "协办单位": S.SUPPORT,
    "完成时限": S.DEADLINE_TEXT, "时间节点": S.DEADLINE_TEXT, "完成时间": S.DEADLINE_TEXT,
    "分管领导": S.LEADER,
}
_DEFAULT_COLUMNS = [S.SERIAL, S.TEXT, S.LEAD, S.DEADLINE_TEXT]
MAX_SOURCE_BYTES = 20 * 1024 * 1024


@dataclass
class ParsedTask:
    serial: int
    text: str
    lead: list[UnitName]
    support: list[UnitName]
    deadline_text: str
    category: str
    leader: str
    line: int


@dataclass
class ParsedLeader:
    name: str
    declared: int
    declared_main: int
    line: int


@dataclass
class Decomposition:
    source: str
    title: str = ""
    head: str = ""
    tasks: list[ParsedTask] = field(default_factory=list)
    leaders: list[ParsedLeader] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def read_source_rows(path: Path) -> list[list[str]]:
    """Rows of cells from tab-separated text or the first sheet of an .xlsx."""
    if not path.is_file():
        raise DubanError(f"找不到文件：{path}")
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise DubanError(f"文件过大（超过 20 MB）：{path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from ..ooxml.xlsx_reader import read_sheet_rows

        return [[cell_text(v) for v in row] for row in read_sheet_rows(path)]
    if suffix not in (".txt", ".tsv", ".csv", ""):
        raise DubanError(f"不支持的文件类型“{path.suffix}”：请提供制表符分隔的文本或 .xlsx")
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DubanError(f"无法识别文件编码（应为 UTF-8 或 GB18030）：{path}")
    sep = "," if suffix == ".csv" else "\t"
    return [line.split(sep) for line in text.splitlines()]


def parse_decomposition(rows: list[list[str]], source: str = "") -> Decomposition:
    result = Decomposition(source=source)
    report = result.report
    columns = list(_DEFAULT_COLUMNS)
    category = ""
    leader = ""
    seen_header = False
    for line_no, raw_cells in enumerate(rows, start=1):
        raw = [c.strip() for c in raw_cells]
        while raw and not raw[-1]:
            raw.pop()
        if not raw:
            continue
        cells = [normalise_text(c) for c in raw]
        first = re.sub(r"\s+", "", cells[0])
        where = {"file": source, "cell": f"A{line_no}"}
        if first == "序号":
            columns = [_HEADERS.get(re.sub(r"\s+", "", c), "") for c in cells]
            seen_header = True
            continue
        if first.isdigit() and len(cells) > 1:
            task = _task(raw, columns, int(first), category, leader, line_no, report, source)
            if task:
                result.tasks.append(task)
            continue
        if len(cells) > 1 and any(cells[1:]):
            report.add("import-line-unrecognised", f"第{line_no}行无法识别为任务行（序号应为数字）：{cells[0]}",
                       "warning", **where)
            continue
        line = first
        if m := _LEADER.match(line):
            leader = m.group("name")
            category = category or S.CATEGORY_OTHER
            result.leaders.append(ParsedLeader(leader, int(m.group("n")), int(m.group("main") or 0), line_no))
        elif m := _SECTION.match(cells[0]):
            category = re.sub(r"\s+", "", m.group("name"))
            leader = ""
        elif m := _HEAD.match(line):
            result.head = m.group("name")
        elif not seen_header and not result.title:
            result.title = line
        else:
            report.add("import-line-unrecognised", f"第{line_no}行无法识别：{line}", "warning", **where)
    if not result.tasks:
        report.add("import-no-tasks", "未找到任何任务行：请确认文件含“序号、任务目标、牵头单位、完成时限”表头",
                   "error", file=source)
    return result


def _task(cells: list[str], columns: list[str], serial: int, category: str, leader: str,
          line_no: int, report: Report, source: str) -> ParsedTask | None:
    values = {col: cells[i] for i, col in enumerate(columns) if col and i < len(cells)}
    text = values.get(S.TEXT, "")
    lead = split_units(values.get(S.LEAD, ""))
    if not lead:
        report.add("import-lead-missing", f"序号{serial}的任务没有牵头单位", "error",
                   file=source, cell=f"A{line_no}")
    return ParsedTask(
        serial=serial,
        text=text,
        lead=lead,
        support=split_units(values.get(S.SUPPORT, "")),
        deadline_text=values.get(S.DEADLINE_TEXT, ""),
        category=category or S.CATEGORY_OTHER,
        leader=values.get(S.LEADER, "") or leader,
        line=line_no,
    )


def place_main_targets(dec: Decomposition) -> None:
    """Give each main target the leader whose section holds its lead unit, when exactly one does.

    The published table lists main targets before any leader; the declared counts
    (``含主要预期目标5项``) say they belong to leaders but not to whom. Placing by
    lead unit is the only evidence; anything ambiguous is left for staff.
    """
    units_of: dict[str, set[str]] = {}
    for t in dec.tasks:
        if t.leader and t.category != S.CATEGORY_MAIN:
            units_of.setdefault(t.leader, set()).update(u.name for u in t.lead)
    for t in dec.tasks:
        if t.category != S.CATEGORY_MAIN or t.leader:
            continue
        names = {u.name for u in t.lead}
        candidates = [name for name, units in units_of.items() if names & units]
        if len(candidates) == 1:
            t.leader = candidates[0]


def main_target_expression(task: ParsedTask) -> str:
    return extract_target(task.text) if task.category == S.CATEGORY_MAIN else ""
