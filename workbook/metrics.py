"""Task and group metrics as of a date: 序时进度, lag, lights, completion rates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from . import changes
from . import schema as S
from .indicators import rate_for_task
from .language.text import cell_text, to_date
from .language.units import unit_list
from .master import Master
from .milestones import Milestone, expected_progress, missed

RED, YELLOW, GREEN = "红", "黄", "绿"
ORIGINAL_DEADLINE = "原完成时限"  # the 完成时限 of a task extended this year (延期), before its first extension
GROUP_COLUMNS = ["任务数", "已完成", "到期任务", "到期已完成", "到期完成率", "总体完成率", "平均进度", "逾期",
                 "临期", RED, YELLOW, GREEN]


def schedule_progress(due: dt.date | None, as_of: dt.date, start: dt.date,
                      steps: Sequence[Milestone] = ()) -> float | None:
    """序时进度: the share (0–100) of the time from plan start to the deadline that has elapsed.

    A task with milestones runs through them instead (see :func:`workbook.milestones.expected_progress`).
    """
    if steps:
        return expected_progress(steps, due, as_of, start)
    if due is None:
        return None
    if due <= start:
        return 100.0
    share = (as_of - start).days / (due - start).days * 100
    return max(0.0, min(100.0, round(share, 1)))


def light(status: str, progress: float | None, due: dt.date | None, as_of: dt.date, expected: float | None,
          lag_red: float = S.DEFAULT_LAG_RED, due_soon: int = S.DEFAULT_DUE_SOON,
          steps: Sequence[Milestone] = ()) -> str:
    """红/黄/绿 for one task (thresholds from 设置).

    A missed milestone (its date passed, progress below its share) is red like an
    overdue task; an unreached milestone due within the 临期 window is yellow.
    """
    if status == S.STATUS_DONE:
        return GREEN
    if due is None and not steps:  # no fixed date: lit by status alone
        return GREEN if status == S.STATUS_ON_TRACK else YELLOW
    lag = (expected or 0) - (progress or 0)
    if (due is not None and due < as_of) or lag >= lag_red or missed(steps, status, progress, as_of):
        return RED
    dates = [m.due for m in steps if not m.reached(status, progress)] + ([due] if due is not None else [])
    if lag > 0 or status == S.STATUS_BEHIND or any((d - as_of).days <= due_soon for d in dates):
        return YELLOW
    return GREEN


MILESTONE_FIGURES = [S.TASK_ID, S.TEXT, S.LEAD, S.LEADER, S.MS_SERIAL, S.MS_CONTENT, S.DEADLINE_TEXT, S.DUE,
                     S.MS_SHARE, S.STATUS, S.PROGRESS, S.PROBLEMS, "序时进度", "已达到", "最终节点", "逾期", "临期", "剩余天数"]


def red_reason(task: Any, brief: bool = False) -> str:
    """Why a task of :func:`task_metrics` is red: overdue, a milestone missed, or behind 序时进度
    (``brief``: for a narrow cell)."""
    if task["逾期"]:
        days = -int(task["剩余天数"])
        return f"逾期{days}天" if brief else f"已超过完成时限{days}天仍未完成"
    if task["错过节点"]:
        return f"未按期达到节点：{task['错过节点']}"
    return f"{'落后序时' if brief else '落后序时进度'}{task['落后']:g}个百分点"


@dataclass
class Metrics:
    as_of: dt.date
    tasks: pd.DataFrame
    by_leader: pd.DataFrame
    by_unit: pd.DataFrame
    overall: pd.Series
    milestones: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MILESTONE_FIGURES))


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def task_metrics(master: Master, as_of: dt.date | None = None) -> pd.DataFrame:
    s = master.settings
    as_of = as_of or s.as_of
    rows = []
    extended = changes.extended(master)
    for t in master.active_tasks():  # a cancelled task has no rate, light or 序时进度
        due = to_date(t.get(S.DUE))
        status = cell_text(t.get(S.STATUS))
        progress = _number(t.get(S.PROGRESS))
        steps = master.steps_of(cell_text(t.get(S.TASK_ID)))
        expected = schedule_progress(due, as_of, s.plan_start, steps)
        pending = next((m for m in steps if not m.reached(status, progress)), None)
        late = missed(steps, status, progress, as_of)
        rate = _number(t.get(S.RATE))
        if rate is None:
            rate = rate_for_task(cell_text(t.get(S.TARGET)), cell_text(t.get(S.ACTUAL)), master)
        done = status == S.STATUS_DONE
        rows.append({
            S.TASK_ID: cell_text(t.get(S.TASK_ID)), S.SERIAL: t.get(S.SERIAL), S.CATEGORY: cell_text(t.get(S.CATEGORY)),
            S.TEXT: cell_text(t.get(S.TEXT)), S.LEAD: cell_text(t.get(S.LEAD)), S.LEADER: cell_text(t.get(S.LEADER)),
            S.DEADLINE_TEXT: cell_text(t.get(S.DEADLINE_TEXT)), S.DUE: due, S.TARGET: cell_text(t.get(S.TARGET)),
            S.STATUS: status, S.PROGRESS: progress, S.ACTUAL: cell_text(t.get(S.ACTUAL)), S.RATE: rate,
            S.PROBLEMS: cell_text(t.get(S.PROBLEMS)),
            "序时进度": expected,
            "落后": None if expected is None else round(expected - (progress or 0), 1),
            "灯": light(status, progress, due, as_of, expected, s.lag_red, s.due_soon, steps),
            S.NEXT_MILESTONE: pending.label(s.year) if pending else "",
            "错过节点": late[0].label(s.year) if late else "",
            "已完成": done,
            "到期": due is not None and due <= as_of,
            "逾期": due is not None and due < as_of and not done,
            "临期": due is not None and not done and 0 <= (due - as_of).days <= s.due_soon,
            "剩余天数": (due - as_of).days if due else None,
            ORIGINAL_DEADLINE: extended.get(cell_text(t.get(S.TASK_ID)), ""),
        })
    return pd.DataFrame(rows)


def group_metrics(tasks: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: counts, 到期完成率 (done among due), 总体完成率 (done among all), lights."""
    frame = tasks
    if by == S.LEAD:  # a task with several lead units counts for each of them
        frame = tasks.assign(**{S.LEAD: tasks[S.LEAD].map(unit_list)}).explode(S.LEAD)
    frame = frame[frame[by].astype(bool)]
    # One vectorised pass for every group (a group at a time was quadratic at a province's 1,000 units).
    counts = pd.DataFrame({
        by: frame[by], "任务数": 1, "已完成": frame["已完成"].astype(int), "到期任务": frame["到期"].astype(int),
        "到期已完成": (frame["到期"] & frame["已完成"]).astype(int), "逾期": frame["逾期"].astype(int),
        "临期": frame["临期"].astype(int), RED: (frame["灯"] == RED).astype(int),
        YELLOW: (frame["灯"] == YELLOW).astype(int), GREEN: (frame["灯"] == GREEN).astype(int),
        "平均进度": pd.to_numeric(frame[S.PROGRESS], errors="coerce").fillna(0.0),
    })
    groups = counts.groupby(by, sort=False)
    out = groups.sum()
    out["平均进度"] = groups["平均进度"].mean().round(1)
    out["到期完成率"] = (out["到期已完成"] / out["到期任务"]).where(out["到期任务"] > 0)
    out["总体完成率"] = out["已完成"] / out["任务数"]
    out = out.reset_index()[[by] + GROUP_COLUMNS]
    return out.sort_values(["到期完成率", "总体完成率", "平均进度"], ascending=False, na_position="last",
                           kind="stable").reset_index(drop=True)


