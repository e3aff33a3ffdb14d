"""``duban demo``: every step on the bundled Hohhot 2026 sample."""

from __future__ import annotations

from pathlib import Path

from . import schema as S
from .checks import check_master
from .findings import DubanError
from .importer import import_to_file
from .master import read_master
from .split import split_master

SAMPLE_SOURCE = "2026年重点工作任务分解方案.txt"
SAMPLE_YEAR = 2026
SAMPLE_PERIOD = "2026-06"


def sample_dir() -> Path:
    for base in (Path(__file__).resolve().parents[1], Path.cwd()):
        candidate = base / "samples" / "hohhot-2026"
        if (candidate / SAMPLE_SOURCE).is_file():
            return candidate
    raise DubanError("找不到自带样例 samples/hohhot-2026：请在源码目录中运行，或用 pip install -e . 安装")


def run_demo(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    source = sample_dir() / SAMPLE_SOURCE
    master_path = out / "总台账.xlsx"
    units_dir = out / "单位填报表"
    print(f"1. 导入分解方案：{source.name}")
    master, report = import_to_file(source, master_path, SAMPLE_YEAR, SAMPLE_PERIOD, force=True)
    print(f"   {len(master.tasks)} 项任务，{len(master.units)} 个单位，{len(master.leaders)} 位分管领导 → {master_path}")
    for f in report.findings:
        print(f"   {f}")
    print("2. 校验台账")
    checked = check_master(read_master(master_path))
    counts = checked.counts()
    print(f"   错误 {counts['error']} 项，警告 {counts['warning']} 项")
    print("3. 生成单位填报工作簿（并在台账内生成每个单位一张表）")
    split = split_master(master_path, units_dir, force=True, in_master=True)
    print(f"   {len(split.files)} 个单位 → {units_dir}")
    print(f"\n演示输出目录：{out.resolve()}")
    print(f"  总台账：{master_path.name}（工作表：{S.TASKS}、{S.LEADERS}、{S.UNITS}、{S.SETTINGS}、{S.HISTORY}）")
    print(f"  单位填报表：{units_dir.name}/（每个单位一个 .xlsx）")
    return 0
