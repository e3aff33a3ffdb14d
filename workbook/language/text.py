"""Small text helpers shared by the parsers: width folding and Chinese numerals."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_RUN = re.compile(r"[〇零一二两三四五六七八九十百]+")


def normalise_text(value: object) -> str:
    """Fold full-width forms (１２月, （）, ％) to their plain forms and trim."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return text.replace("\u3000", " ").strip()


def cn_to_int(run: str) -> int:
    """十二 → 12, 二十五 → 25, 二〇二六 → 2026, 一百 → 100."""
    if "十" not in run and "百" not in run:
        return int("".join(str(_CN_DIGITS[ch]) for ch in run))
    total, current = 0, 0
    for ch in run:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch]
    return total + current


def chinese_numerals_to_digits(text: str) -> str:
    return _CN_RUN.sub(lambda m: str(cn_to_int(m.group(0))), text)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """A cell value as trimmed text; whole floats lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


EXCEL_EPOCH = dt.date(1899, 12, 30)


def to_date(value: object) -> dt.date | None:
    """A date from a cell value: a date, an ISO text (as Office.js sends) or an Excel serial."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 2958465:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def col_letter(n: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_number(letters: str) -> int:
    """A → 1, AA → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_WIDE = re.compile("[\u2e81-\U0010ffff]")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal or a cell: CJK characters count two."""
    return len(text) + len(_WIDE.findall(text))


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide."""
    return -(-display_width(text) // max(int(width) - 1, 1)) + text.count("\n")
