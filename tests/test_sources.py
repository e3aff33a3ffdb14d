"""Readers of every layout, the column mapping, unit lists, and what ``duban import`` says and refuses."""

from __future__ import annotations

import docx
import openpyxl
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from workbook import schema as S
from workbook.cli import main
from workbook.findings import DubanError
from workbook.importer import import_decomposition, read_decomposition
from workbook.language.units import split_units, unit_kind

HEADER = "序号\t实事内容\t牵头单位\t责任单位\t责任领导\t进度安排"


def _tasks(path, columns=None):
    return read_decomposition(path, columns).tasks


# ---------------------------------------------------------------- tab-separated text


def test_excel_text_export_with_quoted_cells(tmp_path):
    """Excel quotes a cell holding a line break or a quote and doubles the quote inside."""
    text = ("2026年民生实事任务分解表\n" + HEADER + "\n"
            '1\t"新建“口袋公园”5个，打造""15分钟""健身圈"\t"县住建局\n县城管局"\t各街道\t张三\t"3月底前完成选址\n6月底前开工\n12月底前建成"\n'
            "2\t改造老旧小区10个\t县住建局\t\t李四\t12月底前\n")
    src = tmp_path / "民生实事.txt"
    src.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    tasks = _tasks(src)
    assert len(tasks) == 2
    assert tasks[0].text == '新建“口袋公园”5个，打造"15分钟"健身圈'
    assert [u.name for u in tasks[0].lead] == ["县住建局", "县城管局"]
    assert [u.name for u in tasks[0].support] == ["各街道"]
    assert tasks[0].leader == "张三"
    assert tasks[0].deadline_text == "3月底前完成选址\n6月底前开工\n12月底前建成"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16"])
def test_encodings_of_chinese_windows(tmp_path, encoding):
    src = tmp_path / f"分解_{encoding}.txt"
    src.write_bytes(f"{HEADER}\n1\t建成县图书馆\t县文旅局\t\t王五\t9月底前\n".encode(encoding))
    doc_tasks = _tasks(src)
    assert [t.text for t in doc_tasks] == ["建成县图书馆"]


def test_unknown_encoding_is_one_clear_error(tmp_path):
    src = tmp_path / "乱码.txt"
    src.write_bytes(bytes(range(128, 256)) * 40)
    with pytest.raises(DubanError, match="UTF-8、UTF-16（带 BOM）、GB18030"):
        read_decomposition(src)


# ---------------------------------------------------------------- .xlsx


