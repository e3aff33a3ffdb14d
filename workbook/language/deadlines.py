"""Deadlines as civil servants write them (完成时限) turned into dates.

A cell is read clause by clause (clauses end at ，；。、 line breaks and brackets).
Each clause that names a date is a dated step (``6月底前开工``); the words around
the date (到/力争/确保 before it, 开工建设/投入运营 after it) are the step's content.
The due date of the cell is the latest step; when a cell names several steps,
every one is a milestone (时间节点). Periods and events without a day are read by
fixed rules (:data:`RULES`, documented in the README).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass

from .text import EXCEL_EPOCH, cn_to_int, normalise_text


class DeadlineError(ValueError):
    """A deadline that names an impossible date or cannot be read.

    ``reason`` is ``"impossible"`` (13月底, 2月30日) or ``"unrecognised"``.
    """

    def __init__(self, message: str, reason: str = "impossible") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Step:
    """One dated step of a deadline: ``when`` is the date phrase, ``what`` the rest of its clause."""

    text: str
    when: str
    what: str
    due: dt.date
    kind: str


@dataclass(frozen=True)
class Deadline:
    text: str
    due: dt.date | None
    kind: str  # date, month_end, month_part, month, quarter, half_year, year_end, event, recurring, open
    steps: tuple[Step, ...] = ()  # every dated step, in date order

    @property
    def fixed(self) -> bool:
        return self.due is not None

    @property
    def milestones(self) -> tuple[Step, ...]:
        """The dated steps when there are several (a single date is just the deadline)."""
        return self.steps if len(self.steps) > 1 else ()


# Spring Festival (正月初一) by Gregorian year (checked against the lunardate package); 春节前 is the day before.
SPRING_FESTIVAL = {
    2000: (2, 5), 2001: (1, 24), 2002: (2, 12), 2003: (2, 1), 2004: (1, 22), 2005: (2, 9), 2006: (1, 29),
    2007: (2, 18), 2008: (2, 7), 2009: (1, 26), 2010: (2, 14), 2011: (2, 3), 2012: (1, 23), 2013: (2, 10),
    2014: (1, 31), 2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
    2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6),
    2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19),
    2035: (2, 8), 2036: (1, 28), 2037: (2, 15), 2038: (2, 4), 2039: (1, 24), 2040: (2, 12), 2041: (2, 1),
    2042: (1, 22), 2043: (2, 10), 2044: (1, 30), 2045: (2, 17), 2046: (2, 6), 2047: (1, 26), 2048: (2, 14),
    2049: (2, 2), 2050: (1, 23),
}

# Fixed rules for periods and events that name no day: phrase → (month, day) in the
# plan year (or the year written before it). The README's deadline table lists them.
RULES: dict[str, tuple[int, int]] = {
    "上半年": (6, 30), "年中": (6, 30), "下半年": (12, 31),
    "年底": (12, 31), "年末": (12, 31), "年内": (12, 31), "年终": (12, 31), "全年": (12, 31),
    "年度内": (12, 31),
    # Flood season (汛期): most northern provinces and the Yangtze main flood season start in
    # June (北京 6月1日, 河北 6月1日, 湖北主汛期 6月); "before the flood season" is 31 May.
    # Provinces that enter it earlier (广东、浙江 4月15日) should write the date.
    "汛期前": (5, 31), "汛前": (5, 31), "入汛前": (5, 31), "主汛期前": (5, 31), "汛期来临前": (5, 31),
    "劳动节前": (4, 30), "五一前": (4, 30), "劳动节": (4, 30), "五一": (4, 30),
    "国庆节前": (9, 30), "国庆前": (9, 30), "国庆节": (9, 30), "国庆": (9, 30),
    "秋季开学前": (8, 31), "开学前": (8, 31),
}
_SPRING = ("春节前", "春节之前")  # the festival that closes the plan year: the next year's
_NEW_YEAR = ("元旦前",)  # 1 January of the next year: 31 December of the plan year

_REL_YEARS = {"今年": 0, "当年": 0, "本年": 0, "次年": 1, "明年": 1, "翌年": 1, "下一年": 1, "下年": 1}
_CN = "〇零一二两三四五六七八九十"
_Y = r"\d{4}|[〇零一二三四五六七八九]{4}"
_M = r"\d{1,2}|十[一二]?|[一二三四五六七八九]"
_D = r"\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九]"
_REL = "|".join(sorted(_REL_YEARS, key=len, reverse=True))


def _year_re(name: str) -> str:
    return rf"(?:(?P<{name}>{_Y})年(?:度)?|(?P<{name}rel>{_REL}))"


_EVENTS = "|".join(sorted(list(RULES) + list(_SPRING) + list(_NEW_YEAR), key=len, reverse=True))

_TOKEN = re.compile(
    rf"(?P<iso>(?P<iy>\d{{4}})[-/.](?P<im>\d{{1,2}})(?:[-/.](?P<id>\d{{1,2}}))?(?![\d.]))"
    rf"|(?P<ymd>{_year_re('y')}?(?P<m>{_M})月(?:份)?"
    rf"(?:(?P<d>{_D})(?:[日号](?:[-—~至到](?P<d2>{_D})[日号])?|[-—~至到](?P<d3>{_D})[日号])"
    rf"|(?P<part>中旬|上旬|下旬|底|末|初|中|内))?)"
    rf"|(?P<qtr>{_year_re('qy')}?(?:第|前)?(?P<q>\d|[一二三四五六七八九])季度(?:末|底|内)?)"
    rf"|(?P<evt>{_year_re('ey')}?(?P<event>{_EVENTS}))"
    rf"|(?P<relonly>{_REL})"  # 今年 alone: within the year
    # A year alone (到2026年) is its end; 2011年三国文化周 is no date.
    rf"|(?P<yo>(?P<yy>{_Y})年(?:度)?(?P<yp>底|末|内|终)?(?!\d|[{_CN}]))"
)
_LEAD_WORDS = re.compile(r"(?:截至|截止|力争|确保|争取|计划|预计|到|至|于|在)+$")
_AFTER = re.compile(r"(?:以前|之前|前|为止|止)?")
# A Chinese numeral only starts a date after these (统一月底 is not January).
_CN_LEAD = set("至到于在止争保划计预今明次第及和与或、~-—")
_CLAUSE = re.compile(r"[，,；;。、\n\r\t（）()【】\[\]]+")
_WEEKDAY = re.compile(r"[（(]\s*(?:星期|周|礼拜)[一二三四五六日天1-7]\s*[)）]")
_DATE_NOTE = re.compile(r"[（(]\s*((?:\d{1,2}|[一二三四五六七八九十]{1,2})月(?:份)?[^（()）]{0,4})[)）]")
_MERGE_QUARTERS = re.compile(r"(?:\d|[一二三四])\s*[、，,和及至到—-]\s*(?=(?:\d|[一二三四])季度)")
_RECURRING = re.compile(r"每(?:个)?(?:年|月|季度?|半年|周|旬)|定期")
_OPEN = re.compile(
    r"按.*(?:安排|要求|部署|进度|计划)|统筹推进|长期|持续|常态|常年|适时|根据|视.*情况|逐步|分阶段|另行|动态"
)


def parse_deadline(text: object, year: int) -> Deadline:
    """Parse a 完成时限 written by a person into a :class:`Deadline`.

    ``year`` is the plan year, used where the text names no year (a year written
    in the cell carries to the clauses after it). Excel date cells
    (``date``/``datetime``) and Excel serial numbers are accepted too.
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
    if not isinstance(text, str):  # a range of cells where one value belongs
        raise DeadlineError("完成时限应为一个单元格的文字或日期", "unrecognised")
    return _parse_text(text.strip(), year)


