"""Milestones (时间节点): a task's dated steps, kept in the master's 时间节点 sheet.

A 完成时限 that names several dates (``3月底前完成方案，6月底前开工，12月底前完工``)
gives one milestone per date. Each milestone stands for a share of the task's
progress (节点进度, equal shares by default, editable by staff): 序时进度 runs
through the milestones instead of straight from 1 January to the deadline, and a
milestone whose date has passed while the reported progress is below its share
is missed (the task is red, and the milestone is listed as overdue).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from . import schema as S
from .language.deadlines import Deadline
from .language.text import cell_text, to_date


@dataclass(frozen=True)
class Milestone:
    task_id: str
    serial: int
    content: str
    when: str
    due: dt.date
    share: float  # the task progress (0–100) this step stands for

    def label(self, year: int | None = None) -> str:
        """``6月底前开工（6月30日）``: what the unit form and the bulletin show (the year only when not ``year``)."""
        text = self.when + self.content if self.content not in self.when else self.when
        day = f"{self.due.month}月{self.due.day}日"
        return f"{text}（{day if self.due.year == year else f'{self.due.year}年{day}'}）"

    def reached(self, status: str, progress: float | None) -> bool:
        return status == S.STATUS_DONE or (progress or 0) >= self.share


def milestone_rows(task_id: str, deadline: Deadline | None) -> list[dict[str, Any]]:
    """Rows of 时间节点 for one task: one per dated step when its deadline names several."""
    steps = deadline.milestones if deadline else ()
    return [{S.TASK_ID: task_id, S.MS_SERIAL: k, S.MS_CONTENT: step.what or step.text,
             S.DEADLINE_TEXT: step.when, S.DUE: step.due, S.MS_SHARE: round(100 * k / len(steps))}
            for k, step in enumerate(steps, start=1)]


def from_deadline(deadline: Deadline, task_id: str = "-") -> list[Milestone]:
    """Milestones straight from a deadline text (for a cell formula, where there is no master)."""
    return by_task(milestone_rows(task_id, deadline)).get(task_id, [])


def by_task(rows: Iterable[dict[str, Any]]) -> dict[str, list[Milestone]]:
    """Usable milestones of a 时间节点 sheet by task, in date order (rows ``duban check`` rejects are left out)."""
    out: dict[str, list[Milestone]] = {}
    for row in rows:
        m = _milestone(row)
        if m is not None:
            out.setdefault(m.task_id, []).append(m)
    for steps in out.values():
        steps.sort(key=lambda m: (m.due, m.serial))
    return out


def _milestone(row: dict[str, Any]) -> Milestone | None:
    task_id, due = cell_text(row.get(S.TASK_ID)), to_date(row.get(S.DUE))
    share = share_of(row.get(S.MS_SHARE))
    if not task_id or due is None or share is None:
        return None
    serial = row.get(S.MS_SERIAL)
    return Milestone(task_id, int(serial) if isinstance(serial, (int, float)) else 0,
                     cell_text(row.get(S.MS_CONTENT)), cell_text(row.get(S.DEADLINE_TEXT)), due, share)


def share_of(value: Any) -> float | None:
    """节点进度(%) as a number 0–100 (``50`` or ``50%``), or ``None``."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) else float(cell_text(value).rstrip("%"))
    except ValueError:
        return None
    return number if 0 <= number <= 100 else None


def expected_progress(steps: Sequence[Milestone], due: dt.date | None, as_of: dt.date,
                      start: dt.date) -> float:
    """序时进度 through the milestones: straight lines from (start, 0) through each (date, share) to 100."""
    points = [(start, 0.0)] + [(m.due, m.share) for m in steps]
    if due is not None and (due > points[-1][0] or points[-1][1] < 100):
        points.append((max(due, points[-1][0]), 100.0))
    value = 0.0
    for (d0, p0), (d1, p1) in zip(points, points[1:]):
        if as_of >= d1:
            value = max(value, p1)
            continue
        if as_of > d0 and d1 > d0:
            value = max(value, p0 + (p1 - p0) * (as_of - d0).days / (d1 - d0).days)
        break
    return max(0.0, min(100.0, round(value, 1)))


def missed(steps: Sequence[Milestone], status: str, progress: float | None, as_of: dt.date) -> list[Milestone]:
    """Milestones whose date has passed while the task's progress is below their share."""
    return [m for m in steps if m.due < as_of and not m.reached(status, progress)]


def next_after(steps: Sequence[Milestone], day: dt.date) -> Milestone | None:
    """The first milestone due on or after ``day``."""
    return next((m for m in steps if m.due >= day), None)