def _xlsx(tmp_path, rows, merges=(), hidden=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for ref in merges:
        ws.merge_cells(ref)
    for r in hidden:
        ws.row_dimensions[r].hidden = True
    path = tmp_path / "分解表.xlsx"
    wb.save(path)
    return path


def test_xlsx_merged_cells_two_row_header_title_and_notes(tmp_path):
    rows = [
        ["附件2", None, None, None, None, None, None],
        ["2026年重点项目任务分解表", None, None, None, None, None, None],
        ["序号", "工程名称", "责任单位", None, "时间节点", None, None],
        [None, None, "牵头", "配合", "一季度", "二季度", "四季度"],
        ["一、交通设施", None, None, None, None, None, None],
        [1, "建设城南大道", "县交通局", "城关镇", "完成立项", "开工", "完工"],
        [2, "改造供水管网", "县水务局", "县住建局", "完成设计", None, "12月底前完工"],
        [None, None, "县城投公司", None, None, None, None],
        ["注：表中“配合”单位按职责分工负责。", None, None, None, None, None, None],
    ]
    path = _xlsx(tmp_path, rows, merges=["A1:G1", "A2:G2", "A3:A4", "B3:B4", "C3:D3", "E3:G3", "A5:G5",
                                         "A7:A8", "B7:B8"])
    dec = read_decomposition(path)
    assert dec.title == "2026年重点项目任务分解表"
    assert [t.text for t in dec.tasks] == ["建设城南大道", "改造供水管网"]
    first, second = dec.tasks
    assert first.category == "交通设施"
    assert [u.name for u in first.lead] == ["县交通局"] and [u.name for u in first.support] == ["城关镇"]
    assert first.deadline_text == "一季度：完成立项；二季度：开工；四季度：完工"
    assert [u.name for u in second.lead] == ["县水务局", "县城投公司"]  # a unit row under a merged task: kept
    assert dec.skipped["注释说明"] == 1
    (cmap,) = dec.mappings
    assert ("责任单位/牵头", S.LEAD) in cmap.describe() and ("时间节点/一季度", S.DEADLINE_TEXT) in cmap.describe()


def test_xlsx_hidden_rows_are_imported_and_reported(tmp_path):
    rows = [["序号", "工作任务", "牵头单位", "完成时限"], [1, "甲", "县发改局", "6月底"], [2, "乙", "县财政局", "9月底"]]
    path = _xlsx(tmp_path, rows, hidden=[3])
    master, report = import_decomposition(path, 2026)
    assert len(master.tasks) == 2
    (hidden,) = [f for f in report.findings if f.code == "import-hidden-row"]
    assert hidden.cell == "A3"


# ---------------------------------------------------------------- .docx


def _table(document, rows):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    return table


def test_docx_every_table_split_across_pages_and_merged_cells(tmp_path):
    document = docx.Document()
    document.add_paragraph("附件")
    document.add_paragraph("2026年政府工作报告重点工作任务分解表")
    header = ["序号", "重点工作", "分管领导", "牵头单位", "配合单位", "完成时限"]
    table = _table(document, [header, ["一、稳增长", "", "", "", "", ""],
                              ["1", "实施重点项目100个", "赵副县长", "县发改局", "各乡镇", "年底前"],
                              ["2", "新增规上企业20家", "钱副县长", "县工信局", "", "12月底前"],
                              ["", "", "", "县商务局", "", ""]])
    table.cell(1, 0).merge(table.cell(1, 5))
    table.cell(3, 0).merge(table.cell(4, 0))
    table.cell(3, 1).merge(table.cell(4, 1))
    document.add_paragraph("")  # a page break in the published file: the table goes on with its header
    _table(document, [header, ["3", "建成县体育馆", "赵副县长", "县教体局", "", "10月底前"]])
    document.add_paragraph("注：完成时限为最迟时间。")
    path = tmp_path / "分解表.docx"
    document.save(path)
    dec = read_decomposition(path)
    assert [t.text for t in dec.tasks] == ["实施重点项目100个", "新增规上企业20家", "建成县体育馆"]
    assert dec.tasks[0].category == "稳增长"
    assert [u.name for u in dec.tasks[1].lead] == ["县工信局", "县商务局"]
    assert [t.leader for t in dec.tasks] == ["赵副县长", "钱副县长", "赵副县长"]
    assert dec.skipped["重复的表头行"] == 1 and dec.skipped["注释说明"] == 1
    assert [(lead.name, lead.declared) for lead in dec.leaders] == [("赵副县长", 2), ("钱副县长", 1)]


def _numbered(document, text, level):
    paragraph = document.add_paragraph(text)
    num_pr = OxmlElement("w:numPr")
    for tag, value in (("w:ilvl", level), ("w:numId", 1)):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(value))
        num_pr.append(el)
    paragraph._p.get_or_add_pPr().append(num_pr)


def test_docx_paragraph_layout_with_word_numbering(tmp_path):
    document = docx.Document()
    document.add_paragraph("某县2026年政府工作报告重点工作任务分工方案")
    _numbered(document, "扩大有效投资", 0)  # Word shows 一、 ; the text has no number
    _numbered(document, "实施重点项目120个。", 1)
    document.add_paragraph("牵头单位：县发改局")
    document.add_paragraph("配合单位：各乡镇、县直各部门")
    document.add_paragraph("完成时限：12月底前")
    document.add_paragraph("2.盘活存量土地300亩。（牵头单位：县自然资源局；完成时限：10月底前）")
    path = tmp_path / "分工方案.docx"
    document.save(path)
    dec = read_decomposition(path)
    assert [t.text for t in dec.tasks] == ["实施重点项目120个。", "盘活存量土地300亩。"]
    assert dec.tasks[0].category == "扩大有效投资"
    assert [u.name for u in dec.tasks[0].support] == ["各乡镇", "县直各部门"]
    assert [t.deadline_text for t in dec.tasks] == ["12月底前", "10月底前"]


