"""What goes back to units: a findings workbook and marked-up copies of rejected files."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from . import require_safe_xml
from .findings import SEVERITY_LABEL
from .ooxml.safe_write import Protected, write_output
from .ooxml.styles import print_setup, write_table
from .validate import Batch, Submission

ERROR_FILL = PatternFill("solid", fgColor="FF9999")
WARNING_FILL = PatternFill("solid", fgColor="FFE699")
FINDING_HEADERS = ["文件", "单位", "工作表", "单元格", "代码", "级别", "说明", "建议"]


def write_findings_workbook(batch: Batch, path: Path, force: bool = False, protected: Protected = ()) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "校验结果"
    rows = [[s.file, s.unit, f.sheet, f.cell, f.code, SEVERITY_LABEL[f.severity], f.message, f.suggestion]
            for s in batch.submissions for f in s.findings]
    write_table(ws, FINDING_HEADERS, rows, {"文件": 30, "单位": 18, "说明": 70, "建议": 14, "代码": 24},
                wrap=("说明",))
    print_setup(ws, "1:1")
    summary = wb.create_sheet("文件汇总")
    write_table(summary, ["文件", "单位", "填报期", "结论", "错误数", "警告数"], [
        [s.file, s.unit, s.period, "未采用（有更新文件）" if not s.used else ("通过" if s.valid else "退回"),
         sum(f.severity == "error" for f in s.findings), sum(f.severity == "warning" for f in s.findings)]
        for s in batch.submissions], {"文件": 34, "单位": 20})
    write_output(path, wb.save, force, protected)


def marked_copy_path(sub: Submission, out_dir: Path) -> Path:
    return out_dir / f"退回_{sub.path.stem}.xlsx"


def write_marked_copy(sub: Submission, out_dir: Path, force: bool = False, protected: Protected = ()) -> Path | None:
    """A copy of a rejected file with every bad cell filled and commented, ready to send back."""
    require_safe_xml()
    try:
        wb = load_workbook(sub.path)
    except Exception:
        return None  # the file cannot be opened at all: the findings workbook says why
    for f in sub.findings:
        if f.sheet in wb.sheetnames and re.fullmatch(r"[A-Z]{1,3}[0-9]{1,7}", f.cell or ""):
            cell = wb[f.sheet][f.cell]
            if type(cell).__name__ == "MergedCell":
                continue
            cell.fill = ERROR_FILL if f.severity == "error" else WARNING_FILL
            text = f"{SEVERITY_LABEL[f.severity]}：{f.message}" + (f"（建议：{f.suggestion}）" if f.suggestion else "")
            if cell.comment:
                text = cell.comment.text + "\n" + text
            cell.comment = Comment(text, "督查室")
    ws = wb.create_sheet("退回说明", 0) if "退回说明" not in wb.sheetnames else wb["退回说明"]
    ws.delete_rows(1, ws.max_row)
    write_table(ws, ["工作表", "单元格", "级别", "说明", "建议"],
                [[f.sheet, f.cell, SEVERITY_LABEL[f.severity], f.message, f.suggestion] for f in sub.findings],
                {"说明": 80, "建议": 14}, wrap=("说明",))
    if "填报" in wb.sheetnames:
        wb.active = wb.sheetnames.index("退回说明")
    return write_output(marked_copy_path(sub, out_dir), wb.save, force, protected)