@functools.lru_cache(maxsize=8192)
def _parse_text(original: str, year: int) -> Deadline:
    # A decomposition repeats a few dozen phrases over thousands of tasks, and import, check
    # and split each read every one: parsed once (Deadline is frozen, safe to share).
    s = normalise_text(_WEEKDAY.sub("", original)).replace("“", "").replace("”", "")
    s = _DATE_NOTE.sub(r" \1", s)  # 第四季度（11月份）: the note refines the date before it
    s = _MERGE_QUARTERS.sub("", s)  # 第三、四季度 → 第四季度
    steps: list[Step] = []
    recurring = opened = False
    current = year
    for clause in _CLAUSE.split(s):
        clause = re.sub(r"\s+", "", clause)
        if not clause:
            continue
        if _RECURRING.search(clause):
            recurring = True
            continue
        tokens, current = _tokens(clause, current, year, original)
        if not tokens:
            opened = opened or bool(_OPEN.search(clause))
            continue
        # 4月至5月, 1月底至4月20日: the clause's last date counts; the words around it are the step.
        start, end, due, kind = tokens[0][0], tokens[-1][1], tokens[-1][2], tokens[-1][3]
        after = _AFTER.match(clause, end)
        end = after.end() if after else end
        what = (_LEAD_WORDS.sub("", clause[:start]) + clause[end:]).strip(":： ")
        steps.append(Step(clause, clause[start:end], what, due, kind))
    if steps:
        steps.sort(key=lambda st: st.due)
        return Deadline(original, steps[-1].due, steps[-1].kind, tuple(steps))
    if recurring:
        return Deadline(original, None, "recurring")
    if opened:
        return Deadline(original, None, "open")
    raise DeadlineError(f"无法识别完成时限“{original}”，请写成“6月底前”“9月30日前”等形式", "unrecognised")