def _figures(g: pd.DataFrame) -> dict[str, Any]:
    due = g[g["到期"]]
    progress = g[S.PROGRESS].fillna(0)
    return {
        "任务数": len(g), "已完成": int(g["已完成"].sum()), "到期任务": len(due),
        "到期已完成": int(due["已完成"].sum()),
        "到期完成率": (due["已完成"].sum() / len(due)) if len(due) else None,
        "总体完成率": g["已完成"].sum() / len(g) if len(g) else None,
        "平均进度": round(float(progress.mean()), 1) if len(g) else None,
        "逾期": int(g["逾期"].sum()), "临期": int(g["临期"].sum()),
        RED: int((g["灯"] == RED).sum()), YELLOW: int((g["灯"] == YELLOW).sum()), GREEN: int((g["灯"] == GREEN).sum()),
    }


def milestone_metrics(master: Master, tasks: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per milestone: reached, overdue (逾期) or due soon (临期), as of ``as_of``."""
    rows = []
    for t in tasks.to_dict("records"):
        steps = master.steps_of(t[S.TASK_ID])
        for m in steps:
            reached = m.reached(t[S.STATUS], t[S.PROGRESS])
            left = (m.due - as_of).days
            rows.append({
                S.TASK_ID: t[S.TASK_ID], S.TEXT: t[S.TEXT], S.LEAD: t[S.LEAD], S.LEADER: t[S.LEADER],
                S.MS_SERIAL: m.serial, S.MS_CONTENT: m.content, S.DEADLINE_TEXT: m.when, S.DUE: m.due,
                S.MS_SHARE: m.share, S.STATUS: t[S.STATUS], S.PROGRESS: t[S.PROGRESS], S.PROBLEMS: t[S.PROBLEMS],
                "序时进度": t["序时进度"], "已达到": reached,
                "最终节点": m is steps[-1] and (pd.isna(t[S.DUE]) or m.due >= t[S.DUE]),
                "逾期": not reached and left < 0, "临期": not reached and 0 <= left <= master.settings.due_soon,
                "剩余天数": left,
            })
    return pd.DataFrame(rows, columns=MILESTONE_FIGURES)


def compute(master: Master, as_of: dt.date | None = None) -> Metrics:
    as_of = as_of or master.settings.as_of
    tasks = task_metrics(master, as_of)
    overall = pd.Series(_figures(tasks)) if len(tasks) else pd.Series(dtype=object)
    return Metrics(as_of, tasks, group_metrics(tasks, S.LEADER), group_metrics(tasks, S.LEAD), overall,
                   milestone_metrics(master, tasks, as_of))
