"""Checks of the master workbook (``duban check``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from . import changes as C
from . import schema as S
from .findings import Report
from .language.deadlines import DeadlineError, deadline_or_none, parse_deadline
from .language.text import cell_text, col_letter, is_blank, to_date
from .language.units import unit_list
from .master import Master
from .milestones import share_of


def check_master(master: Master) -> Report:
    report = Report(findings=list(master.read_report.findings))
    file = master.path.name if master.path else ""
    _check_ids(master, report, file)
    _check_units(master, report, file)
    _check_deadlines(master, report, file)
    _check_milestones(master, report, file)
    # Comparing 任务分解 with 台账状态 is the costliest part of a check: once.
    pending = C.pending(master)
    history = C.logged(master) + pending
    _check_leaders(master, report, file, history)
    _check_changes(master, report, file, pending, history)
    if not master.settings.period.startswith(str(master.settings.year)):
        report.add("period-outside-year", f"当前填报期 {master.settings.period} 不在计划年度 {master.settings.year} 内",
                   "warning", file=file, sheet=S.SETTINGS)
    report.stats.update(tasks=len(master.tasks), units=len(master.units), leaders=len(master.leaders))
    return report


def _where(master: Master, task: dict[str, Any], column: str, file: str) -> dict[str, str]:
    return {"file": file, "sheet": S.TASKS, "cell": master.cell(task, column)}


def _check_ids(master: Master, report: Report, file: str) -> None:
    serials: Counter[int] = Counter()
    ids = Counter(cell_text(t.get(S.TASK_ID)) for t in master.tasks)
    reported_ids: set[str] = set()
    next_id: str | None = None
    for t in master.tasks:
        serial = t.get(S.SERIAL)
        try:
            n = int(serial)
            if n != float(serial) or n < 1:
                raise ValueError
            serials[n] += 1
            if serials[n] == 2:
                report.add("serial-duplicate", f"序号 {n} 重复", **_where(master, t, S.SERIAL, file))
        except (TypeError, ValueError):
            report.add("serial-invalid", f"序号“{cell_text(serial)}”不是正整数", **_where(master, t, S.SERIAL, file))
        tid = cell_text(t.get(S.TASK_ID))
        if not tid:
            if next_id is None:
                next_id = C.next_ids(master)[0]
            report.add("id-missing", "任务编号为空：每项任务需要唯一、不再复用的编号（duban check --fix 自动编号）",
                       suggestion=next_id, **_where(master, t, S.TASK_ID, file))
        elif ids[tid] > 1 and tid not in reported_ids:
            reported_ids.add(tid)
            report.add("id-duplicate", f"任务编号 {tid} 出现 {ids[tid]} 次", **_where(master, t, S.TASK_ID, file))
        if is_blank(t.get(S.TEXT)):
            report.add("task-empty", "任务目标为空", **_where(master, t, S.TEXT, file))
    if serials:
        missing = sorted(set(range(1, max(serials) + 1)) - set(serials))
        for n in missing:
            report.add("serial-missing", f"缺少序号 {n}（序号应从 1 连续编号）", file=file, sheet=S.TASKS)


def _check_units(master: Master, report: Report, file: str) -> None:
    directory = master.directory()
    for t in master.tasks:
        for column, severity in ((S.LEAD, "error"), (S.SUPPORT, "warning")):
            raw = cell_text(t.get(column))
            if not raw:
                if column == S.LEAD:
                    report.add("unit-missing", "牵头单位为空", **_where(master, t, column, file))
                continue
            for name in unit_list(raw):
                if not name or name in directory.names:
                    continue
                canonical = directory.canonical(name)
                if canonical:
                    report.add("unit-unnormalised", f"单位名称“{name}”不规范，应写作“{canonical}”", "warning",
                               suggestion=canonical, **_where(master, t, column, file))
                else:
                    closest = "、".join(directory.closest_names(name))
                    report.add("unit-unknown", f"单位“{name}”不在“单位”表中：如是新单位，请在“单位”表中添加"
                               "（或运行 duban check --fix --add-units）", severity,
                               suggestion=closest, **_where(master, t, column, file))


def _check_deadlines(master: Master, report: Report, file: str) -> None:
    year = master.settings.year
    for t in master.tasks:
        text = t.get(S.DEADLINE_TEXT)
        if is_blank(text):
            due = to_date(t.get(S.DUE))
            shown = f"截止日期按 {due.isoformat()} 计" if due else "请填写完成时限或截止日期"
            report.add("deadline-missing", f"完成时限为空（分解方案未写）：{shown}；如有具体时限请填写", "warning",
                       **_where(master, t, S.DEADLINE_TEXT, file))
            continue
        try:
            deadline = parse_deadline(text, year)
        except DeadlineError as exc:
            code = "deadline-impossible" if exc.reason == "impossible" else "deadline-unparseable"
            report.add(code, str(exc), **_where(master, t, S.DEADLINE_TEXT, file))
            continue
        if deadline.due and deadline.due.year > year:  # a task that runs over several years
            report.add("deadline-outside-year", f"完成时限“{text}”的截止日期 {deadline.due} 在计划年度 {year} 之后，"
                       "按所写时限计（跨年度任务）", "info", **_where(master, t, S.DEADLINE_TEXT, file))
        elif deadline.due and deadline.due.year < year:
            report.add("deadline-outside-year", f"完成时限“{text}”（{deadline.due}）在计划年度 {year} 之前，请核对年份",
                       "warning", **_where(master, t, S.DEADLINE_TEXT, file))
        due = t.get(S.DUE)
        if isinstance(due, dt.datetime):
            due = due.date()
        if due != deadline.due and not (due is None and deadline.due is None):
            expected = deadline.due.isoformat() if deadline.due else "空（无固定日期）"
            report.add("due-mismatch", f"截止日期与完成时限“{text}”不一致，应为 {expected}", "warning",
                       suggestion=expected, **_where(master, t, S.DUE, file))


def _check_milestones(master: Master, report: Report, file: str) -> None:
    dues = {cell_text(t.get(S.TASK_ID)): to_date(t.get(S.DUE)) for t in master.tasks}
    for t in master.tasks:  # a 完成时限 edited after import: its steps no longer match the sheet
        deadline = deadline_or_none(t.get(S.DEADLINE_TEXT), master.settings.year)
        written = [step.due for step in deadline.milestones] if deadline else []
        kept = [m.due for m in master.steps_of(cell_text(t.get(S.TASK_ID)))]
        if written and written != kept and cell_text(t.get(S.TASK_ID)):  # a row without an ID: id-missing says it
            shown = "、".join(f"{d.month}月{d.day}日" for d in written)
            report.add("milestone-mismatch", f"完成时限“{cell_text(t.get(S.DEADLINE_TEXT))}”列出的时间节点（{shown}）"
                       f"与“{S.MILESTONES}”表不一致，请核对该表中 {cell_text(t.get(S.TASK_ID))} 的行", "warning",
                       **_where(master, t, S.DEADLINE_TEXT, file))
    letter = {c: col_letter(i) for i, c in enumerate(S.MILESTONE_COLUMNS, start=1)}
    for m in master.milestones:
        row = m.get("_row", "")

        def where(column: str) -> dict[str, str]:
            return {"file": file, "sheet": S.MILESTONES, "cell": f"{letter[column]}{row}"}

        tid, due = cell_text(m.get(S.TASK_ID)), to_date(m.get(S.DUE))
        if tid not in dues:
            report.add("milestone-task-unknown", f"时间节点的任务编号“{tid}”不在“任务分解”表中", **where(S.TASK_ID))
            continue
        if due is None:
            report.add("milestone-due-invalid", f"{tid} 的时间节点“{cell_text(m.get(S.MS_CONTENT))}”没有有效的截止日期",
                       **where(S.DUE))
        elif dues[tid] and due > dues[tid]:
            report.add("milestone-after-deadline", f"{tid} 的时间节点截止日期 {due} 晚于任务截止日期 {dues[tid]}",
                       "warning", **where(S.DUE))
        if share_of(m.get(S.MS_SHARE)) is None:
            report.add("milestone-share-invalid", f"{tid} 的{S.MS_SHARE}“{cell_text(m.get(S.MS_SHARE))}”应为 0 到 100 的数",
                       **where(S.MS_SHARE))


def _check_leaders(master: Master, report: Report, file: str, history: list[C.Change]) -> None:
    declared = {cell_text(lead.get(S.LEADER_NAME)): lead for lead in master.leaders}
    for t in master.tasks:
        leader = cell_text(t.get(S.LEADER))
        if leader and declared and leader not in declared:
            report.add("leader-unknown", f"分管领导“{leader}”不在“分管领导”表中", "warning",
                       **_where(master, t, S.LEADER, file))

    # Counted as declared: tasks added during the year are not in the declaration, and a task
    # moved to another leader counts for the leader it had (see changes.declared_leaders).
    view = C.declared_leaders(master, history)
    unplaced = [t for t, leader in view if cell_text(t.get(S.CATEGORY)) == S.CATEGORY_MAIN and not leader]
    units_of: dict[str, set[str]] = {}
    for t, leader in view:
        if cell_text(t.get(S.CATEGORY)) != S.CATEGORY_MAIN and leader:
            units_of.setdefault(leader, set()).update(master.lead_units(t))
    for t in unplaced:
        units = set(master.lead_units(t))
        holders = sorted(name for name, us in units_of.items() if units & us)
        why = (f"牵头单位“{'、'.join(sorted(units))}”不在任何分管领导的领域内" if not holders
               else f"牵头单位同时属于{'、'.join(holders)}的领域")
        report.add("main-target-unplaced",
                   f"主要预期目标（序号{cell_text(t.get(S.SERIAL))}）未归属分管领导：{why}，无法自动判定，请手工填写",
                   "warning", **_where(master, t, S.LEADER, file))

    counted = {id(t) for t, _ in view}
    for lead in master.leaders:
        name = cell_text(lead.get(S.LEADER_NAME))
        if not name:
            continue
        mine = [t for t, leader in view if leader == name]
        main = sum(1 for t in mine if cell_text(t.get(S.CATEGORY)) == S.CATEGORY_MAIN)
        total_declared = _int(lead.get(S.LEADER_DECLARED))
        main_declared = _int(lead.get(S.LEADER_DECLARED_MAIN))
        where = {"file": file, "sheet": S.LEADERS, "cell": f"B{lead['_row']}"} if "_row" in lead else {"file": file}
        if total_declared is None:
            report.add("leader-count-missing", f"{name} 没有申报任务数", "warning", **where)
            continue
        if len(mine) == total_declared and main == (main_declared or 0):
            continue
        others_ok = len(mine) - main == total_declared - (main_declared or 0)
        short = (main_declared or 0) - main
        explained = others_ok and 0 < short <= len(unplaced)
        added = sum(1 for t in master.tasks if cell_text(t.get(S.LEADER)) == name and id(t) not in counted)
        message = (f"{name} 申报 {total_declared} 项（含主要预期目标 {main_declared or 0} 项），"
                   f"台账中为 {len(mine)} 项（含主要预期目标 {main} 项"
                   + (f"；年内新增的 {added} 项不计入" if added else "") + "）")
        if explained:
            report.add("leader-count-mismatch", message + f"；差额可能是 {len(unplaced)} 项未归属的主要预期目标",
                       "warning", **where)
        else:
            report.add("leader-count-mismatch", message, "error", **where)


# The column of 任务分解 a change concerns (where its finding points).
_CHANGED_COLUMN = {S.KIND_ADDED: S.TASK_ID, S.KIND_REVISED: S.TEXT, S.KIND_EXTENDED: S.DEADLINE_TEXT,
                   S.KIND_RESCHEDULED: S.DEADLINE_TEXT, S.KIND_LEAD: S.LEAD, S.KIND_SUPPORT: S.SUPPORT,
                   S.KIND_LEADER: S.LEADER, S.KIND_CANCELLED: S.STATUS, S.KIND_RESTORED: S.STATUS}


def _check_changes(master: Master, report: Report, file: str, pending: list[C.Change],
                   history: list[C.Change]) -> None:
    """Deleted rows, changes not yet recorded in 调整记录, cancellations without a reason."""
    for r in C.deleted(master):
        tid = cell_text(r.get(S.TASK_ID))
        report.add("task-deleted",
                   f"任务 {tid}（{C.short(cell_text(r.get(S.TEXT)), 30)}；{cell_text(r.get(S.LEAD))}）的行被删除：任务不能删除。"
                   f"请恢复该行（编号 {tid} 不变；可从备份中复制），要撤销就把完成状态改为“{S.STATUS_CANCELLED}”，"
                   f"并在备注中写明撤销原因", file=file, sheet=S.TASKS)
    rows = {cell_text(t.get(S.TASK_ID)): t for t in reversed(master.tasks)}
    for c in pending:
        report.add("change-unrecorded", f"{c.task_id} {c.describe()}，尚未记入“{S.CHANGES}”：运行 duban check --fix"
                   "（或在 Excel 中点“应用调整”）记录", "info", **_where(master, rows[c.task_id], _CHANGED_COLUMN.get(
                       c.kind, S.TASK_ID), file))
    note = col_letter(S.CHANGE_COLUMNS.index(S.NOTE) + 1)
    for c, _ in C.missing_reason(master, history):
        if c.recorded and c.row:
            where = {"file": file, "sheet": S.CHANGES, "cell": f"{note}{c.row}"}
            how = "请在“调整记录”此行的备注中写明原因，或填写批复文号"
        else:
            where = _where(master, rows[c.task_id], S.NOTE, file) if c.task_id in rows else {"file": file}
            how = "请在备注中写明原因"
        report.add("cancel-reason-missing", f"{c.task_id} 已撤销，但没有写明撤销原因：{how}", "warning", **where)


def _int(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
