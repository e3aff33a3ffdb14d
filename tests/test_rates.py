"""Target and actual language as tables publish it; ``duban rates`` on real published indicator tables."""

from pathlib import Path

import openpyxl
import pytest

from workbook.cli import main
from workbook.indicators import check_indicator_table
from workbook.language.rates import completion_rate, target_note

DATA = Path(__file__).parent / "data" / "indicators"
YUEYANG = DATA / "岳阳市1-11月12件重点民生实事工作落实情况.txt"
MEISHAN_2017 = DATA / "眉山市2017年1-11月十大民生工程项目实施进度表.txt"
MEISHAN_2019 = DATA / "眉山市2019年十大民生工程项目完成情况表.txt"


@pytest.mark.parametrize("target, actual, rate", [
    ("31500", "33020", 33020 / 31500),  # bare numbers: the unit is in the column header
    ("3.3万", "36300", 1.1),
    ("5%—5.5%", "5.5%", 1.1),  # a range counts from its lower bound
    ("8-9%", "8.8%", 1.1),
    ("控制在3.5%以内", "3.0%", 3.5 / 3.0),  # lower is better: target ÷ actual, not capped
    ("控制在3.5%以内", "4.2%", 3.5 / 4.2),
    ("低于4.3%", "4.17%", 4.3 / 4.17),
    ("下降到5%", "4%", 1.25),
    ("不超过5%", "4.2%", 5 / 4.2),
    ("劣Ⅴ类水体比例5%", "4%", 1.25),
    ("零发生，控制在0起以内", "0起", None),
    ("6.5%左右", "6.2%", 1.0),  # within half a point of a 左右 target: met
    ("6.5%左右", "5.8%", 5.8 / 6.5),
    ("6.5%左右", "7.8%", 1.2),
    ("200亿元左右", "192亿元", 1.0),  # within 5% of an absolute 左右 target
    ("200亿元左右", "180亿元", 0.9),
    ("应保尽保", "已全部落实到位", 1.0),  # qualitative: met when the actual says it was done
    ("应保尽保", "正在推进", None),  # … and no rate otherwise, never 0
    ("全面完成", "", None),
    ("8%以上", "", None),
    ("8%以上", "较好", None),
    ("与经济增长基本同步", "5.2%", None),  # no reference growth given
    ("10%以上", "1700亿元", None),
])
def test_target_and_actual_language(target, actual, rate):
    got = completion_rate(target, actual)
    assert got == pytest.approx(rate) if rate is not None else got is None


def test_range_and_about_notes():
    assert target_note("5%—5.5%") == "目标“5%—5.5%”为区间，按下限 5% 计算完成率"
    assert target_note("增长8-9%") == "目标“增长8-9%”为区间，按下限 8% 计算完成率"
    assert target_note("8%以上") == ""


def rates_by_cell(report):
    return {r["cell"]: r for r in report.stats["rates"]}


def test_yueyang_table(tmp_path):
    """Hunan, Yueyang: units in a 单位 column, rates stated as 139.1%; three are right only for rounded figures."""
    report = check_indicator_table(YUEYANG)
    assert report.valid and report.stats["rows"] == 19 and report.stats["checked"] == 14
    assert [(f.code, f.cell) for f in report.findings] == [
        ("stated-rate-rounding", "F3"), ("stated-rate-rounding", "F6"), ("stated-rate-rounding", "F9")]
    assert "139.0385%" in report.findings[0].message and "137.6%～140.5%" in report.findings[0].message
    rows = rates_by_cell(report)
    assert rows["D4"]["computed"] == 100.14 and rows["D11"]["computed"] == 100.0  # 1361.92 公里; 不低于60元 vs 60
    assert rows["D19"]["computed"] is None  # 8 座 against a progress note: no rate, never 0


