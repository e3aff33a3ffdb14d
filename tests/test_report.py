import datetime as dt

import openpyxl
import pytest
from test_checks import edit

from workbook import schema as S
from workbook.language.rates import completion_rate
from workbook.master import read_master
from workbook.metrics import compute, light, schedule_progress
from workbook.report import (
    ADJUSTMENTS,
    BY_LEADER,
    BY_UNIT,
    INDICATORS,
    MISSING,
    OVERDUE,
    OVERVIEW,
    write_report,
)

D = dt.date


@pytest.mark.parametrize("target, actual, reference, rate", [
    ("6.5%左右", "7.8%", None, 1.2),
    ("300场以上", "330场", None, 1.1),
    ("1.1万亿元", "9900亿元", None, 0.9),
    ("35%以上", "35.7%", None, 1.02),
    ("不超过5%", "4.2%", None, 5 / 4.2),
    ("与经济增长同步", "4.4%", "5.5%左右", 0.8),
    ("建成投用", "已建成投用", None, 1.0),
    ("10%以上", "1700亿元", None, None),
    ("500余场", "550场", None, 1.1),
    ("控制在3%以内", "3.3%", None, 3 / 3.3),
    ("８％以上", "８.８％", None, 1.1),
    ("新增就业6万人", "4.5万人", None, 0.75),
    ("超过280亿元，10%以上", "300亿元，增长8%", None, 0.8),
    ("8%以上", "", None, None),
    ("8%以上", "较好", None, None),
    ("与经济增长同步", "4.4%", None, None),
])
def test_completion_rate(target, actual, reference, rate):
    got = completion_rate(target, actual, reference=reference)
    assert got == pytest.approx(rate) if rate is not None else got is None


def test_rates_are_not_capped():
    assert completion_rate("200亿元", "300亿元") == 1.5


def test_schedule_progress_and_lights():
    start = D(2026, 1, 1)
    assert schedule_progress(D(2026, 12, 31), D(2026, 7, 2), start) == pytest.approx(49.9, abs=0.2)
    assert schedule_progress(D(2026, 3, 31), D(2026, 6, 30), start) == 100
    assert schedule_progress(None, D(2026, 6, 30), start) is None
    as_of = D(2026, 6, 30)
    assert light("已完成", 100, D(2026, 3, 31), as_of, 100) == "绿"
    assert light("序时推进", 80, D(2026, 3, 31), as_of, 100) == "红"  # overdue
    assert light("序时推进", 50, D(2026, 12, 31), as_of, 50) == "绿"
    assert light("序时推进", 40, D(2026, 12, 31), as_of, 50) == "黄"  # behind by less than 20
    assert light("序时推进", 29, D(2026, 12, 31), as_of, 50) == "红"  # behind by 21
    assert light("滞后", 60, D(2026, 12, 31), as_of, 50) == "黄"  # self-reported
    assert light("序时推进", 95, D(2026, 7, 10), as_of, 90) == "黄"  # due within 15 days
    assert light("序时推进", None, None, as_of, None) == "绿"
    assert light("滞后", None, None, as_of, None) == "黄"
    assert light("序时推进", 40, D(2026, 12, 31), as_of, 50, lag_red=5) == "红"


def small_master(master_copy):
    """Six tasks of 王心宇副市长 and 牛芳泽副市长 with hand-set answers; everything else cleared."""
    wb = openpyxl.load_workbook(master_copy)
    ws = wb[S.TASKS]
    keep = {68, 69, 70, 71, 72, 73}
    for r in range(ws.max_row, 1, -1):
        if ws.cell(r, 2).value not in keep:
            ws.delete_rows(r)
    answers = {  # serial: status, progress, due
        68: ("已完成", 100, "6月底"), 69: ("序时推进", 45, "10月底"), 70: ("滞后", 20, "5月底"),
        71: ("序时推进", 50, "12月底"), 72: ("已完成", 100, "3月底"), 73: ("", None, "7月10日"),
    }
    for r in range(2, ws.max_row + 1):
        status, progress, deadline = answers[ws.cell(r, 2).value]
        ws.cell(r, 11).value = status or None
        ws.cell(r, 12).value = progress
        ws.cell(r, 8).value = deadline
        from workbook.language.deadlines import parse_deadline
        ws.cell(r, 9).value = parse_deadline(deadline, 2026).due
    wb.save(master_copy)
    return read_master(master_copy)


