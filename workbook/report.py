"""``duban report``: the monthly bulletin (督查通报) workbook.

The content of every sheet is built once as plain tables (:func:`bulletin`), so
the XlsxWriter file here and the Excel plugin's in-master sheets show the same.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from . import changes
from . import schema as S
from .collect import units_reported
from .findings import DubanError
from .language.text import cell_text, wrapped_lines
from .master import Master, master_protected, read_master
from .metrics import GREEN, ORIGINAL_DEADLINE, RED, YELLOW, Metrics, compute
from .ooxml.safe_write import write_output
from .ooxml.tables import LIGHT_COLORS

OVERVIEW, BY_LEADER, BY_UNIT, OVERDUE, DUE_SOON, INDICATORS, MISSING = (
    "总体情况", "按分管领导", "按牵头单位", "逾期任务", "临期任务", "指标完成情况", "未报送单位")
ADJUSTMENTS = "调整情况"
ADJUSTMENT_HEADERS = ["任务编号", "任务目标", "调整类型", "原内容", "新内容", "批复文号", "备注", "记录时间"]
NOT_REPORTED = "未报送"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    widths: list[float]
    percent: set[str] = field(default_factory=set)  # columns shown as 0.00%
    percent_rows: set[str] = field(default_factory=set)  # rows (by first cell) shown as 0.00%
    wrap: set[str] = field(default_factory=set)
    shortfall: str = ""  # a percent column underlined red below 100%


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def bulletin(master: Master, metrics: Metrics, reported: set[str] | None = None) -> dict[str, Table]:
    s = master.settings
    label = f"截至{metrics.as_of.year}年{metrics.as_of.month}月{metrics.as_of.day}日"
    t = metrics.tasks
    o = metrics.overall
    statuses = [S.STATUS_DONE, S.STATUS_ON_TRACK, S.STATUS_BEHIND, S.STATUS_NOT_STARTED]
    status_counts = [int((t[S.STATUS] == st).sum()) for st in statuses] + [int((t[S.STATUS] == "").sum())]
    overview = [
        ["任务总数", int(o.get("任务数", 0))], ["已完成", int(o.get("已完成", 0))],
        ["到期任务", int(o.get("到期任务", 0))], ["到期已完成", int(o.get("到期已完成", 0))],
        ["到期完成率", _clean(o.get("到期完成率"))], ["总体完成率", _clean(o.get("总体完成率"))],
        ["平均进度(%)", _clean(o.get("平均进度"))], ["逾期任务", int(o.get("逾期", 0))],
        ["临期任务", int(o.get("临期", 0))], ["红灯", int(o.get(RED, 0))], ["黄灯", int(o.get(YELLOW, 0))],
        ["绿灯", int(o.get(GREEN, 0))],
    ] + [[f"状态：{st}", n] for st, n in zip(statuses + [NOT_REPORTED], status_counts)]
    tables = {OVERVIEW: Table(f"{s.title or f'{s.year}年重点工作任务'}推进情况（{label}）", ["项目", "数值"],
                              overview, [24, 16], percent_rows={"到期完成率", "总体完成率"})}
    group_headers = ["排名", "名称", "任务数", "已完成", "到期任务", "到期已完成", "到期完成率", "总体完成率",
                     "平均进度(%)", "逾期", "临期", RED, YELLOW, GREEN]
    for sheet, frame, key in ((BY_LEADER, metrics.by_leader, S.LEADER), (BY_UNIT, metrics.by_unit, S.LEAD)):
        rows = [[i, r[key]] + [_clean(r[c]) for c in ["任务数", "已完成", "到期任务", "到期已完成", "到期完成率",
                                                        "总体完成率", "平均进度", "逾期", "临期", RED, YELLOW, GREEN]]
                for i, (_, r) in enumerate(frame.iterrows(), start=1)]
        tables[sheet] = Table(f"{sheet}完成情况（{label}）", group_headers, rows,
                              [6, 24, 8, 8, 9, 10, 11, 11, 11, 7, 7, 6, 6, 6], percent={"到期完成率", "总体完成率"})
    ms = metrics.milestones
    steps = ms[~ms["最终节点"].astype(bool)]  # the last step is the task's own deadline
    overdue = _due_list(t[t["逾期"]], steps[steps["逾期"].astype(bool)])
    tables[OVERDUE] = Table(f"逾期任务清单（{label}，共 {len(overdue)} 项{_of_which(overdue)}）",
                            ["任务编号", "任务目标", "时间节点", "牵头单位", "分管领导", "完成时限", "截止日期", "逾期天数",
                             "完成状态", "完成进度(%)", "存在问题"],
                            [[r[S.TASK_ID], r[S.TEXT], r["时间节点"], r[S.LEAD], r[S.LEADER], _deadline(r),
                              r[S.DUE], -int(r["剩余天数"]), r[S.STATUS] or NOT_REPORTED, _clean(r[S.PROGRESS]),
                              r.get(S.PROBLEMS) or ""] for r in overdue],
                            [10, 40, 18, 16, 13, 10, 11, 8, 9, 9, 28], wrap={"任务目标", "时间节点", "存在问题", "牵头单位"})
    soon = _due_list(t[t["临期"]], steps[steps["临期"].astype(bool)])
    tables[DUE_SOON] = Table(f"临期任务清单（{label}起 {s.due_soon} 天内到期，共 {len(soon)} 项{_of_which(soon)}）",
                             ["任务编号", "任务目标", "时间节点", "牵头单位", "分管领导", "完成时限", "截止日期", "剩余天数",
                              "完成状态", "完成进度(%)", "序时进度(%)"],
                             [[r[S.TASK_ID], r[S.TEXT], r["时间节点"], r[S.LEAD], r[S.LEADER], _deadline(r),
                               r[S.DUE], int(r["剩余天数"]), r[S.STATUS] or NOT_REPORTED, _clean(r[S.PROGRESS]),
                               _clean(r.get("序时进度"))] for r in soon],
                             [10, 40, 18, 16, 13, 10, 11, 8, 9, 9, 9], wrap={"任务目标", "时间节点", "牵头单位"})
    targets = t[t[S.TARGET] != ""]
    tables[INDICATORS] = Table(f"主要指标完成情况（{label}）",
                               ["序号", "指标", "目标", "完成情况", "完成率", "牵头单位"],
                               [[_clean(r[S.SERIAL]), r[S.TEXT], r[S.TARGET], r[S.ACTUAL] or NOT_REPORTED,
                                 _clean(r[S.RATE]), r[S.LEAD]] for _, r in targets.iterrows()],
                               [6, 40, 20, 22, 11, 22], percent={"完成率"}, wrap={"指标", "目标", "完成情况"},
                               shortfall="完成率")
    reported = reported if reported is not None else set()
    overdue = set(t.loc[t["逾期"], S.TASK_ID]) if len(t) else set()
    missing = [[u[S.UNIT_NAME], u.get(S.UNIT_KIND) or "", len(mine),
                sum(1 for task in mine if cell_text(task.get(S.TASK_ID)) in overdue)]
               for u in master.units if (mine := master.tasks_of(u[S.UNIT_NAME])) and u[S.UNIT_NAME] not in reported]
    tables[MISSING] = Table(f"{s.period_label}未报送单位（共 {len(missing)} 个）", ["单位", "类型", "牵头任务数", "其中逾期"],
                            missing, [30, 10, 10, 10])
    tables[ADJUSTMENTS] = adjustments(master)
    return tables


def _deadline(task: dict[str, Any]) -> str:
    """完成时限 as the task lists show it: an extended task is marked 延期 with its first deadline."""
    old = task.get(ORIGINAL_DEADLINE)
    return f"{task[S.DEADLINE_TEXT]}（延期，原为{old}）" if old else task[S.DEADLINE_TEXT]


def adjustments(master: Master) -> Table:
    """调整情况: the changes of the decomposition made this period, counted by kind in the title
    (新增, 延期, 调整牵头单位, 撤销 always named), and the year's totals."""
    s = master.settings
    this = changes.of_period(master, s.period)
    year = changes.counts(changes.history(master))
    now = changes.counts(this)
    counted = "、".join(f"{kind} {n} 项" for kind, n in now.items() if n or kind in changes.HEADLINE_KINDS)
    total = "、".join(f"{kind} {n} 项" for kind, n in year.items() if n)
    texts = {cell_text(t.get(S.TASK_ID)): cell_text(t.get(S.TEXT)) for t in master.tasks}
    rows = [[c.task_id, texts.get(c.task_id, ""), c.kind, c.old, c.new, c.approval, c.note,
             changes.PENDING if c.time is None else
             c.time.strftime("%Y-%m-%d %H:%M") if c.time != dt.datetime.min else ""] for c in this]
    return Table(f"{s.period_label}任务调整情况（{counted}" + (f"；全年累计 {total}" if total else "") + "）",
                 ADJUSTMENT_HEADERS, rows, [10, 40, 12, 24, 24, 16, 20, 16], wrap={"任务目标", "原内容", "新内容", "备注"})


