"""duban at a province's scale: every step through the CLI, each against a bare-library baseline in the same run.

Run:  python benchmarks/scale.py                 (N = 100, 300, 1,000 units × 20 tasks)
      python benchmarks/scale.py --big           (adds N = 3,000)
      python benchmarks/scale.py --units 300     (one size; repeat --units for several)
      python benchmarks/scale.py --repeat 5      (runs of each timed command; the median is shown)

For each N the script writes a published-style decomposition (tab-separated, the Hohhot layout: leader
sections with declared counts) and runs what an office runs, as a user does (the ``duban`` command,
default flags): import, split, validate, collect, report, then a second and a third period collected
on top of the first. Units fill their workbooks between the steps (not timed). Each step is measured
in a child process (wall time, CPU time, peak RSS), ``--repeat`` times (3) from the same starting
state (the master, its backups and archive restored, outputs removed), and the median of each measure
is shown: on a shared 2-core machine one run's wall time varies by 10–15%. Every step is set against a
bare baseline measured the same way in the same run:

    import   openpyxl writing the same task cells (what any master writer must do)
    split    python-calamine reading the master + XlsxWriter writing the same cells per unit
    validate python-calamine reading every sheet of every submitted file
    collect  the same bare read (collect validates, then merges)
    report   python-calamine reading every sheet of the master

Validation is measured cold, as the first ``duban validate`` after a split runs: each run gets an empty
cache directory (``DUBAN_CACHE_DIR``), so no context kept from an earlier run is used.

Goals (issue 18), at 1,000 units: import < 5 s; split ≤ 1.3×; validate ≤ 2× (wall); collect ≤ 4×
and ≤ 200 MiB, flat as history grows (periods 2 and 3 ≤ 1.15× period 1); report ≤ 10×; growth from
300 to 1,000 units as linear as the baseline's (the exponent column: 1.0 is linear).
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS_PER_UNIT = 20
LEADERS = 10
DEADLINES = ["3月底", "6月底", "9月30日前", "10月底", "12月底", "年底前", "上半年", "三季度末"]
PERIODS = ["2026-06", "2026-07", "2026-08"]
REPEAT = 3  # runs of each timed command (--repeat)


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mib: float


def unit_name(i: int) -> str:
    return f"市测试{i:04d}局"


def write_source(path: Path, units: int) -> None:
    """A decomposition in the Hohhot layout: leader sections, declared counts, one task row per line."""
    per_leader: list[list[int]] = [[] for _ in range(LEADERS)]
    for u in range(units):
        per_leader[u % LEADERS].append(u)
    lines = ["", "2026年《政府工作报告》重点工作任务分解方案（基准测试）", "", "王某某市长为总负责人", "",
             "序号\t任 务 目 标\t牵头单位\t完成时限", "(二) 其他经济社会发展任务\t\t\t"]
    serial = 0
    for leader, members in enumerate(per_leader):
        if not members:
            continue
        lines.append(f"领导{leader:02d}副市长分管领域{len(members) * TASKS_PER_UNIT}项\t\t\t")
        for u in members:
            for k in range(TASKS_PER_UNIT):
                serial += 1
                target = f"，建设项目{k + 3}个以上" if k % 4 == 0 else ""
                lines.append(f"{serial}\t推进第{serial}项重点工作，完成年度目标任务{target}\t{unit_name(u)}\t"
                             f"{DEADLINES[serial % len(DEADLINES)]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(args: list[str], cwd: Path) -> Run:
    """One command, ``REPEAT`` times from the state it found in ``cwd``: the median wall time, CPU time
    (user + system, children included) and peak RSS. What a run changes there is undone before the
    next one (see :class:`_State`); the last run's outcome is kept."""
    runs = []
    with _State(cwd) as state:
        for i in range(REPEAT):
            if i:
                state.restore()
            runs.append(_run_once(args, cwd))
    return Run(*(statistics.median(getattr(r, f) for r in runs) for f in ("wall", "cpu", "rss_mib")))


