import datetime as dt

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
