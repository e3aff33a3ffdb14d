"""Split benchmark: duban's unit workbooks vs. bare XlsxWriter writing the same cells.

Run: python benchmarks/bench_split.py [UNITS] [TASKS_PER_UNIT]
Target: duban ≤ 1.3 × bare (same run, same machine).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import synthetic_master  # noqa: E402

from workbook import form as F  # noqa: E402
from workbook.master import read_master  # noqa: E402
from workbook.split import (  # noqa: E402
    default_workers,
    record_issued_in_file,
    unit_file_name,
    write_unit_workbooks,
)


def bare(forms: list[F.UnitForm], out: Path) -> None:
    """The same cells, written with no formats, validation, protection or layout."""
    for f in forms:
        wb = xlsxwriter.Workbook(str(out / unit_file_name(f.unit, f.period_label)), {"in_memory": True})
        ws = wb.add_worksheet(F.FORM)
        title, sub = f.title_lines()
        ws.write(0, 0, title)
        ws.write(1, 0, sub)
        ws.write_row(F.HEADER_ROW - 1, 0, F.HEADERS)
        for r, row in enumerate(f.rows, start=F.FIRST_ROW - 1):
            ws.write_row(r, 0, row)
        for label in F.FOOTER:
            ws.write(F.footer_row(len(f.rows), label) - 1, 0, label)
        guide = wb.add_worksheet(F.GUIDE)
        guide.write_column(0, 0, f.guide())
        meta = wb.add_worksheet(F.META)
        for r, (k, v) in enumerate(f.meta()):
            meta.write_row(r, 0, [k, v])
        wb.close()


def main(units: int = 1000, per_unit: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        master_path = tmp / "总台账.xlsx"
        synthetic_master(units, per_unit, master_path)
        (tmp / "duban").mkdir()
        (tmp / "bare").mkdir()

        t0 = time.perf_counter()
        master = read_master(master_path)
        names = master.unit_names()
        files, forms = write_unit_workbooks(master, tmp / "duban", names, master.settings.period, workers=1)
        t_duban = time.perf_counter() - t0

        t0 = time.perf_counter()
        master = read_master(master_path)
        write_unit_workbooks(master, tmp / "duban", names, master.settings.period, force=True,
                             workers=default_workers())
        t_parallel = time.perf_counter() - t0

        t0 = time.perf_counter()
        bare(forms, tmp / "bare")
        t_bare = time.perf_counter() - t0

        t0 = time.perf_counter()
        record_issued_in_file(master_path, forms, files)
        t_record = time.perf_counter() - t0

    print(f"split: {units} units x {per_unit} tasks = {units * per_unit} tasks, {len(files)} files")
    print(f"  bare XlsxWriter, same cells, one process:         {t_bare:7.2f} s")
    print(f"  duban (read master + write), one process:          {t_duban:7.2f} s  ratio {t_duban / t_bare:.2f}x")
    print(f"  duban (read master + write), {default_workers()} worker processes:  {t_parallel:7.2f} s  "
          f"ratio {t_parallel / t_bare:.2f}x (target <= 1.30x)")
    print(f"  recording 发放记录 in the master (cell patch, backup, atomic replace): {t_record:.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