def _due_list(tasks: Any, steps: Any) -> list[dict[str, Any]]:
    """Overdue or due-soon tasks and milestones in one list, soonest first (a milestone row names its step)."""
    rows = [dict(r, 时间节点="") for r in tasks.to_dict("records")]
    for r in steps.to_dict("records"):
        rows.append(dict(r, 时间节点=f"第{r[S.MS_SERIAL]}个节点：{r[S.MS_CONTENT]}（应达进度 {r[S.MS_SHARE]:g}%）"))
    return sorted(rows, key=lambda r: (r["剩余天数"], r[S.TASK_ID]))


def _of_which(rows: list[dict[str, Any]]) -> str:
    n = sum(1 for r in rows if r["时间节点"])
    return f"，其中时间节点 {n} 个" if n else ""


def table_values(table: Table) -> list[list[Any]]:
    """A bulletin table as one block of values: title, blank row, header, rows."""
    width = len(table.headers)
    return [[table.title] + [None] * (width - 1), [None] * width, list(table.headers)] + [
        [_clean(v) for v in row] for row in table.rows]


def bulletin_of(master: Master, as_of: dt.date | None = None) -> tuple[Metrics, dict[str, Table]]:
    """The metrics and the bulletin's tables of a master file: what every form of the bulletin shows."""
    metrics = compute(master, as_of)
    reported = units_reported(master.path, master.settings.period) if master.path else set()
    return metrics, bulletin(master, metrics, reported)


