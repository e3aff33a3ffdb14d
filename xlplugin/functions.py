"""Cell functions: =DUBAN.DEADLINE(...) in Server and Lite, =DUBAN_DEADLINE(...) in classic Excel.

Bad arguments give a short Chinese text in the cell, never a traceback.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workbook import schema as S
from workbook.language.deadlines import DeadlineError, parse_deadline
from workbook.language.rates import completion_rate
from workbook.language.text import cell_text, to_date
from workbook.language.units import normalise_unit
from workbook.metrics import light, schedule_progress
from workbook.milestones import from_deadline

from .decorators import excel_func

_DEFAULT_YEAR = dt.date.today().year


def _year(value: Any) -> int:
    try:
        year = int(float(value))
    except (TypeError, ValueError):
        raise ValueError("年份应为数字，如 2026") from None
    if not 2000 <= year <= 2100:
        raise ValueError("年份应在 2000 到 2100 之间")
    return year


def _as_of(value: Any) -> dt.date:
    if value in (None, ""):
        return dt.date.today()
    date = to_date(value)
    if date is None:
        raise ValueError("截至日期不是日期")
    return date


@excel_func("DEADLINE")
def DUBAN_DEADLINE(text: Any, year: Any = None) -> Any:
    """完成时限文字转截止日期，参数如 ("6月底前", 2026)；无固定日期时返回空。"""
    try:
        deadline = parse_deadline(text, _year(year) if year not in (None, "") else _DEFAULT_YEAR)
    except (DeadlineError, ValueError) as exc:
        return f"错误：{exc}"
    return deadline.due if deadline.due else ""


@excel_func("DAYS_LEFT")
def DUBAN_DAYS_LEFT(text: Any, year: Any = None, as_of: Any = None) -> Any:
    """距截止日期的天数（负数为已逾期），参数如 ("9月30日前", 2026, TODAY())。"""
    try:
        deadline = parse_deadline(text, _year(year) if year not in (None, "") else _DEFAULT_YEAR)
        return (deadline.due - _as_of(as_of)).days if deadline.due else ""
    except (DeadlineError, ValueError) as exc:
        return f"错误：{exc}"


@excel_func("RATE")
def DUBAN_RATE(target: Any, actual: Any, reference: Any = None) -> Any:
    """指标完成率（比例，设置为百分比格式），参数如 ("6.5%左右", "7.8%")；无法计算时返回空。"""
    rate = completion_rate(cell_text(target), cell_text(actual), cell_text(reference) or None)
    return "" if rate is None else rate


@excel_func("LIGHT")
def DUBAN_LIGHT(deadline_text: Any, status: Any, progress: Any = None, as_of: Any = None) -> Any:
    """红黄绿灯，参数如 ("10月底", "序时推进", 50, "2026-06-30")。"""
    try:
        day = _as_of(as_of)
        deadline = parse_deadline(deadline_text, day.year)
        value = None if progress in (None, "") else float(str(progress).rstrip("%"))
    except (DeadlineError, ValueError) as exc:
        return f"错误：{exc}"
    steps = from_deadline(deadline)  # 3月底前完成方案，6月底前开工，12月底前完工: lit by its milestones
    expected = schedule_progress(deadline.due, day, dt.date(day.year, 1, 1), steps)
    return light(cell_text(status), value, deadline.due, day, expected, S.DEFAULT_LAG_RED, S.DEFAULT_DUE_SOON, steps)


@excel_func("UNIT")
def DUBAN_UNIT(name: Any) -> str:
    """规范单位名称：去掉空格、全角转半角，参数如 ("呼和浩特 职业技术大学")。"""
    return normalise_unit(name)
