"""Rebuild the Word and Excel sources of the corpus from the cell texts of the stored pages.

The stored copies of these pages are text (an HTML table, or a document-sharing
site's text of a .docx). The publisher's attachment was a Word or Excel file, so
each is rebuilt here with python-docx / openpyxl: the exact cell texts in the
published order, merged cells where the stored text shows a cell spanning rows,
a cell's several lines as paragraphs. README.md says what was inferred for each.

    python tests/data/places/build_sources.py      # rewrites the .docx/.xlsx files
"""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from openpyxl.styles import Alignment

HERE = Path(__file__).resolve().parent


def _paragraphs(document: docx.document.Document, lines: list[str]) -> None:
    for line in lines:
        document.add_paragraph(line)


def _table(document: docx.document.Document, rows: list[list[str | None]], repeat_header: bool = False,
           merges: list[tuple[int, int, int, int]] = ()) -> None:
    """A table; ``None`` marks a cell covered by a merge, ``merges`` are (row0, col0, row1, col1)."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text:
                lines = text.split("\n")
                cell = table.cell(r, c)
                cell.text = lines[0]
                for line in lines[1:]:
                    cell.add_paragraph(line)
    for r0, c0, r1, c1 in merges:
        table.cell(r0, c0).merge(table.cell(r1, c1))
    if repeat_header:  # Word's "重复标题行": the header row repeats on every page
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        header = OxmlElement("w:tblHeader")
        header.set(qn("w:val"), "true")
        tr_pr.append(header)


def dazhu() -> None:
    document = docx.Document()
    _paragraphs(document, [
        "大竹县人民政府办公室关于对2016年民生实事进行重点督办的通知",
        "竹府办〔2016〕20号",
        "各乡镇人民政府、街道办事处,县级各部门:",
        ("为让人民群众生活得更有保障、更加幸福,根据《2016年政府工作报告》安排部署,现将2016年“民生实事”目标任务分解下达。"
        "请各责任领导、责任单位认真研究、强化责任、细化措施,确保全年目标任务顺利完成。县政府督查室将常年跟踪,适时开展督查。"
        "请各责任单位于每季度末月20日前将“民生实事”完成情况书面报县政府督查室420室(联系电话:6239325)。"),
        "附件:2016年民生实事目标任务分解表",
        "大竹县人民政府办公室",
        "2016年2月26日",
        "附件",
        "2016年民生实事目标任务分解表",
    ])
    rows = [
        ["序号", "民生实事", "责任单位", "完成时限"],
        ["1", "启动建设东柳河城区段综合治理工程和东湖湿地公园。", "县水务局\n县住建局\n县护城河指挥部", "12月底前"],
        ["2", "新建2座人行天桥。", "县住建局", "9月投入使用"],
        ["3", "启动县图书馆新馆建设。", "县文体广新局\n县代建中心", "12月底前"],
        ["4", "建成县残疾人综合服务中心。", "县残联", "5月底前动工"],
        ["5", "开工建设县老年养护楼。", "县民政局", "5月底前动工"],
        [None, "开工建设老年大学。", None, "12月底前"],
        ["6", "迁建县政务服务中心。", "县政务服务中心\n县代建中心", "12月底前"],
        ["7", "加快推进土地滩水库建设。", "县水务局", "12月底前"],
        ["8", "启动大竹县第十二小学建设,新建中心幼儿园2所。", "县教科局\n县代建中心", "12月底前"],
        ["9", "完成棚户区改造2836户。", "县住建局", "12月底前"],
        ["10", "城区再新建1个农贸市场。", "县商务局", "12月底前"],
    ]
    _table(document, rows, merges=[(5, 0, 6, 0), (5, 2, 6, 2)])
    document.save(HERE / "sichuan-dazhu-2016" / "2016年民生实事目标任务分解表.docx")


def guangdong_province() -> None:
    document = docx.Document()
    _paragraphs(document, [
        "广东省人民政府关于印发2021年省《政府工作报告》重点任务分工方案的通知",
        "粤府〔2021〕22号",
        "各地级以上市人民政府,省政府各部门、各直属机构:",
        ("《2021年省〈政府工作报告〉重点任务分工方案》已经省政府全体会议审议通过,现印发给你们,请认真贯彻执行。"
        "执行过程中遇到的问题,请径向省政府办公厅反映。"),
        "广东省人民政府",
        "2021年3月21日",
        "2021年省《政府工作报告》重点任务分工方案",
        ("为贯彻落实全国两会精神,全面落实省第十三届人民代表大会第四次会议通过的省《政府工作报告》部署,做好今年全省政府工作,"
        "努力实现经济社会发展目标任务,现将2021年省《政府工作报告》确定的主要预期目标和十大重点工作任务,对应分解为出台政策文件、"
        "制定工作方案、组织重大活动、召开部署推进会议等具体举措,并逐项明确分管省领导和部门分工。"),
        "一、2021年经济社会发展主要预期目标",
        "1.地区生产总值增长6%以上。",
        "分管省领导:林克庆",
        "部门分工:省发展改革委牵头,各地、各部门配合。",
        "2.地方一般公共预算收入增长5%左右。",
        "分管省领导:林克庆",
        "部门分工:省财政厅牵头,各地、各部门配合。",
        "3.固定资产投资增长8%左右。",
        "分管省领导:林克庆",
        "部门分工:省发展改革委牵头,各地、各部门配合。",
        "4.社会消费品零售总额增长6%以上。",
        "分管省领导:张新",
        "部门分工:省商务厅牵头,各地、各部门配合。",
    ])
    document.save(HERE / "guangdong-province-2021" / "2021年省政府工作报告重点任务分工方案.docx")


def guangzhou() -> None:
    document = docx.Document()
    _paragraphs(document, [
        "广州市人民政府关于印发2021年市政府工作报告部署工作责任分工的通知",
        "穗府〔2021〕3号",
        "各区人民政府,市政府各部门、各直属机构:",
        ("《2021年市政府工作报告部署工作责任分工》已经市政府第15届134次常务会议审议通过,现印发给你们。"
        "全市各级各部门要以习近平新时代中国特色社会主义思想为指导,立足新发展阶段,贯彻新发展理念,服务构建新发展格局,"
        "坚持稳中求进工作总基调,以推动高质量发展为主题,以深化供给侧结构性改革为主线,以改革创新为根本动力,"
        "以满足人民日益增长的美好生活需要为根本目的,强化使命担当,不折不扣落实市政府工作报告部署工作各项任务。"
        "按照工作分工,抓紧制订实施方案,细化任务目标、工作措施、完成时限和各层级责任人,以钉钉子精神狠抓工作落实,"
        "努力在全面建设社会主义现代化国家新征程上迈出坚实步伐、实现良好开局。"),
        "广州市人民政府",
        "2021年2月23日",
        "2021年市政府工作报告部署工作责任分工",
    ])
    rows = [
        ["序号", "重点工作", "市政府\n分管领导", "牵头单位", "配合单位", "备注"],
        ["", "强化科技创新支撑能力。", "", "", "", ""],
        ["(一)", "加强战略科技力量建设。", "", "", "", ""],
        ["1", "加快建设以中新知识城、南沙科学城为极点,链接全市域科技创新关键节点的科技创新轴。", "王 东", "市科技局",
         "黄埔区、南沙区政府", ""],
        ["2", "全力做好呼吸领域国家实验室筹建保障服务工作。", "王 东", "市科技局",
         "市政府办公厅、市发展改革委、市财政局、市卫生健康委,荔湾区、黄埔区政府", ""],
    ]
    _table(document, rows, repeat_header=True)
    document.save(HERE / "guangdong-guangzhou-2021" / "2021年市政府工作报告部署工作责任分工.docx")


def zhonglou() -> None:
    document = docx.Document()
    _paragraphs(document, ["2021年重大民生实事项目目标任务责任分解表"])
    header = ["序号", "项目名称", "主要内容", "区政府分管领导", "牵头单位", "配合单位"]
    rows = [
        header,
        ["1", "增加教育资源供给",
         ("实施新建、改扩建学校重点建设项目12个,计划竣工3个,其中幼儿园7个、小学4个、初中1个;增加学位5000个,"
         "其中幼儿园420个,中小学4580个。"), "何海平", "教育局", "经开区\n高新园(邹区镇)\n各街道\n市国有公司"],
        ["2", "促进就业稳定增长",
         ("落实就业优先战略。全区城镇新增就业15000人,失业人员再就业5800人,新增参保大学生5400人,城乡“零就业家庭”动态清零,"
         "城镇登记失业率控制在3%以内;支持成功自主创业2000人,支持大学生创业240人;开展职业技能补贴培训10000人次。"),
         "何海平", "人社局", "高新园(邹区镇)\n各街道"],
        ["3", "老城厢复兴发展", "完成瞿秋白纪念馆整体提升工程对外开放,完成常州盛宣怀故居(本体)修缮展陈。", "何海平", "文体旅局",
         "晋陵公司\n轨道公司"],
        [None, None, "推进大庙弄核心区改造、瞿秋白纪念馆周边立面整治及三堡街、西横街、民元里、邮电路、北大街等老城厢道路整治。",
         "芮春祥", "住建局", "五星街道\n南大街街道\n荷花池街道"],
        ["4", "优化养老服务", "为全区23000名老年人提供居家上门服务。", "张菁", "民政局", "高新园(邹区镇)\n各街道"],
        [None, None, "提升改造8家城乡社区居家养老服务中心(站)。", None, None, None],
        [None, None, "对300户困难老人家庭进行居家适老化改造。", None, None, None],
        [None, None, "提升康复辅具社区租赁服务点建设水平,为IO(X)人提供康复辅具社区租赁服务。", None, None, None],
        header,  # page 2 begins with the header again; the stored copy ends in item 5
    ]
    merges = [(3, 0, 4, 0), (3, 1, 4, 1), (5, 0, 8, 0), (5, 1, 8, 1), (5, 3, 8, 3), (5, 4, 8, 4), (5, 5, 8, 5)]
    _table(document, rows, merges=merges)
    document.save(HERE / "jiangsu-zhonglou-2021" / "2021年重大民生实事项目目标任务责任分解表.docx")


def keqiao() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    rows = [
        ["2023年度省政府民生实事涉我区工作任务一季度进展情况", None, None, None, None, None],
        ["序号", "工作任务", "责任单位", "一季度目标", "进展情况、存在问题及下一步打算", "目标完成情况"],
        [1, "新改扩建公办中小学校1所", "教体局", "室内安装、装修及场外施工",
         ("进展情况:轻纺城第二小学(柯东小学)新建工程室内装修及安装工程完成80%,场外工程完成70%。 "
         "下步打算:场外工程增加施工人员,在确保施工质量和安全的前提下,加快场外工程进度。"), "顺利推进"],
        [None, "新增学位810个", None, None, None, None],
        [2, "完成“县中崛起”一对一结对帮扶学校2所", "教体局", "互派人员到位,集体备课,集中教研,专家入校指导",
         ("进展情况:3月10日,柯桥中学管理教学团队赴江山中学,就学校管理机制、课程规划、教师考核、尖子生培养等问题进行了深入地交流探讨,"
         "并结合新教材、新高考,9个学科组教师认真开展交流探讨,研究新高考,研究新教材,共同为教学提升赋能,"
         "此行柯桥中学特级教师吴建锋老师受聘江山中学副校长。 3月23日,平阳县鳌江中学骨干教师赴鲁迅中学,"
         "以“聚焦新课程,实践新课标”为主题,参观校园并听取鲁中校长主讲的“尖优生培养”策略报告,高三备课组长座谈交流,"
         "一同聆听西湖大学校长施一公的科技讲座,两校教师就高三学生课时安排、高三复习策略、教学过程中存在的重难点问题等进行深度交流,"
         "鲁迅中学副校长陶成永受聘为鳌江中学副校长。 下步打算:双方继续按既定方案开展研讨交流,促进共同提高。"), "顺利推进"],
        [3, "符合条件的义务教育段随迁子女在家长常住地100%保障入学", "教体局", "公布随迁子女入(转)学政策",
         "进展情况:3月26日已公布随迁子女入(转)学政策。", "顺利推进"],
    ]
    for row in rows:
        ws.append(row)
    ws.merge_cells("A1:F1")
    for col in "ACDEF":
        ws.merge_cells(f"{col}3:{col}4")
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    for col, width in zip("ABCDEF", (6, 30, 10, 24, 60, 12)):
        ws.column_dimensions[col].width = width
    wb.save(HERE / "zhejiang-keqiao-2023" / "2023年度省政府民生实事涉我区工作任务一季度进展情况.xlsx")


if __name__ == "__main__":
    dazhu()
    guangdong_province()
    guangzhou()
    zhonglou()
    keqiao()
