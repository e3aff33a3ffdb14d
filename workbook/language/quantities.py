"""Chinese quantity expressions: ``8%以上``, ``超过280亿元``, ``500余场``, ``与经济增长同步``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import chinese_numerals_to_digits, normalise_text

AT_LEAST = ("超过", "突破", "不低于", "不少于", "达到", "达", "高于", "提升至", "提高至", "提高到",
            "增至", "增长至")
AT_MOST = ("不超过", "不高于", "控制在", "低于", "降至", "降低至", "降低到", "降到", "下降到", "下降至", "压减至",
           "压减到", "减少到", "减少至", "少于")
ABOUT = ("稳定在", "保持在", "约")
PREFIXES = sorted(AT_LEAST + AT_MOST + ABOUT, key=len, reverse=True)
SUFFIX_AT_LEAST = ("以上", "余", "多", "之上")
SUFFIX_AT_MOST = ("以内", "以下", "之内")
SUFFIX_ABOUT = ("左右",)
SUFFIXES = sorted(SUFFIX_AT_LEAST + SUFFIX_AT_MOST + SUFFIX_ABOUT, key=len, reverse=True)

# Unit words, longest first so 万平方米 wins over 平方米 and 亿元 over 元.
UNITS: dict[str, tuple[str, float]] = {
    "%": ("percent", 1), "‰": ("permille", 1), "个百分点": ("point", 1),
    "万亿元": ("yuan", 1e12), "亿元": ("yuan", 1e8), "万元": ("yuan", 1e4), "元": ("yuan", 1),
    "万亿": ("yuan", 1e12),
    "万亩": ("mu", 1e4), "亩": ("mu", 1),
    "万平方米": ("m2", 1e4), "平方米": ("m2", 1), "万平方公里": ("km2", 1e4),
    "平方公里": ("km2", 1),
    "公里": ("km", 1), "千米": ("km", 1), "米": ("m", 1),
    "万吨": ("t", 1e4), "吨": ("t", 1),
    "万千瓦": ("kw", 1e4), "千瓦": ("kw", 1), "GW": ("kw", 1e6), "MW": ("kw", 1e3),
    "万人次": ("person-times", 1e4), "人次": ("person-times", 1),
    "万人": ("person", 1e4), "人": ("person", 1), "名": ("person", 1),
    "万户": ("household", 1e4), "户": ("household", 1),
    "万个": ("item", 1e4), "个": ("item", 1), "家": ("firm", 1), "项": ("project", 1),
    "场": ("event", 1), "所": ("school", 1), "座": ("building", 1), "条": ("line", 1),
    "台": ("machine", 1), "辆": ("vehicle", 1), "次": ("times", 1), "张": ("sheet", 1),
    "套": ("set", 1), "处": ("place", 1), "P": ("pflops", 1), "粒": ("grain", 1),
}
_UNIT_RE = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_MAGNITUDE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3, "百": 1e2}
_MAG_RE = "万亿|亿|万|千"
_PREFIX_RE = "|".join(re.escape(p) for p in PREFIXES)
_SUFFIX_RE = "|".join(re.escape(s) for s in SUFFIXES)
_NUMBER = r"\d+(?:\.\d+)?"
_DASH = r"[-—–~至到]"

# 5%—5.5% and 8-9% are ranges: the lower bound (num) is the target, high the upper end.
QUANTITY = re.compile(
    rf"(?P<prefix>{_PREFIX_RE})?(?P<num>{_NUMBER})(?P<mag>{_MAG_RE})?"
    rf"(?:(?P<u1>{_UNIT_RE})?{_DASH}(?P<high>{_NUMBER})(?P<mag2>{_MAG_RE})?(?=[^年月日]|$))?"
    rf"(?P<s1>余|多)?(?P<unit>{_UNIT_RE})?(?P<suffix>{_SUFFIX_RE})?"
)
RELATIVE = re.compile(r"与经济(?:增长)?(?:基本)?同步")


@dataclass(frozen=True)
class Quantity:
    """One quantity: ``value`` in the base unit of ``kind``; ``bound`` says which way is better."""

    value: float
    kind: str  # percent, yuan, mu, item … or "" for a bare number
    bound: str  # "min" (at least / reach: higher is better), "max" (at most: lower is better)
    text: str
    about: bool = False  # 左右, 约, 保持在: met within a tolerance either side
    high: float | None = None  # the upper end of a range (5%—5.5%): value is the lower bound


_BARE = re.compile(rf"^(?P<sign>[+-]?)(?P<num>{_NUMBER})(?P<mag>万亿|亿|万)?$")


def bare_number(text: object) -> Quantity | None:
    """A number with no unit (``31500``, ``3.3万``): its unit is in the column header, if anywhere."""
    m = _BARE.match(prepare(text))
    if not m:
        return None
    value = float(m.group("num")) * _MAGNITUDE.get(m.group("mag") or "", 1) * (-1 if m.group("sign") == "-" else 1)
    return Quantity(value, "", "min", m.group(0))


def prepare(text: object) -> str:
    s = chinese_numerals_to_digits(normalise_text(text))
    s = re.sub(r"(?<=\d),(?=\d{3})", "", s)  # thousands separators
    return re.sub(r"\s+", "", s)


def find_quantities(text: object) -> list[Quantity]:
    """Every quantity in ``text`` that carries a unit or a bound word."""
    s = prepare(text)
    out = []
    for m in QUANTITY.finditer(s):
        if not (m.group("unit") or m.group("suffix") or m.group("prefix") or m.group("s1")):
            continue
        if _is_year_or_ordinal(s, m):
            continue
        out.append(_quantity(m))
    return out


def _is_year_or_ordinal(s: str, m: re.Match[str]) -> bool:
    after = s[m.end():m.end() + 1]
    before = s[m.start() - 1:m.start()] if m.start() else ""
    return (not m.group("unit") and after in ("年", "月", "日", "期", "号", "届", "级")) or before == "第"


def _quantity(m: re.Match[str]) -> Quantity:
    kind, factor = UNITS[m.group("unit") or m.group("u1")] if (m.group("unit") or m.group("u1")) else ("", 1)
    value = float(m.group("num")) * _MAGNITUDE.get(m.group("mag") or "", 1) * factor
    high = None
    if m.group("high"):
        high = float(m.group("high")) * _MAGNITUDE.get(m.group("mag2") or m.group("mag") or "", 1) * factor
    prefix, suffix = m.group("prefix") or "", (m.group("suffix") or m.group("s1") or "")
    bound = "max" if prefix in AT_MOST or suffix in SUFFIX_AT_MOST else "min"
    about = prefix in ABOUT or suffix in SUFFIX_ABOUT
    return Quantity(value, kind, bound, m.group(0), about, high)


def extract_target(task_text: object) -> str:
    """The target expression of a quantitative task, as written.

    ``固定资产投资增长8%以上`` → ``8%以上``; several targets are kept, joined by
    ``，``; a target relative to growth is kept as its phrase.
    """
    s = prepare(task_text)
    parts = [m.group(0) for m in RELATIVE.finditer(s)]
    for m in QUANTITY.finditer(s):
        if not (m.group("unit") or m.group("suffix") or m.group("prefix")):
            continue
        if _is_year_or_ordinal(s, m):
            continue
        parts.append(m.group(0))
    return "，".join(parts)
