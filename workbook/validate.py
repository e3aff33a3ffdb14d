"""``duban validate``: checking the workbooks units send back.

Each file is checked on its raw zip first (:mod:`workbook.ooxml.zipguard`), then its
values are read with python-calamine and its formulas, merges and hidden rows
from the raw XML. Nothing in a submitted file is executed or evaluated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import gc
import hashlib
import io
import operator
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from . import form as F
from . import schema as S
from .findings import DubanError, Finding, Report
from .language.deadlines import deadline_or_none
from .language.quantities import find_quantities, prepare
from .language.text import cell_text, col_letter, is_blank, to_date
from .language.units import UnitDirectory
from .master import Master, period_label, read_master
from .milestones import Milestone, missed
from .ooxml.numfmt import NumberFormats, percent_number
from .ooxml.safe_write import sha256_file
from .ooxml.sheetxml import SheetScan, scan_book
from .ooxml.xlsx_reader import quiet_native_stderr
from .ooxml.zipguard import inspect_zip
from .procs import process_pool

if TYPE_CHECKING:  # imported where files are read: the Excel plugin imports this module without it (Pyodide)
    from python_calamine import CalamineWorkbook

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
FOREIGN_SUFFIXES = (".xls", ".et", ".ett", ".csv", ".ods", ".wps", ".numbers", ".xlsb")
MAX_TEXT = 5000
_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^[0-9０-９\-－()（） +转]{7,24}$")
STATUS_SYNONYMS = {
    "完成": S.STATUS_DONE, "已经完成": S.STATUS_DONE, "全部完成": S.STATUS_DONE, "已办结": S.STATUS_DONE,
    "推进中": S.STATUS_ON_TRACK, "正常推进": S.STATUS_ON_TRACK, "按序推进": S.STATUS_ON_TRACK,
    "进行中": S.STATUS_ON_TRACK, "序时": S.STATUS_ON_TRACK,
    "落后": S.STATUS_BEHIND, "延期": S.STATUS_BEHIND, "滞后推进": S.STATUS_BEHIND,
    "未开始": S.STATUS_NOT_STARTED, "没启动": S.STATUS_NOT_STARTED, "尚未启动": S.STATUS_NOT_STARTED,
}


@dataclass
class TaskInfo:
    text: str
    deadline_text: str
    due: dt.date | None
    target: str
    steps: tuple[Milestone, ...] = ()
    next_step: str = ""  # 下一节点 as issued for the context's period
    leads: tuple[str, ...] = ()  # the units that lead it now
    cancelled: bool = False


@dataclass
class Context:
    """What validation needs from the master: small, picklable, read once."""

    master_id: str
    year: int
    period: str
    as_of: dt.date
    statuses: tuple[str, ...]
    units: UnitDirectory
    tasks: dict[str, TaskInfo]
    issued: dict[tuple[str, str], list[tuple[str, list[str]]]]  # (unit, period) → [(digest, ids)], version order
    # digest → [(unit, JSON text of the locked rows in form.LOCKED order)] as 发放内容 holds them for this
    # period: parsed only for a file that is not as issued (issued_rows), not 20,000 rows up front
    content: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def canonical(self, name: str) -> str | None:
        return self.units.canonical(name)

    def issued_rows(self, digest: str) -> list[list[Any]] | None:
        """The locked rows of the workbook issued with ``digest``; None without a record of it that
        gives its own digest back (edited in the hidden sheet): the cells are then compared with the
        master as it is. Of several records, the last that does counts."""
        for unit, text in reversed(self.content.get(digest, [])):
            locked = _verified_rows(text, digest, unit, self.master_id, self.year, self.period)
            if locked is not None:
                return locked
        return None


# The task columns context_from_master reads (Master.lead_units and .cancelled read 牵头单位, 完成状态).
CONTEXT_COLUMNS = (S.TASK_ID, S.TEXT, S.DEADLINE_TEXT, S.DUE, S.TARGET, S.LEAD, S.STATUS)


def context_from_master(master: Master, issued_rows: list[list[Any]] | None = None,
                        content_rows: list[list[Any]] | None = None) -> Context:
    """The validation context; 发放记录 and 发放内容 rows come from the master file unless given."""
    s = master.settings
    tasks = {}
    for t in master.tasks:
        tid = cell_text(t.get(S.TASK_ID))
        steps = master.steps_of(tid)
        tasks[tid] = TaskInfo(
            cell_text(t.get(S.TEXT)), cell_text(t.get(S.DEADLINE_TEXT)), t.get(S.DUE), cell_text(t.get(S.TARGET)),
            tuple(steps), F.next_milestone(steps, s.period) if steps else "", master.leads(t), master.cancelled(t))
    issued_rows = master.extra.get(S.ISSUED) if issued_rows is None else issued_rows
    content_rows = master.extra.get(S.ISSUED_CONTENT) if content_rows is None else content_rows
    if (issued_rows is None or content_rows is None) and master.path:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(master.path))

        def rows(name: str) -> list[list[Any]]:
            return book.get_sheet_by_name(name).to_python() if name in book.sheet_names else []

        issued_rows = rows(S.ISSUED) if issued_rows is None else issued_rows
        content_rows = rows(S.ISSUED_CONTENT) if content_rows is None else content_rows
    content: dict[str, list[tuple[str, str]]] = {}
    for (digest, unit), text in content_records(content_rows or [], s.period).items():
        content.setdefault(digest, []).append((unit, text))
    return Context(s.master_id, s.year, s.period, s.as_of, s.statuses, master.directory(), tasks,
                   issued_records(issued_rows or []), content)


def issued_content(rows: list[list[Any]], period: str, master_id: str = "", year: int = 0) -> dict[str, list[list[Any]]]:
    """digest → the locked rows as issued, from the rows of 发放内容 (header first), for ``period`` only.

    With ``master_id`` and ``year``, a record that does not give its own digest back (edited in the
    hidden sheet) is left out: the cells are then compared with the master as it is.
    """
    out: dict[str, list[list[Any]]] = {}
    for (digest, unit), text in content_records(rows, period).items():
        locked = _verified_rows(text, digest, unit, master_id, year, period)
        if locked is not None:
            out[digest] = locked
    return out


def content_records(rows: list[list[Any]], period: str) -> dict[tuple[str, str], str]:
    """(digest, unit) → the JSON text of the locked rows, its parts joined, from the rows of 发放内容
    (header first), for ``period`` only."""
    header = [cell_text(h) for h in rows[0]] if rows else []
    if not all(c in header for c in S.ISSUED_CONTENT_COLUMNS):
        return {}
    period_at, unit_at, digest_at, part_at, text_at = (header.index(c) for c in S.ISSUED_CONTENT_COLUMNS)
    parts: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for row in rows[1:]:
        row = list(row) + [""] * (len(header) - len(row))
        if cell_text(row[period_at]) == period and cell_text(row[digest_at]):
            part = row[part_at] if isinstance(row[part_at], (int, float)) else 0
            parts.setdefault((cell_text(row[digest_at]), cell_text(row[unit_at])), []).append((part, str(row[text_at])))
    return {key: "".join(text for _, text in sorted(chunks)) for key, chunks in parts.items()}


def _verified_rows(text: str, digest: str, unit: str, master_id: str, year: int, period: str) -> list[list[Any]] | None:
    """The locked rows of one 发放内容 record; None when they do not parse or (with ``master_id``) do not
    give ``digest`` back."""
    import json

    try:
        locked = json.loads(text)
        if master_id and F.locked_digest(master_id, year, period, unit, locked) != digest:
            return None
    except (ValueError, TypeError, RecursionError):  # not JSON, or not rows of cells: edited by hand
        return None
    return locked


def issued_records(rows: list[list[Any]]) -> dict[tuple[str, str], list[tuple[str, list[str]]]]:
    """(unit, period) → [(digest, task IDs)] from the rows of 发放记录 (header first)."""
    out: dict[tuple[str, str], list[tuple[str, list[str]]]] = {}
    for row in rows[1:]:
        if len(row) >= 4 and row[0]:
            out.setdefault((cell_text(row[1]), cell_text(row[0])), []).append(
                (cell_text(row[2]), [i for i in cell_text(row[3]).split(",") if i]))
    return out


@dataclass
class Answer:
    task_id: str
    status: str
    progress: int | None
    actual: str
    narrative: str
    problems: str
    next_steps: str


@dataclass
class Submission:
    path: Path
    unit: str = ""
    period: str = ""
    findings: list[Finding] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    reporter: str = ""
    phone: str = ""
    report_date: dt.date | None = None
    sha256: str = ""
    mtime: float = 0.0
    superseded_by: str = ""
    version: int = 0  # which issue of the period the file is (1, 2, …; 发放记录 order)
    tasks: list[str] = field(default_factory=list)  # the tasks whose answers it gives (still the unit's)

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def used(self) -> bool:
        return not self.superseded_by

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "unit": self.unit, "period": self.period, "valid": self.valid,
                "superseded_by": self.superseded_by, "findings": [f.to_dict() for f in self.findings]}


class _Checker:
    def __init__(self, sub: Submission, ctx: Context | None = None) -> None:
        self.sub, self.ctx = sub, ctx  # type: ignore[assignment]  # None only while reading, before any check

    def add(self, code: str, message: str, severity: str = "error", sheet: str = "", cell: str = "",
            suggestion: str = "") -> None:
        self.sub.findings.append(Finding(code, message, severity, self.sub.file, sheet, cell, suggestion))  # type: ignore[arg-type]


def validate_file(path: Path, ctx: Context) -> Submission:
    """All findings for one submitted file; never raises for anything inside the file."""
    return check_submission(*read_submission(path), ctx)


@dataclass
class _Book:
    """What the checks read of a submitted file: its sheet names, _meta, and the cells and XML scan of 填报.

    Plain data: worker processes send it back (see :func:`_reading`). What needs no master (the
    task block's rows) is found there, off the process that checks every file."""

    names: list[str]
    meta: dict[str, Any] | None
    meta_hidden: bool
    form_rows: list[list[Any]]
    task_rows: list[int]  # sheet rows (1-based) of the task block (:func:`_task_rows`)
    form_scan: SheetScan | None
    formats: NumberFormats


def read_submission(path: Path) -> tuple[Submission, _Book | None]:
    """A submitted file read without the master: the findings of the file itself, and what the checks
    need (None when those findings decide the file already). Never raises for anything inside the file."""
    sub = Submission(path=Path(path))
    with _never_raises(sub):
        return sub, _read(sub)
    return sub, None


def check_submission(sub: Submission, book: _Book | None, ctx: Context) -> Submission:
    """``sub`` with the findings of checking what :func:`read_submission` read against the master."""
    if book is not None:
        with _never_raises(sub):
            _check(sub, book, ctx)
    return sub


@contextmanager
def _never_raises(sub: Submission) -> Iterator[None]:
    try:
        yield
    except BaseException as exc:  # a file must never stop the batch (Rust panics are BaseExceptions)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        sub.findings.append(Finding("file-unreadable", f"文件无法读取：{type(exc).__name__}", "error", sub.file))


def _read(sub: Submission) -> _Book | None:
    c = _Checker(sub)
    path = sub.path
    stat = path.stat()
    sub.mtime = stat.st_mtime
    if path.suffix.lower() in FOREIGN_SUFFIXES:
        c.add("file-format", f"文件格式为 {path.suffix}，不予接收：请用 Excel 或 WPS 另存为 .xlsx（Excel 工作簿）后重新发送")
        return None
    guard = inspect_zip(path)
    sub.findings.extend(guard.findings)
    if not guard.ok:
        return None
    sub.sha256 = hashlib.sha256(guard.data).hexdigest()
    from python_calamine import CalamineWorkbook

    try:  # the bytes the guard checked, not the path again
        book = CalamineWorkbook.from_filelike(io.BytesIO(guard.data))
        names = book.sheet_names
    except Exception:
        c.add("file-corrupt", "文件无法打开（已损坏），请重新保存后发送")
        return None
    try:
        scan = scan_book(io.BytesIO(guard.data), (F.FORM,), guard.sheets)
    except Exception:  # malformed workbook.xml or relationships: XML errors of several kinds
        c.add("file-corrupt", "文件内部结构已损坏（工作簿目录无法解析），请用原表重新填写后发送")
        return None
    try:
        with quiet_native_stderr():
            meta = _read_meta(book, names)
            form_rows = book.get_sheet_by_name(F.FORM).to_python(skip_empty_area=False) if F.FORM in names else []
    except BaseException as exc:  # python-calamine's errors, and its Rust panics (a BaseException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        c.add("file-corrupt", "文件内容无法读取（数据损坏，或有超出范围的日期、时间数值），请用原表重新填写后发送")
        return None
    return _Book(names, meta, scan.hidden(F.META), form_rows, _task_rows(form_rows), scan.sheets.get(F.FORM),
                 scan.formats)


def _check(sub: Submission, book: _Book, ctx: Context) -> None:
    """Does the file belong here (master, year, period, unit, issue), and are its rows right."""
    c = _Checker(sub, ctx)
    path, names, meta, form_rows = sub.path, book.names, book.meta, book.form_rows
    name_unit = _unit_from_file_name(path, ctx)
    if meta is None:
        c.add("meta-missing", "文件缺少系统信息（_meta），不是本期下发的填报表：请使用督查室下发的原表填写", sheet=F.META)
        sub.unit = name_unit or ""
        return
    # Identity: one finding naming what the file says and what was expected, and nothing on top.
    if cell_text(meta.get("台账编号")) != ctx.master_id:
        c.add("wrong-master", f"文件不是由本台账下发的（文件的台账编号为 {cell_text(meta.get('台账编号')) or '空'}，"
                              f"本台账为 {ctx.master_id}），请使用督查室本期下发的原表", sheet=F.META, cell="B1")
        return
    if cell_text(meta.get("计划年度")) != str(ctx.year):
        c.add("wrong-year", f"文件年度为 {cell_text(meta.get('计划年度'))}，应为 {ctx.year}", sheet=F.META, cell="B2")
        return
    period = cell_text(meta.get("填报期"))
    sub.period = period
    if period != ctx.period:
        older = period < ctx.period
        c.add("wrong-period", (f"这是往期（{_label(period)}）的文件，" if older else f"文件填报期为 {_label(period)}，")
              + f"本期为 {_label(ctx.period)}：请使用本期下发的表填写", sheet=F.META, cell="B3")
        return
    meta_unit = cell_text(meta.get("单位"))
    unit = ctx.canonical(meta_unit)
    issued = ctx.issued.get((unit, period)) if unit else None
    ids = [cell_text(form_rows[r - 1][0]) for r in book.task_rows]
    owners = [] if issued and any(ids == i for _, i in issued) else _owners(ctx, period, ids)
    if not unit:
        also = f"（表内任务是下发给{'、'.join(owners)}的）" if owners else ""
        c.add("unit-unknown", f"单位“{meta_unit}”不在台账的单位名单中{also}", sheet=F.META, cell="B4")
        return
    if owners and unit not in owners:
        sub.unit = owners[0]
        c.add("wrong-unit", f"文件的系统信息（_meta）中单位为“{meta_unit}”，但表内任务是 {_label(period)} 下发给"
                            f"{'、'.join(owners)}的：请使用本单位下发的原表填写，不要改动 _meta",
              sheet=F.META, cell="B4")
        return
    sub.unit = unit
    if not book.meta_hidden:
        c.add("meta-visible", "系统信息表 _meta 被取消隐藏，请勿改动该表", "warning", sheet=F.META)
    if name_unit != unit:
        shown = name_unit or path.stem
        c.add("name-mismatch", f"文件名（{shown}）与表内单位（{unit}）不一致，已按表内单位“{unit}”处理；"
                               "如果发错了文件，请重新发送", "warning")
    if not issued:
        c.add("not-issued", f"台账中没有向{unit}下发 {_label(period)} 填报表的记录，请使用督查室下发的原表")
        return
    if F.FORM not in names:
        c.add("form-missing", f"找不到“{F.FORM}”工作表（可能被改名或删除），请使用原表填写", sheet=F.FORM)
        return

    _check_rows(c, form_rows, book.task_rows, ids, issued, meta, book.form_scan, book.formats)


def _owners(ctx: Context, period: str, ids: list[str]) -> list[str]:
    """The units that were issued exactly these task rows for ``period``."""
    if not ids:
        return []
    return sorted({unit for (unit, p), records in ctx.issued.items() if p == period
                   and any(ids == issued_ids for _, issued_ids in records)})


def _task_rows(rows: list[list[Any]]) -> list[int]:
    """Sheet rows (1-based) of the task block: from the first data row to the footer.

    Blank rows inside count (an inserted empty row is still an inserted row);
    the blank gap before the footer does not.
    """
    width = len(F.COLUMNS)
    end = next((r for r in range(F.FIRST_ROW, len(rows) + 1) if rows[r - 1] and cell_text(rows[r - 1][0]) in F.FOOTER),
               len(rows) + 1)
    task_rows = list(range(F.FIRST_ROW, end))
    while task_rows and all(is_blank(v) for v in rows[task_rows[-1] - 1][:width]):
        task_rows.pop()
    return task_rows


def _read_meta(book: CalamineWorkbook, names: list[str]) -> dict[str, Any] | None:
    if F.META not in names:
        return None
    rows = book.get_sheet_by_name(F.META).to_python()
    meta = {cell_text(r[0]): (r[1] if len(r) > 1 else "") for r in rows[:40] if r}
    return meta if "台账编号" in meta else None


def _unit_from_file_name(path: Path, ctx: Context) -> str | None:
    stem = re.sub(r"[（(]\d+[)）]$", "", path.stem).strip()
    return ctx.canonical(stem.split("_")[0].strip())


def _label(period: str) -> str:
    try:
        return period_label(period)
    except (ValueError, IndexError):
        return period or "未知"


def _check_rows(c: _Checker, rows: list[list[Any]], task_rows: list[int], ids: list[str],
                issued: list[tuple[str, list[str]]], meta: dict[str, Any], scan: SheetScan | None,
                formats: NumberFormats) -> None:
    """The rows of 填报 (``ids``: the task ID in each of ``task_rows``) against the issue they claim."""
    ctx, sub = c.ctx, c.sub
    width = len(F.COLUMNS)
    header = [cell_text(v) for v in (rows[F.HEADER_ROW - 1] if len(rows) >= F.HEADER_ROW else [])][:width]
    if header != F.HEADERS:
        bad = next((i for i in range(width) if i >= len(header) or header[i] != F.HEADERS[i]), 0)
        c.add("header-changed", f"表头被改动（第 {F.HEADER_ROW} 行），请勿插入、删除或移动列", sheet=F.FORM,
              cell=f"{col_letter(bad + 1)}{F.HEADER_ROW}")
        return

    # The form's cells of each task row, as wide as the form, read once: the checks index them.
    table = {r: _padded(rows[r - 1], width) for r in task_rows}
    expected = issued[-1][1]
    for _, issued_ids in issued:
        if issued_ids == ids:
            expected = issued_ids
    structure_ok = ids == expected
    if not structure_ok:
        _explain_rows(c, ids, expected)

    # Genuine when the locked cells are exactly those of a workbook issued this period (their digest
    # is one 发放记录 holds): then they are what was issued, whatever the office changed since.
    locked_rows = [list(_LOCKED_CELLS(table[r])) for r in task_rows]
    digest = F.locked_digest(ctx.master_id, ctx.year, sub.period, sub.unit, locked_rows)
    matches = [v for v, (d, _) in enumerate(issued, start=1) if d == digest]
    sub.version = matches[-1] if matches else _claimed_version(issued, meta, ids)
    as_issued = locked_rows if matches else ctx.issued_rows(issued[sub.version - 1][0])
    if structure_ok and not matches and not _locked_edits(c, task_rows, ids, locked_rows, as_issued):
        c.add("digest-mismatch", "锁定内容与下发时不一致（文件被改动过），请使用督查室下发的原表重新填写", sheet=F.FORM)
    if cell_text(meta.get("摘要SHA256")) != digest and structure_ok and matches:
        c.add("meta-edited", "系统信息表 _meta 被改动，请勿改动该表", "warning", sheet=F.META)

    if scan is not None:
        last = (task_rows[-1] if task_rows else F.FIRST_ROW) + 1 + len(F.FOOTER)
        for ref in sorted(scan.merges):
            top = int(re.sub(r"[A-Z]", "", ref.split(":")[0]) or 0)
            if F.FIRST_ROW <= top <= last:
                c.add("merged-cells", f"单元格 {ref} 被合并，请取消合并后再填写", sheet=F.FORM, cell=ref.split(":")[0])
        hidden = sorted(r for r in scan.hidden_rows if F.FIRST_ROW <= r <= last)
        if hidden:
            c.add("rows-hidden", f"第 {'、'.join(map(str, hidden[:5]))} 行被隐藏，请取消隐藏", "warning",
                  sheet=F.FORM, cell=f"A{hidden[0]}")
    cells = _Inputs(formats, scan.styles if scan is not None else {}, scan.formulas if scan is not None else set())
    as_issued = as_issued or locked_rows
    # The file's own rows when they are as issued: keyed by the IDs already read.
    issued_rows = dict(zip(ids, locked_rows)) if as_issued is locked_rows else \
        {cell_text(row[0]): row for row in as_issued}
    for r, tid, row in zip(task_rows, ids, locked_rows):
        info = _current(c, r, tid, issued_rows.get(tid, row)) if structure_ok else None
        if info is not None:
            sub.answers.append(_check_answer(c, r, tid, table[r], cells, info))
            sub.tasks.append(tid)
    footer_start = (task_rows[-1] if task_rows else F.FIRST_ROW - 1) + 1
    _check_footer(c, rows, footer_start, cells)
    for r, row in enumerate(rows, start=1):
        if len(row) <= width:  # calamine's rows are as wide as the sheet's used range: mostly the form's
            continue
        extra = [i for i, v in enumerate(row[width:], start=width) if not is_blank(v)]
        if extra:
            c.add("extra-content", "表格右侧有多余内容，不会被采用，请删除", "warning", sheet=F.FORM,
                  cell=f"{col_letter(extra[0] + 1)}{r}")
            break


def _claimed_version(issued: list[tuple[str, list[str]]], meta: dict[str, Any], ids: list[str]) -> int:
    """The issue a file that is not exactly as issued claims to be: by the digest in its _meta,
    else the newest with its task rows, else the newest."""
    claimed = cell_text(meta.get("摘要SHA256"))
    for test in (lambda d, i: d == claimed, lambda d, i: i == ids, lambda d, i: True):
        found = [v for v, (d, i) in enumerate(issued, start=1) if test(d, i)]
        if found:
            return found[-1]
    return len(issued)


def _locked_edits(c: _Checker, task_rows: list[int], ids: list[str], locked_rows: list[list[Any]],
                  as_issued: list[list[Any]] | None) -> bool:
    """locked-cell-changed for every locked cell that differs from what was issued; whether any did.

    Without a record of the issued cells (a workbook issued before 发放内容 existed), the
    cells are compared with the master as it is now.
    """
    ctx = c.ctx
    issued_rows = {cell_text(row[0]): row for row in as_issued or []}
    found = False
    for r, tid, got in zip(task_rows, ids, locked_rows):
        if as_issued is not None:
            want, said = issued_rows.get(tid), "下发时为"
        else:
            info = ctx.tasks.get(tid)
            want = [tid, info.text, info.deadline_text, info.due, info.target, info.next_step] if info else None
            said = "应为"
        if want is None:
            continue
        for col, g, w in zip(F.LOCKED, got, want):
            if col != S.TASK_ID and F.canonical_value(g) != F.canonical_value(w):
                c.add("locked-cell-changed", f"{col}被改动（{said}“{F.canonical_value(w) or '空'}”），请勿改动锁定内容",
                      sheet=F.FORM, cell=f"{F.letter(col)}{r}")
                found = True
    return found


_NOTED = operator.itemgetter(S.TEXT, S.DEADLINE_TEXT, S.TARGET, S.NEXT_MILESTONE)  # where a change of the task shows
_NOTED_AT = operator.itemgetter(*(F.LOCKED.index(c) for c in (S.TEXT, S.DEADLINE_TEXT, S.TARGET, S.NEXT_MILESTONE)))


def _current(c: _Checker, r: int, tid: str, issued_row: list[Any]) -> TaskInfo | None:
    """What the office changed in a task since the file was issued, as info findings; the task as
    the answer is checked against (``None``: the answer is not used, the task is no longer the unit's).

    A requirement holds only when it held for the workbook the unit filled and still holds
    now: an 实际完成值 only when the issued row had a target, 存在问题 for an overdue task only
    when both the issued and the current deadline have passed.
    """
    ctx, unit = c.ctx, c.sub.unit
    info = ctx.tasks.get(tid)

    def note(code: str, message: str, column: str = S.TASK_ID) -> None:
        c.add(code, f"{tid} {message}", "info", sheet=F.FORM, cell=f"{_LETTER[column]}{r}")

    if info is None:
        note("task-removed", "已不在台账中，本单位填报内容未采用")
        return None
    if info.cancelled:
        note("task-cancelled", "任务已撤销，本单位填报内容未采用")
        return None
    if unit not in info.leads:
        note("task-reassigned", f"任务已调整至 {'、'.join(info.leads) or '其他单位'}，本单位填报内容未采用")
        return None
    # The common case, 20,000 times at a province's scale: the issued cells are the task as it is now.
    # A cell equal to trimmed text has that text as its canonical value too: nothing changed. (The
    # text, deadline and target are trimmed by cell_text; the label of the next step is checked. A
    # row of 发放内容 edited into something else than a list takes the general way.)
    if type(issued_row) is list and len(issued_row) >= len(F.LOCKED) and \
            _NOTED_AT(issued_row) == (info.text, info.deadline_text, info.target, info.next_step) and \
            info.next_step == info.next_step.strip():
        return info
    issued = dict(zip(F.LOCKED, issued_row))
    text, deadline, target, step = map(F.canonical_value, _NOTED(issued))
    if text != info.text:
        note("task-revised", f"任务内容已修订（现为“{info.text[:60]}”）", S.TEXT)
    moved = deadline != info.deadline_text
    if moved:
        note("deadline-changed", f"完成时限已由 {deadline or '空'} 调整为 {info.deadline_text or '空'}", S.DEADLINE_TEXT)
    if target != info.target:
        note("target-changed", f"指标目标已由 {target or '无'} 调整为 {info.target or '无'}", S.TARGET)
    if not moved and step != info.next_step:
        note("milestone-changed", f"下一节点已调整为 {info.next_step or '无'}", S.NEXT_MILESTONE)
    if not (moved or target != info.target):
        return info
    due = to_date(issued.get(S.DUE))  # a date cell of the file, or ISO text of 发放内容
    later = max(due, info.due) if due and info.due else None
    return dataclasses.replace(info, due=later, target=info.target if target else "",
                               steps=() if moved else info.steps)


def _explain_rows(c: _Checker, ids: list[str], expected: list[str]) -> None:
    first = next((i for i in range(max(len(ids), len(expected)))
                  if i >= len(ids) or i >= len(expected) or ids[i] != expected[i]), 0)
    row = F.FIRST_ROW + first
    if len(ids) > len(expected):
        code, msg = "row-inserted", f"第 {row} 行是插入的行（下发时共 {len(expected)} 项任务，现有 {len(ids)} 行），请删除插入的行"
    elif len(ids) < len(expected):
        missing = [i for i in expected if i not in ids]
        code, msg = "row-deleted", f"任务行被删除（缺少 {'、'.join(missing[:5])}），请使用原表重新填写"
    elif sorted(ids) == sorted(expected):
        code, msg = "row-moved", f"任务行顺序被改动（第 {row} 行应为 {expected[first]}），请恢复原顺序"
    else:
        code, msg = "task-id-changed", f"任务编号被改动（第 {row} 行应为 {expected[first]}）"
    c.add(code, msg, sheet=F.FORM, cell=f"A{row}")


@dataclass
class _Inputs:
    """How the input cells of the form looked to the user (number formats), and which hold formulas."""

    formats: NumberFormats
    styles: dict[str, int]  # cell → style, for percent and date styles
    formulas: set[str]

    def shown(self, raw: Any, ref: str) -> Any:
        if raw is None or isinstance(raw, str):  # text is text whatever its format: the common case, kept cheap
            return raw
        return self.formats.shown(raw, self.styles.get(ref, 0))

    def percent(self, ref: str) -> bool:
        return self.styles.get(ref, 0) in self.formats.percent


def _padded(row: list[Any], width: int) -> list[Any]:
    """``row`` at least ``width`` cells wide (a missing cell reads as empty text, as calamine gives it)."""
    return row if len(row) >= width else list(row) + [""] * (width - len(row))


# Column letters and row positions of the form, computed once rather than per cell.
_LETTER = {name: F.letter(name) for name in F.HEADERS}
_LOCKED_CELLS = operator.itemgetter(*(F.COL[name] for name in F.LOCKED))  # a row's locked cells, in LOCKED order
_TEXT_INPUTS = [(name, F.COL[name], _LETTER[name]) for name in (S.STATUS, S.ACTUAL, S.NARRATIVE, S.PROBLEMS,
                                                                 S.NEXT_STEPS)]  # _check_answer's order


_PROGRESS_AT = F.COL[S.PROGRESS]
_TEXT_CELLS = operator.itemgetter(*(i for _, i, _ in _TEXT_INPUTS))
# What makes a text cell worth a closer look (:func:`_text_checks`): control characters, tab and carriage
# return (a leading one is a formula-like start); and a first character that starts a formula.
_UNUSUAL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_FORMULA_START = frozenset(s for s in _DANGEROUS_START if s not in ("\t", "\r"))


def _row_texts(c: _Checker, row: list[Any], n: str, cells: _Inputs) -> list[str]:
    """The text inputs of the task row ``n`` (``row``: its cells), in _TEXT_INPUTS order, with their findings.

    At a province's scale this runs for 20,000 rows: a row of plain text in a sheet without formulas,
    which no check of :func:`_text_checks` can flag, is taken in one step; any other row cell by cell.
    """
    if not cells.formulas:
        raws = _TEXT_CELLS(row)
        try:
            joined = "\n".join(raws)
        except TypeError:  # a number or a date among them
            joined = None
        if joined is not None and len(joined) <= MAX_TEXT and not _UNUSUAL.search(joined):
            texts = [v.strip() for v in raws]
            if _FORMULA_START.isdisjoint([t[:1] for t in texts]):
                return texts
    return [_text_checks(c, cells.shown(row[i], letter + n), letter + n, cells.formulas) for _, i, letter in _TEXT_INPUTS]


def _text_checks(c: _Checker, raw: Any, ref: str, formulas: set[str]) -> str:
    is_formula = bool(formulas) and ref in formulas
    if is_formula:
        c.add("formula-in-cell", "单元格中是公式，请直接填写文字或数值，不要使用公式", sheet=F.FORM, cell=ref)
    if raw is None or raw == "":
        return ""
    text = cell_text(raw)
    leading = raw[:1] if isinstance(raw, str) else ""
    if (text.startswith(_DANGEROUS_START) or leading in ("\t", "\r")) and not is_formula:
        c.add("formula-like-text", "内容以 = + - @ 等符号开头，可能被当作公式，已按文字处理；建议去掉开头的符号",
              "warning", sheet=F.FORM, cell=ref)
    if _CONTROL.search(text):
        c.add("control-characters", "内容含有不可见的控制字符，已删除", "info", sheet=F.FORM, cell=ref)
        text = _CONTROL.sub("", text)
    if len(text) > MAX_TEXT:
        c.add("text-too-long", f"内容过长（{len(text)} 字，上限 {MAX_TEXT} 字），请精简", sheet=F.FORM, cell=ref)
        text = text[:MAX_TEXT]
    return text


def _check_answer(c: _Checker, r: int, tid: str, row: list[Any], cells: _Inputs, info: TaskInfo) -> Answer:
    """The answer of the task in sheet row ``r`` (``row``: its cells, as wide as the form)."""
    ctx, n = c.ctx, str(r)
    status, actual, narrative, problems, next_steps = _row_texts(c, row, n, cells)
    status = status.replace(" ", "")
    status_at, progress_at = _LETTER[S.STATUS] + n, _LETTER[S.PROGRESS] + n
    if progress_at in cells.formulas:
        c.add("formula-in-cell", "单元格中是公式，请直接填写数值", sheet=F.FORM, cell=progress_at)
    if not status:
        c.add("status-missing", f"{tid} 未选择完成状态", sheet=F.FORM, cell=status_at)
    elif status not in ctx.statuses:
        guess = STATUS_SYNONYMS.get(status) or next(iter(difflib.get_close_matches(status, ctx.statuses, 1, 0.3)), "")
        c.add("status-invalid", f"完成状态“{status}”不在可选范围（{'、'.join(ctx.statuses)}）内，请从下拉列表选择",
              sheet=F.FORM, cell=status_at, suggestion=guess)
    progress = _progress(c, row[_PROGRESS_AT], progress_at, tid, cells)
    if status == S.STATUS_DONE and progress is not None and progress != 100:
        c.add("status-progress-conflict", f"状态为{S.STATUS_DONE}，完成进度应为 100", sheet=F.FORM, cell=progress_at)
    elif progress == 100 and status in ctx.statuses and status != S.STATUS_DONE:
        c.add("status-progress-conflict", f"完成进度为 100，状态应为{S.STATUS_DONE}", sheet=F.FORM, cell=status_at,
              suggestion=S.STATUS_DONE)
    elif status == S.STATUS_NOT_STARTED and progress not in (None, 0):
        c.add("status-progress-conflict", f"状态为{S.STATUS_NOT_STARTED}，完成进度应为 0", sheet=F.FORM, cell=progress_at)
    if not narrative:
        c.add("narrative-missing", f"{tid} 未填写进展情况", sheet=F.FORM, cell=_LETTER[S.NARRATIVE] + n)
    if not problems:
        overdue = info.due is not None and info.due < ctx.as_of and status != S.STATUS_DONE
        late = missed(info.steps, status, progress, ctx.as_of) if info.steps else []
        if status == S.STATUS_BEHIND or overdue or late:
            why = ("已超过截止日期仍未完成" if overdue else
                   f"已过时间节点“{late[0].label(ctx.year)}”，完成进度未达到 {late[0].share:g}" if late
                   else f"状态为{S.STATUS_BEHIND}")
            c.add("problems-missing", f"{tid} {why}，请填写存在问题", sheet=F.FORM, cell=_LETTER[S.PROBLEMS] + n)
    if info.target:
        if not actual:
            c.add("actual-missing", f"{tid} 有指标目标（{info.target}），请填写实际完成值", sheet=F.FORM,
                  cell=_LETTER[S.ACTUAL] + n)
        elif not actual_parseable(info.target, actual):
            c.add("actual-unparseable", f"实际完成值“{actual[:30]}”无法识别，请写成数值加单位，如“7.8%”“330场”",
                  sheet=F.FORM, cell=_LETTER[S.ACTUAL] + n)
    return Answer(tid, status, progress, actual, narrative, problems, next_steps)


def actual_parseable(target: str, actual: str) -> bool:
    """An actual value is usable when it holds a number wherever the target does."""
    if not re.search(r"\d", prepare(target)) and "同步" not in target:
        return True
    return bool(find_quantities(actual)) or bool(re.fullmatch(r"[+-]?\d+(\.\d+)?", prepare(actual)))


def _progress(c: _Checker, raw: Any, ref: str, tid: str, cells: _Inputs) -> int | None:
    if is_blank(raw):
        c.add("progress-missing", f"{tid} 未填写完成进度", sheet=F.FORM, cell=ref)
        return None
    if isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, (int, float)):
        # 75% typed into the cell is stored as 0.75 with a percent format: the clerk meant 75.
        percent = cells.percent(ref)
        number = percent_number(raw) if percent else float(raw)
        if number.is_integer() and 0 <= number <= 100:
            return int(number)  # the common case: no text to show
        shown = cell_text(cells.shown(raw, ref)) if percent else f"{number:g}"
    else:
        shown = cell_text(cells.shown(raw, ref))
        try:
            number = float(prepare(shown).rstrip("%")) if isinstance(raw, str) else float("nan")
        except ValueError:
            number = float("nan")
        if number != number:
            c.add("progress-invalid", f"完成进度“{shown}”不是数字，请填 0 到 100 的整数", sheet=F.FORM, cell=ref)
            return None
        c.add("progress-as-text", f"完成进度“{shown}”是文本，已按 {number:g} 处理；请填数字，不带 % 号",
              "warning", sheet=F.FORM, cell=ref)
    if not number.is_integer() or not 0 <= number <= 100:
        c.add("progress-invalid", f"完成进度“{shown}”应为 0 到 100 的整数", sheet=F.FORM, cell=ref)
        return None
    return int(number)


