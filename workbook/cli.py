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
