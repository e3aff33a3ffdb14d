"""Server benchmark: K concurrent button-script calls to ``duban serve`` over loopback.

Run: python benchmarks/bench_server.py [--workers W] [--clients K] [--calls N] [--seconds S] [--script NAME]
Defaults: 2 workers, 8 clients, 200 calls, at most 60 s, 计算完成率 (duban_rates) on the sample
master (189 tasks). Reports throughput and p50/p95 latency, against the same script run
in-process (xlwings.server.custom_scripts_call on xw.Book(json=...)) in this run: the baseline
is what one call costs without HTTP, JSON and the worker pool.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

from duban_server import start  # noqa: E402
from xlremote import payload, run_script, sheets_from_file  # noqa: E402

import xlplugin.scripts as scripts  # noqa: E402
from workbook.importer import import_to_file  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--script", default="duban_rates")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "总台账.xlsx"
        import_to_file(ROOT / "samples/hohhot-2026/2026年重点工作任务分解方案.txt", master, 2026, "2026-06")
        sheets = sheets_from_file(master)
        body = payload(sheets)

        local = []
        for _ in range(10):
            t = time.perf_counter()
            run_script(scripts, args.script, {k: [list(r) for r in v] for k, v in sheets.items()})
            local.append(time.perf_counter() - t)
        baseline = statistics.median(local)

        server = start([], Path(tmp) / "serve.log", workers=args.workers)
        try:
            server.call_script(args.script, body)  # warm each code path once
            deadline = time.monotonic() + args.seconds
            latencies: list[float] = []
            failures = 0

            def one(_: int) -> None:
                nonlocal failures
                if time.monotonic() > deadline:
                    return
                t = time.perf_counter()
                status, _answer = server.call_script(args.script, body)
                latencies.append(time.perf_counter() - t)
                failures += status != 200

            start_time = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(one, range(args.calls)))
            wall = time.perf_counter() - start_time
        finally:
            server.stop()
    done = len(latencies)
    print(f"{args.script}: {done} calls from {args.clients} clients to {args.workers} workers in {wall:.1f} s"
          f"{'' if done == args.calls else ' (stopped by the time bound)'}, {failures} failed")
    print(f"  throughput {done / wall:.1f} calls/s; latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms")
    print(f"  baseline: the same script in-process {baseline * 1000:.0f} ms a call "
          f"({1 / baseline:.1f} calls/s in one process); p50 over HTTP = {statistics.median(latencies) / baseline:.1f}x")


if __name__ == "__main__":
    main()
