"""From a table's header to the master's columns: one mapping step for every layout.

Places head their columns differently (任务目标, 实事内容, 工程名称 …). Each master
column has its synonyms here; a header row is the row whose cells name a task
column and at least one other. A new wording found later is one more synonym.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import schema as S
from ..findings import DubanError
from ..language.text import normalise_text
from .table import SourceTable

# Kinds of lead column: a primary lead column makes the other unit columns the support.
LEAD_PRIMARY = "lead-primary"
LEAD_OTHER = "lead-other"

SYNONYMS: dict[str, tuple[str, ...]] = {
    S.SERIAL: ("序号", "编号", "项目序号"),
    S.TEXT: ("任务目标", "重点工作", "工作任务", "主要任务", "任务内容", "工作内容", "目标任务", "具体工作",
             "工作目标", "项目名称", "工程名称", "实事内容", "民生实事", "重点任务", "任务", "重点工作任务",
             "工作事项", "主要内容", "建设内容", "建设内容及规模", "主要目标", "具体任务", "实事项目",
             "项目内容", "具体内容", "目标要求", "工作要求", "主要工作", "预期目标"),
    LEAD_PRIMARY: ("牵头单位", "牵头部门", "主责单位", "牵头责任单位", "主要责任单位", "主办单位", "牵头"),
    LEAD_OTHER: ("责任单位", "责任部门", "实施单位", "责任主体", "承办单位", "责任科室", "具体责任单位"),
    S.SUPPORT: ("配合单位", "协办单位", "参与单位", "协同单位", "配合部门", "协作单位", "协助单位", "参加单位",
                "协同责任单位", "配合"),
    S.LEADER: ("责任领导", "分管领导", "牵头领导", "市级领导", "县级领导", "区级领导", "包联领导", "责任人",
               "联系领导", "包保领导", "包抓领导", "分管市领导", "分管县领导", "分管区领导", "牵头市领导",
               "牵头县领导", "牵头区领导", "分管省领导", "牵头省领导", "牵头负责领导", "领导"),
    S.DEADLINE_TEXT: ("完成时限", "完成时间", "时间节点", "时限要求", "办结时限", "进度安排", "完成期限", "时限",
                      "计划完成时间", "进度要求", "节点安排", "完成节点", "时间安排", "推进时限"),
}
_KIND_OF = {word: kind for kind, words in SYNONYMS.items() for word in words}
# A header naming progress or remarks is not the published plan, even when it contains a synonym.
_NOT_PLAN = re.compile(r"情况|进展|进度完成|备注|说明|完成率")
_LEADER_FALLBACK = re.compile(r"领导$")
# A column per period (一季度目标, 6月底节点, 上半年任务) is a milestone: its header names the date.
PERIOD_COLUMN = re.compile(r"^(?P<period>[一二三四1-4]季度|第[一二三四]季度|[上下]半年|\d{1,2}月(?:份|底|末)?|年底|年中)"
                           r"(?:目标|任务|节点|进度|计划|安排)?$")

# --columns keys: the master column names and the short names a clerk types.
OVERRIDE_KEYS = {
    "任务": S.TEXT, "任务目标": S.TEXT, "任务内容": S.TEXT, "序号": S.SERIAL,
    "牵头单位": S.LEAD, "牵头": S.LEAD, "配合单位": S.SUPPORT, "配合": S.SUPPORT,
    "分管领导": S.LEADER, "责任领导": S.LEADER, "领导": S.LEADER,
    "完成时限": S.DEADLINE_TEXT, "时限": S.DEADLINE_TEXT,
}


def header_key(text: str) -> str:
    """A header cell as compared: widths folded, spaces and a trailing bracketed remark dropped."""
    key = re.sub(r"\s+", "", normalise_text(text)).strip("*＊")
    return re.sub(r"[(（][^()（）]*[)）]$", "", key) or key


def parse_overrides(spec: str | None) -> dict[str, str]:
    """``任务=实事内容,牵头单位=责任单位`` → {master column: source header key}."""
    out: dict[str, str] = {}
    for part in re.split(r"[,，;；]", spec or ""):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        column = OVERRIDE_KEYS.get(header_key(key))
        if not sep or not column or not value.strip():
            raise DubanError(f"--columns 中的“{part.strip()}”应写成“台账列=原表列”，台账列可为："
                             f"{'、'.join(OVERRIDE_KEYS)}")
        out[column] = header_key(value)
    return out


@dataclass
class ColumnMap:
    """Which source column feeds which master column, for one table."""

    table: SourceTable
    header_rows: list[int]  # indexes into table.rows (one, or two for a group header over sub-headers)
    columns: dict[int, str] = field(default_factory=dict)  # source column index → master column
    labels: dict[int, str] = field(default_factory=dict)  # deadline sub-columns: their sub-header (一季度 …)
    headers: dict[int, str] = field(default_factory=dict)  # source column index → header as written

    def of(self, column: str) -> list[int]:
        return [i for i, c in sorted(self.columns.items()) if c == column]

    @property
    def skipped(self) -> list[str]:
        return [h for i, h in sorted(self.headers.items()) if i not in self.columns and h]

    @property
    def header_texts(self) -> list[str]:
        return [h for _, h in sorted(self.headers.items())]

    def describe(self) -> list[tuple[str, str]]:
        """(source header, master column) pairs in source order, as ``duban import`` prints them."""
        return [(re.sub(r"\s+", "", self.headers[i]), c) for i, c in sorted(self.columns.items())]


def _kind(key: str) -> str | None:
    if key in _KIND_OF:
        return _KIND_OF[key]
    if PERIOD_COLUMN.match(key):
        return S.DEADLINE_TEXT
    if not key or _NOT_PLAN.search(key) or len(key) > 16:
        return None
    contained = [w for w in _KIND_OF if len(w) >= 4 and w in key]  # 区政府分管领导, 责任单位及责任人
    if contained:
        return _KIND_OF[max(contained, key=len)]
    return S.LEADER if _LEADER_FALLBACK.search(key) else None


def _resolve(kinds: dict[int, str], overrides: dict[str, int]) -> dict[int, str]:
    """Master columns from header kinds: with a primary lead column (牵头单位) or a lead
    given by --columns, the other unit columns (责任单位) are the support."""
    out = {i: c for c, i in overrides.items()}
    taken = set(overrides.values())
    free = {i: k for i, k in kinds.items() if i not in taken}
    has_primary = S.LEAD in overrides or any(k == LEAD_PRIMARY for k in free.values())
    for i, k in sorted(free.items()):
        if k == LEAD_PRIMARY:
            out[i] = S.LEAD if S.LEAD not in out.values() else S.SUPPORT
        elif k == LEAD_OTHER:
            out[i] = S.SUPPORT if has_primary or S.LEAD in out.values() else S.LEAD
        elif k in (S.SERIAL, S.LEADER) and k in out.values():
            continue  # a second serial or leader column is not used
        elif k in (S.TEXT, S.DEADLINE_TEXT) and k in overrides:
            continue  # --columns named the one to use
        else:
            out[i] = k
    return out


def try_header(table: SourceTable, index: int, overrides: dict[str, str]) -> ColumnMap | None:
    """The mapping when row ``index`` is a header row (with its sub-header row, if any), else None."""
    row = table.rows[index]
    if row.line() is not None:
        return None
    texts: dict[int, str] = {}
    keys: dict[int, str] = {}
    for i, c in enumerate(row.cells):  # cell by cell: a task row is given up at its serial or its text
        if c.text.strip():
            texts[i] = normalise_text(c.text)
            keys[i] = header_key(texts[i])
            if len(keys[i]) > 24 or keys[i].isdigit():
                return None  # a header cell is a few words: a task is a sentence, a serial a number
    wanted = {c: next((i for i, k in keys.items() if k == v), -1) for c, v in overrides.items()}
    if any(i < 0 for i in wanted.values()):
        return None
    kinds = {i: k for i, key in keys.items() if (k := _kind(key))}
    columns = _resolve(kinds, wanted)
    if S.TEXT not in columns.values() or len(set(columns.values())) < 2:
        return None
    cmap = ColumnMap(table, [index], columns, headers=texts)
    cmap.labels = {i: m.group("period") for i, c in columns.items()
                   if c == S.DEADLINE_TEXT and (m := PERIOD_COLUMN.match(keys[i]))}
    _sub_header(cmap, overrides)
    return cmap


_PERIOD = re.compile(r"^(?:[一二三四1-4]季度|[上下]半年|\d{1,2}月(?:份|底|末)?|\d{4}年|年底|年中|第[一二三四]季度)$")


def _sub_header(cmap: ColumnMap, overrides: dict[str, str]) -> None:
    """A second header row under group headers: 责任单位 over 牵头/配合, 时间节点 over 一季度…四季度."""
    table, index = cmap.table, cmap.header_rows[0]
    if index + 1 >= len(table.rows):
        return
    above, below = table.rows[index], table.rows[index + 1]
    above_refs = [c.ref for c in above.cells]
    # A cell merged down from the header above (序号 over both header rows) is no sub-header.
    subs = {i: normalise_text(c.text) for i, c in enumerate(below.cells)
            if c.text.strip() and not (i < len(above_refs) and c.merged_from == above_refs[i])}
    if not subs or any(len(header_key(t)) > 12 or not (_kind(header_key(t)) or _PERIOD.match(header_key(t)))
                       for t in subs.values()):
        return
    cmap.header_rows.append(index + 1)
    group: dict[int, str] = {}
    last = ""
    for i in range(max(len(above.cells), len(below.cells))):
        text = normalise_text(above.cells[i].text) if i < len(above.cells) else ""
        last = text or last  # a group header Excel exported into its first column only
        group[i] = text or last
    kinds: dict[int, str] = {}
    cmap.headers = {}
    for i in sorted(set(group) | set(subs)):
        sub, top = subs.get(i, ""), group.get(i, "")
        if not sub and i >= len(above.cells) or not (sub or top):
            continue
        kind = _kind(header_key(sub)) if sub else None
        if kind == S.DEADLINE_TEXT and (m := PERIOD_COLUMN.match(header_key(sub))):
            cmap.labels[i] = m.group("period")
        if kind is None:
            kind = _kind(header_key(top))
            if kind == S.DEADLINE_TEXT and sub:
                cmap.labels[i] = sub
        if kind:
            kinds[i] = kind
        cmap.headers[i] = f"{top}/{sub}" if sub and top and sub != top else (sub or top)
    wanted = {c: next((i for i, h in cmap.headers.items()
                       if v in (header_key(h), header_key(h.split("/")[-1]))), -1) for c, v in overrides.items()}
    cmap.columns = _resolve(kinds, {c: i for c, i in wanted.items() if i >= 0})


def find_headers(table: SourceTable, overrides: dict[str, str]) -> list[ColumnMap]:
    """Every header row of ``table`` (a header repeated on each page yields one mapping each)."""
    out: list[ColumnMap] = []
    for index in range(len(table.rows)):
        if out and index in out[-1].header_rows:
            continue  # the sub-header row of the header above
        cmap = try_header(table, index, overrides)
        if cmap:
            out.append(cmap)
    return out


def seen_headers(table: SourceTable, limit: int = 3) -> list[str]:
    """The first rows that look like a header (several short cells), for the nothing-found message."""
    out = []
    for row in table.rows:
        texts = [normalise_text(c.text) for c in row.cells if c.text.strip() and not c.merged_from]
        if len(texts) >= 2 and all(len(t) <= 24 for t in texts):
            out.append(f"{table.name}第{row.number}行：" + "｜".join(texts))
            if len(out) >= limit:
                break
    return out
