"""``duban split``: one workbook per unit, and per-unit sheets inside the master."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from . import changes as C
from . import form as F
from . import schema as S
from .checks import check_master
from .findings import DubanError, Report
from .language.text import cell_text, is_blank
from .master import (
    Master,
    MasterTransaction,
    master_protected,
    master_transaction,
    open_master_for_edit,
    parse_period,
)
from .ooxml.lock import DEFAULT_WAIT
from .ooxml.safe_write import (
    OUTPUT_TEMP_STALE_AFTER,
    Protected,
    Staged,
    check_outputs,
    checkpoint,
    final_of,
    remove_temps,
    writing,
)
from .procs import default_workers as usable_cores
from .procs import process_pool
from .unitbook import write_unit_workbook
from .updates import SheetUpdate, Updates, apply_to_file, merge
from .validate import issued_content, issued_records

if TYPE_CHECKING:
    from openpyxl import Workbook

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str) -> str:
    """A name Windows accepts as a file name: no reserved characters or device names."""
    safe = _UNSAFE.sub("_", name).strip().rstrip(". ")
    if safe.split(".")[0].upper() in _RESERVED:
        safe = "_" + safe
    return safe[:120] or "_"


def unit_file_name(unit: str, period_label: str, version: int = 1) -> str:
    """``市发改委_2026年6月.xlsx``; a later workbook of the period ``市发改委_2026年6月（第2版）.xlsx``."""
    return f"{safe_filename(unit)}_{period_label}" + (f"（第{version}版）" if version > 1 else "") + ".xlsx"


def sheet_title(unit: str, taken: Iterable[str] = ()) -> str:
    """An Excel sheet name for a unit: at most 31 characters, none of []:*?/\\."""
    base = re.sub(r"[\[\]:*?/\\]", "_", unit).strip("'")[:31] or "_"
    taken = set(taken)
    name, n = base, 2
    while name in taken:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


# ------------------------------------------------------------- sheets inside the master (openpyxl)


def fill_unit_sheet(ws: Any, form: F.UnitForm) -> None:
    """Write ``form`` into an openpyxl worksheet, for staff reviewing inside the master."""
    # openpyxl (and the numpy it loads) only here: a plain split never needs it.
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from .ooxml.styles import (BODY_FONT, BORDER, CENTER, HEADER_FILL, HEADER_FONT, INPUT_FILL, TITLE_FONT, WRAP,
                               print_setup, set_value)

    n_cols = len(F.COLUMNS)
    title, sub = form.title_lines()
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_cols)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n_cols)
    set_value(ws.cell(1, 1), title)
    ws.cell(1, 1).font = TITLE_FONT
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    set_value(ws.cell(2, 1), sub)
    ws.row_dimensions[1].height = 30
    for c, (name, width, _) in enumerate(F.COLUMNS, start=1):
        cell = ws.cell(F.HEADER_ROW, c)
        set_value(cell, name)
        cell.font, cell.fill, cell.alignment, cell.border = HEADER_FONT, HEADER_FILL, CENTER, BORDER
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, values in enumerate(form.rows, start=F.FIRST_ROW):
        ws.row_dimensions[r].height = F.row_height(values)
        for c, (_, _, is_input) in enumerate(F.COLUMNS, start=1):
            cell = ws.cell(r, c)
            value = values[c - 1]
            set_value(cell, None if value == "" else value)
            cell.font, cell.border, cell.alignment = BODY_FONT, BORDER, WRAP
            if is_input:
                cell.fill = INPUT_FILL
    for label in F.FOOTER:
        r = F.footer_row(len(form.rows), label)
        set_value(ws.cell(r, 1), label)
        ws.cell(r, 1).font = Font(name="宋体", bold=True)
    ws.freeze_panes = ws.cell(F.FIRST_ROW, 3)
    print_setup(ws, f"{F.HEADER_ROW}:{F.HEADER_ROW}")


def refresh_unit_sheets(wb: Workbook, master: Master, units: list[str] | None = None,
                        period: str | None = None) -> list[str]:
    """Create or refresh one sheet per unit inside an open master workbook; return the sheet names.

    A sheet named after the unit is replaced in place, so running again refreshes
    the sheets and never duplicates them.
    """
    units = units or master.units_with_tasks()
    written: list[str] = []
    for unit in units:
        form = F.unit_form(master, unit, period)
        name = sheet_title(unit, written + list(S.MASTER_SHEETS))
        if name in wb.sheetnames:
            index = wb.sheetnames.index(name)
            wb.remove(wb[name])
            ws = wb.create_sheet(name, index)
        else:
            ws = wb.create_sheet(name)
        fill_unit_sheet(ws, form)
        written.append(name)
    return written


# ------------------------------------------------------------- the split command


@dataclass
class SplitResult:
    files: dict[str, Path] = field(default_factory=dict)
    no_tasks: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    period: str = ""
    versions: dict[str, int] = field(default_factory=dict)  # unit → version issued (``--changed``)
    what_changed: dict[str, str] = field(default_factory=dict)  # unit → what changed since its last issue
    unchanged: list[str] = field(default_factory=list)  # units not issued again (``--changed``)
    not_issued: list[str] = field(default_factory=list)  # not issued this period, no task changed (``--changed``)
    emptied: list[str] = field(default_factory=list)  # units issued this period that lead no task now
    changes: list[Any] = field(default_factory=list)  # changes recorded in 调整记录 on the way


def write_unit_workbooks(master: Master, out_dir: Path, units: list[str], period: str,
                         password: str | None = None, force: bool = False,
                         created: dt.datetime | None = None, workers: int | None = None,
                         protected: Protected = ()) -> tuple[dict[str, Path], list[F.UnitForm]]:
    """Write one workbook per unit, each to a temp name first, then all renamed into place."""
    with Staged() as staged:
        files, forms = stage_unit_workbooks(staged, master, out_dir, [F.unit_form(master, u, period) for u in units],
                                            password, force, created, workers, protected)
        staged.publish(step="publish")
    return files, forms


def stage_unit_workbooks(staged: Staged, master: Master, out_dir: Path, forms: list[F.UnitForm],
                         password: str | None = None, force: bool = False,
                         created: dt.datetime | None = None, workers: int | None = None,
                         protected: Protected = (),
                         stale_after: float = OUTPUT_TEMP_STALE_AFTER) -> tuple[dict[str, Path], list[F.UnitForm]]:
    """Write the unit workbooks of ``forms`` to temp names in ``staged``; the caller publishes them (or not).

    Temp files of these workbooks older than ``stale_after`` seconds were left by a killed run and
    are removed (0 under the master's lock; otherwise another process may be writing them now)."""
    paths = {f.unit: out_dir / unit_file_name(f.unit, f.period_label, f.version) for f in forms}
    if not force:
        existing = [p.name for p in paths.values() if p.exists()]
        if existing:
            raise DubanError(f"以下文件已存在，未做任何改动（加 --force 覆盖）：{'、'.join(existing[:5])}"
                             + ("等" if len(existing) > 5 else ""))
    files = dict(zip(paths, check_outputs(list(paths.values()), True, protected)))
    remove_temps(out_dir, files.values(), stale_after)
    jobs = [(f, staged.temp(files[f.unit]), password, created) for f in forms]
    workers = max(1, min(workers or 1, len(forms) // 20 or 1))
    if workers == 1:
        for job in jobs:
            _write_one(job)
    else:
        with writing(out_dir), process_pool(workers) as pool:
            list(pool.map(_write_one, jobs, chunksize=16))
    checkpoint("units-temp")
    return files, forms


def _write_one(args: tuple[F.UnitForm, Path, str | None, dt.datetime | None]) -> None:
    with writing(final_of(args[1])):
        write_unit_workbook(*args)
    checkpoint("unit")


# A workbook takes about 1 ms to write; a worker costs its start, the forms sent to it and its
# own prototypes (unitbook): with fewer workbooks than this each, more workers were slower than one.
UNITS_PER_WORKER = 200


def default_workers(units: int | None = None) -> int:
    """Worker processes by default: one per core this process may use (at most 4), and for ``units``
    workbooks no more than pay for themselves."""
    cores = usable_cores()
    return cores if units is None else max(1, min(cores, units // UNITS_PER_WORKER))


def split_master(master_path: Path, out_dir: Path, period: str | None = None, units: list[str] | None = None,
                 force: bool = False, password: str | None = None, in_master: bool = False,
                 workers: int | None = None, wait: float = DEFAULT_WAIT, changed: bool = False) -> SplitResult:
    """Check the master, write one workbook per unit, and record what was issued in the master.

    Under the master's lock: the unit workbooks are written to temp names, the master records
    them (the commit point), then they are renamed into place. A split that fails or is killed
    before the commit leaves no issued file; after it, every file it leaves is recorded. Changes
    of the decomposition not yet in 调整记录 are recorded with the issue.

    ``changed``: only the units whose workbook would differ from their last one of the current
    period (a new version, prefilled with the answers they gave so far), and units not issued yet.
    """
    with master_transaction(master_path, wait, command="split") as tx:
        master = tx.master()
        result = SplitResult(report=check_master(master))
        if not result.report.valid:
            return result
        period = parse_period(period) if period else master.settings.period
        result.period = period
        if changed and period != master.settings.period:
            raise DubanError(f"--changed 只用于当前填报期 {master.settings.period}：新的填报期请不加 --changed 生成全部单位的工作簿")
        directory = master.directory()
        wanted = [directory.canonical(u) for u in units] if units else master.unit_names()
        for name, canonical in zip(units or [], wanted):
            if not canonical:
                raise DubanError(f"单位“{name}”不在台账的“单位”表中")
        result.no_tasks = [u for u in wanted if not master.tasks_of(u)]
        with_tasks = [u for u in wanted if master.tasks_of(u)]
        issued = issued_records(_sheet(tx.path, S.ISSUED))
        if changed:
            forms = _changed_forms(master, tx.path, issued, period, with_tasks, result)
            result.emptied = [u for u in result.no_tasks if (u, period) in issued]
            result.no_tasks = [u for u in result.no_tasks if u not in result.emptied]
        else:
            forms = [F.unit_form(master, u, period) for u in with_tasks]
        with writing(out_dir):
            out_dir.mkdir(parents=True, exist_ok=True)
        with Staged() as staged:
            result.files, forms = stage_unit_workbooks(staged, master, out_dir, forms, password, force,
                                                       workers=workers or default_workers(len(forms)),
                                                       protected=master_protected(tx.path), stale_after=0)
            result.changes = record_issued_in_master(tx, forms, result.files,
                                                     period if period != master.settings.period else None,
                                                     with_tasks if in_master else None)
            staged.publish(step="publish")
    return result


def _sheet(path: Path, name: str) -> list[list[Any]]:
    from .ooxml.xlsx_reader import open_book, sheet_rows

    book = open_book(path)
    return sheet_rows(book, name) if name in book.sheet_names else []


def _changed_forms(master: Master, path: Path, issued: dict[tuple[str, str], list[tuple[str, list[str]]]],
                   period: str, units: list[str], result: SplitResult) -> list[F.UnitForm]:
    """The forms of the units whose tasks changed since their last workbook of ``period``, as new versions.

    A new version is prefilled with the unit's own answers of the period (进展记录), and for a
    task it had before with the master's; a task new to the unit starts blank.
    """
    from .collect import HISTORY_INDEX, latest_answers, read_history

    content = issued_content(_sheet(path, S.ISSUED_CONTENT), period)
    latest = latest_answers(read_history(path, period), period)
    touched = {c.task_id for c in C.of_period(master, period)}
    forms = []
    for unit in units:
        records = issued.get((unit, period), [])
        form = F.unit_form(master, unit, period)
        if records and records[-1][0] == form.digest:
            result.unchanged.append(unit)
            continue
        if not records and not touched & set(form.task_ids):  # left out of this period's issue on purpose
            result.not_issued.append(unit)
            continue
        if records:
            before = records[-1][1]
            answers = {}
            for t in master.tasks_of(unit):
                tid = cell_text(t.get(S.TASK_ID))
                row = latest.get(tid, {}).get(unit)
                if row is not None:
                    answers[tid] = {c: row[HISTORY_INDEX[c]] for c in F.ANSWERED}
                elif tid in before:
                    answers[tid] = t
            form = F.unit_form(master, unit, period, len(records) + 1, answers)
            result.what_changed[unit] = _what_changed(before, content.get(records[-1][0]), form)
        result.versions[unit] = form.version
        forms.append(form)
    return forms


def _what_changed(before: list[str], issued_rows: list[list[Any]] | None, form: F.UnitForm) -> str:
    """``新增 2026-190；调整 2026-010；移出 2026-012`` for a unit's new version."""
    old = {cell_text(r[0]): [F.canonical_value(v) for v in r] for r in issued_rows or []}
    now = {r[0]: [F.canonical_value(v) for v in F.locked(r)] for r in form.rows}
    added = [t for t in now if t not in before]
    gone = [t for t in before if t not in now]
    moved = [t for t in now if t in old and old[t] != now[t]]
    parts = [f"{label} {'、'.join(ids)}" for label, ids in (("新增", added), ("调整", moved), ("移出", gone)) if ids]
    return "；".join(parts) or "任务内容有调整"


def record_issued_in_master(tx: MasterTransaction, forms: list[F.UnitForm], files: dict[str, Path],
                            new_period: str | None = None, unit_sheets: list[str] | None = None) -> list[Any]:
    """Record what was issued (发放记录, 发放内容), move 当前填报期 on, and record the changes made
    before the issue (调整记录, 台账状态): cells patched in place; return the changes recorded.

    openpyxl rewrites the master only to refresh the per-unit sheets inside it (``unit_sheets``).
    """
    master = tx.master()
    changes, updates = issue_updates(master, forms, files, _sheet(tx.path, S.ISSUED_CONTENT),
                                     _sheet(tx.path, S.SETTINGS), new_period)

    def unit_sheets_of(wb: Workbook) -> None:
        refresh_unit_sheets(wb, master, unit_sheets, new_period)

    apply_to_file(tx, updates, unit_sheets_of if unit_sheets else None)
    return changes


def issue_updates(master: Master, forms: list[F.UnitForm], files: dict[str, Path], content: list[list[Any]],
                  settings: list[list[Any]] | None = None, new_period: str | None = None,
                  now: dt.datetime | None = None) -> tuple[list[Any], Updates]:
    """What issuing ``forms`` writes in the master (the command line and the Excel button alike):
    发放记录 rows, the issued locked cells in 发放内容 (kept for the issue's period only),
    当前填报期 when ``new_period``, and the changes made since the last record."""
    now = (now or dt.datetime.now()).replace(microsecond=0)
    period = forms[0].period if forms else new_period or master.settings.period
    updates: Updates = {
        S.ISSUED: SheetUpdate(append=[dict(zip(S.ISSUED_COLUMNS, row)) for row in issued_rows(forms, files, now)]),
        S.ISSUED_CONTENT: _content_update(content, forms, period),
    }
    if new_period:
        values = _period_settings(new_period)
        updates[S.SETTINGS] = SheetUpdate(cells={
            (r, S.SETTING_VALUE): values[key] for r, row in enumerate(settings or [], start=1)
            if row and (key := cell_text(row[0])) in values})
    changes, recorded = C.record(master, now, new_period or master.settings.period)
    return changes, merge(updates, recorded)


def _content_update(content: list[list[Any]], forms: list[F.UnitForm], period: str) -> SheetUpdate:
    """发放内容 rows for the forms whose digest it does not hold yet; rows of other periods go."""
    header = [cell_text(h) for h in content[0]] if content else S.ISSUED_CONTENT_COLUMNS
    rows = [dict(zip(header, r)) for r in content[1:] if any(not is_blank(v) for v in r)]
    kept = [r for r in rows if cell_text(r.get("填报期")) == period]
    stored = {cell_text(r.get("摘要SHA256")) for r in kept}
    new = []
    for f in forms:
        digest = f.digest
        if digest not in stored:
            stored.add(digest)
            payload, size = F.locked_payload(f), S.ISSUED_CONTENT_PART
            new += [dict(zip(S.ISSUED_CONTENT_COLUMNS, [f.period, f.unit, digest, k, payload[at:at + size]]))
                    for k, at in enumerate(range(0, len(payload), size), start=1)]
    if len(kept) < len(rows):
        return SheetUpdate(body=[{c: r.get(c) for c in S.ISSUED_CONTENT_COLUMNS} for r in kept] + new)
    return SheetUpdate(append=new)


def _period_settings(period: str) -> dict[str, Any]:
    """The 设置 values that move with the reporting period."""
    from .master import period_end

    return {S.S_PERIOD: period, S.S_AS_OF: period_end(period)}


def issued_rows(forms: list[F.UnitForm], files: dict[str, Path], now: dt.datetime | None = None) -> list[list[Any]]:
    """The 发放记录 rows for issued forms (one per unit), in ``schema.ISSUED_COLUMNS`` order."""
    now = (now or dt.datetime.now()).replace(microsecond=0)
    return [[f.period, f.unit, f.digest, ",".join(f.task_ids), now, files[f.unit].name] for f in forms]


def refresh_unit_sheets_in_file(master_path: Path, units: list[str] | None = None,
                                wait: float = DEFAULT_WAIT) -> list[str]:
    with master_transaction(master_path, wait, command="split --in-master") as tx:
        master = tx.master()
        report = check_master(master)
        if not report.valid:
            raise DubanError("台账存在错误，请先运行 duban check 修正：" + "；".join(str(f) for f in report.errors[:3]))
        wb = open_master_for_edit(tx.path)
        names = refresh_unit_sheets(wb, master, units)
        tx.save(wb)
    return names