def _run_once(args: list[str], cwd: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="duban-cache-") as cache:  # cold: see the module's docstring
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, "DUBAN_CACHE_DIR": cache})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1 = findings with errors, still a finished run
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.strip()[-500:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


class _State:
    """A scenario folder as a command found it. :meth:`restore` removes what a run added at its top
    level (outputs; the master's backup and archive folders when they are new) and puts back what it
    may have changed (the master, and those folders when they were there)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.before = set(cwd.iterdir())
        self.changing = [cwd / n for n in ("总台账.xlsx", "总台账_备份", "总台账_归档") if (cwd / n).exists()]
        self.saved = Path(tempfile.mkdtemp(prefix="duban-state-", dir=cwd.parent))

    def __enter__(self) -> _State:
        if REPEAT > 1:
            for path in self.changing:
                _copy(path, self.saved / path.name)
        return self

    def restore(self) -> None:
        for path in (set(self.cwd.iterdir()) - self.before) | set(self.changing):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        for path in self.changing:
            _copy(self.saved / path.name, path)

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.saved)


def _copy(source: Path, target: Path) -> None:
    (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)


def duban(*args: str | Path, cwd: Path) -> Run:
    return run([sys.executable, "-m", "workbook.cli", *map(str, args)], cwd)


def bare(code: str, *args: str | Path, cwd: Path) -> Run:
    return run([sys.executable, str(HERE / "scale.py"), "--bare", code, *map(str, args)], cwd)


# --------------------------------------------------------------------------- bare baselines (child side)


def bare_import(source: str, out: str) -> None:
    import csv

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("任务分解")
    with open(source, encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if row and row[0].isdigit():
                ws.append(row)
    wb.save(out)


def bare_read(*paths: str) -> None:
    from python_calamine import CalamineWorkbook

    files = []
    for p in map(Path, paths):
        files += sorted(p.rglob("*.xlsx")) if p.is_dir() else [p]
    for f in files:
        book = CalamineWorkbook.from_path(str(f))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()


def bare_split(master: str, out: str) -> None:
    """Read the master's tasks with calamine, write each unit's cells with XlsxWriter (no formats)."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(master).get_sheet_by_name("任务分解").to_python()
    header = rows[0]
    lead = header.index("牵头单位")
    by_unit: dict[str, list[list[object]]] = {}
    for row in rows[1:]:
        by_unit.setdefault(str(row[lead]), []).append(row[:11])
    for unit, tasks in by_unit.items():
        wb = xlsxwriter.Workbook(str(Path(out) / f"{unit}.xlsx"), {"in_memory": True})
        ws = wb.add_worksheet("填报")
        ws.write_row(2, 0, header[:11])
        for r, row in enumerate(tasks, start=3):
            ws.write_row(r, 0, row)
        wb.add_worksheet("说明").write(0, 0, unit)
        wb.add_worksheet("_meta").write(0, 0, unit)
        wb.close()


# --------------------------------------------------------------------------- the scenario


def _fill(job: tuple[str, str, int]) -> None:
    from workbook.filling import fill_unit_file

    path, period, seed = job
    y, m = (int(p) for p in period.split("-"))
    as_of = (dt.date(y, m % 12 + 1, 1) if m < 12 else dt.date(y, 12, 31)) - dt.timedelta(days=1)
    fill_unit_file(Path(path), as_of, seed=seed, report_date=as_of - dt.timedelta(days=5))


def fill_all(issued: Path, inbox: Path, period: str) -> None:
    """The units' part (not timed): copy the issued files and fill every input."""
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(issued, inbox)
    files = sorted(inbox.glob("*.xlsx"))
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(_fill, [(str(f), period, i) for i, f in enumerate(files)], chunksize=16))


def scenario(units: int, base: Path) -> dict[str, tuple[Run, Run | None]]:
    work = base / f"{units}单位"
    work.mkdir()
    source, master = work / "分解方案.txt", work / "总台账.xlsx"
    write_source(source, units)
    out: dict[str, tuple[Run, Run | None]] = {}

    out["import"] = (duban("import", source, "-o", master, "--year", "2026", "--period", PERIODS[0], cwd=work),
                     bare("import", source, work / "bare_import.xlsx", cwd=work))
    for i, period in enumerate(PERIODS, start=1):
        issued, inbox = work / f"下发_{period}", work / f"报送_{period}"
        bare_out = work / f"bare_split_{period}"
        bare_out.mkdir()
        split_args = ["split", master, "-o", issued] + (["--period", period] if i > 1 else [])
        if i == 1:
            out["split, --workers 1 (cpu)"] = (duban(*split_args, "--workers", "1", cwd=work),
                                               bare("split", master, bare_out, cwd=work))
            shutil.rmtree(issued)
        split = duban(*split_args, cwd=work)
        if i == 1:
            out["split"] = (split, out["split, --workers 1 (cpu)"][1])
        if i == 2:
            out["report, no unit reported yet"] = (duban("report", master, "-o", work / "通报1.xlsx", cwd=work),
                                                   bare("read", master, cwd=work))
        fill_all(issued, inbox, period)
        if i == 1:
            out["validate"] = (duban("validate", inbox, "--master", master, cwd=work), bare("read", inbox, cwd=work))
        out[f"collect, period {i}"] = (duban("collect", inbox, "--master", master, cwd=work),
                                       bare("read", inbox, cwd=work))
    out["report"] = (duban("report", master, "-o", work / "通报2.xlsx", cwd=work),
                     bare("read", master, cwd=work))
    shutil.rmtree(work, ignore_errors=True)
    return out


