"""The monthly 通报 as a Word document in the official-document format.

Every figure comes from the bulletin's tables (:func:`workbook.report.bulletin`),
the same the workbook bulletin shows; this module only words them: 总体情况,
the leaders' areas and the lead units naming the most advanced and the lagging,
overdue and soon-due tasks with their lead units, units that did not report, the
office's 下步工作要求 from 设置, and an attachment listing every red task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..changes import HEADLINE_KINDS
from ..language.units import unit_list
from ..master import Master, default_addressees, default_next_steps
from ..metrics import RED, Metrics, red_reason
from ..ooxml.safe_write import Protected, write_output
from ..report import (
    ADJUSTMENTS,
    BY_LEADER,
    BY_UNIT,
    DUE_SOON,
    INDICATORS,
    MISSING,
    NOT_REPORTED,
    OVERDUE,
    OVERVIEW,
    Table,
)
from .gbt9704 import SUBHEADING_FONT, OfficialDocument, date_text

ATTACHMENT = "逾期及红灯任务清单"
LIST_LIMIT = 8  # more overdue or soon-due tasks than this are counted by unit, not listed one by one
NAME_LIMIT = 6  # units named in one sentence before "等N个单位"
ATTACHMENT_HEADERS = ["序号", "任务目标", "牵头单位", "分管领导", "完成时限", "进展", "督办原因"]
ATTACHMENT_WIDTHS = [10, 44, 20, 24, 17, 17, 24]  # mm, 156 in all: the width of the text area


@dataclass
class Section:
    heading: str
    paragraphs: list[tuple[str, str]] = field(default_factory=list)  # (楷体 lead, text)


def percent(value: float) -> str:
    """A rate as the workbook shows it (``0.00%``)."""
    return f"{value:.2%}"


def month_day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def plan_name(master: Master) -> str:
    """The plan in book-title marks, inner marks turned into 〈〉: 《2026年〈政府工作报告〉重点工作任务分解方案》."""
    title = master.settings.title or f"{master.settings.year}年重点工作任务分解方案"
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


def document_title(master: Master) -> str:
    subject = master.settings.title or f"{master.settings.year}年重点工作任务"
    for suffix in ("分解方案", "分解表", "方案"):
        if subject.endswith(suffix):
            subject = subject[: -len(suffix)]
            break
    return f"关于{subject}推进情况的通报"


def excerpt(text: str, limit: int = 24) -> str:
    """The first clause of a task, short enough to name it in a sentence."""
    text = " ".join(str(text).split()).replace("“", "‘").replace("”", "’")  # it is quoted in “” itself
    for i, ch in enumerate(text):
        if ch in "，；。：,;":
            text = text[:i]
            break
    return text if len(text) <= limit else text[:limit] + "……"


def _rows(table: Table) -> list[dict[str, Any]]:
    return [dict(zip(table.headers, row)) for row in table.rows]


def _names(names: Sequence[str], what: str = "个单位") -> str:
    shown = "、".join(names[:NAME_LIMIT])
    return f"{shown}等{len(names)}{what}" if len(names) > NAME_LIMIT else shown


def narrative(master: Master, metrics: Metrics, tables: dict[str, Table]) -> list[Section]:
    """The body of the 通报, section by section, worded from the bulletin's tables."""
    s = master.settings
    as_of = metrics.as_of
    ov = {row[0]: row[1] for row in tables[OVERVIEW].rows}
    leaders, units = _rows(tables[BY_LEADER]), _rows(tables[BY_UNIT])
    missing = _rows(tables[MISSING])
    total = ov["任务总数"]
    opening = (f"为推动{plan_name(master)}确定的各项任务落地见效，{s.issuer}对截至{date_text(as_of)}的任务推进情况"
               f"进行了调度。现将有关情况通报如下。")
    sections = [Section("", [("", opening)])]

    overall = Section("一、总体情况")
    statuses = [(f"状态：{st}", label) for st, label in ((S.STATUS_DONE, "已完成"), (S.STATUS_ON_TRACK, "序时推进"),
                                                          (S.STATUS_BEHIND, "滞后"), (S.STATUS_NOT_STARTED, "未启动"),
                                                          (NOT_REPORTED, "尚未报送进展"))]
    parts = [f"{label}{ov[key]}项，占{percent(ov[key] / total)}" for key, label in statuses if ov[key]]
    state = f"全部{total}项任务均已完成" if ov["已完成"] == total and total else "；".join(parts) or "尚无任务"
    overall.paragraphs.append(("", (f"{plan_name(master)}共确定重点工作任务{total}项，由{len(leaders)}位分管领导负责、"
                                    f"{len(units)}个单位牵头落实。截至{month_day(as_of)}，{state}。")))
    if ov["到期任务"]:
        due = (f"按完成时限，到期任务{ov['到期任务']}项，已完成{ov['到期已完成']}项，到期完成率{percent(ov['到期完成率'])}；"
               f"全部任务总体完成率{percent(ov['总体完成率'])}，平均进度{ov['平均进度(%)']:g}%。")
    else:
        due = (f"按完成时限，截至{month_day(as_of)}尚无到期任务；全部任务总体完成率{percent(ov['总体完成率'])}，"
               f"平均进度{ov['平均进度(%)']:g}%。")
    due += (f"对照序时进度，红灯任务{ov['红灯']}项、黄灯任务{ov['黄灯']}项、绿灯任务{ov['绿灯']}项，"
            f"其中逾期未完成{ov['逾期任务']}项、{s.due_soon}日内临期{ov['临期任务']}项"
            + ("（尚未报送进展的任务按完成进度为零评价）。" if ov[f"状态：{NOT_REPORTED}"] else "。"))
    overall.paragraphs.append(("", due))
    indicators = _indicators(_rows(tables[INDICATORS]))
    if indicators:
        overall.paragraphs.append(("", indicators))
    sections.append(overall)

    sections.append(Section("二、分管领导领域推进情况", [("", _leaders(leaders, ov, total))]))
    sections.append(Section("三、牵头单位推进情况", [("", _units(units, ov, total))]))

    lists = Section("四、逾期和临期任务")
    lists.paragraphs += _task_list("（一）逾期任务。", _rows(tables[OVERDUE]), as_of, overdue=True,
                                   none=f"截至{month_day(as_of)}，无逾期未完成任务。")
    lists.paragraphs += _task_list("（二）临期任务。", _rows(tables[DUE_SOON]), as_of, overdue=False,
                                   none=f"{s.due_soon}日内无临期任务。", window=s.due_soon)
    sections.append(lists)
    adjusted = _adjustments(_rows(tables[ADJUSTMENTS]), s.period_label, total) if ADJUSTMENTS in tables else []
    if adjusted:
        sections.append(Section("五、任务调整情况", adjusted))

    expected = len(units)
    label = s.period_label
    if not expected:
        report = f"{label}暂无应报送单位。"
    elif len(missing) == expected:
        report = f"{label}应报送单位{expected}个，截至{month_day(as_of)}均未报送推进情况，请各单位抓紧报送。"
    elif missing:
        report = (f"{label}应报送单位{expected}个，已报送{expected - len(missing)}个，未报送{len(missing)}个："
                  f"{'、'.join(m['单位'] for m in missing)}。请上述单位抓紧补报。")
    else:
        report = f"{label}应报送的{expected}个单位均已按时报送。"
    sections.append(Section("五、报送情况", [("", report)]))

    steps = Section("六、下步工作要求")
    for line in (s.next_steps or default_next_steps(s.report_day)).splitlines():
        line = line.strip()
        if line:
            steps.paragraphs.append(_lead(line))
    sections.append(steps)
    numbered = [sec for sec in sections if sec.heading]  # 任务调整情况 is there only when tasks changed
    for numeral, sec in zip(NUMERALS, numbered):
        sec.heading = f"{numeral}、{sec.heading.split('、', 1)[1]}"
    return sections


