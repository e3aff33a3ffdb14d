import datetime as dt
from pathlib import Path

import pytest

from workbook.language.deadlines import DeadlineError, parse_deadline

D = dt.date


@pytest.mark.parametrize(
    "text, due, kind",
    [
        ("12月底", D(2026, 12, 31), "month_end"),
        ("6月末", D(2026, 6, 30), "month_end"),
        ("6月底前", D(2026, 6, 30), "month_end"),
        ("十二月底", D(2026, 12, 31), "month_end"),
        ("１２月底", D(2026, 12, 31), "month_end"),
        ("2月底", D(2026, 2, 28), "month_end"),
        ("3月上旬", D(2026, 3, 10), "month_part"),
        ("3月中旬", D(2026, 3, 20), "month_part"),
        ("3月下旬", D(2026, 3, 31), "month_part"),
        ("9月30日前", D(2026, 9, 30), "date"),
        ("2026年6月30日", D(2026, 6, 30), "date"),
        ("2026-06-30", D(2026, 6, 30), "date"),
        ("2026/6/30", D(2026, 6, 30), "date"),
        ("2026.6.30", D(2026, 6, 30), "date"),
        ("年底", D(2026, 12, 31), "year_end"),
        ("年底前", D(2026, 12, 31), "year_end"),
        ("年内", D(2026, 12, 31), "year_end"),
        ("上半年", D(2026, 6, 30), "half_year"),
        ("下半年", D(2026, 12, 31), "half_year"),
        ("一季度", D(2026, 3, 31), "quarter"),
        ("第三季度", D(2026, 9, 30), "quarter"),
        ("三季度末", D(2026, 9, 30), "quarter"),
        ("2027年3月底", D(2027, 3, 31), "month_end"),
        ("次年1月底", D(2027, 1, 31), "month_end"),
        ("2026年10月", D(2026, 10, 31), "month"),
        ("  10月底完成 ", D(2026, 10, 31), "month_end"),
        ("2026年底", D(2026, 12, 31), "year_end"),
        ("二〇二六年九月三十日", D(2026, 9, 30), "date"),
        (D(2026, 7, 15), D(2026, 7, 15), "date"),
        (dt.datetime(2026, 7, 15, 0, 0), D(2026, 7, 15), "date"),
        (46203, D(2026, 6, 30), "date"),
    ],
)
def test_fixed_deadlines(text, due, kind):
    deadline = parse_deadline(text, 2026)
    assert deadline.due == due
    assert deadline.kind == kind
    assert deadline.fixed


@pytest.mark.parametrize(
    "text, kind",
    [("按自治区安排统筹推进", "open"), ("长期坚持", "open"), ("持续推进", "open"), ("每月25日前", "recurring")],
)
def test_deadlines_without_a_date(text, kind):
    deadline = parse_deadline(text, 2026)
    assert deadline.due is None and deadline.kind == kind and not deadline.fixed


def test_leap_years():
    assert parse_deadline("2月底", 2028).due == D(2028, 2, 29)
    assert parse_deadline("2月29日", 2028).due == D(2028, 2, 29)


@pytest.mark.parametrize("text", ["13月底", "2月30日", "2026-02-30", "五季度", "0月底"])
def test_impossible_dates_raise_a_chinese_value_error(text):
    with pytest.raises(DeadlineError) as info:
        parse_deadline(text, 2026)
    assert isinstance(info.value, ValueError)
    assert info.value.reason == "impossible"
    assert "不存在" in str(info.value)


@pytest.mark.parametrize("text", ["尽快", "", "   ", None, "下周三"])
def test_unreadable_deadlines(text):
    with pytest.raises(DeadlineError) as info:
        parse_deadline(text, 2026)
    assert info.value.reason == "unrecognised"


def test_every_deadline_of_the_sample_parses():
    from conftest import SOURCE

    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t")[3] for line in lines if line.split("\t")[0].isdigit()]
    assert len(texts) == 189
    parsed = [parse_deadline(t, 2026) for t in texts]
    assert sum(1 for p in parsed if p.due is None) == 1  # 按自治区安排统筹推进


PHRASES = Path(__file__).parent / "data" / "deadline_phrases.tsv"


