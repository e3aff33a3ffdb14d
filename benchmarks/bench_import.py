"""Import benchmark: ``duban import`` of a generated 2,000-row decomposition, against reading the same file bare.

Run: python benchmarks/bench_import.py [ROWS]      (default 2,000 tasks, in each layout)
Goal: the whole command under 2 s for 2,000 rows. The baseline is a fresh Python reading
the same file with the library underneath (csv, python-calamine, python-docx), so both
sides pay the interpreter start-up; the ratio is what parsing, mapping, checking and
writing the master add.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docx
import openpyxl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEADLINES = ["3月底前", "6月底", "9月30日前", "10月底", "12月底前", "年底前", "上半年", "三季度末"]
LEADERS = 10

BARE = {
    ".txt": "import csv,io;d=open(p,encoding='utf-8-sig').read();list(csv.reader(io.StringIO(d,newline=''),delimiter='\\t'))",
    ".xlsx": "from python_calamine import CalamineWorkbook as C;b=C.from_path(p);"
             "[b.get_sheet_by_name(n).to_python() for n in b.sheet_names]",
    ".docx": "import docx;d=docx.Document(p);[[c.text for c in r.cells] for t in d.tables for r in t.rows]",
}


def rows(n: int) -> list[list[str]]:
    """A decomposition as published: leader lines with declared counts, then numbered tasks."""
    out: list[list[str]] = [["2026年政府工作报告重点工作任务分解方案"], ["序号", "重点工作", "牵头单位", "配合单位", "完成时限"]]
    per = n // LEADERS
    serial = 0
    for leader in range(LEADERS):
        count = per + (n - per * LEADERS if leader == LEADERS - 1 else 0)
        out.append([f"领导{leader}副市长分管领域{count}项"])
        for _ in range(count):
            serial += 1
            out.append([str(serial), f"推进第{serial}项重点工作，完成年度目标任务，建设项目{serial % 7 + 3}个以上",
                        f"市测试{serial % 80:02d}局", f"各区县政府\n市配合{serial % 30:02d}局",
                        DEADLINES[serial % len(DEADLINES)]])
            if serial % 40 == 0:
                out.append(out[1])  # the header repeated on each page
    return out


def write_txt(path: Path, table: list[list[str]]) -> None:
    def cell(text: str) -> str:
        return f'"{text}"' if "\n" in text else text  # as Excel saves a cell with a line break

    path.write_text("\n".join("\t".join(cell(c) for c in row) for row in table) + "\n", encoding="utf-8")


def write_xlsx(path: Path, table: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    width = len(table[1])
    for r, row in enumerate(table, start=1):
        ws.append(row)
        if len(row) == 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
    wb.save(path)


def write_docx(path: Path, table: list[list[str]]) -> None:
    document = docx.Document()
    document.add_paragraph(table[0][0])
    body = table[1:]
    t = document.add_table(rows=len(body), cols=len(table[1]))
    for r, row in enumerate(body):
        cells = t.rows[r].cells
        for c, text in enumerate(row):
            cells[c].text = text
    document.save(path)


def run(args: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args[:3]} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    table = rows(n)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, writer in ((".txt", write_txt), (".xlsx", write_xlsx), (".docx", write_docx)):
            src = Path(tmp) / f"分解方案{suffix}"
            writer(src, table)
            bare = min(run([sys.executable, "-c", f"p={str(src)!r};{BARE[suffix]}"]) for _ in range(2))
            out = Path(tmp) / f"总台账{suffix}.xlsx"
            cli = min(run([sys.executable, "-m", "workbook.cli", "import", str(src), "-o", str(out), "--year", "2026",
                           "--force"]) for _ in range(2))
            goal = "ok" if cli < 2 else "OVER 2 s"
            print(f"{suffix:6} {n} rows: duban import {cli:.2f} s ({goal}), bare read {bare:.2f} s, "
                  f"ratio {cli / bare:.1f}x")


if __name__ == "__main__":
    main()
