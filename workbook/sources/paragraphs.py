"""The paragraph layout: a decomposition written as numbered paragraphs, no table.

    一、经济社会发展的主要预期目标
    1.努力实现地区生产总值增长6.2%左右。
    牵头单位：区发改局
    责任单位：立山经济开发区，全区经济运行各专班

A numbered paragraph followed by labelled lines (牵头单位：/责任单位：/配合单位：/
责任领导：/完成时限：, or the same labels in brackets at its end) is a task; a
numbered paragraph without labels is a section heading. The paragraphs become a
table whose header is the labels as written, so the one column-mapping step reads
them (and 责任单位 beside 牵头单位 is the support there too).
"""

from __future__ import annotations

import re

from .. import schema as S
from ..language.text import normalise_text
from .columns import LEAD_OTHER, LEAD_PRIMARY, SYNONYMS
from .table import SourceCell, SourceRow, SourceTable

_LABEL_WORDS = sorted({w for kind in (LEAD_PRIMARY, LEAD_OTHER, S.SUPPORT, S.LEADER, S.DEADLINE_TEXT)
                       for w in SYNONYMS[kind] if len(w) >= 2}, key=len, reverse=True)
_BOUNDARY = r"(?:^|(?<=[\s(（【\[;；,，。]))"
LABEL = re.compile(_BOUNDARY + "(" + "|".join(map(re.escape, _LABEL_WORDS)) + r")\s*[:：]")
# After a known label, any other short label (项目责任人：, 实际完成情况：) ends its value; it is not imported.
_ANY_LABEL = re.compile(_BOUNDARY + r"([^\s:：;；,，。()（）]{2,8})\s*[:：]")
# "部门分工：省发展改革委牵头，各地、各部门配合" and "（市财政局牵头，各区按职责分工负责）":
# the division of labour written as a phrase.
_DIVISION_LABELS = ("部门分工", "责任分工", "任务分工", "分工")
_DIVISION = re.compile(r"[(（]([^()（）]*牵头[^()（）]*)[)）]\s*[。.]?$")
_LEAD_WORD = re.compile(r"牵头(?:负责|落实|推进|实施|办理)?$")  # (市经信委牵头落实) 包头 2011
_SUPPORT_WORD = re.compile(r"(?:按职责分工负责|按职责分工落实|按职能分工负责|分别负责|配合|参与|协助|协同|负责)$")
_NUMBER = re.compile(
    r"^(?P<n>[一二三四五六七八九十百]+[、.．]|[(（][一二三四五六七八九十百]+[)）]、?"
    r"|\d{1,3}[.、．](?!\d)|[(（]\d{1,3}[)）]|\d{1,3}[)）]|[①-⑳])\s*"
)
TASK_HEADER = "任务"
SERIAL_HEADER = "序号"
# A schedule written as a block under the task's labels (光明新区 2017):
#     进度安排
#       第一季度工作进展: 完成设计招标工作。
#       第二季度工作进展:完成设计方案,编制概预算。
# The heading is a deadline label standing alone; each line under it is a dated step,
# kept as the period it names and the step as written (第一季度：完成设计招标工作。),
# the way a period column (一季度目标) is read. The block ends at the first other line
# (落实情况, which reports progress and is not the plan).
_SCHEDULE_HEADINGS = frozenset(SYNONYMS[S.DEADLINE_TEXT])
_SCHEDULE_STEP = re.compile(r"^(?P<period>第?[一二三四1-4]季度|[上下]半年|\d{1,2}月(?:份|底|末)?|年中|年底)"
                            r"[^:：]{0,6}[:：]\s*(?P<step>\S.*)$")