def _phrases():
    lines = [line for line in PHRASES.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [dict(zip(lines[0].split("\t"), line.split("\t"))) for line in lines[1:]]


def test_the_phrase_table_is_real_and_wide():
    rows = _phrases()
    assert len({r["phrase"] for r in rows}) >= 100
    assert len({r["province"] for r in rows}) >= 10
    assert all(r["source"].startswith(("http", "samples/")) for r in rows)


@pytest.mark.parametrize("row", _phrases(), ids=lambda r: r["phrase"][:20])
def test_published_phrases(row):
    year = int(row["plan_year"])
    if row["expected"] == "error":
        with pytest.raises(DeadlineError):
            parse_deadline(row["phrase"], year)
        return
    deadline = parse_deadline(row["phrase"], year)
    assert (deadline.due.isoformat() if deadline.due else "none") == row["expected"]
    assert deadline.kind == row["kind"]


@pytest.mark.parametrize(
    "text, due, kind",
    [
        ("10月投入运营", D(2026, 10, 31), "month"),
        ("4月底前开工建设", D(2026, 4, 30), "month_end"),
        ("11月底前全面完成", D(2026, 11, 30), "month_end"),
        ("2027年3月底竣工", D(2027, 3, 31), "month_end"),
        ("7月份启动", D(2026, 7, 31), "month"),
        ("年底前完成", D(2026, 12, 31), "year_end"),
        ("到2027年底前", D(2027, 12, 31), "year_end"),
        ("到2026年", D(2026, 12, 31), "year_end"),
        ("至2026年6月", D(2026, 6, 30), "month"),
        ("截至9月底", D(2026, 9, 30), "month_end"),
        ("力争6月底前", D(2026, 6, 30), "month_end"),
        ("确保10月底前建成", D(2026, 10, 31), "month_end"),
        ("于8月15日前", D(2026, 8, 15), "date"),
        ("3月15日（星期三）前", D(2026, 3, 15), "date"),
        ("3月15日(周三)前", D(2026, 3, 15), "date"),
        ("上半年", D(2026, 6, 30), "half_year"),
        ("一季度末", D(2026, 3, 31), "quarter"),
        ("三季度", D(2026, 9, 30), "quarter"),
        ("前三季度", D(2026, 9, 30), "quarter"),
        ("年中", D(2026, 6, 30), "half_year"),
        ("年内", D(2026, 12, 31), "year_end"),
        ("年内取得明显成效", D(2026, 12, 31), "year_end"),
        ("汛期前", D(2026, 5, 31), "event"),
        ("主汛期前完成", D(2026, 5, 31), "event"),
        ("春节前", D(2027, 2, 5), "event"),  # the festival that closes plan year 2026: 6 Feb 2027
        ("2026年春节前", D(2026, 2, 16), "event"),
        ("国庆节前", D(2026, 9, 30), "event"),
        ("元旦前", D(2026, 12, 31), "event"),
        ("秋季开学前", D(2026, 8, 31), "event"),
        ("今年", D(2026, 12, 31), "year_end"),
    ],
)
def test_deadline_language_as_written_elsewhere(text, due, kind):
    deadline = parse_deadline(text, 2026)
    assert (deadline.due, deadline.kind) == (due, kind)


@pytest.mark.parametrize("text", ["每月", "每季度", "每半年", "定期", "长期坚持", "持续推进", "每月25日前报送",
                                  "每年3月底前"])
def test_recurring_and_standing_work_has_no_date_and_no_error(text):
    assert parse_deadline(text, 2026).due is None


def test_several_dates_are_milestones_and_the_last_is_due():
    deadline = parse_deadline("3月底前完成方案，6月底前开工，12月底前完工", 2026)
    assert deadline.due == D(2026, 12, 31)
    assert [(s.when, s.what, s.due) for s in deadline.milestones] == [
        ("3月底前", "完成方案", D(2026, 3, 31)), ("6月底前", "开工", D(2026, 6, 30)),
        ("12月底前", "完工", D(2026, 12, 31))]
    # a year written once holds for the steps after it
    deadline = parse_deadline("2027年4月20日前完工，4月30日前试运行", 2026)
    assert [s.due for s in deadline.milestones] == [D(2027, 4, 20), D(2027, 4, 30)]
    # one date is the deadline itself, not a milestone
    assert parse_deadline("6月底前开工", 2026).milestones == ()
    # a bracketed month refines the period before it
    assert parse_deadline("第四季度（11月份）", 2026).due == D(2026, 11, 30)


def test_chinese_numerals_inside_words_are_no_dates():
    with pytest.raises(DeadlineError):
        parse_deadline("统一月底前完成", 2026)
    with pytest.raises(DeadlineError):
        parse_deadline("2011年三国文化周活动期间投入使用", 2011)


def test_spring_festival_table_covers_the_years_plans_are_written_for():
    from workbook.language.deadlines import SPRING_FESTIVAL

    assert set(range(2000, 2051)) <= set(SPRING_FESTIVAL)
    assert all(dt.date(y, m, d).month in (1, 2) for y, (m, d) in SPRING_FESTIVAL.items())