def _tokens(clause: str, current: int, plan_year: int,
            original: str) -> tuple[list[tuple[int, int, dt.date, str]], int]:
    """(start, end, due, kind) of every date phrase in one clause, and the year in force after it."""
    out = []
    for m in _TOKEN.finditer(clause):
        before = clause[m.start() - 1] if m.start() else ""
        if m.group(0)[0] in _CN and "\u4e00" <= before <= "\u9fff" and before not in _CN_LEAD:
            continue
        due, kind, explicit = _token_date(m, current, plan_year, original)
        current = explicit or current  # a year written once holds for the dates after it
        out.append((m.start(), m.end(), due, kind))
    return out, current


def _year(m: re.Match[str], name: str, current: int, plan_year: int) -> tuple[int, int]:
    """The year a token is in, and the year it states explicitly (0 when it states none)."""
    if m.group(name):
        y = _int(m.group(name))
        return y, y
    rel = m.group(name + "rel")
    if rel:
        y = plan_year + _REL_YEARS[rel]
        return y, y
    return current, 0


def _token_date(m: re.Match[str], current: int, plan_year: int, original: str) -> tuple[dt.date, str, int]:
    if m.group("iso"):
        y, mo = int(m.group("iy")), int(m.group("im"))
        if m.group("id"):
            return _date(y, mo, int(m.group("id")), original), "date", y
        return _date(y, mo, _last(y, mo, original), original), "month", y
    if m.group("ymd"):
        y, explicit = _year(m, "y", current, plan_year)
        mo = _int(m.group("m"))
        if m.group("d"):  # 9月15日-25日: the last day counts
            return _date(y, mo, _int(m.group("d2") or m.group("d3") or m.group("d")), original), "date", explicit
        part = m.group("part") or ""
        last = _last(y, mo, original)
        day = {"上旬": 10, "初": 10, "中旬": 20, "中": 20}.get(part, last)
        kind = "month_part" if part in ("上旬", "中旬", "下旬", "初", "中") else ("month_end" if part else "month")
        return dt.date(y, mo, day), kind, explicit
    if m.group("qtr"):
        y, explicit = _year(m, "qy", current, plan_year)
        q = _int(m.group("q"))
        if not 1 <= q <= 4:
            raise DeadlineError(f"完成时限“{original}”中的季度 {q} 不存在")
        return dt.date(y, q * 3, _last(y, q * 3, original)), "quarter", explicit
    if m.group("evt"):
        y, explicit = _year(m, "ey", current, plan_year)
        event = m.group("event")
        if event in RULES:
            mo, d = RULES[event]
            kind = "half_year" if event in ("上半年", "年中", "下半年") else (
                "year_end" if (mo, d) == (12, 31) else "event")
            return dt.date(y, mo, d), kind, explicit
        if event in _NEW_YEAR:
            return dt.date(y - 1 if explicit else y, 12, 31), "event", explicit
        festival = y if explicit else y + 1  # 春节前 in a plan: the festival that closes the year
        if festival not in SPRING_FESTIVAL:
            raise DeadlineError(f"完成时限“{original}”：{festival}年春节日期未收录，请写明具体日期", "unrecognised")
        return dt.date(festival, *SPRING_FESTIVAL[festival]) - dt.timedelta(days=1), "event", explicit
    if m.group("relonly"):
        y = plan_year + _REL_YEARS[m.group("relonly")]
        return dt.date(y, 12, 31), "year_end", y
    y = _int(m.group("yy"))
    return dt.date(y, 12, 31), "year_end", y


def _int(text: str) -> int:
    return int(text) if text.isdigit() and text.isascii() else cn_to_int(text)


def _last(y: int, mo: int, original: str) -> int:
    _check_month(mo, original)
    return calendar.monthrange(y, mo)[1]


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
