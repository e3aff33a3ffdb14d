"""Changes to the decomposition during the year: 新增, 内容修订, 延期, 调整牵头单位, 撤销 ….

Staff change the master in Excel. The hidden 台账状态 sheet holds every task's
decomposition columns as they were last recorded; comparing it with 任务分解 tells
what changed since (:func:`pending`). Recording — ``duban check --fix``, the 应用调整
button, or issuing unit workbooks — appends one 调整记录 row per change (staff add
批复文号 and 备注) and renews 台账状态 (:func:`record`). A task is never removed from
台账状态: a deleted row stays visible as an error and its ID is never given again.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable

from . import schema as S
from .language.deadlines import deadline_or_none
from .language.text import cell_text, to_date
from .language.units import unit_list
from .master import Master, state_row
from .updates import SheetUpdate, Updates

# The kinds the bulletin counts first ("新增 1 项、延期 3 项 …"), then any other kind logged.
HEADLINE_KINDS = (S.KIND_ADDED, S.KIND_EXTENDED, S.KIND_LEAD, S.KIND_CANCELLED)
PENDING = "未记录"  # shown as the time of a change not yet recorded in 调整记录


@dataclass(frozen=True)
class Change:
    task_id: str
    kind: str
    old: str = ""
    new: str = ""
    note: str = ""  # for 撤销: the reason staff added to 备注
    time: dt.datetime | None = None  # None: seen, not yet recorded
    period: str = ""
    approval: str = ""
    row: int | None = None  # its row in 调整记录

    @property
    def recorded(self) -> bool:
        return self.time is not None

    def describe(self) -> str:
        """``延期：6月底 → 9月底`` (what the CLI and findings say)."""
        if self.kind == S.KIND_ADDED:
            return f"{self.kind}：{short(self.new)}"
        if self.kind in (S.KIND_CANCELLED, S.KIND_RESTORED):
            return self.kind + (f"（{short(self.note)}）" if self.note else "")
        return f"{self.kind}：{short(self.old) or '空'} → {short(self.new) or '空'}"


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unit_set(cell: Any, master: Master) -> set[str]:
    """The units a cell names, by canonical name where known (so 土左旗 and 土左旗政府 are one)."""
    directory = master.directory()
    return {directory.canonical(n) or n for n in unit_list(cell)}


def compare(before: dict[str, Any], after: dict[str, Any], master: Master) -> list[Change]:
    """The changes of one task from its recorded row (``before``) to its current row."""
    tid = cell_text(after.get(S.TASK_ID))
    out = []

    def text(row: dict[str, Any], column: str) -> str:
        return cell_text(row.get(column))

    if text(before, S.TEXT) != text(after, S.TEXT):
        out.append(Change(tid, S.KIND_REVISED, text(before, S.TEXT), text(after, S.TEXT)))
    if text(before, S.TARGET) != text(after, S.TARGET):
        out.append(Change(tid, S.KIND_REVISED, f"{S.TARGET}：{text(before, S.TARGET) or '无'}",
                          f"{S.TARGET}：{text(after, S.TARGET) or '无'}"))
    if text(before, S.DEADLINE_TEXT) != text(after, S.DEADLINE_TEXT):
        old, new = text(before, S.DEADLINE_TEXT), text(after, S.DEADLINE_TEXT)
        out.append(Change(tid, deadline_kind(old, new, master.settings.year), old, new))
    for column, kind in ((S.LEAD, S.KIND_LEAD), (S.SUPPORT, S.KIND_SUPPORT)):
        if text(before, column) != text(after, column) and \
                unit_set(before.get(column), master) != unit_set(after.get(column), master):
            out.append(Change(tid, kind, text(before, column), text(after, column)))
    # A leader filled in where import could not place the task (主要预期目标) completes the
    # decomposition; it is not a change of it.
    if text(before, S.LEADER) and text(before, S.LEADER) != text(after, S.LEADER):
        out.append(Change(tid, S.KIND_LEADER, text(before, S.LEADER), text(after, S.LEADER)))
    was, now = Master.cancelled(before), Master.cancelled(after)
    if now and not was:
        out.append(Change(tid, S.KIND_CANCELLED, "", S.STATUS_CANCELLED,
                          note=added_text(text(before, S.NOTE), text(after, S.NOTE))))
    elif was and not now:
        out.append(Change(tid, S.KIND_RESTORED, S.STATUS_CANCELLED, text(after, S.STATUS)))
    return out


def deadline_kind(old: str, new: str, year: int) -> str:
    """延期 when the new 完成时限 falls later than the old one; 调整时限 otherwise."""
    before, after = deadline_or_none(old, year), deadline_or_none(new, year)
    if before and after and before.due and after.due and after.due > before.due:
        return S.KIND_EXTENDED
    return S.KIND_RESCHEDULED


def added_text(before: str, after: str) -> str:
    """What staff added to a cell (a 备注 that gained 撤销原因), or the whole new text."""
    if after == before:
        return ""
    if before and after.startswith(before):
        return after[len(before):].strip(" ；;，,。\n")
    return after


_ID = re.compile(r"^(\d{4})-(\d+)$")


def next_ids(master: Master, n: int = 1) -> list[str]:
    """The next ``n`` unused task IDs: after the highest ever given this year (cancelled, deleted or not)."""
    year = master.settings.year
    used = {cell_text(t.get(S.TASK_ID)) for t in master.tasks} | set(recorded_rows(master))
    top = max((int(m.group(2)) for i in used if (m := _ID.match(i)) and int(m.group(1)) == year), default=0)
    return [S.task_id(year, top + k) for k in range(1, n + 1)]


def recorded_rows(master: Master) -> dict[str, dict[str, Any]]:
    """台账状态 by task ID (empty when the master has no such sheet)."""
    return {cell_text(r.get(S.TASK_ID)): r for r in master.state or [] if cell_text(r.get(S.TASK_ID))}


def pending(master: Master) -> list[Change]:
    """Every change between 台账状态 and 任务分解 not yet recorded (none without 台账状态)."""
    return _scan(master)[0] if master.state is not None else []


def _scan(master: Master) -> tuple[list[Change], list[dict[str, Any]], bool]:
    """The changes since 台账状态, the new 台账状态 rows, and whether they differ from the old ones.

    Only a task whose recorded columns differ is compared column by column: a year's master is
    read in one pass.
    """
    recorded = recorded_rows(master)
    changes: list[Change] = []
    body: list[dict[str, Any]] = []
    seen: set[str] = set()
    differs = master.state is None
    for t in master.tasks:
        tid = cell_text(t.get(S.TASK_ID))
        if not tid or tid in seen:  # no ID yet, or a duplicate: duban check reports it
            continue
        seen.add(tid)
        row = state_row(t)
        body.append(dict(zip(S.STATE_COLUMNS, row)))
        before = recorded.get(tid)
        if before is None:
            changes.append(Change(tid, S.KIND_ADDED, "", cell_text(t.get(S.TEXT))))
            differs = True
        elif _differ(row, list(map(before.get, S.STATE_COLUMNS))):
            changes += compare(before, t, master)
            differs = True
    gone = [{c: r.get(c) for c in S.STATE_COLUMNS} for tid, r in recorded.items() if tid not in seen]
    return changes, body + gone, differs or len(body) + len(gone) != len(master.state or [])


def _differ(now: list[Any], before: list[Any]) -> bool:
    """Whether two rows show different text; equal values of equal types need no conversion (most rows)."""
    if now == before and list(map(type, now)) == list(map(type, before)):
        return False
    return list(map(cell_text, now)) != list(map(cell_text, before))


def deleted(master: Master) -> list[dict[str, Any]]:
    """Recorded tasks whose row is gone from 任务分解."""
    present = {cell_text(t.get(S.TASK_ID)) for t in master.tasks}
    return [r for tid, r in recorded_rows(master).items() if tid not in present]


def logged(master: Master) -> list[Change]:
    """The rows of 调整记录, in sheet order."""
    out = []
    for r in master.changes:
        when = r.get(S.CH_TIME)
        time = when if isinstance(when, dt.datetime) else (
            dt.datetime.combine(d, dt.time()) if (d := to_date(when)) else dt.datetime.min)
        out.append(Change(cell_text(r.get(S.TASK_ID)), cell_text(r.get(S.CH_KIND)), cell_text(r.get(S.CH_OLD)),
                          cell_text(r.get(S.CH_NEW)), cell_text(r.get(S.NOTE)), time,
                          cell_text(r.get(S.CH_PERIOD)), cell_text(r.get(S.CH_APPROVAL)), r.get("_row")))
    return out


def history(master: Master) -> list[Change]:
    """Every change of the year: those recorded, then those not yet recorded."""
    return logged(master) + pending(master)


def record(master: Master, now: dt.datetime | None = None, period: str | None = None) -> tuple[list[Change], Updates]:
    """The 调整记录 rows to append and the new 台账状态 for what changed since the last record.

    ``period`` is the reporting period the changes belong to (default the master's current one;
    unit workbooks issued for a new period take the changes made before them into that period).
    A master without 台账状态 gets its first one (nothing is logged: what changed before
    cannot be known). Nothing is planned when nothing changed.
    """
    now = (now or dt.datetime.now()).replace(microsecond=0)
    period = period or master.settings.period
    changes, body, differs = _scan(master)
    if master.state is None:
        changes = []
    updates: Updates = {}
    if differs:
        updates[S.STATE] = SheetUpdate(body=body)
    if not changes and master.sheet_names and S.CHANGES not in master.sheet_names:
        updates[S.CHANGES] = SheetUpdate(body=[])  # a master made before 调整记录: the sheet, for staff to see
    if changes:
        updates[S.CHANGES] = SheetUpdate(append=[
            {S.CH_TIME: now, S.CH_PERIOD: period, S.TASK_ID: c.task_id, S.CH_KIND: c.kind, S.CH_OLD: c.old,
             S.CH_NEW: c.new, S.CH_APPROVAL: None, S.NOTE: c.note or None} for c in changes])
    return [Change(c.task_id, c.kind, c.old, c.new, c.note, now, period) for c in changes], updates


def missing_reason(master: Master, changes: list[Change] | None = None) -> list[tuple[Change, str]]:
    """Cancelled tasks whose reason is nowhere: (change, where to write it) for duban check.

    ``changes``: the master's :func:`history`, when the caller has it already."""
    out = []
    latest: dict[str, Change] = {}
    for c in history(master) if changes is None else changes:
        if c.kind in (S.KIND_CANCELLED, S.KIND_RESTORED):
            latest[c.task_id] = c
    for tid, c in latest.items():
        if c.kind == S.KIND_CANCELLED and not (c.note or c.approval):
            out.append((c, f"{S.CHANGES}!{S.NOTE}" if c.recorded else f"{S.TASKS}!{S.NOTE}"))
    return out


