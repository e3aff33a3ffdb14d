"""Validate benchmark: duban validate vs. python-calamine alone reading every sheet of the same files.

Run: python benchmarks/bench_validate.py [FILES]          (time ratio, default 1,000 files of 20 tasks)
     python benchmarks/bench_validate.py --memory 1000 5000 (peak memory, each count in a fresh process)
Target: at most 2x the bare read; memory flat in the number of files.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import synthetic_master  # noqa: E402

from workbook.filling import fill_unit_file  # noqa: E402
from workbook.split import split_master  # noqa: E402
from workbook.validate import validate_paths  # noqa: E402

UNITS = 50


def make_inbox(tmp: Path, files: int) -> tuple[Path, Path]:
    master = tmp / "总台账.xlsx"
    synthetic_master(UNITS, 20, master)
    split_master(master, tmp / "issued", workers=1)
    filled = sorted((tmp / "issued").iterdir())
    for i, path in enumerate(filled):
        fill_unit_file(path, dt.date(2026, 6, 30), seed=i)
    inbox = tmp / "inbox"
    inbox.mkdir()
    for i in range(files):
        src = filled[i % len(filled)]
        shutil.copy(src, inbox / f"{src.stem}_{i:05d}.xlsx")
    return master, inbox


def bare_read(inbox: Path) -> None:
    for path in sorted(inbox.iterdir()):
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()


def timing(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        master, inbox = make_inbox(Path(tmp), files)
        t0 = time.perf_counter()
        bare_read(inbox)
        t_bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch = validate_paths([inbox], master, workers=1)
        t_one = time.perf_counter() - t0
        t0 = time.perf_counter()
        validate_paths([inbox], master, workers=2)
        t_two = time.perf_counter() - t0
    print(f"validate: {files} files of 20 tasks ({batch.stats()['valid']} valid)")
    print(f"  bare python-calamine, every sheet:  {t_bare:7.2f} s")
    print(f"  duban validate, 1 process:          {t_one:7.2f} s  ratio {t_one / t_bare:.2f}x (target <= 2x)")
    print(f"  duban validate, 2 processes:        {t_two:7.2f} s  ratio {t_two / t_bare:.2f}x")


def memory(counts: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        master, inbox = make_inbox(Path(tmp), max(counts))
        for n in counts:
            sub = Path(tmp) / f"inbox{n}"
            sub.mkdir()
            for p in sorted(inbox.iterdir())[:n]:
                (sub / p.name).symlink_to(p)
            out = subprocess.run([sys.executable, __file__, "--peak", str(master), str(sub)],
                                 capture_output=True, text=True, check=True).stdout.strip()
            print(f"  peak memory validating {n:5d} files: {out}")


def peak(master: str, inbox: str) -> None:
    validate_paths([Path(inbox)], Path(master), workers=1)
    print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        peak(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["--memory"]:
        memory([int(a) for a in sys.argv[2:]] or [1000, 5000])
    else:
        timing(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
