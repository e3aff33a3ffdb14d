"""The unit workbook form (填报表): layout, content and the digest of its locked part.

Split writes it, collection reads it back, the Excel plugin shows it: all three
take positions from here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import schema as S
from .language.text import cell_text, col_letter, wrapped_lines
from .master import Master, period_label, reporting_day
from .milestones import Milestone, next_after

FORM = "填报"
GUIDE = "说明"
META = "_meta"

HEADER_ROW = 3  # 1-based; rows 1-2 hold the title and the unit line
FIRST_ROW = HEADER_ROW + 1

# (header, width, input?) — the order is the contract validated on return.
COLUMNS: list[tuple[str, float, bool]] = [
    (S.TASK_ID, 10, False),
    (S.TEXT, 42, False),
    (S.DEADLINE_TEXT, 10, False),
    (S.DUE, 12, False),
    (S.TARGET, 16, False),
    (S.STATUS, 10, True),
    (S.PROGRESS, 9, True),
    (S.ACTUAL, 13, True),
    (S.NARRATIVE, 36, True),
    (S.PROBLEMS, 26, True),
    (S.NEXT_STEPS, 26, True),
    # Last, so the input columns keep their letters: the task's next dated step (时间节点).
    (S.NEXT_MILESTONE, 22, False),
]
HEADERS = [c[0] for c in COLUMNS]
LOCKED = [c[0] for c in COLUMNS if not c[2]]
COL = {name: i for i, (name, _, _) in enumerate(COLUMNS)}  # 0-based
WRAP = {S.TEXT, S.DEADLINE_TEXT, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS, S.TARGET, S.NEXT_MILESTONE}

REPORTER = "填报人"
PHONE = "联系电话"
REPORT_DATE = "填报日期"
FOOTER = [REPORTER, PHONE, REPORT_DATE]

META_KEYS = ["台账编号", "计划年度", "填报期", "单位", "架构版本", "任务数", "任务编号", "摘要SHA256"]


def footer_row(n_tasks: int, label: str) -> int:
    """1-based row of a footer input (label in column A, input in column B)."""
    return FIRST_ROW + n_tasks + 1 + FOOTER.index(label)


def letter(column: str) -> str:
    return col_letter(COL[column] + 1)


@dataclass
class UnitForm:
    """Everything one unit's form holds, as plain values."""

    master_id: str
    year: int
    period: str
    period_label: str
    unit: str
    title: str
    reporting_day: dt.date
    statuses: tuple[str, ...]
    rows: list[list[Any]] = field(default_factory=list)  # one list per task, in HEADERS order
    quantitative: list[bool] = field(default_factory=list)
    version: int = 1  # the unit's n-th workbook of the period (a new one after the decomposition changed)

    @property
    def task_ids(self) -> list[str]:
        return [r[0] for r in self.rows]

    @cached_property
    def digest(self) -> str:
        """Computed once (the meta sheet, 发放记录 and 发放内容 all need it): a form is not changed
        after :func:`unit_form` builds it."""
        return locked_digest(self.master_id, self.year, self.period, self.unit, [locked(r) for r in self.rows])

    def title_lines(self) -> tuple[str, str]:
        again = f"（第{self.version}版）" if self.version > 1 else ""
        return (
            f"{self.title or f'{self.year}年重点工作任务'}进展填报表（{self.period_label}）{again}",
            f"填报单位：{self.unit}　　填报期：{self.period_label}　　"
            f"报送截止：{self.reporting_day.year}年{self.reporting_day.month}月{self.reporting_day.day}日"
            + ("　　任务有调整，请以本版为准（已填内容已带入）" if self.version > 1 else "")
            + "　　黄色单元格为填报区，其余内容请勿改动",
        )

    def meta(self) -> list[tuple[str, Any]]:
        values = [self.master_id, self.year, self.period, self.unit, S.SCHEMA_VERSION, len(self.rows),
                  ",".join(self.task_ids), self.digest]
        return list(zip(META_KEYS, values))

    def guide(self) -> list[str]:
        d = self.reporting_day
        return [
            f"{self.unit} {self.period_label}重点工作任务进展填报说明",
            "",
            "一、填写什么",
            f"1. 只在“{FORM}”表的黄色单元格填写；{'、'.join(LOCKED)}已锁定，请勿改动。",
            f"2. {S.STATUS}：从下拉列表选择 {'、'.join(self.statuses)}，不要手工输入。",
            f"3. {S.PROGRESS}：填 0 到 100 的整数，不带 % 号。{S.STATUS_DONE}必须填 100，{S.STATUS_NOT_STARTED}必须填 0。",
            f"4. {S.ACTUAL}：有指标目标的任务必填，写明数值和单位，如“7.8%”“330场”“1700亿元”。",
            f"5. {S.NARRATIVE}：每项任务必填。{S.PROBLEMS}：{S.STATUS_BEHIND}或已过截止日期仍未完成的任务必填。",
            f"6. 表格下方的{REPORTER}、{PHONE}、{REPORT_DATE}必填。",
            "",
            "二、完成状态的含义",
            f"{S.STATUS_DONE}：任务全部完成；{S.STATUS_ON_TRACK}：按时间进度正常推进；"
            f"{S.STATUS_BEHIND}：进度落后于时间要求；{S.STATUS_NOT_STARTED}：尚未开始。",
            "",
            "三、报送",
            f"请于 {d.year}年{d.month}月{d.day}日 前将本文件（.xlsx 格式，不要改文件名）发回督查室。",
            "",
            "四、以下情况文件将被退回",
            "插入、删除、移动行，或改动锁定内容；合并单元格；在单元格中填写公式；另存为 .xls、.et 等格式；"
            "报送往期文件或其他单位的文件；必填项为空或状态与进度矛盾。退回时会附上逐格的问题清单。",
        ]