NUMERALS = "一二三四五六七八九十"
# How each kind of change is told: (counted as, one task's sentence from its name, 原内容 and 新内容).
_TOLD = {
    S.KIND_ADDED: ("新增任务", lambda name, old, new: f"新增“{name}”"),
    S.KIND_REVISED: ("修订任务内容", lambda name, old, new: f"修订“{name}”的任务内容"),
    S.KIND_EXTENDED: ("延期", lambda name, old, new: f"“{name}”完成时限由{old}延至{new}"),
    S.KIND_RESCHEDULED: ("调整完成时限", lambda name, old, new: f"“{name}”完成时限由{old}调整为{new}"),
    S.KIND_LEAD: ("调整牵头单位", lambda name, old, new: f"“{name}”牵头单位由{old}调整为{new}"),
    S.KIND_SUPPORT: ("调整配合单位", lambda name, old, new: f"“{name}”配合单位调整为{new or '无'}"),
    S.KIND_LEADER: ("调整分管领导", lambda name, old, new: f"“{name}”分管领导由{old}调整为{new}"),
    S.KIND_CANCELLED: ("撤销", lambda name, old, new: f"撤销“{name}”"),
    S.KIND_RESTORED: ("恢复", lambda name, old, new: f"恢复“{name}”"),
}