def test_group_arithmetic_on_a_small_master(master_copy):
    master = small_master(master_copy)
    m = compute(master, D(2026, 6, 30))
    leaders = m.by_leader.set_index(S.LEADER)
    w = leaders.loc["王心宇副市长"]
    assert (w["任务数"], w["已完成"], w["到期任务"], w["到期已完成"]) == (4, 1, 2, 1)
    assert w["到期完成率"] == 0.5 and w["总体完成率"] == 0.25
    assert w["逾期"] == 1 and w["平均进度"] == 53.8
    n = leaders.loc["牛芳泽副市长"]
    assert (n["任务数"], n["已完成"], n["到期任务"], n["到期完成率"], n["临期"]) == (2, 1, 1, 1.0, 1)
    assert list(m.by_leader[S.LEADER]) == ["牛芳泽副市长", "王心宇副市长"]  # ranked
    units = m.by_unit.set_index(S.LEAD)
    assert units.loc["市民政局", "任务数"] == 3 and units.loc["新城区政府", "任务数"] == 1
    assert m.overall["任务数"] == 6 and m.overall["已完成"] == 2 and m.overall["到期任务"] == 3
    lights = dict(zip(m.tasks[S.TASK_ID], m.tasks["灯"]))
    assert lights["2026-068"] == "绿" and lights["2026-070"] == "红" and lights["2026-073"] == "红"


def test_thresholds_come_from_settings(master_copy):
    master = small_master(master_copy)
    before = dict(zip(*compute(master, D(2026, 6, 30)).tasks[[S.TASK_ID, "灯"]].values.T))
    wb = openpyxl.load_workbook(master_copy)
    ws = wb[S.SETTINGS]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == S.S_LAG_RED:
            row[1].value = 5
        if row[0].value == S.S_DUE_SOON:
            row[1].value = 0
    wb.save(master_copy)
    master = read_master(master_copy)
    assert master.settings.lag_red == 5 and master.settings.due_soon == 0
    after = dict(zip(*compute(master, D(2026, 6, 30)).tasks[[S.TASK_ID, "灯"]].values.T))
    assert before["2026-069"] == "黄" and after["2026-069"] == "红"  # 45 against 序时进度 59.4


def test_report_sheets_values_formats_and_charts(master_copy, tmp_path):
    edit(master_copy, S.TASKS, {"K2": "序时推进", "L2": 50, "M2": "7.0%", "K3": "序时推进", "L3": 50, "M3": "6.05%"})
    out = tmp_path / "通报 六月.xlsx"
    write_report(read_master(master_copy), out, D(2026, 6, 30))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [OVERVIEW, BY_LEADER, BY_UNIT, OVERDUE, "临期任务", INDICATORS, MISSING, ADJUSTMENTS]
    ws = wb[INDICATORS]
    assert [c.value for c in ws[3]][:6] == ["序号", "指标", "目标", "完成情况", "完成率", "牵头单位"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=4) if isinstance(r[0].value, (int, float))}
    assert rows[1][4].value == pytest.approx(7.0 / 8) and rows[1][4].number_format == "0.00%"
    assert rows[1][4].font.underline == "single" and rows[1][4].font.color.rgb.endswith("C00000")
    assert rows[2][4].value == pytest.approx(1.1) and not rows[2][4].font.underline
    assert rows[4][3].value == "未报送"
    assert ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"
    assert len(wb[OVERVIEW]._charts) == 2 and len(wb[BY_LEADER]._charts) == 1 and len(wb[BY_UNIT]._charts) == 1
    overview = {r[0].value: r[1].value for r in wb[OVERVIEW].iter_rows(min_row=4) if r[0].value}
    assert overview["任务总数"] == 189
    assert wb[MISSING].max_row >= 4 + 44


def test_report_cli(master_copy, tmp_path):
    from workbook.cli import main

    out = tmp_path / "通报.xlsx"
    assert main(["report", str(master_copy), "-o", str(out), "--as-of", "2026-06-30"]) == 0
    assert out.exists()


def test_stated_rates_are_checked(tmp_path):
    from workbook.cli import main
    from workbook.indicators import check_indicator_table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append(["2026年主要指标完成情况"])
    ws.append(["序号", "指标", "目标", "完成情况", "完成率"])
    ws.append([1, "规上工业增加值", "6.5%左右", "7.8%", "120.00%"])
    ws.append([2, "消费活动", "300场以上", "330场", 1.15])
    ws.append([3, "居民收入", "与经济增长同步", "4.4%", "80%"])
    ws.append([4, "进出口", "10%以上", "1700亿元", "68.75%"])
    path = tmp_path / "指标表.xlsx"
    wb.save(path)
    report = check_indicator_table(path, reference="5.5%左右")
    assert [(f.code, f.cell) for f in report.findings] == [("stated-rate-mismatch", "E4"),
                                                            ("rate-not-computable", "E6")]
    assert report.findings[0].suggestion == "110.00%" and report.stats["checked"] == 4
    assert main(["rates", str(path), "--reference", "5.5%左右"]) == 0