def write_report(master: Master, path: Path, as_of: dt.date | None = None, force: bool = False) -> dict[str, Table]:
    """Write the bulletin to ``path`` as a workbook (``.xlsx``) or a Word 通报 (``.docx``), by its suffix
    (atomically; never onto the master; an existing file only with ``force``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        raise DubanError(f"通报文件应为 .xlsx（工作簿）或 .docx（Word 通报）：{path.name}")
    protected = master_protected(master.path) if master.path else []
    metrics, tables = bulletin_of(master, as_of)
    if suffix == ".docx":
        from .word.tongbao import write_tongbao

        write_tongbao(master, metrics, tables, path, force, protected)
    else:
        write_output(path, lambda tmp: _render(tables, metrics, tmp), force, protected)
    return tables


def report_from_file(master_path: Path, output: Path, as_of: dt.date | None = None,
                     force: bool = False) -> dict[str, Table]:
    return write_report(read_master(master_path), output, as_of, force)


def _render(tables: dict[str, Table], metrics: Metrics, path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False, "in_memory": True})
    base = {"font_name": "宋体", "font_size": 11, "border": 1, "valign": "vcenter"}
    f = {
        "title": wb.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center",
                                "valign": "vcenter"}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center", "text_wrap": True}),
        "cell": wb.add_format(base),
        "wrap": wb.add_format({**base, "text_wrap": True, "valign": "top"}),
        "pct": wb.add_format({**base, "num_format": "0.00%", "align": "center"}),
        "short": wb.add_format({**base, "num_format": "0.00%", "align": "center", "underline": 1,
                                "font_color": "#C00000"}),
        "date": wb.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "center": wb.add_format({**base, "align": "center"}),
        "note": wb.add_format({"font_name": "宋体", "font_size": 10, "italic": True, "font_color": "#595959"}),
    }
    sheets = {}
    for name, table in tables.items():
        ws = wb.add_worksheet(name)
        sheets[name] = ws
        last_col = len(table.headers) - 1
        ws.merge_range(0, 0, 0, max(last_col, 8), table.title, f["title"])
        ws.set_row(0, 32)
        for c, (h, w) in enumerate(zip(table.headers, table.widths)):
            ws.set_column(c, c, w)
            ws.write_string(2, c, h, f["head"])
        for r, row in enumerate(table.rows, start=3):
            height = 1
            for c, value in enumerate(row):
                h = table.headers[c]
                as_percent = h in table.percent or row[0] in table.percent_rows
                if as_percent and isinstance(value, (int, float)) and not isinstance(value, bool):
                    fmt = f["short"] if h == table.shortfall and value < 1 else f["pct"]
                    ws.write_number(r, c, value, fmt)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), f["date"])
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, c, value, f["center"])
                elif value is None:
                    ws.write_blank(r, c, None, f["cell"])
                else:
                    text = str(value)
                    ws.write_string(r, c, text, f["wrap"] if h in table.wrap else f["cell"])
                    if h in table.wrap:
                        height = max(height, wrapped_lines(text, table.widths[c]))
            ws.set_row(r, 15 * min(height, 12) + 3)
        if not table.rows:
            ws.write_string(3, 0, "（无）", f["cell"])
        ws.set_row(2, HEADER_ROW_PT)  # a fixed height, so charts anchored below land where computed
        ws.freeze_panes(3, 0)
        ws.repeat_rows(2)
        ws.set_paper(9)
        ws.set_landscape()
        if name in (BY_LEADER, BY_UNIT) and table.rows:
            # The chart below the table starts a printed page of its own. Excel ignores manual
            # page breaks under "fit to pages", so the scale is set from the widths instead.
            ws.set_h_pagebreaks([_chart_row(table)])
            ws.set_print_scale(_print_scale(table))
        else:
            ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_margins(left=MARGIN_SIDE_IN, right=MARGIN_SIDE_IN, top=MARGIN_TOP_IN, bottom=MARGIN_TOP_IN)
        ws.set_header(f"&L&\"宋体\"&9督查通报&R&\"宋体\"&9{name}")
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.write_string(len(table.rows) + 4, 0, _note(name, metrics), f["note"])
    _charts(wb, sheets, tables)
    wb.close()


# Landscape A4 inside the margins, in pixels (96 dpi) at 100% scale.
MARGIN_SIDE_IN, MARGIN_TOP_IN = 0.4, 0.7
PAGE_WIDTH_PX = (297 / 25.4 - 2 * MARGIN_SIDE_IN) * 96
PAGE_HEIGHT_PX = (210 / 25.4 - 2 * MARGIN_TOP_IN) * 96
HEADER_ROW_PT = 30
CHART_WIDTH_PX = 760


def _column_px(width: float) -> int:
    # Excel makes a character of width 7 px with Calibri; where Calibri is missing (LibreOffice on
    # Linux) the substitute is wider. Reckoning 9.5 px keeps the table within the page either way.
    return int(width * 9.5 + 0.5) + 5


def _print_scale(table: Table) -> int:
    width = max(sum(_column_px(w) for w in table.widths), _column_px(table.widths[0]) + CHART_WIDTH_PX)
    return max(10, min(100, int(PAGE_WIDTH_PX * 100 / width)))


def _chart_row(table: Table) -> int:
    return len(table.rows) + 6


def _chart_height(table: Table) -> int:
    """A bar per group, but never taller than the page it starts (below the repeated header row)."""
    page = PAGE_HEIGHT_PX * 100 / _print_scale(table) - HEADER_ROW_PT * 4 / 3 - 24
    return int(min(max(300, 26 * len(table.rows) + 90), page))


def _note(name: str, metrics: Metrics) -> str:
    return {
        OVERVIEW: "到期完成率 = 截止日期已到的任务中已完成的比例；总体完成率 = 全部任务中已完成的比例。",
        BY_LEADER: "按到期完成率、总体完成率、平均进度排序。",
        BY_UNIT: "多个牵头单位共同负责的任务，分别计入各单位。",
        INDICATORS: "完成率低于 100% 的以红色下划线标出；“与经济增长同步”类指标按地区生产总值增长目标计算。",
        ADJUSTMENTS: f"以台账“{S.CHANGES}”表为准；已撤销的任务不计入任务总数、完成率和红黄绿灯，延期任务按调整后的完成时限计算。",
    }.get(name, f"截至日期：{metrics.as_of.isoformat()}")


def _charts(wb: Any, sheets: dict[str, Any], tables: dict[str, Table]) -> None:
    overview = tables[OVERVIEW]
    start = next(i for i, r in enumerate(overview.rows) if r[0].startswith("状态：")) + 3
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({"name": "完成状态", "categories": [OVERVIEW, start, 0, start + 4, 0],
                    "values": [OVERVIEW, start, 1, start + 4, 1], "data_labels": {"value": True, "percentage": True},
                    "points": [{"fill": {"color": c}} for c in ("#63BE7B", "#5B9BD5", "#F8696B", "#FFC000", "#A5A5A5")]})
    pie.set_title({"name": "任务完成状态"})
    pie.set_size({"width": 480, "height": 300})
    sheets[OVERVIEW].insert_chart("D3", pie)
    lights = wb.add_chart({"type": "column"})
    first = next(i for i, r in enumerate(overview.rows) if r[0] == "红灯") + 3
    lights.add_series({"name": "红黄绿灯", "categories": [OVERVIEW, first, 0, first + 2, 0],
                       "values": [OVERVIEW, first, 1, first + 2, 1], "data_labels": {"value": True},
                       "points": [{"fill": {"color": LIGHT_COLORS[w]}} for w in (RED, YELLOW, GREEN)]})
    lights.set_title({"name": "红黄绿灯分布"})
    lights.set_legend({"none": True})
    lights.set_size({"width": 400, "height": 300})
    # Beside the pie, not below it: both charts and the table stay on the first printed page.
    sheets[OVERVIEW].insert_chart("D3", lights, {"x_offset": 490})
    for name in (BY_LEADER, BY_UNIT):
        table = tables[name]
        n = len(table.rows)
        if not n:
            continue
        dense = n > 15  # labels on 2 × n bars would overlap
        chart = wb.add_chart({"type": "bar"})
        for col, color in ((6, "#5B9BD5"), (7, "#70AD47")):
            chart.add_series({"name": [name, 2, col], "categories": [name, 3, 1, 2 + n, 1],
                              "values": [name, 3, col, 2 + n, col], "fill": {"color": color},
                              "data_labels": {"value": not dense, "num_format": "0%"}})
        chart.set_title({"name": f"{name}完成率"})
        chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
        chart.set_y_axis({"reverse": True, "num_font": {"size": 8 if dense else 10}})
        chart.set_legend({"position": "top"})
        chart.set_size({"width": CHART_WIDTH_PX, "height": _chart_height(table)})
        sheets[name].insert_chart(_chart_row(table), 1, chart, {"y_offset": 8})
