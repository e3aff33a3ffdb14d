"""``duban check --fix`` and the 应用调整 button: what the office clearly meant, applied.

Staff change the master in Excel: a row added at the bottom (or a copy of a row edited
into a new task), a 完成时限 extended, a unit typed by a short name, a status 已撤销.
:func:`plan_fixes` decides, from the master alone, what the office clearly meant and
what changed, as plain data (:class:`FixPlan`): the next unused ID and 序号 for a new
row, 截止日期 and 时间节点 from a new or changed 完成时限, canonical unit names,
units new to 单位 (only when asked), and the 调整记录 rows with the new 台账状态. The
command line patches it into the file; the Excel button writes it into the open book.
Anything not clear (an unknown unit without ``--add-units``, a 截止日期 changed
without its 完成时限) is left for ``duban check`` to report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import changes as C
from . import schema as S
from .language.deadlines import deadline_or_none
from .language.text import cell_text, to_date
from .language.units import unit_kind, unit_list
from .master import Master, master_transaction
from .milestones import milestone_rows
from .ooxml.lock import DEFAULT_WAIT
from .updates import SheetUpdate, Updates, apply_to_file, merge

# Words staff type for a cancelled task; the status is 已撤销.
CANCEL_WORDS = ("撤销", "已取消", "取消", "作废", "已作废", "撤消", "已撤消")


@dataclass(frozen=True)
class Fix:
    sheet: str
    cell: str
    message: str

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}  {self.message}"


@dataclass
class FixPlan:
    fixes: list[Fix] = field(default_factory=list)
    changes: list[C.Change] = field(default_factory=list)  # the rows added to 调整记录
    updates: Updates = field(default_factory=dict)
    first_record: bool = False  # the master had no 台账状态: it gets its first one
    master: Master | None = None  # the master as it is after the plan


def plan_fixes(master: Master, add_units: bool = False, now: dt.datetime | None = None) -> FixPlan:
    """What ``--fix`` changes in ``master`` (which is left as it is)."""
    work = dataclasses.replace(master, tasks=[dict(t) for t in master.tasks], units=[dict(u) for u in master.units],
                               milestones=[dict(m) for m in master.milestones], _by_unit=None, _steps=None,
                               _directory=None)
    plan = FixPlan(first_record=master.state is None, master=work)
    cells: dict[tuple[int, str], Any] = {}

    def set_cell(task: dict[str, Any], column: str, value: Any, message: str) -> None:
        task[column] = value
        cells[(task["_row"], column)] = value
        plan.fixes.append(Fix(S.TASKS, master.cell(task, column), message))

    for t in work.tasks:
        if cell_text(t.get(S.STATUS)) in CANCEL_WORDS:
            set_cell(t, S.STATUS, S.STATUS_CANCELLED, f"完成状态“{cell_text(t.get(S.STATUS))}”改为“{S.STATUS_CANCELLED}”")
    units = _fix_units(work, add_units, set_cell, plan)
    new = _fix_ids(work, set_cell)
    _fix_dues(work, new, set_cell)
    milestones = _fix_milestones(work, new, plan)
    work._by_unit = work._steps = None
    plan.changes, recorded = C.record(work, now)
    plan.updates = merge({S.TASKS: SheetUpdate(cells=cells), S.UNITS: SheetUpdate(append=units),
                          S.MILESTONES: SheetUpdate(body=milestones)}, recorded)
    if S.STATE in recorded:  # the master after the plan has its new 台账状态 and 调整记录 too
        work.state = [dict(row, _row=r) for r, row in enumerate(recorded[S.STATE].body or [], start=2)]
    if S.CHANGES in recorded:
        top = max((row.get("_row", 1) for row in work.changes), default=1)
        work.changes = work.changes + [dict(row, _row=top + i) for i, row in enumerate(recorded[S.CHANGES].append, 1)]
    return plan


def _names(cell: Any) -> list[str]:
    return unit_list(cell)


def _fix_units(work: Master, add_units: bool, set_cell: Callable[..., None], plan: FixPlan) -> list[dict[str, Any]]:
    """Unit names by their canonical name; with ``add_units``, unknown names added to 单位."""
    directory = work.directory()
    added: list[dict[str, Any]] = []
    next_row = max((u.get("_row", 1) for u in work.units), default=1) + 1
    for t in work.tasks:
        for column in (S.LEAD, S.SUPPORT):
            raw = cell_text(t.get(column))
            names = []
            for name in _names(raw):
                canonical = directory.canonical(name)
                if canonical is None and add_units:
                    closest = directory.closest(name)
                    unit = {S.UNIT_NAME: name, S.UNIT_ALIASES: None, S.UNIT_KIND: unit_kind(name), "_row": next_row}
                    directory.add(name)
                    work.units.append(unit)
                    added.append({k: v for k, v in unit.items() if k != "_row"})
                    plan.fixes.append(Fix(S.UNITS, f"A{next_row}", f"新增单位“{name}”（{unit[S.UNIT_KIND]}）"
                                          + (f"；与已有的“{closest}”相近，如是笔误请改正任务中的单位名称" if closest else "")))
                    next_row += 1
                    canonical = name
                names.append(canonical or name)
            joined = "、".join(dict.fromkeys(names))
            if raw and joined != raw:
                set_cell(t, column, joined, f"{column}“{raw}”规范为“{joined}”")
    return added


def _fix_ids(work: Master, set_cell: Callable[..., None]) -> set[str]:
    """IDs (and 序号) for new rows; return the IDs given.

    A row without an ID whose 任务目标 is that of a recorded task whose row is gone gets
    that task's ID back (its ID cell was cleared); a copy of a row (same ID twice) keeps
    the ID on the row that matches 台账状态, and the copy becomes a new task.
    """
    recorded = C.recorded_rows(work)
    ids = Counter(cell_text(t.get(S.TASK_ID)) for t in work.tasks)
    gone = {cell_text(r.get(S.TEXT)): tid for tid, r in recorded.items() if tid not in ids}
    need: list[dict[str, Any]] = []
    for tid, n in ids.items():
        if not tid or n < 2 or tid not in recorded:
            continue
        group = [t for t in work.tasks if cell_text(t.get(S.TASK_ID)) == tid]
        same = [t for t in group if cell_text(t.get(S.TEXT)) == cell_text(recorded[tid].get(S.TEXT))]
        if len(same) == 1:
            need += [t for t in group if t is not same[0]]
    for t in work.tasks:
        if cell_text(t.get(S.TASK_ID)):
            continue
        text = cell_text(t.get(S.TEXT))
        if text and text in gone:
            tid = gone.pop(text)
            set_cell(t, S.TASK_ID, tid, f"恢复任务编号 {tid}（任务目标与原任务 {tid} 相同）")
        elif text:
            need.append(t)
    need.sort(key=lambda t: t["_row"])
    serials = Counter(_serial(t) for t in work.tasks)
    top = max((s for s in serials if s), default=0)
    given = set()
    for t, tid in zip(need, C.next_ids(work, len(need))):
        old = cell_text(t.get(S.TASK_ID))
        set_cell(t, S.TASK_ID, tid, f"新增任务编号 {tid}" + (f"（原编号 {old} 与另一行重复）" if old else ""))
        given.add(tid)
        serial = _serial(t)
        if serial is None or serials[serial] > 1:
            top += 1
            serials[serial] -= 1
            set_cell(t, S.SERIAL, top, f"{tid} 的序号设为 {top}")
    return given


def _serial(task: dict[str, Any]) -> int | None:
    try:
        value = float(task.get(S.SERIAL))
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() and value >= 1 else None


def _deadline_changed(recorded: dict[str, dict[str, Any]], task: dict[str, Any], new: set[str]) -> bool:
    """True for a task whose 完成时限 is new since 台账状态 (a new task, or no 台账状态 at all)."""
    tid = cell_text(task.get(S.TASK_ID))
    before = recorded.get(tid)
    return tid in new or before is None or cell_text(before.get(S.DEADLINE_TEXT)) != cell_text(task.get(S.DEADLINE_TEXT))


def _fix_dues(work: Master, new: set[str], set_cell: Callable[..., None]) -> None:
    """截止日期 from 完成时限 where it is blank, or where the 完成时限 is new or changed.

    A 截止日期 staff changed while leaving 完成时限 as it was stays: duban check asks for both.
    """
    year = work.settings.year
    recorded = C.recorded_rows(work)
    for t in work.tasks:
        text = cell_text(t.get(S.DEADLINE_TEXT))
        deadline = deadline_or_none(text, year) if text else None
        due = to_date(t.get(S.DUE))
        if deadline is None or due == deadline.due:
            continue
        if (due is None and t.get(S.DUE) in (None, "")) or _deadline_changed(recorded, t, new):
            shown = deadline.due.isoformat() if deadline.due else "空（无固定日期）"
            set_cell(t, S.DUE, deadline.due, f"截止日期 {due.isoformat() if due else '空'} → {shown}（按完成时限“{text}”）")


def _fix_milestones(work: Master, new: set[str], plan: FixPlan) -> list[dict[str, Any]] | None:
    """时间节点 rebuilt for tasks whose new or changed 完成时限 names other dates than the sheet holds.

    Steps staff entered by hand for a task whose 完成时限 names one date stay, unless that
    完成时限 changed from one that named them.
    """
    year = work.settings.year
    recorded = C.recorded_rows(work)
    rows = list(work.milestones)
    changed = False
    for t in work.tasks:
        tid = cell_text(t.get(S.TASK_ID))
        if not tid or not _deadline_changed(recorded, t, new):
            continue
        deadline = deadline_or_none(t.get(S.DEADLINE_TEXT), year)
        written = list(deadline.milestones) if deadline else []
        if [m.due for m in written] == [m.due for m in work.steps_of(tid)]:
            continue
        if not written:
            before = recorded.get(tid)
            old = deadline_or_none(before.get(S.DEADLINE_TEXT), year) if before else None
            if not (old and old.milestones):  # the steps were staff's own: they stay
                continue
        at = next((i for i, m in enumerate(rows) if cell_text(m.get(S.TASK_ID)) == tid), len(rows))
        rows = [m for m in rows if cell_text(m.get(S.TASK_ID)) != tid]
        fresh = milestone_rows(tid, deadline)
        rows[at:at] = fresh
        changed = True
        plan.fixes.append(Fix(S.MILESTONES, f"A{at + 2}", f"{tid} 的时间节点按完成时限“{cell_text(t.get(S.DEADLINE_TEXT))}”"
                              + (f"重建为 {len(fresh)} 个" if fresh else "不再分节点，已删除原节点")))
    if not changed:
        return None
    for r, m in enumerate(rows, start=2):
        m["_row"] = r
    work.milestones = rows
    return [{c: m.get(c) for c in S.MILESTONE_COLUMNS} for m in rows]


def fix_master(path: Path, add_units: bool = False, wait: float = DEFAULT_WAIT) -> tuple[FixPlan, Path | None]:
    """``duban check --fix``: plan and patch the fixes under the master's lock; return the plan and the backup."""
    with master_transaction(path, wait, command="check --fix") as tx:
        plan = plan_fixes(tx.master(), add_units)
        apply_to_file(tx, plan.updates)
        return plan, tx.backup
