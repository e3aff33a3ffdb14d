"""The ``duban`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Callable, Sequence

from .findings import DubanError, Report


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
    from .importer import import_to_file

    master, report = import_to_file(Path(args.source), Path(args.output), args.year, args.period,
                                    args.as_of, force=args.force)
    title = f"已导入 {len(master.tasks)} 项任务、{len(master.units)} 个单位、{len(master.leaders)} 位分管领导 → {args.output}"
    _emit(report, args.json, title)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .checks import check_master
    from .master import read_master

    report = check_master(read_master(Path(args.master)))
    return _emit(report, args.json, f"校验台账 {args.master}")


def cmd_split(args: argparse.Namespace) -> int:
    from .split import split_master

    result = split_master(Path(args.master), Path(args.output), args.period, args.unit or None,
                          force=args.force, password=args.password, in_master=args.in_master,
                          workers=args.workers)
    if not result.report.valid:
        return _emit(result.report, False, "台账存在错误，未生成单位工作簿：")
    print(f"已为 {len(result.files)} 个单位生成 {result.period} 填报工作簿 → {args.output}")
    if result.no_tasks:
        print(f"以下单位没有牵头任务，未生成文件：{'、'.join(result.no_tasks)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.dir))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="duban", description="督办：任务分解台账、单位填报、汇总与通报")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("import", help="导入公开发布的任务分解方案，生成总台账")
    p.add_argument("source", help="分解方案：制表符分隔文本或 .xlsx")
    p.add_argument("-o", "--output", required=True, help="要生成的总台账 .xlsx")
    p.add_argument("--year", type=int, required=True, help="计划年度，如 2026")
    p.add_argument("--period", help="当前填报期 YYYY-MM（默认本月）")
    p.add_argument("--as-of", type=_date, help="截至日期 YYYY-MM-DD（默认填报期月底）")
    p.add_argument("--force", action="store_true", help="输出文件已存在时覆盖（先备份）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出校验结果")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("check", help="校验总台账")
    p.add_argument("master")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("split", help="为每个单位生成填报工作簿")
    p.add_argument("master")
    p.add_argument("-o", "--output", required=True, help="输出目录")
    p.add_argument("--period", help="填报期 YYYY-MM（默认台账的当前填报期）")
    p.add_argument("--unit", action="append", help="只生成这些单位（可重复）")
    p.add_argument("--force", action="store_true", help="覆盖已存在的文件")
    p.add_argument("--password", help="工作表保护密码（默认无密码）")
    p.add_argument("--in-master", action="store_true", help="同时在台账内生成/刷新每个单位一张表")
    p.add_argument("--workers", type=int, help="并行进程数（默认 CPU 核数，最多 4）")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("demo", help="在自带样例上演示全部步骤")
    p.add_argument("dir", nargs="?", default="duban-demo", help="输出目录（默认 ./duban-demo）")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
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
        print(f"duban: 文件操作失败：{exc.strerror or exc}（{exc.filename or ''}）", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
