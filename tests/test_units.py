from workbook.language.quantities import extract_target
from workbook.language.units import (
    UnitDirectory,
    normalise_unit,
    split_units,
    unit_kind,
    unit_list,
)


def test_split_shares_the_suffix_written_once():
    assert [u.name for u in split_units("土左旗、托县政府")] == ["土左旗政府", "托县政府"]


def test_a_collective_of_levels_stays_one_name():
    """各县、市、区政府 is the governments of every county, city and district: not 各县政府 + 市政府 + 区政府."""
    assert [u.name for u in split_units("市经信局、滁州海关等,各县、市、区政府")] == [
        "市经信局", "滁州海关", "各县、市、区政府"]
    assert unit_list("市经信局、各县、市、区政府") == ["市经信局", "各县、市、区政府"]


def test_a_name_wrapped_down_a_narrow_cell_is_one_name():
    assert [u.name for u in split_units("市政\n府办\n公厅")] == ["市政府办公厅"]
    assert [u.name for u in split_units("长沙\n先导\n区管委会")] == ["长沙先导区管委会"]
    assert [u.name for u in split_units("县教科局\n县财政局")] == ["县教科局", "县财政局"]
    assert [u.name for u in split_units("经开区\n高新园(邹区镇)\n各街道")] == ["经开区", "高新园", "各街道"]


def test_a_master_cell_splits_outside_brackets():
    assert unit_list("各县（市、区）政府、市发改委") == ["各县（市、区）政府", "市发改委"]
    assert unit_list("市发改委，市财政局") == ["市发改委", "市财政局"]


def test_note_moves_out_of_the_name():
    (unit,) = split_units("国家统计局呼和浩特调查队（提供数据）")
    assert unit.name == "国家统计局呼和浩特调查队" and unit.note == "提供数据"


def test_spaces_and_full_width_are_normalised():
    assert normalise_unit("呼和浩特 职业技术大学") == "呼和浩特职业技术大学"
    assert normalise_unit("市发改委\u3000") == "市发改委"
    assert normalise_unit("ＡＢＣ局") == "ABC局"


def test_kinds():
    assert unit_kind("市发改委") == "市直部门"
    assert unit_kind("新城区政府") == "旗县区"
    assert unit_kind("和林格尔新区") == "开发区"
    assert unit_kind("呼和浩特供电公司") == "其他"


def test_directory_resolves_aliases_and_suggests():
    d = UnitDirectory()
    d.add("市发改委")
    d.add("土左旗政府", "土左旗")
    assert d.canonical("土左旗") == "土左旗政府"
    assert d.canonical("市发改委 ") == "市发改委"
    assert d.closest("市发改局") == "市发改委"


def test_target_expressions():
    assert extract_target("固定资产投资增长8%以上") == "8%以上"
    assert extract_target("进出口额超过280亿元，增长10%以上") == "超过280亿元，10%以上"
    assert extract_target("全体居民人均可支配收入与经济增长基本同步") == "与经济增长基本同步"
    assert extract_target("实施重点项目1300个以上，年度计划投资1700亿元以上") == "1300个以上，1700亿元以上"
    assert extract_target("地区生产总值增长5.5%左右") == "5.5%左右"


def test_a_space_separates_units_only_after_an_organisations_ending():
    # 吉水 (江西) publishes its 责任单位 column as `县教体局 各相关乡镇政府`
    assert [u.name for u in split_units("县教体局 各相关乡镇政府")] == ["县教体局", "各相关乡镇政府"]
    assert [u.name for u in split_units("县发改委　县财政局")] == ["县发改委", "县财政局"]
    # a stray space inside one name, after a place name
    assert [u.name for u in split_units("呼和浩特 职业技术大学")] == ["呼和浩特职业技术大学"]
    assert [u.name for u in split_units("长沙市 发改委")] == ["长沙市发改委"]