def test_meishan_2017_table():
    """Sichuan, Meishan: the unit in the indicator's name (人), a ceiling in it (低于), one published rate wrong."""
    report = check_indicator_table(MEISHAN_2017)
    assert report.stats["rows"] == 15 and report.stats["checked"] == 14
    assert [(f.code, f.cell, f.suggestion) for f in report.findings] == [("stated-rate-mismatch", "H5", "126.0%")]
    assert "2519÷2000" in report.findings[0].message and "125.95%" in report.findings[0].message
    rows = rates_by_cell(report)
    assert rows["E6"]["computed"] == 103.12  # 城镇登记失业率低于(%): 4.3 ÷ 4.17, as the table states (103.1)
    assert rows["E10"]["computed"] is None  # 应补尽补 against a narrative


def test_meishan_2019_table_with_indicators_side_by_side():
    """Sichuan, Meishan: one row per district, five indicators across, each named above its three columns."""
    report = check_indicator_table(MEISHAN_2019)
    assert report.findings == []
    assert report.stats["rows"] == 36 and report.stats["checked"] == 29
    rows = rates_by_cell(report)
    assert rows["K7"]["indicator"] == "全市 城镇登记失业率低于(%)"
    assert rows["K7"]["computed"] == pytest.approx(4.3 / 3.57 * 100, abs=0.01)  # a ceiling: target ÷ actual
    assert rows["N7"]["stated"] == "272.3%"  # 1089 ÷ 400 = 272.25: half up, as published


def _as_xlsx(txt: Path, out: Path, merge_names: bool = False) -> Path:
    """The table as a clerk gets it by pasting the page into Excel: numbers as numbers, names merged."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, line in enumerate(txt.read_text(encoding="utf-8").splitlines(), start=1):
        for c, cell in enumerate(line.split("\t"), start=1):
            if cell:
                try:
                    ws.cell(r, c, float(cell) if "." in cell else int(cell))
                except ValueError:
                    ws.cell(r, c, cell)
    if merge_names:
        for c in range(2, 17, 3):
            ws.merge_cells(start_row=4, start_column=c, end_row=4, end_column=c + 2)
    wb.save(out)
    return out


@pytest.mark.parametrize("txt, merge", [(YUEYANG, False), (MEISHAN_2017, False), (MEISHAN_2019, True)])
def test_the_same_tables_as_workbooks(txt, merge, tmp_path):
    expected = check_indicator_table(txt)
    got = check_indicator_table(_as_xlsx(txt, tmp_path / f"{txt.stem}.xlsx", merge))
    assert [(f.code, f.cell) for f in got.findings] == [(f.code, f.cell) for f in expected.findings]
    assert got.stats["rows"] == expected.stats["rows"] and got.stats["checked"] == expected.stats["checked"]


def test_header_synonyms_units_and_ranges(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位：亿元"])
    ws.append(["指标名称", "年度目标", "1-9月完成", "完成进度"])
    ws.append(["一般公共预算收入", 31500, 24000, "76.19%"])
    ws.append(["地区生产总值增长(%)", "5%—5.5%", "5.2", "104%"])
    path = tmp_path / "指标.xlsx"
    wb.save(path)
    report = check_indicator_table(path)
    assert [(f.code, f.cell) for f in report.findings] == [("target-range", "B4")]
    assert "按下限 5% 计算" in report.findings[0].message
    assert report.stats["checked"] == 2


def test_no_indicator_rows_is_an_error_naming_what_was_seen(tmp_path, capsys):
    path = tmp_path / "别的表.txt"
    path.write_text("序号\t任务目标\t牵头单位\t完成时限\n1\t建设广场\t市住建局\t6月底\n", encoding="utf-8")
    assert main(["rates", str(path)]) == 1
    out = capsys.readouterr().out
    assert "indicator-rows-missing" in out and "“任务目标”" in out


def test_rates_cli_lists_the_rates(capsys):
    assert main(["rates", str(MEISHAN_2017)]) == 0
    out = capsys.readouterr().out
    assert "计算完成率" in out and "125.95%" in out and "stated-rate-mismatch" in out