def _adjustments(rows: list[dict[str, Any]], label: str, total: int) -> list[tuple[str, str]]:
    """任务调整情况: how many tasks of each kind changed this period, and which (listed when few)."""
    if not rows:
        return []
    tasks: dict[str, list[dict[str, Any]]] = {}
    order = list(HEADLINE_KINDS) + [k for k in S.CHANGE_KINDS if k not in HEADLINE_KINDS]
    for r in sorted(rows, key=lambda r: order.index(r["调整类型"]) if r["调整类型"] in order else len(order)):
        tasks.setdefault(r["调整类型"], []).append(r)
    counted = "，".join(f"{_TOLD.get(kind, (kind,))[0]}{len({r['任务编号'] for r in rs})}项" for kind, rs in tasks.items())
    out = [("", f"{label}，根据工作需要，对任务分解作了调整：{counted}。调整后共有任务{total}项"
                "（已撤销的任务不再计入，延期任务按调整后的完成时限督办）。")]
    if len(rows) <= LIST_LIMIT:
        for i, r in enumerate(rows, start=1):
            kind = r["调整类型"]
            tell = _TOLD[kind][1] if kind in _TOLD else (lambda name, old, new: f"“{name}”{kind}")
            why = "；".join(str(x) for x in (r["批复文号"], r["备注"]) if x)
            told = tell(excerpt(r["任务目标"] or r["新内容"]), r["原内容"], r["新内容"])
            out.append(("", f"{i}.{told}" + (f"（{why}）" if why else "") + "。"))
    else:
        out[0] = (out[0][0], out[0][1] + f"调整明细见台账“{S.CHANGES}”表。")
    return out


def _lead(line: str) -> tuple[str, str]:
    """``（一）加快推进。正文……`` → the numbered lead sentence (楷体) and the rest."""
    if line.startswith("（"):
        end = line.find("。")
        if 0 < end <= 40:
            return line[: end + 1], line[end + 1:]
    return "", line


