"""Synthetic masters for the benchmarks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from workbook import schema as S
from workbook.language.units import unit_kind
from workbook.master import Master, Settings, write_master_file

MONTH_ENDS = ["3月底", "6月底", "9月30日前", "10月底", "12月底", "年底前", "上半年", "三季度末"]


def synthetic_master(units: int, tasks_per_unit: int, path: Path) -> Master:
    settings = Settings(year=2026, period="2026-06", as_of=dt.date(2026, 6, 30), master_id="BENCH000000000001",
                        title="基准测试任务分解方案")
    names = [f"测试单位{i:04d}局" for i in range(units)]
    tasks = []
    for u, name in enumerate(names):
        for k in range(tasks_per_unit):
            serial = u * tasks_per_unit + k + 1
            deadline = MONTH_ENDS[serial % len(MONTH_ENDS)]
            tasks.append({
                S.TASK_ID: f"2026-{serial:05d}", S.SERIAL: serial, S.CATEGORY: S.CATEGORY_OTHER,
                S.TEXT: f"推进第{serial}项重点工作，完成年度目标任务，建设项目{k + 3}个以上",
                S.LEAD: name, S.LEADER: f"领导{u % 10}", S.DEADLINE_TEXT: deadline,
                S.DUE: None, S.TARGET: f"{k + 3}个以上" if k % 4 == 0 else "", "_row": serial + 1,
            })
    from workbook.language.deadlines import parse_deadline

    for t in tasks:
        t[S.DUE] = parse_deadline(t[S.DEADLINE_TEXT], 2026).due
    master = Master(settings=settings, tasks=tasks,
                    units=[{S.UNIT_NAME: n, S.UNIT_KIND: unit_kind(n)} for n in names])
    write_master_file(master, path)
    return master