def test_paragraph_text_with_division_of_labour(tmp_path):
    src = tmp_path / "分工.txt"
    src.write_text("一、稳定经济增长\n"
                   "1.地区生产总值增长6%左右。（县发改局、县统计局牵头，各乡镇按职责分工负责）\n"
                   "2.新增城镇就业3000人。\n部门分工：县人社局牵头，县财政局配合。\n", encoding="utf-8")
    first, second = _tasks(src)
    assert [u.name for u in first.lead] == ["县发改局", "县统计局"] and [u.name for u in first.support] == ["各乡镇"]
    assert [u.name for u in second.lead] == ["县人社局"] and [u.name for u in second.support] == ["县财政局"]


def test_paragraph_remarks_after_the_lead_units(tmp_path):
    """``（县发改局牵头落实）`` names the lead; ``…分别牵头`` after a unit list is a note, not part of a name."""
    src = tmp_path / "分解意见.txt"
    src.write_text("一、农业农村\n1.建设高标准农田2万亩。（县农业农村局、县水利局牵头落实）\n", encoding="utf-8")
    (first,) = _tasks(src)
    assert [u.name for u in first.lead] == ["县农业农村局", "县水利局"] and not first.support
    src.write_text("1.农村居民收入增长7%。\n责任单位：县农业农村局、县人社局分别牵头\n2.粮食产量稳定。\n"
                   "责任单位：县农业农村局\n", encoding="utf-8")
    second, third = _tasks(src)
    assert [(u.name, u.note) for u in second.lead] == [("县农业农村局", ""), ("县人社局", "分别牵头")]
    assert [u.name for u in third.lead] == ["县农业农村局"]


def test_paragraph_schedule_block_gives_milestones(tmp_path):
    """A task's 进度安排 written as a block of period lines under its labels; 落实情况 below is not the plan."""
    src = tmp_path / "民生实事.txt"
    src.write_text("城区公厕改造提升工程\n牵头单位：县城管局\n配合单位：县财政局\n进度安排\n"
                   "  一季度：完成选址。\n  上半年计划：完成招标\n  第四季度工作安排：全部建成投用。\n"
                   "落实情况\n  一季度：已完成选址。\n", encoding="utf-8")
    (task,) = _tasks(src)
    assert task.deadline_text == "一季度：完成选址。；上半年：完成招标；第四季度：全部建成投用。"
    master, _ = import_decomposition(src, 2026)
    steps = master.steps_of(master.tasks[0][S.TASK_ID])
    assert [(s.when, s.due.isoformat()) for s in steps] == [
        ("一季度", "2026-03-31"), ("上半年", "2026-06-30"), ("第四季度", "2026-12-31")]


# ---------------------------------------------------------------- column mapping


def test_lead_and_responsible_columns(tmp_path):
    src = tmp_path / "表.txt"
    src.write_text("序号\t工作任务\t责任单位\t牵头单位\t完成时间\n1\t甲\t各乡镇\t县发改局\t6月底\n", encoding="utf-8")
    (task,) = _tasks(src)
    assert [u.name for u in task.lead] == ["县发改局"] and [u.name for u in task.support] == ["各乡镇"]


@pytest.mark.parametrize("task_header", ["实事内容", "工程名称", "项目名称", "主要任务", "任务内容", "民生实事",
                                         "2022年预期目标"])
