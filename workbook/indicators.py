"""Quantitative targets (指标): a task's rate within its master, and the rates published tables state (``duban rates``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import schema as S
from .findings import Report
from .language.quantities import RELATIVE, prepare
from .language.rates import completion_rate
from .language.text import cell_text, col_letter
from .ooxml.xlsx_reader import open_book, sheet_rows

if TYPE_CHECKING:
    from .master import Master


def reference_growth(master: "Master") -> str | None:
    """The GDP growth target of the plan: the reference of 与经济增长同步 targets."""
    for t in master.tasks:
        if "生产总值" in cell_text(t.get(S.TEXT)) and cell_text(t.get(S.TARGET)):
            return cell_text(t.get(S.TARGET))
    return None


def rate_for_task(target: str, actual: str, master: "Master") -> float | None:
    if not target or not actual:
        return None
    reference = reference_growth(master) if RELATIVE.search(prepare(target)) else None
    return completion_rate(target, actual, reference)


def check_indicator_table(path: Path, reference: str | None = None) -> Report:
    """Compare the rates an indicator table states (完成率) with the computed ones.

    The table's header row names 目标, 完成情况 and 完成率 (any sheet, any
    position, as published tables lay them out); a stated rate more than 0.01
    percentage point away from the computed rate is a finding.
    """
    report = Report()
    book = open_book(Path(path))
    checked = 0
    for sheet in book.sheet_names:
        rows = sheet_rows(book, sheet)
        header_at = next((i for i, r in enumerate(rows[:20])
                          if {"目标", "完成情况", "完成率"} <= {cell_text(v) for v in r}), None)
        if header_at is None:
            continue
        header = [cell_text(v) for v in rows[header_at]]
        col = {name: header.index(name) for name in ("目标", "完成情况", "完成率")}
        letter = col_letter(col["完成率"] + 1)
        for r, row in enumerate(rows[header_at + 1:], start=header_at + 2):
            stated = _stated(row[col["完成率"]] if col["完成率"] < len(row) else None)
            if stated is None:
                continue
            computed = completion_rate(cell_text(row[col["目标"]]), cell_text(row[col["完成情况"]]), reference)
            checked += 1
            where = {"file": Path(path).name, "sheet": sheet, "cell": f"{letter}{r}"}
            if computed is None:
                report.add("rate-not-computable", "完成率无法由目标和完成情况算出（计量单位不同或无数值），请核对",
                           "warning", **where)
            elif abs(computed - stated) * 100 > 0.01:
                report.add("stated-rate-mismatch", f"表中完成率 {stated:.2%} 与按目标和完成情况计算的 {computed:.2%} 不一致",
                           "warning", suggestion=f"{computed:.2%}", **where)
    report.stats["checked"] = checked
    return report


def _stated(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = prepare(value).rstrip("%")
    try:
        return float(text) / 100
    except ValueError:
        return None
