"""Deadlines as civil servants write them (完成时限) turned into dates."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from .text import EXCEL_EPOCH, chinese_numerals_to_digits, normalise_text


class DeadlineError(ValueError):
    """A deadline that names an impossible date or cannot be read.

    ``reason`` is ``"impossible"`` (13月底, 2月30日) or ``"unrecognised"``.
    """

    def __init__(self, message: str, reason: str = "impossible") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Deadline:
    text: str
    due: dt.date | None
    kind: str  # date, month_end, month_part, month, quarter, half_year, year_end, recurring, open

    @property
    def fixed(self) -> bool:
        return self.due is not None


_NEXT_YEAR = ("次年", "明年", "翌年", "下一年", "下年")
_THIS_YEAR = ("今年", "当年", "本年")
_SUFFIXES = ("以前完成", "之前完成", "前完成", "完成", "以前", "之前", "前", "为止", "止")
_OPEN = re.compile(
    r"按.*(安排|要求|部署|进度|计划)|统筹推进|长期|持续|常态|适时|根据|视.*情况|逐步|分阶段|另行"
)
_RECURRING = re.compile(r"^每(个)?(月|季度?|年|周|半年|旬)")
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_YEAR_PREFIX = re.compile(r"^(\d{4})年(?:度)?")
_DATE = re.compile(r"^(\d{1,2})月(\d{1,2})[日号]?$")
_MONTH = re.compile(r"^(\d{1,2})月(份)?(底|末|末期|内|中旬|上旬|下旬|初|中)?$")
_QUARTER = re.compile(r"^(?:第)?(\d)季度(?:末|底|内)?$")
_YEAR_END = re.compile(r"^(年)?(底|末|内|终|年底|年末|年内|全年|年终)$")


def parse_deadline(text: object, year: int) -> Deadline:
    """Parse a 完成时限 written by a person into a :class:`Deadline`.

    ``year`` is the plan year, used where the text names no year. Excel date
    cells (``date``/``datetime``) and Excel serial numbers are accepted too.
    """
    if isinstance(text, dt.datetime):
        return Deadline(text.strftime("%Y-%m-%d"), text.date(), "date")
    if isinstance(text, dt.date):
        return Deadline(text.isoformat(), text, "date")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if 20000 <= text <= 80000:
            due = EXCEL_EPOCH + dt.timedelta(days=int(text))
            return Deadline(due.isoformat(), due, "date")
        raise DeadlineError(f"完成时限“{text}”不是日期", "unrecognised")
    if text is None or not str(text).strip():
        raise DeadlineError("完成时限为空", "unrecognised")
    original = str(text).strip()
    s = chinese_numerals_to_digits(normalise_text(original))
    s = re.sub(r"\s+", "", s)
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
            break

    if _RECURRING.match(s):
        return Deadline(original, None, "recurring")
    if _OPEN.search(s):
        return Deadline(original, None, "open")

    m = _ISO.match(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        return Deadline(original, _date(y, mo, d, original), "date")

    y = year
    m = _YEAR_PREFIX.match(s)
    explicit_year = bool(m)
    if m:
        y = int(m.group(1))
        s = s[m.end():]
    else:
        for word in _NEXT_YEAR + _THIS_YEAR:
            if s.startswith(word):
                y = year + 1 if word in _NEXT_YEAR else year
                s = s[len(word):]
                explicit_year = True
                break

    if not s and explicit_year:
        return Deadline(original, dt.date(y, 12, 31), "year_end")
    if m := _DATE.match(s):
        mo, d = int(m.group(1)), int(m.group(2))
        return Deadline(original, _date(y, mo, d, original), "date")
    if m := _MONTH.match(s):
        mo = int(m.group(1))
        part = m.group(3) or ""
        _check_month(mo, original)
        last = calendar.monthrange(y, mo)[1]
        day = {"上旬": 10, "初": 10, "中旬": 20, "中": 20}.get(part, last)
        kind = "month_part" if part in ("上旬", "中旬", "下旬", "初", "中") else (
            "month_end" if part else "month"
        )
        return Deadline(original, dt.date(y, mo, day), kind)
    if m := _QUARTER.match(s):
        q = int(m.group(1))
        if not 1 <= q <= 4:
            raise DeadlineError(f"完成时限“{original}”中的季度 {q} 不存在")
        mo = q * 3
        return Deadline(original, dt.date(y, mo, calendar.monthrange(y, mo)[1]), "quarter")
    if s in ("上半年", "年中"):
        return Deadline(original, dt.date(y, 6, 30), "half_year")
    if s == "下半年":
        return Deadline(original, dt.date(y, 12, 31), "half_year")
    if _YEAR_END.match(s):
        return Deadline(original, dt.date(y, 12, 31), "year_end")
    raise DeadlineError(f"无法识别完成时限“{original}”，请写成“6月底前”“9月30日前”等形式", "unrecognised")


def _check_month(month: int, original: str) -> None:
    if not 1 <= month <= 12:
        raise DeadlineError(f"完成时限“{original}”中的月份 {month} 不存在")


def _date(y: int, mo: int, d: int, original: str) -> dt.date:
    _check_month(mo, original)
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise DeadlineError(f"完成时限“{original}”中的日期 {y}年{mo}月{d}日 不存在") from None


def deadline_or_none(text: object, year: int) -> Deadline | None:
    """The parsed deadline, or ``None`` when it cannot be read (no exception)."""
    try:
        return parse_deadline(text, year)
    except DeadlineError:
        return None