GOALS = {"import": "< 5 s", "split": "≤ 1.3×", "split, --workers 1 (cpu)": "≤ 1.3×", "validate": "≤ 2×",
         "collect, period 1": "≤ 4×, ≤ 200 MiB", "collect, period 2": "≤ 1.15× period 1",
         "collect, period 3": "≤ 1.15× period 1", "report, no unit reported yet": "≤ 10×", "report": "≤ 10×"}


def main() -> None:
    global REPEAT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, action="append", help="units (20 tasks each); repeatable")
    parser.add_argument("--big", action="store_true", help="also 3,000 units")
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"runs of each timed command (default {REPEAT})")
    args = parser.parse_args()
    REPEAT = max(1, args.repeat)
    sizes = args.units or ([100, 300, 1000] + ([3000] if args.big else []))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; median of {REPEAT} runs")
    # Byte-compile duban as pip does when it installs a package: with PYTHONDONTWRITEBYTECODE set (or an
    # editable install), every command would otherwise compile its modules again (~40 ms a run).
    import workbook

    compileall.compile_dir(Path(workbook.__file__).parent, quiet=1)
    results: dict[int, dict[str, tuple[Run, Run | None]]] = {}
    with tempfile.TemporaryDirectory(prefix="duban-scale-") as tmp:
        for n in sizes:
            t0 = time.perf_counter()
            results[n] = scenario(n, Path(tmp))
            print(f"  {n} units done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print_table(results)


def _ratio(step: str, run: Run, baseline: Run | None, first_collect: Run | None) -> str:
    if step.startswith("collect, period") and not step.endswith("1") and first_collect:
        return f"{run.wall / first_collect.wall:.2f}× p1 (cpu {run.cpu / first_collect.cpu:.2f}×)"
    if baseline is None:
        return ""
    if "(cpu)" in step:
        return f"{run.cpu / baseline.cpu:.2f}×"
    return f"{run.wall / baseline.wall:.2f}×"


def print_table(results: dict[int, dict[str, tuple[Run, Run | None]]]) -> None:
    sizes = sorted(results)
    print("| step | units | duban wall | duban cpu | peak RSS | baseline wall | baseline cpu | ratio | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for step in results[sizes[0]]:
        for n in sizes:
            run_, base = results[n][step]
            first = results[n].get("collect, period 1", (None, None))[0]
            print(f"| {step} | {n:,} | {run_.wall:.2f} s | {run_.cpu:.2f} s | {run_.rss_mib:.0f} MiB | "
                  f"{f'{base.wall:.2f} s' if base else ''} | {f'{base.cpu:.2f} s' if base else ''} | "
                  f"{_ratio(step, run_, base, first)} | {GOALS.get(step, '') if n == sizes[-1] else ''} |")
    if 300 in results and 1000 in results:
        print("\ngrowth exponent from 300 to 1,000 units (1.0 = linear; cpu time): duban / baseline")
        for step in results[300]:
            a, b = results[300][step], results[1000][step]
            k = math.log(1000 / 300)
            mine = math.log(b[0].cpu / a[0].cpu) / k
            theirs = f"{math.log(b[1].cpu / a[1].cpu) / k:.2f}" if a[1] and b[1] else "-"
            print(f"  {step:32s} {mine:.2f} / {theirs}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bare"]:
        code, rest = sys.argv[2], sys.argv[3:]
        {"import": bare_import, "read": bare_read, "split": bare_split}[code](*rest)
    else:
        main()