def test_task_headers_of_other_places(tmp_path, task_header):
    src = tmp_path / "表.txt"
    src.write_text(f"序号\t{task_header}\t责任单位\t办结时限\n1\t建成敬老院\t县民政局\t9月底\n", encoding="utf-8")
    (task,) = _tasks(src)
    assert task.text == "建成敬老院" and [u.name for u in task.lead] == ["县民政局"] and task.deadline_text == "9月底"


def test_leader_and_support_labels_of_paragraphs(tmp_path):
    src = tmp_path / "重点工作.txt"
    src.write_text("1.新增城镇就业5000人。\n牵头负责领导：王五。\n牵头责任单位：市人社局。\n"
                   "协同责任单位：市财政局、市教育局。\n", encoding="utf-8")
    (task,) = _tasks(src)
    assert task.leader == "王五" and [u.name for u in task.lead] == ["市人社局"]
    assert [u.name for u in task.support] == ["市财政局", "市教育局"]


def test_columns_override(tmp_path):
    src = tmp_path / "表.txt"
    src.write_text("编号\t事项\t承担部门\t时间\n1\t建成敬老院\t县民政局\t9月底\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        assert _tasks(src)
    (task,) = _tasks(src, "任务=事项,牵头单位=承担部门,完成时限=时间")
    assert task.text == "建成敬老院" and [u.name for u in task.lead] == ["县民政局"] and task.deadline_text == "9月底"
    with pytest.raises(DubanError, match="台账列=原表列"):
        _tasks(src, "任务目录=事项")


# ---------------------------------------------------------------- unit lists


def test_unit_lists():
    names = lambda cell: [u.name for u in split_units(cell)]
    assert names("县教育局和县人社局；县财政局/县税务局") == ["县教育局", "县人社局", "县财政局", "县税务局"]
    assert names("市住房和城乡建设局及市文化和旅游局") == ["市住房和城乡建设局", "市文化和旅游局"]
    assert names("县发改委\n县统计局，各旗县区") == ["县发改委", "县统计局", "各旗县区"]
    (unit,) = split_units("国家统计局某调查队（提供数据、核算）")
    assert unit.name == "国家统计局某调查队" and unit.note == "提供数据、核算"
    assert [unit_kind(n) for n in ("各旗县区", "各街道", "区直各部门", "市直各有关单位")] == ["其他"] * 4


# ---------------------------------------------------------------- the command


def test_import_prints_the_mapping(tmp_path, capsys):
    src = tmp_path / "民生实事.txt"
    src.write_text("序号\t实事内容\t责任单位\t备注\t完成时间\n1\t建成敬老院\t县民政局\t\t9月底\n", encoding="utf-8")
    out = tmp_path / "总台账.xlsx"
    assert main(["import", str(src), "-o", str(out), "--year", "2026"]) == 0
    printed = capsys.readouterr().out
    assert "实事内容 → 任务目标" in printed and "责任单位 → 牵头单位" in printed and "完成时间 → 完成时限" in printed
    assert "未使用的列：备注" in printed and "已导入 1 项任务、1 个单位" in printed


def test_nothing_recognised_exits_1_and_writes_nothing(tmp_path, capsys):
    src = tmp_path / "通知.txt"
    src.write_text("关于做好工作的通知\n序号\t事项\t承担部门\n1\t建成敬老院\t县民政局\n", encoding="utf-8")
    out = tmp_path / "总台账.xlsx"
    assert main(["import", str(src), "-o", str(out), "--year", "2026"]) == 1
    printed = capsys.readouterr().out
    assert "序号｜事项｜承担部门" in printed and "--columns" in printed
    assert not out.exists()


def test_no_unit_column_exits_1(tmp_path, capsys):
    src = tmp_path / "表.txt"
    src.write_text("序号\t工作任务\t完成时限\n1\t建成敬老院\t9月底\n", encoding="utf-8")
    out = tmp_path / "总台账.xlsx"
    assert main(["import", str(src), "-o", str(out), "--year", "2026"]) == 1
    assert "没有牵头单位或责任单位列" in capsys.readouterr().out and not out.exists()