def _indicators(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    reported = [r for r in rows if r["完成情况"] != NOT_REPORTED]
    rated = [r for r in reported if r["完成率"] is not None]
    met = [r for r in rated if r["完成率"] >= 1]
    short = [r for r in rated if r["完成率"] < 1]
    text = f"主要预期目标{len(rows)}项，"
    if not reported:
        return text + "均未报送完成情况。"
    text += f"已报送完成情况{len(reported)}项，其中达到或超过目标{len(met)}项"
    if short:
        named = "、".join(f"{_indicator_name(r)}（完成率{percent(r['完成率'])}）" for r in short)
        text += f"，低于目标{len(short)}项：{named}"
    if len(reported) > len(rated):
        text += f"；{len(reported) - len(rated)}项因计量口径不同暂无法计算完成率"
    if len(rows) > len(reported):
        text += f"；{len(rows) - len(reported)}项尚未报送"
    return text + "。"


def _indicator_name(row: dict[str, Any]) -> str:
    name, target = str(row["指标"]), str(row["目标"] or "")
    return name[: -len(target)] if target and name.endswith(target) and len(name) > len(target) else excerpt(name)


def _rate_phrase(row: dict[str, Any]) -> str:
    if row["到期任务"]:
        return f"到期完成率{percent(row['到期完成率'])}，总体完成率{percent(row['总体完成率'])}"
    return f"总体完成率{percent(row['总体完成率'])}"


def _laggards(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((r for r in rows if r[RED]), key=lambda r: (-r[RED], -r["逾期"]))


def _red_phrase(row: dict[str, Any]) -> str:
    return f"红灯任务{row[RED]}项" + (f"（其中逾期{row['逾期']}项）" if row["逾期"] else "")


def _leaders(rows: list[dict[str, Any]], ov: dict[str, Any], total: int) -> str:
    if not rows:
        return "各项任务尚未明确分管领导。"
    if ov["已完成"] == total:
        return f"{len(rows)}位分管领导负责的任务均已全部完成。"
    ahead = [r for r in rows if r["已完成"]][:3]
    if ahead:
        text = ("从分管领导领域看，" + "、".join(f"{r['名称']}分管领域（{_rate_phrase(r)}）" for r in ahead)
                + "推进较快。")
    else:
        text = "从分管领导领域看，各分管领域暂无已完成任务。"
    behind = _laggards(rows)
    if behind:
        named = "；".join(f"{r['名称']}分管领域{_red_phrase(r)}" for r in behind[:3])
        more = f"；另有{len(behind) - 3}个分管领域存在红灯任务" if len(behind) > 3 else ""
        text += f"红灯任务较多的是：{named}{more}，需加快推进。"
    else:
        text += "各分管领域均无红灯任务。"
    return text


def _units(rows: list[dict[str, Any]], ov: dict[str, Any], total: int) -> str:
    if not rows:
        return "各项任务尚未明确牵头单位。"
    if ov["已完成"] == total:
        return f"{len(rows)}个牵头单位的任务均已全部完成。"
    done = [r["名称"] for r in rows if r["已完成"] == r["任务数"]]
    on_time = [r["名称"] for r in rows if r["到期任务"] and r["到期已完成"] == r["到期任务"]
               and r["已完成"] < r["任务数"]]
    parts = []
    if done:
        parts.append(f"{_names(done)}牵头的任务已全部完成")
    if on_time:
        parts.append(f"{_names(on_time)}到期任务全部按期完成")
    text = "从牵头单位看，" + ("；".join(parts) + "。" if parts else "各单位暂无全部完成或到期全部完成的情况。")
    behind = _laggards(rows)
    if behind:
        named = "、".join(f"{r['名称']}{_red_phrase(r)}" for r in behind[:NAME_LIMIT])
        more = f"等{len(behind)}个单位" if len(behind) > NAME_LIMIT else ""
        text += f"红灯任务较多的单位有：{named}{more}。请相关单位认真分析原因，加快推进。"
    else:
        text += "各牵头单位均无红灯任务。"
    return text


def _task_list(lead: str, rows: list[dict[str, Any]], as_of: dt.date, overdue: bool, none: str,
               window: int = 0) -> list[tuple[str, str]]:
    if not rows:
        return [(lead, none)]
    if overdue:
        intro = f"截至{month_day(as_of)}，{len(rows)}项任务已过完成时限仍未完成"
    else:
        intro = f"{len(rows)}项任务将于{window}日内到期"
    if len(rows) > LIST_LIMIT:
        counts: dict[str, int] = {}
        for r in rows:
            for unit in unit_list(r["牵头单位"]):
                counts[unit] = counts.get(unit, 0) + 1
        by_unit = "、".join(f"{u}{n}项" for u, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        return [(lead, f"{intro}，涉及{len(counts)}个牵头单位：{by_unit}（详见附件）。")]
    out = [(lead, f"{intro}：")]
    for i, r in enumerate(rows, start=1):
        if overdue:
            when = f"完成时限{r['完成时限']}，已逾期{r['逾期天数']}天"
        else:
            due = r["截止日期"]
            when = f"{month_day(due)}到期" if isinstance(due, dt.date) else f"完成时限{r['完成时限']}"
        state = (f"当前进度{r['完成进度(%)']:g}%" if r["完成进度(%)"] is not None else "尚未报送进展")
        out.append(("", f"{i}.“{excerpt(r['任务目标'])}”（{r['牵头单位']}牵头，{when}，{state}）。"))
    return out


def red_tasks(metrics: Metrics) -> pd.DataFrame:
    """The tasks a 通报's attachment lists and 督办通知单 are sent for: red (overdue ones are red too)."""
    t = metrics.tasks
    return t[(t["灯"] == RED) | t["逾期"]]


def progress_text(task: Any) -> str:
    progress = task[S.PROGRESS]
    shown = f"{progress:g}%" if pd.notna(progress) else ""
    return "\n".join(p for p in (task[S.STATUS] or NOT_REPORTED, shown) if p)


def attachment_rows(metrics: Metrics) -> list[list[Any]]:
    return [[serial(r[S.SERIAL]), r[S.TEXT], r[S.LEAD], r[S.LEADER], r[S.DEADLINE_TEXT], progress_text(r),
             red_reason(r, brief=True)] for _, r in red_tasks(metrics).iterrows()]


def serial(value: Any) -> Any:
    """A 序号 as published: 4, not 4.0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def build_tongbao(master: Master, metrics: Metrics, tables: dict[str, Table]) -> OfficialDocument:
    s = master.settings
    title = document_title(master)
    doc = OfficialDocument(title, s.issuer, metrics.as_of)
    doc.title(title)
    doc.centred(f"（截至{date_text(metrics.as_of)}）", SUBHEADING_FONT)
    doc.blank()
    addressees = s.addressees or default_addressees({u.get(S.UNIT_KIND) or "" for u in master.units})
    doc.flush_left(f"{addressees}：")
    for section in narrative(master, metrics, tables):
        if section.heading:
            doc.heading(section.heading)
        for lead, text in section.paragraphs:
            doc.body(text, lead)
    rows = attachment_rows(metrics)
    if rows:
        doc.blank()
        doc.body(f"附件：{ATTACHMENT}")
    doc.signature(s.issuer, metrics.as_of)
    if rows:
        doc.attachment_heading(ATTACHMENT)
        doc.centred(f"（截至{date_text(metrics.as_of)}，共{len(rows)}项）", SUBHEADING_FONT)
        doc.table(ATTACHMENT_HEADERS, rows, ATTACHMENT_WIDTHS, centred=(0, 3, 4))
    return doc


def write_tongbao(master: Master, metrics: Metrics, tables: dict[str, Table], path: Path, force: bool = False,
                  protected: Protected = ()) -> Path:
    """Write the 通报 atomically (never onto an input; an existing file only with ``force``)."""
    return write_output(Path(path), build_tongbao(master, metrics, tables).save, force, protected)