def split_labels(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A paragraph's own text and its labelled parts: ``1.建成…（牵头单位：A；完成时限：6月底）``."""
    matches = [m for m in _ANY_LABEL.finditer(text)]
    known = [i for i, m in enumerate(matches) if m.group(1) in _LABEL_WORDS or m.group(1) in _DIVISION_LABELS]
    if not known:
        division = _DIVISION.search(text)
        if division:
            return text[: division.start()].rstrip(), _division(division.group(1))
        return text, []
    matches = matches[known[0]:]
    head = text[: matches[0].start()].rstrip(" \t(（【[;；,，")
    parts: list[tuple[str, str]] = []
    for m, nxt in zip(matches, [*matches[1:], None]):
        label = m.group(1)
        value = _trim(text[m.end(): nxt.start() if nxt else len(text)])
        if label in _DIVISION_LABELS:
            parts += _division(value)
        elif label in _LABEL_WORDS:
            parts.append((label, _lead_remark(label, value)))
    return head, parts


# 责任单位:市人力社保局、市农业农村局分别牵头 (丽水 2023): the remark after the units is a note, kept
# in brackets so that the unit list reads it as one (市农业农村局（分别牵头）).
_LEAD_REMARK = re.compile(r"(?<=[^\s、,，;；])(分别牵头|共同牵头|牵头)$")
_UNIT_LABELS = frozenset(SYNONYMS[LEAD_PRIMARY] + SYNONYMS[LEAD_OTHER])


def _lead_remark(label: str, value: str) -> str:
    m = _LEAD_REMARK.search(value) if label in _UNIT_LABELS else None
    return f"{value[: m.start()]}（{m.group(1)}）" if m else value


def _trim(value: str) -> str:
    """A label's value without the punctuation that ends it, and without a closing bracket it did not open."""
    value = value.strip().rstrip(";；,，。 ")
    while value and value[-1] in ")）】]" and sum(value.count(c) for c in ")）】]") > sum(
            value.count(c) for c in "(（【["):
        value = value[:-1].rstrip(";；,，。 ")
    return value


def _division(phrase: str) -> list[tuple[str, str]]:
    """``A、B牵头，C配合`` → 牵头单位 A、B and 配合单位 C."""
    parts = []
    for clause in re.split(r"[,，;；]", phrase):
        clause = clause.strip().rstrip("。.")
        if not clause:
            continue
        if m := _LEAD_WORD.search(clause):
            parts.append(("牵头单位", clause[: m.start()]))
        elif m := _SUPPORT_WORD.search(clause):
            parts.append(("配合单位", clause[: m.start()]))
        else:
            parts.append(("责任单位", clause))
    return [(label, value) for label, value in parts if value]


def paragraph_table(lines: list[tuple[str, int]], name: str) -> SourceTable:
    """The table the paragraphs stand for: header 序号/任务/<labels>, one row per task, other paragraphs as lines."""
    table = SourceTable(name)
    labels: list[str] = []
    pending: list[dict] = []  # rows in document order: a block, or a plain line
    current: dict | None = None
    schedule: str | None = None  # the heading of the open schedule block of ``current``
    for raw, number in lines:
        text = normalise_text(raw)
        if not text:
            continue
        if schedule and current is not None and (step := _SCHEDULE_STEP.match(text)):
            current["parts"].append((schedule, f"{step.group('period')}：{step.group('step')}"))
            continue
        schedule = None
        if current is not None and current["parts"] and text.rstrip(":：") in _SCHEDULE_HEADINGS:
            schedule = text.rstrip(":：")
            if schedule not in labels:
                labels.append(schedule)
            continue
        head, parts = split_labels(text)
        m = _NUMBER.match(head) if head else None
        if m:
            current = {"number": m.group("n").rstrip("、.．"), "text": head[m.end():].strip(), "parts": parts,
                       "line": number}
            pending.append(current)
        elif parts and current is not None and not head:
            current["parts"].extend(parts)
        elif parts and not head and pending and "line_text" in pending[-1]:
            # an unnumbered task paragraph: the paragraph before its labels is the task
            current = {"number": "", "text": pending[-1]["line_text"], "parts": parts, "line": pending[-1]["line"]}
            pending[-1] = current
        else:
            current = None
            pending.append({"line_text": text, "line": number})
        for label, _ in parts:
            if label not in labels:
                labels.append(label)
    header = [SERIAL_HEADER, TASK_HEADER, *labels]
    first_task = next((i for i, item in enumerate(pending) if item.get("parts")), None)
    for index, item in enumerate(pending):
        if index == first_task:
            table.rows.append(SourceRow([SourceCell(h, f"第{item['line']}段") for h in header], item["line"]))
        if "line_text" in item:
            table.rows.append(SourceRow([SourceCell(item["line_text"], f"第{item['line']}段")], item["line"]))
        elif item["parts"]:
            values = {label: [] for label in labels}
            for label, value in item["parts"]:
                values[label].append(value)
            texts = [item["number"], item["text"], *("；".join(values[label]) for label in labels)]
            table.rows.append(SourceRow([SourceCell(t, f"第{item['line']}段") for t in texts], item["line"]))
        else:  # a numbered heading: a section line, as written
            heading = item["number"] + ("、" if item["number"][-1] not in ")）" else "") + item["text"]
            table.rows.append(SourceRow([SourceCell(heading, f"第{item['line']}段")], item["line"]))
    return table
