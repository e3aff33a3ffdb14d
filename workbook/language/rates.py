"""Completion rates (完成率) of quantitative targets."""

from __future__ import annotations

import re

from .quantities import RELATIVE, Quantity, find_quantities, prepare

_DONE = re.compile(r"已|完成|建成|投用|投产|实现|达到|达成|落地|开工|挂牌|举办|办好|通过|获批|启动")
_NOT_DONE = re.compile(r"未|没有|尚未|暂未|正在|推进中|进行中|筹备|拟")
_BARE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def completion_rate(target: str, actual: str, reference: str | None = None) -> float | None:
    """The rate as a ratio (0.6875 for 68.75%), or ``None`` when it cannot be computed.

    Higher-is-better targets (以上, 超过, 左右, plain numbers) give actual/target and
    may exceed 1; at-most targets (以内, 不超过) give 1 inside the bound; a target
    relative to growth (与经济增长同步) is taken against ``reference``; a target
    with no number is met (1) when the actual says it was done. Different kinds of
    quantity (a growth % against 亿元) are not computable: ``None``, never a guess.
    """
    target, actual = (target or "").strip(), (actual or "").strip()
    if not target or not actual:
        return None
    if RELATIVE.search(prepare(target)):
        if not reference:
            return None
        return completion_rate(reference, actual)
    wanted = find_quantities(target)
    if not wanted:
        if re.search(r"\d", prepare(target)):
            return None
        return 1.0 if _DONE.search(actual) and not _NOT_DONE.search(actual) else 0.0
    got = _actual_quantities(actual, wanted)
    if len(wanted) == 1:
        return _rate(wanted[0], got)
    # Several targets in one task: each is matched with an actual of its kind, in order;
    # the task is as complete as its weakest part.
    rates = []
    remaining = list(got)
    for q in wanted:
        match = next((a for a in remaining if a.kind == q.kind), None)
        if match is None:
            return None
        remaining.remove(match)
        rates.append(_rate(q, [match]))
    if any(r is None for r in rates):
        return None
    return min(r for r in rates if r is not None)


def _actual_quantities(actual: str, wanted: list[Quantity]) -> list[Quantity]:
    s = prepare(actual)
    found = find_quantities(s)
    if not found and _BARE.match(s):
        # A bare number is read in the target's unit: "7.8" against "6.5%左右".
        return [Quantity(float(s), wanted[0].kind, "min", s)]
    return found


def _rate(target: Quantity, got: list[Quantity]) -> float | None:
    match = next((a for a in got if a.kind == target.kind), None)
    if match is None or target.value == 0:
        return None
    if target.bound == "max":
        ratio = 1.0 if match.value <= target.value else target.value / match.value
    else:
        ratio = match.value / target.value
    return round(ratio, 10)
