"""A published task decomposition (重点工作任务分解方案) as tasks placed under their leaders.

Whatever the layout (see :mod:`workbook.sources`), the document arrives as tables
of rows; :mod:`.columns` finds each header row and says which column is which.
This module reads the rows under it: numbered task rows, continuation rows (a
task cell merged down over the rows of its several units), and lines: the title,
the person in overall charge, section lines ((一) 主要预期目标), leader lines
(``刘继英副市长分管领域35项（含主要预期目标5项）``, ``一、王纲市长主抓重点工作``)
and notes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .. import schema as S
from ..findings import Report
from ..language.quantities import extract_target
from ..language.text import normalise_text
from ..language.units import UnitName, split_units
from .columns import ColumnMap, find_headers, seen_headers
from .table import SourceCell, SourceDocument, SourceRow, SourceTable

_LEADER = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.]|[(（][一二三四五六七八九十]+[)）])?\s*"
    r"(?P<name>\S+?(?:副?(?:市|县|区|州|旗|盟|镇|乡)长|主任|书记|秘书长|部长|调研员|局长)?)"
    r"(?:分管领域|分管工作|分管|负责|主抓|牵头)(?:的)?(?:重点工作|工作|任务)?(?:共)?(?:(?P<n>\d+)项)?"
    r"(?:[(（]含主要预期目标(?P<main>\d+)项[)）])?$"
)
_SECTION = re.compile(r"^[(（]?[一二三四五六七八九十]+[)）、.]\s*(?P<name>\S.*)$")
_HEAD = re.compile(r"^(?P<name>\S+?)为总负责人")
_NOTE = re.compile(r"^(?:注|备注|说明|附注)\s*\d*\s*[:：.、]")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*[:：]?\s*$")
_TITLE_WORDS = re.compile(r"方案|分解|分工|清单|任务|实事|项目|计划|安排")
_CN_SERIAL = re.compile(r"^[(（]?[一二三四五六七八九十]+[)）、.]?$")
FATAL = ("import-no-table", "import-no-unit-column", "import-no-tasks")


@dataclass
class ParsedTask:
    serial: int  # running number in the master (1, 2, 3 … in document order)
    text: str
    lead: list[UnitName]
    support: list[UnitName]
    deadline_text: str
    category: str
    leader: str
    line: int
    published: str = ""  # the number as the document prints it (一-3, （二）…), when it is not ``serial``
    where: dict[str, str] = field(default_factory=dict)


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
    layout: str = ""
    tasks: list[ParsedTask] = field(default_factory=list)
    leaders: list[ParsedLeader] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    mappings: list[ColumnMap] = field(default_factory=list)  # one per distinct header, as shown to the user
    skipped: Counter[str] = field(default_factory=Counter)  # what was read and deliberately not imported

    @property
    def found(self) -> bool:
        """False when nothing could be imported (no table, no unit column, no task): nothing is written."""
        return not any(f.code in FATAL for f in self.report.findings)


def parse_document(doc: SourceDocument, overrides: dict[str, str] | None = None) -> Decomposition:
    """Tasks, leaders and lines of every table of ``doc``."""
    return _Parser(doc, overrides or {}).run()


class _Parser:
    def __init__(self, doc: SourceDocument, overrides: dict[str, str]) -> None:
        self.doc, self.overrides = doc, overrides
        self.result = Decomposition(source=doc.file, layout=doc.layout)
        self.category = ""
        self.leader = ""
        self.preamble: list[str] = []
        self.started = False  # a header row has been seen
        self.last: ParsedTask | None = None
        self.last_cells: dict[str, SourceCell] = {}

    def run(self) -> Decomposition:
        previous: ColumnMap | None = None
        for table in self.doc.tables:
            maps = {m.header_rows[0]: m for m in find_headers(table, self.overrides)}
            sub_rows = {i for m in maps.values() for i in m.header_rows[1:]}
            current = previous if not maps and previous and _width(table) == _width(previous.table) else None
            self.last = None
            for index, row in enumerate(table.rows):
                if index in maps:
                    current = previous = self._header(maps[index])
                elif index not in sub_rows and not row.is_blank():
                    self._row(row, table, current)
        self._finish()
        return self.result

    def _header(self, cmap: ColumnMap) -> ColumnMap:
        self.started = True
        self._flush_preamble()
        known = next((m for m in self.result.mappings if m.header_texts == cmap.header_texts), None)
        if known:
            self.result.skipped["重复的表头行"] += 1
            known_cols = {cmap.headers[i]: c for i, c in cmap.columns.items()}
            if known_cols == {known.headers[i]: c for i, c in known.columns.items()}:
                return cmap
        self.result.mappings.append(cmap)
        if S.LEAD not in cmap.columns.values():
            self.result.report.add(
                "import-no-unit-column",
                f"{cmap.table.name}第{cmap.table.rows[cmap.header_rows[0]].number}行的表头"
                f"（{'、'.join(cmap.header_texts)}）中没有牵头单位或责任单位列：请用 --columns 指定，"
                f"如 --columns 牵头单位=<原表中的单位列名>", "error", file=self.doc.file, sheet=cmap.table.sheet)
        return cmap

    def _row(self, row: SourceRow, table: SourceTable, cmap: ColumnMap | None) -> None:
        line = row.line()
        if line is not None:
            self._line(line, row, table)
        elif cmap is None:
            self.result.skipped["表头之前的多列内容"] += 1
        else:
            self._data(row, table, cmap)

    # ------------------------------------------------------------------ lines

    def _line(self, line: str, row: SourceRow, table: SourceTable) -> None:
        compact = re.sub(r"\s+", "", line)
        m = _LEADER.match(compact)
        # a leader line: with its declared count, or a section heading naming a leader (…市长主抓…)
        if m and (m.group("n") or _SECTION.match(compact) or re.search(r"[长任记]$", m.group("name"))):
            self.leader = m.group("name")
            self.category = self.category or S.CATEGORY_OTHER
            if m.group("n"):
                self.result.leaders.append(ParsedLeader(self.leader, int(m.group("n")),
                                                        int(m.group("main") or 0), row.number))
            return
        if m := _SECTION.match(line):
            self.category = re.sub(r"\s+", "", m.group("name"))
            self.leader = ""
        elif m := _HEAD.match(compact):
            self.result.head = m.group("name")
        elif _NOTE.match(compact):
            self.result.skipped["注释说明"] += 1
        elif _ATTACHMENT.match(compact):
            self.result.skipped["附件标注"] += 1
        elif not self.started:
            self.preamble.append(line)
        elif len(compact) <= 60:
            self.category = compact  # a category row as written (强化科技创新支撑能力。), or a later table's title
        else:
            self.result.report.add("import-line-unrecognised", f"第{row.number}行无法识别：{line}", "warning",
                                   file=self.doc.file, sheet=table.sheet, cell=row.cells[0].ref)

    def _flush_preamble(self) -> None:
        if self.preamble and not self.result.title:
            # the table's own title is the last such line above it (a notice's title comes first)
            self.result.title = next((p for p in reversed(self.preamble) if _TITLE_WORDS.search(p) and len(p) <= 60),
                                     self.preamble[0])
            if len(self.preamble) > 1:
                self.result.skipped["表头之前的文字"] += len(self.preamble) - 1
        self.preamble = []

    # ------------------------------------------------------------------ rows

    def _data(self, row: SourceRow, table: SourceTable, cmap: ColumnMap) -> None:
        cells = {col: [row.cells[i] for i in cmap.of(col) if i < len(row.cells)] for col in
                 (S.SERIAL, S.TEXT, S.LEAD, S.SUPPORT, S.LEADER, S.DEADLINE_TEXT)}
        serial = cells[S.SERIAL][0] if cells[S.SERIAL] else None
        text_cell = cells[S.TEXT][0] if cells[S.TEXT] else None
        text = _join([c.text.strip() for c in cells[S.TEXT]], "：")  # as written: never folded
        lead_text = "\n".join(c.text for c in cells[S.LEAD] if c.text.strip())
        support_text = "\n".join(c.text for c in cells[S.SUPPORT] if c.text.strip())
        deadline = _join([f"{cmap.labels[i]}：{row.cells[i].text.strip()}" if i in cmap.labels
                          else row.cells[i].text.strip()
                          for i in cmap.of(S.DEADLINE_TEXT) if i < len(row.cells) and row.cells[i].text.strip()], "；")
        leader = _join([re.sub(r"\s+", "", c.text) for c in cells[S.LEADER]], "、")
        serial_text = normalise_text(serial.text) if serial else ""
        if serial_text and _CN_SERIAL.match(serial_text) and not (lead_text or support_text or deadline):
            self._line(f"{serial_text}{'' if serial_text[-1] in '、.)）' else '、'}{text}", row, table)
            return
        if self._continues(serial, text_cell, serial_text, text):
            own = _join([c.text.strip() for c in cells[S.TEXT] if not c.merged_from], "：")
            self._extend(own, lead_text, support_text, deadline, leader)
            self.result.skipped["并入上一项任务的续行（合并单元格或多个单位）"] += 1
            return
        if not text:
            self.result.report.add("import-task-text-missing", f"第{row.number}行有内容但任务列为空，未导入",
                                   "warning", file=self.doc.file, sheet=table.sheet, cell=row.cells[0].ref)
            return
        where = {"file": self.doc.file, "sheet": table.sheet, "cell": (serial or text_cell or row.cells[0]).ref}
        n = len(self.result.tasks) + 1
        task = ParsedTask(
            serial=n, text=text, lead=split_units(lead_text), support=split_units(support_text),
            deadline_text=deadline, category=self.category or S.CATEGORY_OTHER, leader=leader or self.leader,
            line=row.number, published="" if serial_text in ("", str(n)) else serial_text, where=where)
        if row.hidden:
            self.result.report.add("import-hidden-row", f"第{row.number}行在原表中是隐藏行，已照常导入，请核对是否应保留",
                                   "warning", **where)
        self.result.tasks.append(task)
        self.last = task
        self.last_cells = {"serial": serial, "text": text_cell} if serial or text_cell else {}

    def _continues(self, serial: SourceCell | None, text_cell: SourceCell | None, serial_text: str,
                   text: str) -> bool:
        """A row that goes on with the task above: its number or task cell merged down from it, or left blank."""
        if self.last is None:
            return False
        origin = {c.merged_from or c.ref for c in self.last_cells.values() if c is not None}
        if serial is not None and serial.merged_from:
            return serial.merged_from in origin
        if serial_text:
            return False
        return not text or (text_cell is not None and bool(text_cell.merged_from) and text_cell.merged_from in origin)

    def _extend(self, text: str, lead: str, support: str, deadline: str, leader: str) -> None:
        t = self.last
        assert t is not None
        if text and text not in t.text.split("\n"):
            t.text = f"{t.text}\n{text}"
        t.lead += [u for u in split_units(lead) if u not in t.lead]
        t.support += [u for u in split_units(support) if u not in t.support]
        if deadline and deadline not in t.deadline_text.split("；"):
            t.deadline_text = _join([t.deadline_text, deadline], "；")
        if leader and leader not in t.leader:
            t.leader = _join([t.leader, leader], "、")

    # ------------------------------------------------------------------ end

    def _finish(self) -> None:
        result, report = self.result, self.result.report
        self._flush_preamble()
        if not result.mappings:
            seen = [s for table in self.doc.tables for s in seen_headers(table)][:6]
            wanted = ("；--columns 中指定的列在表头中找不到：" + "、".join(self.overrides.values())
                      if self.overrides else "")
            report.add("import-no-table",
                       "未找到任务表：没有哪一行表头同时含任务列（如 任务目标、重点工作、实事内容、项目名称）"
                       "和单位、领导或时限列" + wanted + "。看到的表头："
                       + ("；".join(seen) if seen else "（无）")
                       + "。请用 --columns 指定，如 --columns 任务=实事内容,牵头单位=责任单位",
                       "error", file=self.doc.file)
            return
        for t in result.tasks:
            if not t.lead:
                report.add("import-lead-missing", f"第{t.line}行（序号{t.published or t.serial}）的任务没有牵头单位",
                           "error", **t.where)
        declared = {lead.name for lead in result.leaders}
        counts = Counter(t.leader for t in result.tasks if t.leader)
        for name, n in counts.items():
            if name not in declared:  # a leader column: the rows are the declaration
                result.leaders.append(ParsedLeader(name, n, 0, 0))
        if not result.tasks and result.found:
            report.add("import-no-tasks", "找到了表头但表头下没有任务行：请确认文件内容，或用 --columns 指定任务列",
                       "error", file=self.doc.file)


def _width(table: SourceTable) -> int:
    return max((len(r.cells) for r in table.rows if r.line() is None), default=0)


def _join(parts: list[str], sep: str) -> str:
    out: list[str] = []
    for p in parts:
        if p and p not in out:
            out.append(p)
    return sep.join(out)


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