def _check_footer(c: _Checker, rows: list[list[Any]], start: int, cells: _Inputs) -> None:
    found: dict[str, tuple[int, Any]] = {}
    for r in range(start, min(len(rows), start + 10) + 1):
        label = cell_text(rows[r - 1][0]) if rows[r - 1] else ""
        if label in F.FOOTER and label not in found:
            found[label] = (r, rows[r - 1][1] if len(rows[r - 1]) > 1 else "")
    sub = c.sub
    for label, code in ((F.REPORTER, "reporter-missing"), (F.PHONE, "phone-missing"),
                        (F.REPORT_DATE, "report-date-missing")):
        if label not in found:
            c.add("footer-missing", f"找不到“{label}”一栏，请使用原表填写", sheet=F.FORM)
            continue
        r, raw = found[label]
        ref = f"B{r}"
        if is_blank(raw):
            c.add(code, f"请填写{label}", "warning" if label == F.REPORT_DATE else "error", sheet=F.FORM, cell=ref)
            continue
        if label == F.REPORT_DATE:
            sub.report_date = _as_date(raw, c.ctx.year)
            if sub.report_date is None:
                c.add("report-date-invalid", f"填报日期“{cell_text(cells.shown(raw, ref))}”无法识别，请填写如 2026-06-25",
                      "warning", sheet=F.FORM, cell=ref)
            continue
        text = _text_checks(c, cells.shown(raw, ref), ref, cells.formulas)
        if label == F.REPORTER:
            sub.reporter = text
        else:
            sub.phone = text
            if not _PHONE.match(text):
                c.add("phone-invalid", f"联系电话“{text[:20]}”格式不对，请填写手机或座机号码", "warning",
                      sheet=F.FORM, cell=ref)


