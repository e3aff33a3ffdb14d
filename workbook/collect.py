"""``duban collect``: accepted submissions merged into the master, every row kept in history."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import schema as S
from .language.text import cell_text, col_number
from .master import Master
from .ooxml.safe_write import ensure_not_locked, replace_atomically
from .ooxml.sheetpatch import SheetEdits, patch_workbook
from .validate import Answer, Batch, Submission, validate_paths

# Joint tasks (several lead units) show the least advanced answer.
_STATUS_RANK = {S.STATUS_BEHIND: 0, S.STATUS_NOT_STARTED: 1, S.STATUS_ON_TRACK: 2, S.STATUS_DONE: 3}
_H = {name: i for i, name in enumerate(S.HISTORY_COLUMNS)}


@dataclass
class CollectResult:
    batch: Batch
    accepted: list[Submission] = field(default_factory=list)
    already: list[Submission] = field(default_factory=list)
    missing_units: list[str] = field(default_factory=list)
    backup: Path | None = None
    archived: list[Path] = field(default_factory=list)


def archive_dir(master_path: Path, period: str) -> Path:
    return master_path.with_name(f"{master_path.stem}_归档") / period


def collect(paths: Iterable[Path], master_path: Path, workers: int = 1,
            progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None) -> CollectResult:
    """Validate ``paths`` and merge the accepted files into the master file (atomically)."""
    master_path = Path(master_path)
    ensure_not_locked(master_path)
    batch = validate_paths(paths, master_path, workers, progress, keep_answers=True)
    result, plan = plan_collect(batch, read_history(master_path), now)
    if plan.history_rows:
        master = batch.master
        column = {name: col_number(letter) for name, letter in master.columns.items()}
        tasks = SheetEdits(formats={column[c]: f for c, f in NUMBER_FORMATS.items() if c in column})
        for row, values in plan.updates.items():
            for col, value in values.items():
                if col in column:
                    tasks.cells[(row, column[col])] = value
        edits = {S.TASKS: tasks, S.HISTORY: SheetEdits(append=plan.history_rows)}
        result.backup = replace_atomically(master_path, lambda tmp: patch_workbook(master_path, tmp, edits),
                                           expected_sha256=master.sha256)
        result.archived = [_archive(sub, master_path) for sub in result.accepted]
    return result


NUMBER_FORMATS = {S.RATE: "0.00%", S.UPDATED: "yyyy-mm-dd hh:mm"}


@dataclass
class CollectPlan:
    """What a collect changes: rows to append to 进展记录, and 任务分解 cells by sheet row."""

    history_rows: list[list[Any]] = field(default_factory=list)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)


def plan_collect(batch: Batch, history: list[list[Any]], now: dt.datetime | None = None) -> tuple[CollectResult, CollectPlan]:
    """Decide what to merge; the caller writes it (to a file, or into an open Excel book)."""
    master = batch.master
    seen = {cell_text(r[_H["文件SHA256"]]) for r in history}
    result = CollectResult(batch)
    for sub in batch.submissions:
        if sub.valid and sub.used:
            (result.already if sub.sha256 in seen else result.accepted).append(sub)
    now = (now or dt.datetime.now()).replace(microsecond=0)
    plan = CollectPlan([_history_row(sub, a, now) for sub in result.accepted for a in sub.answers])
    touched = {a.task_id for sub in result.accepted for a in sub.answers}
    plan.updates = _tracking_updates(master, history + plan.history_rows, touched, now)
    reported = reported_units(history + plan.history_rows, master.settings.period)
    result.missing_units = [u for u in master.units_with_tasks() if u not in reported]
    return result, plan


def reported_units(history: list[list[Any]], period: str) -> set[str]:
    """Units with at least one accepted submission for ``period``."""
    return {cell_text(r[_H["单位"]]) for r in history if cell_text(r[_H["填报期"]]) == period}


def read_history(master_path: Path) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook  # here, not above: the Excel plugin runs without it (Pyodide)

    book = CalamineWorkbook.from_path(str(master_path))
    return history_rows(book.get_sheet_by_name(S.HISTORY).to_python() if S.HISTORY in book.sheet_names else [])


def history_rows(sheet: list[list[Any]]) -> list[list[Any]]:
    """The data rows of a 进展记录 sheet (header first), each exactly as wide as its columns."""
    width = len(S.HISTORY_COLUMNS)
    return [(list(r) + [""] * width)[:width] for r in sheet[1:] if any(v not in ("", None) for v in r)]


def _history_row(sub: Submission, a: Answer, now: dt.datetime) -> list[Any]:
    values = {
        "填报期": sub.period, "单位": sub.unit, S.TASK_ID: a.task_id, S.STATUS: a.status, S.PROGRESS: a.progress,
        S.ACTUAL: a.actual, S.NARRATIVE: a.narrative, S.PROBLEMS: a.problems, S.NEXT_STEPS: a.next_steps,
        "填报人": sub.reporter, "联系电话": sub.phone, "填报日期": sub.report_date, "来源文件": sub.file,
        "文件SHA256": sub.sha256, "接收时间": now,
    }
    return [values[c] for c in S.HISTORY_COLUMNS]


def latest_answers(history: list[list[Any]], period: str) -> dict[str, dict[str, list[Any]]]:
    """task ID → unit → the history row that counts (newest 填报日期, then 接收时间) for ``period``."""
    out: dict[str, dict[str, list[Any]]] = {}
    for row in history:
        if cell_text(row[_H["填报期"]]) != period:
            continue
        per_unit = out.setdefault(cell_text(row[_H[S.TASK_ID]]), {})
        unit = cell_text(row[_H["单位"]])
        if unit not in per_unit or _order(row) >= _order(per_unit[unit]):
            per_unit[unit] = row
    return out


def _order(row: list[Any]) -> tuple[str, str]:
    return (_iso(row[_H["填报日期"]]), _iso(row[_H["接收时间"]]))


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else cell_text(value)


def combine(rows_by_unit: dict[str, list[Any]]) -> dict[str, Any]:
    """The tracking values of one task from its units' latest answers."""
    rows = list(rows_by_unit.items())
    if len(rows) == 1:
        row = rows[0][1]
        return {c: row[_H[c]] for c in (S.STATUS, S.PROGRESS, S.ACTUAL, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS)}
    statuses = [cell_text(r[_H[S.STATUS]]) for _, r in rows]
    progresses = [r[_H[S.PROGRESS]] for _, r in rows if isinstance(r[_H[S.PROGRESS]], (int, float))]
    out: dict[str, Any] = {
        S.STATUS: min(statuses, key=lambda s: _STATUS_RANK.get(s, 0)),
        S.PROGRESS: int(min(progresses)) if progresses else None,
    }
    for col in (S.ACTUAL, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS):
        parts = [f"{unit}：{cell_text(r[_H[col]])}" for unit, r in rows if cell_text(r[_H[col]])]
        out[col] = "；".join(parts)
    return out


def _tracking_updates(master: Master, history: list[list[Any]], touched: set[str],
                      now: dt.datetime) -> dict[int, dict[str, Any]]:
    from .indicators import rate_for_task

    period = master.settings.period
    latest = latest_answers(history, period)
    rows = {cell_text(t.get(S.TASK_ID)): t for t in master.tasks}
    updates = {}
    for tid in sorted(touched):
        task = rows.get(tid)
        if task is None or tid not in latest:
            continue
        values = combine(latest[tid])
        values[S.RATE] = rate_for_task(cell_text(task.get(S.TARGET)), cell_text(values[S.ACTUAL]), master)
        values[S.LAST_PERIOD] = period
        values[S.UPDATED] = now
        updates[task["_row"]] = {k: (None if v == "" else v) for k, v in values.items()}
    return updates


def _archive(sub: Submission, master_path: Path) -> Path:
    folder = archive_dir(master_path, sub.period)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / sub.path.name
    if target.exists():
        target = folder / f"{sub.path.stem}_{sub.sha256[:8]}{sub.path.suffix}"
    if not target.exists():
        shutil.copy2(sub.path, target)
    return target
