"""Completion rates (完成率) of quantitative targets, as published tables compute them."""

from __future__ import annotations

import re

from .quantities import PREFIXES, RELATIVE, SUFFIXES, Quantity, bare_number, find_quantities, prepare

_DONE = re.compile(r"已|完成|建成|投用|投产|实现|达到|达成|落地|开工|挂牌|举办|办好|通过|获批|启动")
_NOT_DONE = re.compile(r"未|没有|尚未|暂未|正在|推进中|进行中|筹备|拟")
_WORSE = re.compile(r"劣于|劣[ⅤV五]类|劣Ⅲ|劣[ⅣIV四]类")  # 劣于Ⅲ类水体比例: a share that should shrink

# 左右 (about) targets are met within a tolerance either side: growth rates and shares move in
# half-point steps (6%, 6.5%, 7%), so half a percentage point; any other quantity 5% of the target.
TOLERANCE_POINTS = 0.5
TOLERANCE_SHARE = 0.05
_POINT_KINDS = ("percent", "permille", "point")
_PREFIX = re.compile("^(?:" + "|".join(map(re.escape, PREFIXES)) + ")")
_SUFFIX = re.compile("(?:" + "|".join(map(re.escape, SUFFIXES)) + ")$")


def completion_rate(target: str, actual: str, reference: str | None = None) -> float | None:
    """The rate as a ratio (0.6875 for 68.75%), or ``None`` when it cannot be computed.

    Higher-is-better targets (以上, 超过, plain numbers) give actual ÷ target;
    lower-is-better targets (以内, 不超过, 控制在, 低于, 下降到, 劣于…比例) give
    target ÷ actual; neither is capped. A range (5%—5.5%) counts from its lower bound
    (the upper one for a lower-is-better range); a 左右 target is met (at least 1)
    within :data:`TOLERANCE_POINTS` points or :data:`TOLERANCE_SHARE` of the target.
    Bare numbers (31500 against 33020, the unit in the column header) compare like
    with like. A target relative to growth (与经济增长同步) is taken against
    ``reference``. A target with no number is met (1) when the actual says it was
    done, and has no rate otherwise. A blank or non-numeric actual, or different
    kinds of quantity (a growth % against 亿元), give ``None``: never 0, never a guess.
    """
    target, actual = (target or "").strip(), (actual or "").strip()
    if not target or not actual:
        return None
    if RELATIVE.search(prepare(target)):
        if not reference:
            return None
        return completion_rate(reference, actual)
    wanted = target_quantities(target)
    if not wanted:
        if re.search(r"\d", prepare(target)):
            return None
        return 1.0 if _DONE.search(actual) and not _NOT_DONE.search(actual) else None
    got = _actual_quantities(actual, wanted)
    if len(wanted) == 1:
        match = next((a for a in got if a.kind == wanted[0].kind), None)
        return _rate(wanted[0], match) if match else None
    # Several targets in one task: each is matched with an actual of its kind, in order;
    # the task is as complete as its weakest part.
    rates = []
    remaining = list(got)
    for q in wanted:
        match = next((a for a in remaining if a.kind == q.kind), None)
        if match is None:
            return None
        remaining.remove(match)
        rates.append(_rate(q, match))
    if any(r is None for r in rates):
        return None
    return min(r for r in rates if r is not None)


def target_quantities(target: str) -> list[Quantity]:
    """The quantities a target asks for; a bare number (unit in the header) is one too."""
    found = find_quantities(target) or [q for q in [bare_number(target)] if q]
    if _WORSE.search(prepare(target)):
        found = [Quantity(q.value, q.kind, "max", q.text, q.about, q.high) for q in found]
    return found


def target_note(target: str) -> str:
    """How a target is read, when that is worth saying (a range counts from one end)."""
    for q in target_quantities(target):
        if q.high is not None:
            low, high = re.split(r"[-—–~至到]", _PREFIX.sub("", q.text), maxsplit=1)
            high = _SUFFIX.sub("", high)
            unit = re.sub(r"^[\d.]+", "", high)
            low = low if not low[-1:].isdigit() else low + unit
            end, value = ("上限", high) if q.bound == "max" else ("下限", low)
            return f"目标“{target}”为区间，按{end} {value} 计算完成率"
    return ""


def _actual_quantities(actual: str, wanted: list[Quantity]) -> list[Quantity]:
    found = find_quantities(actual)
    if found:
        return found
    bare = bare_number(actual)
    # A bare number is read in the target's unit: "7.8" against "6.5%左右", 33020 against 31500.
    return [Quantity(bare.value, wanted[0].kind, "min", bare.text)] if bare else []


def _rate(target: Quantity, got: Quantity) -> float | None:
    lower_better = target.bound == "max"
    goal = target.high if (lower_better and target.high is not None) else target.value
    if lower_better:
        if got.value <= 0:
            return 1.0 if goal >= 0 else None  # nothing at all: a ceiling is met
        ratio = goal / got.value
    else:
        if goal == 0:
            return None
        ratio = got.value / goal
    if target.about and _within_tolerance(goal, got.value, target.kind):
        ratio = max(ratio, 1.0)
    return round(ratio, 10)


def _within_tolerance(goal: float, value: float, kind: str) -> bool:
    limit = TOLERANCE_POINTS if kind in _POINT_KINDS else TOLERANCE_SHARE * abs(goal)
    return abs(value - goal) <= limit + 1e-9