def _as_date(raw: Any, year: int) -> dt.date | None:
    # parse_deadline takes date cells, serials and written dates alike; only a single date will do here.
    deadline = deadline_or_none(raw, year)
    return deadline.due if deadline and deadline.kind == "date" else None


# ------------------------------------------------------------------ batches


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Submitted files under ``paths`` (folders searched recursively), lock and temp files skipped."""
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in WORKBOOK_SUFFIXES + FOREIGN_SUFFIXES \
                        and not f.name.startswith(("~$", ".")):
                    out.append(f)
        elif p.is_file():
            out.append(p)
        else:
            raise DubanError(f"找不到文件或文件夹：{p}")
    return out


# Below this many files one process reads them sooner than worker processes would: starting two
# workers costs ~35 ms on 2 cores, a file ~1.1 ms to read (crossover measured between 24 and 32 files).
POOL_MIN_FILES = 32


@contextmanager
def _reading(files: list[Path], workers: int) -> Iterator[Iterator[tuple[Submission, _Book | None]]]:
    """The files read (:func:`read_submission`), in order.

    With ``workers`` > 1 and enough files, worker processes read them, starting at once: what this
    process does meanwhile (reading the master, checking the files already read) overlaps their work,
    and the master's context never has to be sent to them. Otherwise each file is read when asked for.
    """
    if workers <= 1 or len(files) < POOL_MIN_FILES:
        yield (read_submission(f) for f in files)
        return
    import python_calamine  # noqa: F401  # loaded once here, before the workers fork, not once in each of them

    with process_pool(workers) as pool:
        try:
            read = pool.map(_read_in_worker, files, chunksize=max(1, min(32, len(files) // (workers * 8))))
            yield ((Submission(path, findings=findings, sha256=sha, mtime=mtime), book)
                   for path, (findings, sha, mtime, book) in zip(files, read))
        except BaseException:  # e.g. the master cannot be read: stop reading files at once
            pool.shutdown(wait=False, cancel_futures=True)
            raise


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while the master is read and the files are checked.

    They make hundreds of thousands of objects at a province's scale (the master's 20,000 tasks,
    every file's cells) and no reference cycles; collections that walk them all took 0.05 s of this
    process's 0.7 s at 1,000 units. Entered after the workers started: they collect as ever.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What was made meanwhile goes to the oldest generation as it is (freeze, then unfreeze: two
            # list splices). Re-enabled as it stood, the next collection would walk it all (10 ms).
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _read_in_worker(path: Path) -> tuple[list[Finding], str, float, _Book | None]:
    sub, book = read_submission(path)
    return sub.findings, sub.sha256, sub.mtime, book  # what the file gave: the path is known there


def _checked(reads: Iterator[tuple[Submission, _Book | None]], ctx: Context, keep_answers: bool,
             progress: Callable[[int, int], None] | None, total: int) -> list[Submission]:
    subs = []
    for i, (sub, book) in enumerate(reads, start=1):
        check_submission(sub, book, ctx)
        if not keep_answers:
            sub.answers = []  # validation alone needs findings only: memory stays flat
        subs.append(sub)
        if progress:
            progress(i, total)
    return subs


def mark_superseded(subs: list[Submission]) -> None:
    """Several files for one unit and period: the newest (填报日期, then file time) is used."""
    groups: dict[tuple[str, str], list[Submission]] = {}
    for s in subs:
        if s.unit and s.period:
            groups.setdefault((s.unit, s.period), []).append(s)
    for group in groups.values():
        if len(group) < 2:
            continue
        # A newer issue first (a version sent after a change), then the newer file of one issue.
        group.sort(key=lambda s: (s.version, s.report_date or dt.date.min, s.mtime), reverse=True)
        newest = group[0]
        covered = set(newest.tasks)
        everything = not newest.tasks  # rows not read (a broken file): the newest file decides, as ever
        for s in group[1:]:
            left = [t for t in s.tasks if t not in covered]
            if everything or not left:
                s.superseded_by = newest.file
                s.findings.append(Finding("superseded", f"同一单位同一期有更新的文件 {newest.file}，本文件未采用",
                                          "info", s.file))
                continue
            # An older issue returned too: its answers count for the tasks no newer file holds.
            taken = [t for t in s.tasks if t in covered]
            if taken:
                s.answers = [a for a in s.answers if a.task_id not in covered]
                s.findings.append(Finding("partly-superseded", f"{'、'.join(taken[:5])}{'等' if len(taken) > 5 else ''} "
                                          f"以同一单位更新的文件 {newest.file} 为准，本文件只采用其余 {len(left)} 项任务",
                                          "info", s.file))
            s.tasks = left
            covered.update(left)
            everything = everything or not s.tasks


@dataclass
class Batch:
    submissions: list[Submission]
    # None: validated against the master's context kept from an earlier run. Read by master_context,
    # its tasks hold only CONTEXT_COLUMNS.
    master: Master | None
    master_path: Path | None = None

    @property
    def valid(self) -> bool:
        return all(s.valid for s in self.submissions)

    def report(self) -> Report:
        report = Report()
        for s in self.submissions:
            report.extend(s.findings)
        report.stats = self.stats()
        return report

    def stats(self) -> dict[str, Any]:
        used = [s for s in self.submissions if s.used]
        return {"files": len(self.submissions), "valid": sum(1 for s in self.submissions if s.valid),
                "with_errors": sum(1 for s in self.submissions if not s.valid),
                "superseded": sum(1 for s in self.submissions if not s.used),
                "units_accepted": len({s.unit for s in used if s.valid})}

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "stats": self.stats(), "files": [s.to_dict() for s in self.submissions]}


def validate_paths(paths: Iterable[Path], master_path: Path, workers: int = 1,
                   progress: Callable[[int, int], None] | None = None, keep_answers: bool = False) -> Batch:
    return validate_loading(paths, lambda: master_context(Path(master_path)), Path(master_path), workers, progress,
                            keep_answers)


def validate_loading(paths: Iterable[Path], load: Callable[[], tuple[Context, Master | None]], master_path: Path,
                     workers: int = 1, progress: Callable[[int, int], None] | None = None,
                     keep_answers: bool = False) -> Batch:
    """Validate the files at ``paths`` against the context ``load()`` returns (with the master, if read).

    Worker processes start on the files before ``load`` runs: reading the master here overlaps
    their work (at 1,000 files, a third of a second on 2 cores)."""
    files = find_files(paths)
    with _reading(files, workers) as reads, _no_cycle_collection():
        ctx, master = load()
        subs = _checked(reads, ctx, keep_answers, progress, len(files))
    mark_superseded(subs)
    return Batch(subs, master, master_path)


def master_context(path: Path) -> tuple[Context, Master | None]:
    """The validation context of the master at ``path``, and the master when it had to be read: a
    context kept from an earlier run is used when the master is byte for byte the same
    (:mod:`workbook.validation_cache`)."""
    from . import validation_cache as cache

    kept = cache.load(cache.cache_key(sha256_file(path))) if path.is_file() else None
    if kept is not None:
        return kept, None
    master = read_master(path, with_changes=False, extra=(S.ISSUED, S.ISSUED_CONTENT), task_columns=CONTEXT_COLUMNS)
    ctx = context_from_master(master)
    if sha256_file(path) == master.sha256:  # hashed before it was read and still the same: kept under that hash
        cache.keep(cache.cache_key(master.sha256), ctx)
    return ctx, master


def validate_batch(paths: Iterable[Path], master: Master, ctx: Context, workers: int = 1,
                   progress: Callable[[int, int], None] | None = None, keep_answers: bool = False) -> Batch:
    return validate_loading(paths, lambda: (ctx, master), master.path, workers, progress, keep_answers)



