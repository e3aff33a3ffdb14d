"""``duban demo``: every step on the bundled Hohhot 2026 sample."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from openpyxl import load_workbook

from . import form as F
from . import schema as S
from .checks import check_master
from .collect import collect
from .feedback import write_findings_workbook, write_marked_copy
from .filling import fill_unit_file
from .findings import DubanError
from .fixes import fix_master
from .importer import import_to_file
from .master import read_master
from .report import report_from_file
from .split import split_master, write_unit_workbooks
from .word.notices import notices_from_file

SAMPLE_SOURCE = "2026年重点工作任务分解方案.txt"
SAMPLE_YEAR = 2026
SAMPLE_PERIOD = "2026-06"


def sample_dir() -> Path:
    for base in (Path(__file__).resolve().parents[1], Path.cwd()):
        candidate = base / "samples" / "hohhot-2026"
        if (candidate / SAMPLE_SOURCE).is_file():
            return candidate
    raise DubanError("找不到自带样例 samples/hohhot-2026：请在源码目录中运行，或用 pip install -e . 安装")


def break_files(inbox: Path, master_path: Path, as_of: dt.date) -> dict[str, str]:
    """Make the mistakes units make every month; return file name → what was done."""
    done: dict[str, str] = {}

    def edit(unit: str, what: str, change) -> None:
        path = inbox / f"{unit}_2026年6月.xlsx"
        wb = load_workbook(path)
        change(wb[F.FORM])
        wb.save(path)
        done[path.name] = what

    edit("市财政局", "手工输入状态“完成”", lambda ws: ws.__setitem__("F4", "完成"))
    edit("市民政局", "删除了一行任务", lambda ws: ws.delete_rows(5))
    edit("市教育局", "粘贴了公式", lambda ws: ws.__setitem__("I4", "=HYPERLINK(\"http://x\",\"详见附件\")"))
    edit("市水务局", "合并了单元格", lambda ws: ws.merge_cells("I4:J4"))
    edit("市林草局", "进度写成文本“80%”（仅警告）", lambda ws: (ws.__setitem__("G4", "80%"),
                                                        ws.__setitem__("F4", S.STATUS_ON_TRACK)))
    xls = inbox / "市司法局_2026年6月.xls"
    (inbox / "市司法局_2026年6月.xlsx").rename(xls)
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048)
    done[xls.name] = "另存为 .xls"
    old = read_master(master_path)
    _, forms = write_unit_workbooks(old, inbox, ["市公安局"], "2026-05", force=True)
    (inbox / "市公安局_2026年6月.xlsx").unlink()
    done["市公安局_2026年5月.xlsx"] = "发来了上个月的文件"
    shutil.copy(inbox / "市人社局_2026年6月.xlsx", inbox / "市人社局_2026年6月（修改版）.xlsx")
    fill_unit_file(inbox / "市人社局_2026年6月（修改版）.xlsx", as_of, seed=99,
                   report_date=as_of + dt.timedelta(days=1))
    done["市人社局_2026年6月（修改版）.xlsx"] = "同一期又发来一份更新的文件"
    return done


def adjust_master(master_path: Path) -> None:
    """What an office does in Excel after the workbooks went out: extend, move, add."""
    wb = load_workbook(master_path)
    ws = wb[S.TASKS]
    header = [c.value for c in ws[1]]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["2026-010"], header.index(S.DEADLINE_TEXT) + 1).value = "9月底"
    ws.cell(rows["2026-012"], header.index(S.LEAD) + 1).value = "市住建局"
    new = ws.max_row + 1
    for column, value in ((S.CATEGORY, S.CATEGORY_OTHER), (S.TEXT, "建成城市运行管理服务平台"), (S.LEAD, "市财政局"),
                          (S.LEADER, "刘继英副市长"), (S.DEADLINE_TEXT, "3月底前完成方案，9月底前上线")):
        ws.cell(new, header.index(column) + 1).value = value
    wb.save(master_path)


def run_demo(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    source = sample_dir() / SAMPLE_SOURCE
    master_path = out / "总台账.xlsx"
    units_dir = out / "单位填报表"
    inbox = out / "报送文件"
    checked_dir = out / "校验结果"
    notices_dir = out / "督办通知单_2026年6月"
    again_dir = out / "单位填报表_第2版"
    for folder in (units_dir, inbox, checked_dir, notices_dir, again_dir, out / "总台账_归档", out / "总台账_备份"):
        shutil.rmtree(folder, ignore_errors=True)

    print(f"1. 导入分解方案：{source.name}")
    master, report = import_to_file(source, master_path, SAMPLE_YEAR, SAMPLE_PERIOD, force=True)
    print(f"   {len(master.tasks)} 项任务，{len(master.units)} 个单位，{len(master.leaders)} 位分管领导 → {master_path}")
    for f in report.findings:
        print(f"   {f}")

    print("2. 校验台账")
    counts = check_master(read_master(master_path)).counts()
    print(f"   错误 {counts['error']} 项，警告 {counts['warning']} 项")

    print("3. 生成单位填报工作簿（并在台账内生成每个单位一张表）")
    split = split_master(master_path, units_dir, force=True, in_master=True)
    print(f"   {len(split.files)} 个单位 → {units_dir}")

    as_of = read_master(master_path).settings.as_of
    print("4. 模拟各单位填报（其中几份犯了常见错误）")
    shutil.copytree(units_dir, inbox)
    for i, path in enumerate(sorted(inbox.glob("*.xlsx"))):
        fill_unit_file(path, as_of, seed=i, report_date=as_of - dt.timedelta(days=5))
    for name, what in break_files(inbox, master_path, as_of).items():
        print(f"   {name}：{what}")

    print("5. 校验并汇总报送文件")
    result = collect([inbox], master_path)
    batch = result.batch
    checked_dir.mkdir()
    write_findings_workbook(batch, checked_dir / "校验结果.xlsx")
    for sub in batch.submissions:
        if not sub.valid:
            write_marked_copy(sub, checked_dir)
            print(f"   退回 {sub.file}：" + "；".join(f.message for f in sub.findings if f.severity == "error")[:120])
    st = batch.stats()
    print(f"   {st['files']} 个文件：通过 {st['valid']}，退回 {st['with_errors']}，未采用（有更新文件）{st['superseded']}")
    print(f"   已汇总 {len(result.accepted)} 个文件进台账；催报名单：{'、'.join(result.missing_units) or '无'}")

    print("6. 年中调整任务（督查室在台账中延期一项、调整一项的牵头单位、新增一项，duban check --fix 记录）")
    adjust_master(master_path)
    plan, _ = fix_master(master_path)
    for c in plan.changes:
        print(f"   {c.task_id} {c.describe()}")
    again = split_master(master_path, again_dir, changed=True)
    print(f"   只为任务有调整的单位重新下发第2版：{'、'.join(p.name for p in again.files.values())}")
    for i, path in enumerate(again.files.values()):
        fill_unit_file(path, as_of, seed=100 + i, report_date=as_of - dt.timedelta(days=2))
    result = collect([again_dir], master_path)
    print(f"   第2版报送 {len(result.batch.submissions)} 份，通过 {result.batch.stats()['valid']} 份，已汇总")

    print("7. 生成月度督查通报")
    report_path = out / "督查通报_2026年6月.xlsx"
    tables = report_from_file(master_path, report_path, force=True)
    overview = dict((row[0], row[1]) for row in tables["总体情况"].rows)
    print(f"   到期完成率 {overview['到期完成率']:.2%}，总体完成率 {overview['总体完成率']:.2%}，"
          f"逾期 {overview['逾期任务']} 项，红灯 {overview['红灯']} 项 → {report_path.name}")

    print("8. 生成 Word 督查通报（GB/T 9704 公文格式）")
    word_path = out / "督查通报_2026年6月.docx"
    report_from_file(master_path, word_path, force=True)
    print(f"   {word_path.name}（正文 + 附件：逾期及红灯任务清单）")

    print("9. 为有红灯或逾期任务的单位生成督办通知单")
    notices = notices_from_file(master_path, notices_dir)
    if notices.notices:
        print(f"   {len(notices.notices)} 份（{notices.notices[0].code}至{notices.notices[-1].code}），"
              f"编号记入台账“{S.NOTICES}”表 → {notices_dir.name}/")

    print(f"\n演示输出目录：{out.resolve()}")
    print(f"  总台账.xlsx          工作表：{S.TASKS}、{S.MILESTONES}、{S.LEADERS}、{S.UNITS}、{S.SETTINGS}、{S.HISTORY}、{S.CHANGES}、{S.NOTICES} 及每个单位一张表")
    print(f"  {units_dir.name}/      每个单位一个下发的 .xlsx")
    print(f"  {again_dir.name}/  任务有调整的单位的第2版")
    print(f"  {inbox.name}/        模拟的报送文件（含错误）")
    print(f"  {checked_dir.name}/        校验结果.xlsx 和退回文件（问题单元格已标注）")
    print(f"  {report_path.name}  月度督查通报（工作簿）")
    print(f"  {word_path.name}  月度督查通报（Word 公文）")
    print(f"  {notices_dir.name}/  每个红灯单位一份督办通知单")
    return 0
