"""The ``duban`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from . import require_safe_xml
from .findings import DubanError, Report

if TYPE_CHECKING:
    from .fixes import FixPlan
    from .sources.decomposition import Decomposition
    from .validate import Batch


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on bad arguments: keep that, in one line
        raise DubanError(f"参数错误：{message}")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DubanError(f"日期“{text}”格式不对，应为 YYYY-MM-DD") from None


def _emit(report: Report, as_json: bool, title: str = "") -> int:
    if as_json:
        print(report.to_json())
    else:
        if title:
            print(title)
        print(report.to_table())
    return 0 if report.valid else 1


def cmd_import(args: argparse.Namespace) -> int:
    from .importer import import_file

    result = import_file(Path(args.source), Path(args.output), args.year, args.period, args.as_of,
                         force=args.force, columns=args.columns, wait=args.wait)
    if not args.json:
        _print_mapping(result.decomposition)
    if not result.written:
        _emit(result.report, args.json, f"未生成台账：{args.source} 中没有可导入的任务")
        return 1
    master = result.master
    title = f"已导入 {len(master.tasks)} 项任务、{len(master.units)} 个单位、{len(master.leaders)} 位分管领导 → {args.output}"
    _emit(result.report, args.json, title)
    return 0


def _print_mapping(dec: "Decomposition") -> None:
    """Which source column went to which master column, and what was skipped: what import saw."""
    print(f"读取 {dec.source}（{dec.layout}）")
    for cmap in dec.mappings:
        rows = "、".join(str(cmap.table.rows[i].number) for i in cmap.header_rows)
        print(f"{cmap.table.name}第{rows}行的表头：")
        for source, column in cmap.describe():
            print(f"  {source} → {column}")
        if cmap.skipped:
            print(f"  未使用的列：{'、'.join(cmap.skipped)}")
    if dec.skipped:
        print("已跳过：" + "；".join(f"{what} {n} 行" for what, n in dec.skipped.items()))


def cmd_check(args: argparse.Namespace) -> int:
    from .checks import check_master
    from .fixes import fix_master, plan_fixes
    from .master import read_master

    if args.add_units and not args.fix:
        raise DubanError("--add-units 需与 --fix 一起使用")
    if not args.fix:  # report only: the master is only read (a read-only user can run it)
        master = read_master(Path(args.master))
        report = check_master(master)
        plan = plan_fixes(master)
        code = _emit(report, args.json, f"校验台账 {args.master}")
        if not args.json and (plan.fixes or plan.changes):
            print(f"其中 {len(plan.fixes)} 处可自动修正、{len(plan.changes)} 项调整尚未记录："
                  f"运行 duban check {args.master} --fix 修正并记入“调整记录”")
        return code
    plan, backup = fix_master(Path(args.master), args.add_units, args.wait)
    report = check_master(read_master(Path(args.master)))
    if args.json:
        report.stats.update(fixes=[vars(f) for f in plan.fixes],
                            changes=[{"task_id": c.task_id, "kind": c.kind, "old": c.old, "new": c.new}
                                     for c in plan.changes])
        return _emit(report, True)
    print(f"校验并修正台账 {args.master}")
    _print_fixes(plan)
    if backup:
        print(f"原台账已备份到 {backup}")
    return _emit(report, False, "修正后的校验结果：")


def _print_fixes(plan: "FixPlan") -> None:
    from . import schema as S
    from .findings import _pad
    from .language.text import display_width

    if not plan.fixes and not plan.changes and not plan.first_record:
        print("无需修正，也没有新的调整：台账未改动")
        return
    if plan.fixes:
        print(f"已修正 {len(plan.fixes)} 处：")
        width = max(display_width(f"{f.sheet}!{f.cell}") for f in plan.fixes)
        for f in plan.fixes:
            print(f"  {_pad(f'{f.sheet}!{f.cell}', width)}  {f.message}")
    if plan.changes:
        print(f"已记入“{S.CHANGES}” {len(plan.changes)} 条（请补填批复文号、备注）：")
        for c in plan.changes:
            print(f"  {c.task_id}  {c.describe()}")
    if plan.first_record:
        print(f"已建立“{S.STATE}”（隐藏表）：此后对任务的新增、修订、延期、调整和撤销都会记入“{S.CHANGES}”")


def cmd_split(args: argparse.Namespace) -> int:
    from .split import split_master

    result = split_master(Path(args.master), Path(args.output), args.period, args.unit or None,
                          force=args.force, password=args.password, in_master=args.in_master,
                          workers=_workers(args), wait=args.wait, changed=args.changed)
    if not result.report.valid:
        code = _emit(result.report, False, "台账存在错误，未生成单位工作簿：")
        if any(f.code in ("id-missing", "unit-unknown") for f in result.report.errors):
            print(f"新增任务的编号可由 duban check {args.master} --fix 自动填写（新单位加 --add-units）")
        return code
    if args.changed:
        print(f"已为 {len(result.files)} 个任务有调整的单位重新生成 {result.period} 填报工作簿 → {args.output}")
        for unit, path in result.files.items():
            why = result.what_changed.get(unit, "本期首次下发")
            print(f"  {path.name}：{why}")
        if result.unchanged:
            print(f"任务未变化、不重新下发的单位 {len(result.unchanged)} 个")
        if result.not_issued:
            print(f"本期尚未下发、任务也没有调整的单位 {len(result.not_issued)} 个，未生成（需要时不加 --changed 指定 --unit 生成）")
        if result.emptied:
            print(f"以下单位已无牵头任务（已调整或撤销），此前下发的文件交回时不再采用：{'、'.join(result.emptied)}")
    else:
        print(f"已为 {len(result.files)} 个单位生成 {result.period} 填报工作簿 → {args.output}")
    if result.no_tasks:
        print(f"以下单位没有牵头任务，未生成文件：{'、'.join(result.no_tasks)}")
    if result.changes:
        print(f"随本次下发记入“调整记录”{len(result.changes)} 条：" + "；".join(
            f"{c.task_id} {c.describe()}" for c in result.changes[:5]) + ("等" if len(result.changes) > 5 else ""))
    return 0


@functools.lru_cache(maxsize=1)
def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()  # asked once: a system call per file costs more than reading a small file


def _progress_bar(done: int, total: int) -> None:
    width = 30
    if not _stderr_is_terminal() or (done < total and width * done // total == width * (done - 1) // total):
        return  # redrawn only when the bar grows
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r校验进度 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _print_batch(batch: "Batch") -> None:
    from .findings import Report, _pad
    from .language.text import display_width

    rows = [("文件", "单位", "结论", "错误", "警告")]
    for s in batch.submissions:
        verdict = "未采用" if not s.used else ("通过" if s.valid else "退回")
        counts = Report(findings=s.findings).counts()
        rows.append((s.file, s.unit or "-", verdict, str(counts["error"]), str(counts["warning"])))
    widths = [max(display_width(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(_pad(r[i], widths[i]) for i in range(5)))
    for s in batch.submissions:
        if s.findings:
            print(f"\n{s.file}：")
            for f in s.findings:
                print(f"  {f}")
    st = batch.stats()
    print(f"\n共 {st['files']} 个文件：通过 {st['valid']} 个，退回 {st['with_errors']} 个，未采用（有更新文件）{st['superseded']} 个")


def _output_paths(batch: "Batch", out_dir: Path) -> list[Path]:
    from .feedback import marked_copy_path

    return [out_dir / "校验结果.xlsx"] + [marked_copy_path(s, out_dir) for s in batch.submissions if not s.valid]


def _output_protected(batch: "Batch | None", master: str) -> list[tuple[Path, str]]:
    from .master import master_protected

    subs = [(s.path, "报送文件") for s in batch.submissions] if batch else []
    return master_protected(Path(master)) + subs


def _write_outputs(batch: "Batch", out: str | None, force: bool) -> None:
    if not out:
        return
    from .feedback import write_findings_workbook, write_marked_copy
    from .ooxml.safe_write import check_output, writing

    out_dir = Path(out)
    protected = _output_protected(batch, str(batch.master_path))
    for path in _output_paths(batch, out_dir):  # all refused before any is written
        check_output(path, force, protected)
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    write_findings_workbook(batch, out_dir / "校验结果.xlsx", force, protected)
    copies = [write_marked_copy(s, out_dir, force, protected) for s in batch.submissions if not s.valid]
    print(f"校验结果已写入 {out_dir / '校验结果.xlsx'}，退回文件 {sum(1 for c in copies if c)} 个")


def _refuse_old_outputs(out: str | None, force: bool, master: str) -> None:
    """Before a collect changes the master: its --out folder must not hold results it would replace."""
    if not out:
        return
    from .ooxml.safe_write import check_output

    out_dir = Path(out)
    check_output(out_dir / "校验结果.xlsx", force, _output_protected(None, master))
    old = sorted(out_dir.glob("退回_*.xlsx")) if out_dir.is_dir() else []
    if old and not force:
        raise DubanError(f"输出文件夹 {out_dir} 中已有上次的退回文件（如 {old[0].name}），未做任何改动："
                         f"加 --force 覆盖，或换一个文件夹")


def _workers(args: argparse.Namespace) -> int | None:
    """--workers as given (None: the default); 0 and negative numbers are refused."""
    if args.workers is not None and args.workers < 1:
        raise DubanError(f"--workers 应为正整数（并行进程数），不能是 {args.workers}")
    return args.workers


def cmd_validate(args: argparse.Namespace) -> int:
    import json

    from .procs import default_workers
    from .validate import validate_paths

    batch = validate_paths([Path(p) for p in args.paths], Path(args.master),
                           _workers(args) or default_workers(), _progress_bar)
    if args.json:
        print(json.dumps(batch.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        _print_batch(batch)
    _write_outputs(batch, args.out, args.force)
    return 0 if batch.valid else 1


def cmd_collect(args: argparse.Namespace) -> int:
    from .collect import collect
    from .procs import default_workers

    _refuse_old_outputs(args.out, args.force, args.master)
    result = collect([Path(p) for p in args.paths], Path(args.master), _workers(args) or default_workers(),
                     _progress_bar, wait=args.wait)
    _print_batch(result.batch)
    _write_outputs(result.batch, args.out, args.force)
    print(f"\n已汇总 {len(result.accepted)} 个文件" + (f"，{len(result.already)} 个文件此前已汇总" if result.already else ""))
    if result.backup:
        print(f"原台账已备份到 {result.backup}")
    if result.missing_units:
        print(f"催报名单（{len(result.missing_units)} 个单位尚未报送或未通过）：{'、'.join(result.missing_units)}")
    return 0 if result.batch.valid else 1


def cmd_report(args: argparse.Namespace) -> int:
    from .changes import PENDING
    from .report import ADJUSTMENTS, report_from_file

    tables = report_from_file(Path(args.master), Path(args.output), args.as_of, force=args.force)
    if Path(args.output).suffix.lower() == ".docx":
        print(f"Word 通报已生成 → {args.output}（GB/T 9704 公文格式，附件为逾期及红灯任务清单）")
    else:
        print(f"通报已生成 → {args.output}（工作表：{'、'.join(tables)}）")
    unrecorded = sum(1 for row in tables[ADJUSTMENTS].rows if row[-1] == PENDING)
    if unrecorded:
        print(f"通报中有 {unrecorded} 项调整尚未记入“调整记录”：运行 duban check {args.master} --fix 记录并补填批复文号")
    return 0


def cmd_notices(args: argparse.Namespace) -> int:
    from .word.notices import notices_from_file

    result = notices_from_file(Path(args.master), Path(args.output), args.as_of, force=args.force, wait=args.wait)
    if not result.notices:
        print("没有红灯或逾期任务，无需下发督办通知单")
        return 0
    reused = [n for n in result.notices if not n.new]
    print(f"已生成 {len(result.notices)} 份督办通知单 → {args.output}")
    for n in result.notices:
        print(f"  {n.code}  {n.unit}（{len(n.tasks)} 项）" + ("  （此前已下发，沿用原编号）" if not n.new else ""))
    if len(reused) < len(result.notices):
        print(f"编号已记入台账“督办记录”表；反馈期限 {result.notices[0].reply_by.isoformat()}"
              f"（按工作日计，只跳过周末，未计法定节假日，请核对）")
    if result.backup:
        print(f"原台账已备份到 {result.backup}")
    return 0


def cmd_rates(args: argparse.Namespace) -> int:
    from .indicators import check_indicator_table

    report = check_indicator_table(Path(args.table), args.reference)
    if not args.json and report.stats.get("rates"):
        from .findings import _pad
        from .language.text import display_width

        rows = [("位置", "指标", "目标", "完成情况", "表中完成率", "计算完成率")] + [
            (r["cell"], r["indicator"][:24], r["target"], r["actual"][:16], r["stated"],
             "无法计算" if r["computed"] is None else f"{r['computed']:.2f}%") for r in report.stats["rates"]]
        widths = [max(display_width(r[i]) for r in rows) for i in range(6)]
        for r in rows:
            print("  ".join(_pad(r[i], widths[i]) for i in range(6)))
        print()
    return _emit(report, args.json, f"核对指标表 {args.table}：{report.stats['rows']} 个指标，"
                                    f"其中 {report.stats['checked']} 个有表中完成率")


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.dir))


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from xlplugin.serve import serve
    except ImportError:
        raise DubanError("未安装 Excel 组件：请运行 pip install 'duban[server]'") from None

    return serve(args.host, args.port, args.workers, args.certfile, args.keyfile, args.data_dir, args.users,
                 args.max_request_mb)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value < 86400:
        raise DubanError(f"--wait 应为秒数（0 到 86399），不是“{text}”")
    return value


def _wait_option(p: argparse.ArgumentParser) -> None:
    from .ooxml.lock import DEFAULT_WAIT

    p.add_argument("--wait", type=_seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                   help=f"台账被其他 duban 命令占用时最多等待的秒数（默认 {DEFAULT_WAIT:g}）")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="duban", description="督办：任务分解台账、单位填报、汇总与通报")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("import", help="导入公开发布的任务分解方案，生成总台账")
    p.add_argument("source", help="分解方案：.xlsx、.docx、制表符分隔文本或段落文本")
    p.add_argument("-o", "--output", required=True, help="要生成的总台账 .xlsx")
    p.add_argument("--year", type=int, required=True, help="计划年度，如 2026")
    p.add_argument("--period", help="当前填报期 YYYY-MM（默认本月）")
    p.add_argument("--as-of", type=_date, help="截至日期 YYYY-MM-DD（默认填报期月底）")
    p.add_argument("--force", action="store_true", help="输出文件已存在时覆盖（先备份）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出校验结果")
    p.add_argument("--columns", help="指定列对应，如 任务=实事内容,牵头单位=责任单位,完成时限=进度安排")
    _wait_option(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("check", help="校验总台账（加 --fix 自动修正并记录调整）")
    p.add_argument("master")
    p.add_argument("--json", action="store_true")
    p.add_argument("--fix", action="store_true",
                   help="修正明确的问题（新增任务编号、截止日期、时间节点、单位简称）并把调整记入“调整记录”（会写入台账）")
    p.add_argument("--add-units", action="store_true", help="与 --fix 一起：把“单位”表中没有的新单位加入该表")
    _wait_option(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("split", help="为每个单位生成填报工作簿")
    p.add_argument("master")
    p.add_argument("-o", "--output", required=True, help="输出目录")
    p.add_argument("--period", help="填报期 YYYY-MM（默认台账的当前填报期）")
    p.add_argument("--unit", action="append", help="只生成这些单位（可重复）")
    p.add_argument("--force", action="store_true", help="覆盖已存在的文件")
    p.add_argument("--password", help="工作表保护密码（默认无密码）")
    p.add_argument("--in-master", action="store_true", help="同时在台账内生成/刷新每个单位一张表")
    p.add_argument("--changed", action="store_true",
                   help="只为本期下发后任务有调整的单位生成新版本（带入已填内容）")
    p.add_argument("--workers", type=int, help="并行进程数（默认每 200 个单位一个，最多本机可用的 CPU 核数、4 个）")
    _wait_option(p)
    p.set_defaults(func=cmd_split)

    for name, func, help_text in (("validate", cmd_validate, "校验各单位报送的工作簿"),
                                  ("collect", cmd_collect, "校验并把通过的报送汇总进台账")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("paths", nargs="+", help="报送文件或文件夹（递归查找）")
        p.add_argument("--master", required=True, help="总台账 .xlsx")
        p.add_argument("--out", help="输出校验结果工作簿和退回文件的目录")
        p.add_argument("--workers", type=int, help="并行进程数（默认为本机可用的 CPU 核数，最多 4）")
        p.add_argument("--force", action="store_true", help="覆盖 --out 中已有的校验结果和退回文件")
        if name == "validate":
            p.add_argument("--json", action="store_true")
        else:
            _wait_option(p)
        p.set_defaults(func=func)

    p = sub.add_parser("report", help="生成月度督查通报（.xlsx 工作簿或 .docx 公文）")
    p.add_argument("master")
    p.add_argument("-o", "--output", required=True, help="通报 .xlsx（工作簿）或 .docx（Word 公文）")
    p.add_argument("--as-of", type=_date, help="截至日期 YYYY-MM-DD（默认取“设置”表）")
    p.add_argument("--force", action="store_true", help="通报文件已存在时覆盖（台账本身永不覆盖）")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("notices", help="为有红灯或逾期任务的单位生成督办通知单")
    p.add_argument("master")
    p.add_argument("-o", "--output", required=True, help="输出目录")
    p.add_argument("--as-of", type=_date, help="截至日期 YYYY-MM-DD（默认取“设置”表）")
    p.add_argument("--force", action="store_true", help="输出目录中已有同名通知单时覆盖")
    _wait_option(p)
    p.set_defaults(func=cmd_notices)

    p = sub.add_parser("rates", help="核对指标完成情况表中填写的完成率")
    p.add_argument("table", help="指标完成情况表：.xlsx 或制表符分隔文本，含目标、完成情况（及完成率）列")
    p.add_argument("--reference", help="“与经济增长同步”类指标的参照目标，如 5.5%%左右")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rates)

    p = sub.add_parser("serve", help="启动 xlwings Server，供 Excel 加载项使用督办函数和按钮")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；对内网开放用 0.0.0.0）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    p.add_argument("--workers", type=int, default=1, help="工作进程数（默认 1）")
    p.add_argument("--certfile", type=Path, help="HTTPS 证书（PEM）")
    p.add_argument("--keyfile", type=Path, help="HTTPS 私钥（PEM）")
    p.add_argument("--data-dir", type=Path, help="数据文件夹：每个督查室一个以台账编号命名的子文件夹")
    p.add_argument("--users", type=Path, help="用户与令牌文件（JSON），启用身份验证")
    p.add_argument("--max-request-mb", type=int, default=20, help="单个请求的上限（MB，默认 20）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="在自带样例上演示全部步骤")
    p.add_argument("dir", nargs="?", default="duban-demo", help="输出目录（默认 ./duban-demo）")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        require_safe_xml()
        args = build_parser().parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except DubanError as exc:
        print(f"duban: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("duban: 已中断", file=sys.stderr)
        return 2
    except OSError as exc:
        from .ooxml.safe_write import describe_os_error

        print(f"duban: 文件操作失败：{describe_os_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