def locked_payload(form: UnitForm) -> str:
    """The locked rows of a form as JSON, each value as the digest sees it (the record kept in 发放内容)."""
    return json.dumps([[canonical_value(v) for v in locked(r)] for r in form.rows], ensure_ascii=False,
                      separators=(",", ":"))


def locked(row: list[Any]) -> list[Any]:
    """The locked values of one form row (in HEADERS order), in LOCKED order."""
    return [row[COL[c]] for c in LOCKED]


def next_milestone(steps: list[Milestone], period: str) -> str:
    """下一节点 for a period: the first milestone due in the period's month or later."""
    y, m = (int(p) for p in period.split("-"))
    step = next_after(steps, dt.date(y, m, 1))
    return step.label(y) if step else ""


def row_height(values: list[Any]) -> float:
    """A row height (points) that shows wrapped text whole; Excel, WPS and LibreOffice differ in autofit."""
    lines = 1
    for (name, width, _), value in zip(COLUMNS, values):
        if name in WRAP and value:
            lines = max(lines, wrapped_lines(str(value), width))
    return 15.0 * min(lines, 27)


def locked_digest(master_id: str, year: int, period: str, unit: str, rows: list[list[Any]]) -> str:
    """SHA-256 over the content a unit must not change, in a canonical text form."""
    # Text cells inline (canonical_value's first case): validation digests 20,000 rows at a province's scale.
    payload = [master_id, int(year), period, unit,
               [[v.strip() if type(v) is str else canonical_value(v) for v in r] for r in rows]]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def canonical_value(value: Any) -> str:
    """A locked cell's value as the digest sees it (dates as ISO text, numbers and text as shown)."""
    if type(value) is str:  # most locked cells are text: checked first, as validation does this per cell
        return value.strip()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return cell_text(value)


ANSWERED = [S.STATUS, S.PROGRESS, S.ACTUAL, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS]  # the prefilled inputs


def unit_form(master: Master, unit: str, period: str | None = None, version: int = 1,
              answers: dict[str, dict[str, Any]] | None = None) -> UnitForm:
    """The form of ``unit``: its tasks (not cancelled), prefilled with the master's last accepted answers,
    or with ``answers`` (task ID → column → value) where given (a task missing from it is left blank)."""
    s = master.settings
    period = period or s.period
    form = UnitForm(master_id=s.master_id, year=s.year, period=period, period_label=period_label(period),
                    unit=unit, title=s.title, reporting_day=reporting_day(period, s.report_day),
                    statuses=s.statuses, version=version)
    for t in master.tasks_of(unit):
        tid = cell_text(t.get(S.TASK_ID))
        given = t if answers is None else answers.get(tid, {})
        progress = given.get(S.PROGRESS)
        form.rows.append([
            tid, cell_text(t.get(S.TEXT)), cell_text(t.get(S.DEADLINE_TEXT)),
            t.get(S.DUE), cell_text(t.get(S.TARGET)),
            cell_text(given.get(S.STATUS)), int(float(progress)) if _is_number(progress) else None,
            cell_text(given.get(S.ACTUAL)), cell_text(given.get(S.NARRATIVE)), cell_text(given.get(S.PROBLEMS)),
            cell_text(given.get(S.NEXT_STEPS)), next_milestone(master.steps_of(tid), period),
        ])
        form.quantitative.append(bool(cell_text(t.get(S.TARGET))))
    return form


def _is_number(value: Any) -> bool:
    """A finite number (a 完成进度 cell holding ``nan`` or ``inf`` text is left blank in the form)."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def form_values(form: UnitForm) -> list[list[Any]]:
    """The 填报 sheet as one block of values (title, unit line, header, tasks, footer labels)."""
    width = len(COLUMNS)
    title, sub = form.title_lines()
    block: list[list[Any]] = [[title] + [None] * (width - 1), [sub] + [None] * (width - 1),
                              list(HEADERS)]
    block += [[None if v == "" else v for v in row] for row in form.rows]
    block.append([None] * width)
    block += [[label] + [None] * (width - 1) for label in FOOTER]
    return block
