"""Number formats: what a cell's number looked like to the person who typed it.

A spreadsheet stores a typed ``7.5%`` as the number 0.075 and a percent number
format; a typed date as a serial number and a date format. python-calamine
turns date formats into dates itself (both the 1900 and the 1904 date system),
but leaves percent cells as bare fractions. This module reads ``styles.xml``
once per file (``cellXfs`` → ``numFmtId`` → built-in or custom ``numFmt`` code,
ECMA-376 Part 1 §18.8.30-31) so the reader can give back what the user saw.

Regular expressions over bytes, as in :mod:`workbook.ooxml.sheetxml`: the part
was already bounded and checked for DTDs by :mod:`workbook.ooxml.zipguard`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

# Built-in formats written as a numFmtId with no numFmt element (ECMA-376 Part 1 §18.8.30),
# as Excel shows them in a Chinese locale: 14 and 22 follow the system's short date
# (yyyy/m/d in zh-CN); 27-36 and 50-58 are the zh-CN list of the standard.
BUILTIN: dict[int, str] = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
    12: "# ?/?", 13: "# ??/??", 14: "yyyy/m/d", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy",
    18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "yyyy/m/d h:mm",
    27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy", 31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"', 33: 'h"时"mm"分"ss"秒"', 34: '上午/下午h"时"mm"分"', 35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"', 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
    50: 'yyyy"年"m"月"', 51: 'm"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"', 54: 'm"月"d"日"',
    55: '上午/下午h"时"mm"分"', 56: '上午/下午h"时"mm"分"ss"秒"', 57: 'yyyy"年"m"月"', 58: 'm"月"d"日"',
}

_NUMFMT = re.compile(rb"<(?:\w+:)?numFmt\b[^>]*>")
_CELLXFS = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.S)
_XF_ID = re.compile(rb'<(?:\w+:)?xf\b(?:[^>]*?\bnumFmtId="([0-9]{1,5})")?')
_ID = re.compile(rb'\bnumFmtId="([0-9]{1,5})"')
_CODE = re.compile(rb'\bformatCode="([^"]*)"')
_DATE1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^>]*?\bdate1904="(?:1|true)"')
# Parts of a format code that never decide its kind: quoted and escaped literals, colours,
# locale and conditions in brackets (but not the elapsed-time [h] [m] [s]), fill and padding.
_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.|\[(?![hms]+\])[^\]]*\]', re.I)
_DATE_TOKEN = re.compile(r"[ymdhs]|上午/下午|AM/PM|A/P", re.I)


@dataclass(frozen=True)
class NumberFormats:
    """The number formats of one workbook, by cell style index (the ``s`` of a cell)."""

    codes: tuple[str, ...] = ()
    date1904: bool = False
    percent: frozenset[int] = field(default=frozenset())
    dates: frozenset[int] = field(default=frozenset())

    def code(self, style: int) -> str:
        return self.codes[style] if 0 <= style < len(self.codes) else "General"

    @property
    def special(self) -> frozenset[int]:
        """Styles whose numbers read differently from their plain value."""
        return self.percent | self.dates

    def shown(self, value: object, style: int) -> object:
        """``value`` as the user saw it: percent numbers and dates as text, anything else unchanged."""
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and style in self.percent:
            return percent_text(value)
        if isinstance(value, (dt.date, dt.time)):
            return date_text(value, self.code(style) if style in self.dates else "")
        if isinstance(value, (int, float)) and style in self.dates:
            day = serial_to_datetime(value, self.date1904)
            return date_text(day, self.code(style)) if day else value
        return value


def read_number_formats(styles_xml: bytes | None, workbook_xml: bytes | None = None) -> NumberFormats:
    """The number format of every cell style in ``styles.xml``; the date system from ``workbook.xml``."""
    return _number_formats(styles_xml, bool(workbook_xml and _DATE1904.search(workbook_xml)))


@lru_cache(maxsize=32)  # files from one program share their styles.xml: parsed once per batch
def _number_formats(styles_xml: bytes | None, date1904: bool) -> NumberFormats:
    if not styles_xml:
        return NumberFormats(date1904=date1904)
    custom: dict[int, str] = {}
    for tag in _NUMFMT.findall(styles_xml):
        num, code = _ID.search(tag), _CODE.search(tag)
        if num and code:
            custom[int(num.group(1))] = unescape_xml(code.group(1).decode("utf-8", "replace"))
    block = _CELLXFS.search(styles_xml)
    ids = [int(i or 0) for i in _XF_ID.findall(block.group(1))] if block else []
    codes = [custom.get(fmt) or BUILTIN.get(fmt, "General") for fmt in ids]
    kinds = [format_kind(c) for c in codes]
    return NumberFormats(tuple(codes), date1904,
                         frozenset(i for i, k in enumerate(kinds) if k == "percent"),
                         frozenset(i for i, k in enumerate(kinds) if k == "date"))


def unescape_xml(text: str) -> str:
    """An attribute's text with XML's five named entities replaced, as ``xml.sax.saxutils.unescape``
    with ``&quot;`` and ``&apos;`` does (that module imports urllib and http: 10 ms a run)."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'") \
        .replace("&amp;", "&")


def format_kind(code: str) -> str:
    """"percent", "date", "text" or "number", from the first section of a format code."""
    bare = _LITERALS.sub("", _first_section(code))
    if bare.strip() == "@":
        return "text"
    if "%" in bare:
        return "percent"
    bare = re.sub(r"general", "", bare, flags=re.I)
    bare = re.sub(r"E[+-]", "", bare)
    return "date" if _DATE_TOKEN.search(bare) else "number"


