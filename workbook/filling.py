"""Filling unit workbooks the way a unit would (openpyxl edits of the issued file).

Used by ``duban demo`` to play the units' part, and by the tests and benchmarks
to produce realistic submissions.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from . import form as F
from . import schema as S
from .language.quantities import find_quantities

NARRATIVES = ["已完成方案制定并组织实施，各项工作按计划推进。", "项目已开工建设，累计完成投资约六成。",
              "已召开专题会议部署，正在推进前期手续办理。", "已完成年度目标任务，正在总结验收。"]
PROBLEMS = ["资金到位滞后，审批手续办理周期较长。", "受施工季节影响，进度慢于计划。"]


def plausible_actual(target: str, rng: random.Random) -> str:
    quantities = find_quantities(target)
    if "同步" in target:
        return f"{rng.uniform(4.5, 6.0):.1f}%"
    if not quantities:
        return "已按要求完成"
    parts = []
    for q in quantities:
        m = re.search(r"\d+(?:\.\d+)?", q.text)
        unit = re.sub(r"^.*?\d+(?:\.\d+)?", "", q.text)
        unit = re.sub(r"(以上|左右|以内|以下|余|多)$", "", unit)
        value = float(m.group(0)) * rng.uniform(0.85, 1.15) if m else 0
        parts.append(f"{value:.1f}{unit}")
    return "，".join(parts)


def fill_unit_file(path: Path, as_of: dt.date, seed: int = 0, reporter: str = "张三",
                   phone: str = "0471-6601234", report_date: dt.date | None = None,
                   overrides: dict[str, Any] | None = None) -> None:
    """Fill every input of an issued unit workbook with plausible answers, in place."""
    rng = random.Random(seed)
    wb = load_workbook(path)
    ws = wb[F.FORM]
    r = F.FIRST_ROW
    n = 0
    while ws.cell(r, 1).value:
        due = ws.cell(r, F.COL[S.DUE] + 1).value
        due = due.date() if isinstance(due, dt.datetime) else due
        target = ws.cell(r, F.COL[S.TARGET] + 1).value or ""
        if due and due <= as_of:
            status, progress = (S.STATUS_DONE, 100) if rng.random() < 0.8 else (S.STATUS_BEHIND, 70)
        else:
            start = dt.date(as_of.year, 1, 1)
            expected = 100 * (as_of - start).days / max((due - start).days, 1) if due else 50
            status, progress = S.STATUS_ON_TRACK, int(min(95, max(5, expected + rng.choice([-10, -5, 0, 5, 10]))))
            if rng.random() < 0.1:
                status, progress = S.STATUS_BEHIND, int(max(0, expected - 25))
        values = {S.STATUS: status, S.PROGRESS: progress, S.NARRATIVE: rng.choice(NARRATIVES),
                  S.PROBLEMS: rng.choice(PROBLEMS) if status == S.STATUS_BEHIND else "",
                  S.NEXT_STEPS: "加快推进，确保按期完成。",
                  S.ACTUAL: plausible_actual(target, rng) if target else None}
        for col, value in values.items():
            cell = ws.cell(r, F.COL[col] + 1)
            cell.value = value if value != "" else None
        r += 1
        n += 1
    for label, value in ((F.REPORTER, reporter), (F.PHONE, phone), (F.REPORT_DATE, report_date or as_of)):
        ws.cell(F.footer_row(n, label), 2).value = value
    for ref, value in (overrides or {}).items():
        ws[ref] = value
    wb.save(path)