def declared_leaders(master: Master, changes: list[Change] | None = None) -> list[tuple[dict[str, Any], str]]:
    """Each task of the decomposition as published, with its leader as declared.

    Tasks added during the year (新增, recorded or not) and rows without an ID are left
    out; a task moved to another leader counts for the leader it had before its first move.
    ``changes``: the master's :func:`history`, when the caller has it already.
    """
    changes = history(master) if changes is None else changes
    added = {c.task_id for c in changes if c.kind == S.KIND_ADDED}
    first: dict[str, str] = {}
    for c in changes:
        if c.kind == S.KIND_LEADER:
            first.setdefault(c.task_id, c.old)
    out = []
    for t in master.tasks:
        tid = cell_text(t.get(S.TASK_ID))
        if tid and tid not in added:
            out.append((t, first.get(tid, cell_text(t.get(S.LEADER)))))
    return out


def extended(master: Master) -> dict[str, str]:
    """Task ID → its 完成时限 before its first 延期 (for tasks extended this year)."""
    out: dict[str, str] = {}
    for c in history(master):
        if c.kind == S.KIND_EXTENDED:
            out.setdefault(c.task_id, c.old)
    return out


def of_period(master: Master, period: str) -> list[Change]:
    """The changes made in ``period``: recorded in it, and (for the current period) not yet recorded."""
    out = [c for c in logged(master) if c.period == period]
    if period == master.settings.period:
        out += pending(master)
    return out


def counts(changes: Iterable[Change]) -> dict[str, int]:
    """Tasks per kind (a task extended twice counts once), headline kinds first."""
    tasks: dict[str, set[str]] = {}
    for c in changes:
        tasks.setdefault(c.kind, set()).add(c.task_id)
    out = {k: len(tasks.pop(k, ())) for k in HEADLINE_KINDS}
    out.update({k: len(v) for k, v in tasks.items()})
    return out
