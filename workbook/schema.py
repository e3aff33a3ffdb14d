"""Names of the master workbook's sheets, columns and settings.

These names are a contract: unit workbooks, the Excel plugin, the tests and the
users' own formulas rely on them. Change them only with a schema version bump.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# Sheets of the master workbook (总台账).
TASKS = "任务分解"
LEADERS = "分管领导"
UNITS = "单位"
SETTINGS = "设置"
HISTORY = "进展记录"
ISSUED = "发放记录"
MILESTONES = "时间节点"
NOTICES = "督办记录"
CHANGES = "调整记录"  # visible: the change log of the decomposition (staff fill 批复文号 and 备注)
STATE = "台账状态"  # hidden: the decomposition as last recorded, to see what changed since
ISSUED_CONTENT = "发放内容"  # hidden: the locked cells of every unit workbook issued this period
MASTER_SHEETS = (TASKS, LEADERS, UNITS, SETTINGS, HISTORY, ISSUED, MILESTONES, NOTICES, CHANGES, STATE, ISSUED_CONTENT)

# Columns of 任务分解, in order. The first block comes from the published
# decomposition, the second is tracking filled by collection.
TASK_ID = "任务编号"
SERIAL = "序号"
CATEGORY = "类别"
TEXT = "任务目标"
LEAD = "牵头单位"
SUPPORT = "配合单位"
LEADER = "分管领导"
DEADLINE_TEXT = "完成时限"
DUE = "截止日期"
TARGET = "指标目标"
STATUS = "完成状态"
PROGRESS = "完成进度(%)"
ACTUAL = "实际完成值"
RATE = "完成率"
NARRATIVE = "进展情况"
PROBLEMS = "存在问题"
NEXT_STEPS = "下步计划"
LAST_PERIOD = "最近填报期"
UPDATED = "更新时间"
NOTE = "备注"
SCHEDULE = "序时进度(%)"
LIGHT = "灯"

TASK_COLUMNS = [
    TASK_ID, SERIAL, CATEGORY, TEXT, LEAD, SUPPORT, LEADER, DEADLINE_TEXT, DUE, TARGET,
    STATUS, PROGRESS, ACTUAL, RATE, NARRATIVE, PROBLEMS, NEXT_STEPS, LAST_PERIOD, UPDATED,
    NOTE, SCHEDULE, LIGHT,
]
TRACKING_COLUMNS = [
    STATUS, PROGRESS, ACTUAL, RATE, NARRATIVE, PROBLEMS, NEXT_STEPS, LAST_PERIOD, UPDATED,
]

CATEGORY_MAIN = "主要预期目标"
CATEGORY_OTHER = "其他经济社会发展任务"

# 分管领导
LEADER_NAME = "分管领导"
LEADER_DECLARED = "申报任务数"
LEADER_DECLARED_MAIN = "其中主要预期目标"
LEADER_ACTUAL = "实际任务数"
LEADER_DIFF = "差异"
LEADER_COLUMNS = [LEADER_NAME, LEADER_DECLARED, LEADER_DECLARED_MAIN, LEADER_ACTUAL, LEADER_DIFF]

# 单位
UNIT_NAME = "单位名称"
UNIT_ALIASES = "别名"
UNIT_KIND = "类型"
UNIT_COLUMNS = [UNIT_NAME, UNIT_ALIASES, UNIT_KIND]
UNIT_KINDS = ("市直部门", "旗县区", "开发区", "其他")

# 时间节点: a task's dated steps, one row per step (filled at import from a 完成时限 that
# names several dates; staff may edit them). 节点进度(%) is the task progress the step
# stands for (default: equal shares); 序时进度 and the light follow these steps.
MS_SERIAL = SERIAL  # 1, 2, … within the task
MS_CONTENT = "节点内容"
MS_SHARE = "节点进度(%)"
MILESTONE_COLUMNS = [TASK_ID, MS_SERIAL, MS_CONTENT, DEADLINE_TEXT, DUE, MS_SHARE]
NEXT_MILESTONE = "下一节点"  # shown (locked) in the unit form

# 设置: a two-column key/value sheet, looked up by key so rows may move.
SETTING_KEY = "项目"
SETTING_VALUE = "值"
S_TITLE = "方案名称"
S_HEAD = "总负责人"
S_YEAR = "计划年度"
S_PERIOD = "当前填报期"
S_AS_OF = "截至日期"
S_REPORT_DAY = "每月报送日"
S_STATUSES = "状态词表"
S_LAG_RED = "红灯落后阈值(百分点)"
S_DUE_SOON = "临期天数"
S_MASTER_ID = "台账编号"
S_SCHEMA = "架构版本"
S_BACKUP_KEEP = "备份保留份数"  # newest backups kept in <master>_备份/ (0: keep all)
S_BACKUP_MONTHS = "备份按月保留月数"  # and the last backup of each of these months
S_ISSUER = "发文机关"  # 落款 of the 通报 and the 督办通知单
S_ADDRESSEES = "主送机关"  # the 通报's addressees; blank: named from the kinds of units
S_NEXT_STEPS = "下步工作要求"  # the 通报's closing section, one paragraph a line
S_REPLY_DAYS = "督办反馈工作日"  # working days a unit has to answer a 督办通知单

STATUS_DONE = "已完成"
STATUS_ON_TRACK = "序时推进"
STATUS_BEHIND = "滞后"
STATUS_NOT_STARTED = "未启动"
STATUSES = (STATUS_DONE, STATUS_ON_TRACK, STATUS_BEHIND, STATUS_NOT_STARTED)
# Set by the office, never by a unit: the task is cancelled (its row stays, the reason goes in 备注).
# A cancelled task drops out of unit workbooks, rates, lights and the 未报送 count.
STATUS_CANCELLED = "已撤销"

DEFAULT_LAG_RED = 20
DEFAULT_DUE_SOON = 15
DEFAULT_REPORT_DAY = 25
DEFAULT_BACKUP_KEEP = 30
DEFAULT_BACKUP_MONTHS = 12
DEFAULT_ISSUER = "市人民政府督查室"
DEFAULT_REPLY_DAYS = 5

# 进展记录: the append-only history of accepted submissions.
HISTORY_COLUMNS = [
    "填报期", "单位", TASK_ID, STATUS, PROGRESS, ACTUAL, NARRATIVE, PROBLEMS, NEXT_STEPS,
    "填报人", "联系电话", "填报日期", "来源文件", "文件SHA256", "接收时间",
    "发放版本",  # which issue of the period the file was (1, 2, …): a newer version's answer wins
]

# 发放记录: what was issued to each unit, so collection can check returned files
# against the master's own copy of the digest.
ISSUED_COLUMNS = ["填报期", "单位", "摘要SHA256", "任务编号列表", "发放时间", "文件名"]

# 督办记录: every 督办通知单 number issued, so a number is never given twice.
NOTICE_COLUMNS = ["督办编号", "年度", "序号", "单位", "任务编号列表", "截至日期", "反馈期限", "生成时间", "文件名"]

# 发放内容: the locked cells of each issued workbook, for the current period only, so a returned
# file whose digest no longer matches can be compared cell by cell with what was issued. One row
# per issued digest: 锁定内容 is the JSON of the locked rows exactly as the digest covers them
# (form.locked_payload; split into parts of at most ISSUED_CONTENT_PART characters, 分段 1, 2, …),
# so the record can be checked against the digest 发放记录 holds.
ISSUED_CONTENT_COLUMNS = ["填报期", "单位", "摘要SHA256", "分段", "锁定内容"]
ISSUED_CONTENT_PART = 30000  # characters a cell holds (Excel's limit is 32,767)

# 台账状态: each task's decomposition columns as last recorded (by duban check --fix, or when
# unit workbooks are issued). A task is never removed from it, so a deleted row is seen and a
# task ID is never given twice. 完成状态 holds only 已撤销.
STATE_COLUMNS = [TASK_ID, TEXT, LEAD, SUPPORT, LEADER, DEADLINE_TEXT, TARGET, STATUS, NOTE]

# 调整记录: one row per change, written by duban (时间 … 新内容), 批复文号 and 备注 filled by staff.
CH_TIME = "时间"
CH_PERIOD = "填报期"  # the reporting period during which the change was made (for the bulletin)
CH_KIND = "调整类型"
CH_OLD = "原内容"
CH_NEW = "新内容"
CH_APPROVAL = "批复文号"
CHANGE_COLUMNS = [CH_TIME, CH_PERIOD, TASK_ID, CH_KIND, CH_OLD, CH_NEW, CH_APPROVAL, NOTE]
KIND_ADDED = "新增"
KIND_REVISED = "内容修订"
KIND_EXTENDED = "延期"
KIND_RESCHEDULED = "调整时限"  # 完成时限 changed without a later date (earlier, or only reworded)
KIND_LEAD = "调整牵头单位"
KIND_SUPPORT = "调整配合单位"
KIND_LEADER = "调整分管领导"
KIND_CANCELLED = "撤销"
KIND_RESTORED = "恢复"  # 已撤销 taken back
CHANGE_KINDS = (KIND_ADDED, KIND_REVISED, KIND_EXTENDED, KIND_RESCHEDULED, KIND_LEAD, KIND_SUPPORT, KIND_LEADER,
                KIND_CANCELLED, KIND_RESTORED)


# The columns duban writes in each sheet, in order (a sheet is read and written by its header row).
SHEET_COLUMNS = {
    TASKS: TASK_COLUMNS, MILESTONES: MILESTONE_COLUMNS, LEADERS: LEADER_COLUMNS, UNITS: UNIT_COLUMNS,
    SETTINGS: [SETTING_KEY, SETTING_VALUE], HISTORY: HISTORY_COLUMNS, ISSUED: ISSUED_COLUMNS,
    NOTICES: NOTICE_COLUMNS, CHANGES: CHANGE_COLUMNS, STATE: STATE_COLUMNS, ISSUED_CONTENT: ISSUED_CONTENT_COLUMNS,
}


def task_id(year: int, serial: int) -> str:
    return f"{year}-{serial:03d}"
