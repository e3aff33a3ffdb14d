"""Build (and with ``python tests/make_golden.py``, rewrite) the golden unit workbook."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from workbook import form as F  # noqa: E402
from workbook.master import read_master  # noqa: E402
from workbook.split import write_unit_workbook  # noqa: E402


def build(master_path: Path, out_dir: Path) -> Path:
    form = F.unit_form(read_master(master_path), "市发改委")
    out = out_dir / "市发改委_2026年6月.xlsx"
    write_unit_workbook(form, out, created=dt.datetime(2026, 6, 1, 9, 0))
    return out


if __name__ == "__main__":
    from workbook.importer import import_to_file

    with tempfile.TemporaryDirectory() as tmp:
        master = Path(tmp) / "总台账.xlsx"
        import_to_file(HERE.parent / "samples/hohhot-2026/2026年重点工作任务分解方案.txt", master, 2026, "2026-06")
        shutil.copy(build(master, Path(tmp)), HERE / "golden" / "市发改委_2026年6月.xlsx")
    print("golden file rewritten")