def _first_section(code: str) -> str:
    quoted = False
    for i, ch in enumerate(code):
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted and (i == 0 or code[i - 1] != "\\"):
            return code[:i]
    return code


def percent_text(value: float) -> str:
    """0.075 → "7.5%": the value as typed (15 significant digits, as Excel keeps), not rounded for display."""
    hundred = (Decimal(f"{value:.15g}") * 100).normalize()
    text = format(hundred, "f")
    return ("0" if text in ("-0", "") else text) + "%"


def percent_number(value: float) -> float:
    """0.75 → 75.0, without the binary noise of ``value * 100``."""
    return float(Decimal(f"{value:.15g}") * 100)


_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def serial_to_datetime(serial: float, date1904: bool = False) -> dt.datetime | None:
    """A date serial in the workbook's date system (ECMA-376 Part 1 §18.17.4.1)."""
    if not 0 <= serial < 2958466:
        return None
    moment = (_EPOCH_1904 if date1904 else _EPOCH_1900) + dt.timedelta(days=serial)
    return moment.replace(microsecond=0) if moment.microsecond < 500_000 else \
        (moment + dt.timedelta(seconds=1)).replace(microsecond=0)


_TOKEN = re.compile(r'"([^"]*)"|\\(.)|(yyyy|yy|e|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|aaaa|aaa|hh|h|ss|s'
                    r'|上午/下午|AM/PM|A/P|\[[^\]]*\]|[^"\\])', re.I)
_WEEKDAYS = "一二三四五六日"
_CN_NUMBER = [("十" if n >= 10 and n // 10 == 1 else ("一二三四五六七八九"[n // 10 - 1] + "十" if n >= 10 else ""))
              + ("〇一二三四五六七八九"[n % 10] if n % 10 or n == 0 else "") for n in range(100)]
_PARTS = {"yyyy", "yy", "e", "m", "mm", "d", "dd", "h", "hh", "s", "ss"}


def date_text(value: dt.date | dt.time, code: str = "") -> str:
    """A date or time rendered with its format code, as the cell showed it.

    Covers what dates are typed with and shown in Chinese offices (years,
    months, days, hours, minutes, seconds, literals, 上午/下午, weekdays in a
    Chinese locale, Chinese numerals by ``[DBNum1]``); anything else (English
    month names) falls back to ISO 8601.
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        moment = dt.datetime.combine(dt.date(1900, 1, 1), value)
    fallback = (moment.strftime("%H:%M:%S") if isinstance(value, dt.time) else
                moment.date().isoformat() + (moment.strftime(" %H:%M") if moment.time() != dt.time() else ""))
    section = _first_section(code)
    if not section or format_kind(section) != "date" or re.search(r"DBNum[^1]", section, re.I):
        return fallback
    tokens = _TOKEN.findall(section)
    kinds = [t[2].lower() if t[2] else "" for t in tokens]
    twelve = any(k in ("上午/下午", "am/pm", "a/p") for k in kinds)
    chinese = re.search(r"\[\$-(?:[0-9A-F]*804|zh)", section, re.I) is not None
    numerals = re.search(r"\[DBNum1\]", section, re.I) is not None

    def number(n: int, width: int = 1, year: bool = False) -> str:
        if not numerals:
            return f"{n:0{width}d}"
        if year:  # 2026 → 二〇二六, digit by digit
            return "".join("〇一二三四五六七八九"[int(ch)] for ch in str(n))
        return _CN_NUMBER[n]

    out = []
    for i, (literal, escaped, token) in enumerate(tokens):
        k = kinds[i]
        if literal or escaped:
            out.append(literal or escaped)
        elif k in ("yyyy", "e"):
            out.append(number(moment.year, 4, year=True))
        elif k == "yy":
            out.append(number(moment.year % 100, 2, year=True))
        elif k in ("m", "mm"):
            before = next((x for x in reversed(kinds[:i]) if x in _PARTS), "")
            after = next((x for x in kinds[i + 1:] if x in _PARTS), "")
            minute = before in ("h", "hh") or after in ("s", "ss")
            out.append(number(moment.minute if minute else moment.month, len(k)))
        elif k in ("d", "dd"):
            out.append(number(moment.day, len(k)))
        elif k in ("aaaa", "aaa") or (chinese and k in ("dddd", "ddd")):
            day = _WEEKDAYS[moment.weekday()]
            out.append(("星期" if k in ("aaaa", "dddd") else "周" if k == "ddd" else "") + day)
        elif k in ("h", "hh"):
            out.append(number((moment.hour % 12 or 12) if twelve else moment.hour, len(k)))
        elif k in ("s", "ss"):
            out.append(number(moment.second, len(k)))
        elif k == "上午/下午":
            out.append("上午" if moment.hour < 12 else "下午")
        elif k in ("am/pm", "a/p"):
            mark = "AM" if moment.hour < 12 else "PM"
            out.append(mark if k == "am/pm" else mark[0])
        elif k.startswith("["):
            if not k.startswith(("[$", "[dbnum1")):
                return fallback  # elapsed time and conditions are not what a typed date shows
        elif k in ("mmm", "mmmm", "mmmmm", "ddd", "dddd"):
            return fallback
        else:
            out.append(token)
    return "".join(out)
