"""Button scripts of the 操作台 (control panel).

Each script reads every range it needs once per sheet, computes everything with
:mod:`workbook`, and only then writes, one block per sheet: a failure leaves the
workbook unchanged and shows a Chinese message box.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Callable

import xlwings as xw

from workbook import form as F
from workbook import schema as S
from workbook.checks import check_master
from workbook.collect import history_rows, plan_collect, reported_units
from workbook.findings import SEVERITY_LABEL, DubanError
from workbook.fixes import plan_fixes
from workbook.language.text import col_letter
from workbook.master import SHEET_LAYOUTS
from workbook.metrics import compute
from workbook.report import bulletin, table_values
from workbook.split import issue_updates, sheet_title, write_unit_workbooks
from workbook.updates import Grid, SheetUpdate, Updates
from workbook.validate import context_from_master, validate_batch
from workbook.word.notices import plan_notices, render_notices
from workbook.word.tongbao import write_tongbao

from . import datadir
from .bookio import PANEL, alert, desktop_path, read_master, replace_sheet, sheet_names, status, write_block
from .decorators import ON_SERVER, script

CHECK_SHEET = "校验结果"
LIGHT_COLUMNS = [S.SCHEDULE, S.LIGHT]

# Script name → (button caption, shape name, panel cell); the template and the
# decorators below take their button bindings from here.
BUTTONS: dict[str, tuple[str, str, str]] = {
    "duban_check_master": ("校验台账", "btn_check", "D4"),
    "duban_unit_sheets": ("生成单位表", "btn_unit_sheets", "D7"),
    "duban_export_units": ("导出单位工作簿", "btn_export", "D10"),
    "duban_collect": ("汇总报送", "btn_collect", "D13"),
    "duban_rates": ("计算完成率", "btn_rates", "D16"),
    "duban_report": ("生成报表", "btn_report", "D19"),
    "duban_tongbao": ("生成通报", "btn_tongbao", "D22"),
    "duban_notices": ("生成督办单", "btn_notices", "D25"),
    "duban_apply_changes": ("应用调整", "btn_apply", "D28"),
}


# Under xlwings Server, scripts that write files in the data folder run only for
# users who hold this role (xlwings-server's authentication; see the README).
WRITER_ROLE = "duban.write"


def _button(name: str, writes_files: bool = False) -> dict[str, Any]:
    caption, shape, cell = BUTTONS[name]
    options: dict[str, Any] = {"name": caption, "button": f"[{shape}]{PANEL}!{cell}", "show_taskpane": False}
    if writes_files:
        options["required_roles"] = [WRITER_ROLE]
    return options


def run_caller(name: str) -> None:
    """Classic desktop Excel: each button's VBA Sub runs
    ``RunPython "import xlplugin.scripts as s; s.run_caller('<script>')"`` on the calling book."""
    if name not in BUTTONS:
        raise ValueError(f"unknown script {name!r}")
    globals()[name](xw.Book.caller())


def text_safe(value: Any) -> Any:
    """Text that Excel would read as a formula gets a leading apostrophe (stored as text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _safe_block(values: list[list[Any]]) -> list[list[Any]]:
    return [[text_safe(v) for v in row] for row in values]


def guarded(title: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Show failures as a Chinese message box instead of a traceback."""

    def wrap(f: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(f)
        def run(book: xw.Book) -> None:
            status(book, f"督办：正在{title}……")
            try:
                f(book)
            except DubanError as exc:
                alert(book, f"{title}未完成：{exc}", "督办")
            except Exception as exc:  # an unexpected bug must not show a traceback to staff
                alert(book, f"{title}未完成：程序内部错误（{type(exc).__name__}）。工作簿未被修改。", "督办")
            finally:
                status(book, None)

        return run

    return wrap


@script(**_button("duban_check_master"))
@guarded("校验台账")
def duban_check_master(book: xw.Book) -> None:
    """校验台账: findings into the 校验结果 sheet, each linking to its cell."""
    master, _ = read_master(book)
    report = check_master(master)
    counts = _write_check(book, report)
    alert(book, f"校验完成：错误 {counts['error']} 项，警告 {counts['warning']} 项。详见“{CHECK_SHEET}”表。")


def _link(sheet: str, cell: str) -> str:
    where = f"{sheet}!{cell}" if cell else sheet
    return f'=HYPERLINK("#\'{sheet}\'!{cell}","{where}")' if sheet and cell else where


def _write_check(book: xw.Book, report: Any, fixes: list[Any] = ()) -> dict[str, int]:
    """The 校验结果 sheet: what was fixed (应用调整), then the findings, each linking to its cell."""
    rows: list[list[Any]] = [["级别", "代码", "位置", "说明", "建议"]]
    for f in fixes:
        rows.append(["已修正", "fixed", _link(f.sheet, f.cell), text_safe(f.message), None])
    for f in report.sorted():
        rows.append([SEVERITY_LABEL[f.severity], f.code, _link(f.sheet, f.cell), text_safe(f.message),
                     text_safe(f.suggestion)])
    counts = report.counts()
    rows.append([f"错误 {counts['error']} 项，警告 {counts['warning']} 项", None, None, None, None])
    replace_sheet(book, CHECK_SHEET, rows)
    return counts


@script(**_button("duban_unit_sheets"))
@guarded("生成单位表")
def duban_unit_sheets(book: xw.Book) -> None:
    """生成单位表: one sheet per unit inside the master, refreshed in place."""
    master, _ = read_master(book)
    _refuse_errors(master)
    blocks = []
    taken = list(S.MASTER_SHEETS) + [PANEL, CHECK_SHEET]
    for unit in master.units_with_tasks():
        name = sheet_title(unit, taken)
        taken.append(name)
        blocks.append((name, _safe_block(F.form_values(F.unit_form(master, unit)))))
    for name, values in blocks:
        replace_sheet(book, name, values)
    alert(book, f"已生成 {len(blocks)} 个单位的填报表。")


@script(**_button("duban_export_units", writes_files=True))
@guarded("导出单位工作簿")
def duban_export_units(book: xw.Book) -> None:
    """导出单位工作簿: a folder of unit workbooks beside the master (classic) or in the office's data folder (Server)."""
    master, rows = read_master(book)
    _refuse_errors(master)
    out = _files_dir(book, master, "导出单位工作簿", datadir.period_folder(master.settings.period), create=True)
    files, forms = write_unit_workbooks(master, out, master.units_with_tasks(), master.settings.period,
                                        force=True, workers=1)
    changes, updates = issue_updates(master, forms, files, rows.get(S.ISSUED_CONTENT, []))
    _apply_updates(book, rows, updates)
    alert(book, f"已导出 {len(files)} 个单位工作簿到 {_shown(out)}。请保存台账（发放记录已更新"
                + (f"，{len(changes)} 项调整已记入“{S.CHANGES}”" if changes else "") + "）。")


@script(**_button("duban_collect", writes_files=True))
@guarded("汇总报送")
def duban_collect(book: xw.Book) -> None:
    """汇总报送: validate the 报送文件 folder beside the master (classic) or in the office's data folder (Server), and merge."""
    master, rows = read_master(book)
    inbox = _files_dir(book, master, "汇总报送", datadir.INBOX)
    ctx = context_from_master(master, rows.get(S.ISSUED, []), rows.get(S.ISSUED_CONTENT, []))
    batch = validate_batch(datadir.regular_files(inbox), master, ctx, keep_answers=True)
    history = history_rows(rows.get(S.HISTORY, []))
    result, plan = plan_collect(batch, history)
    tasks = rows[S.TASKS]
    header = [str(h) for h in tasks[0]]
    for row, values in plan.updates.items():
        for col, value in values.items():
            if col in header:
                tasks[row - 1][header.index(col)] = value
    first, last = header.index(S.TRACKING_COLUMNS[0]), max(header.index(c) for c in S.TRACKING_COLUMNS)
    block = _safe_block([r[first:last + 1] for r in tasks[1:]])
    # (an old 进展记录 without 发放版本 gets the column's header)
    _apply_updates(book, rows, {S.HISTORY: SheetUpdate(append=[dict(zip(S.HISTORY_COLUMNS, r))
                                                                for r in plan.history_rows])})
    write_block(book.sheets[S.TASKS], f"{col_letter(first + 1)}2", block)
    rejected = [s.file for s in batch.submissions if not s.valid]
    alert(book, f"已汇总 {len(result.accepted)} 个文件，退回 {len(rejected)} 个"
                + (f"（{'、'.join(rejected[:5])}）" if rejected else "")
                + f"；催报 {len(result.missing_units)} 个单位。请保存台账。")


@script(**_button("duban_rates"))
@guarded("计算完成率")
def duban_rates(book: xw.Book) -> None:
    """计算完成率: 完成率, 序时进度 and 灯 in 任务分解 (the sheet's conditional formats colour the lights)."""
    master, rows = read_master(book)
    metrics = compute(master)
    header = [str(h) for h in rows[S.TASKS][0]]
    by_id = metrics.tasks.set_index(S.TASK_ID)
    ids = [str(r[header.index(S.TASK_ID)]) for r in rows[S.TASKS][1:]]
    rates = [[_number(by_id.at[i, S.RATE]) if i in by_id.index else None] for i in ids]
    extra = [[_number(by_id.at[i, "序时进度"]), by_id.at[i, "灯"]] if i in by_id.index else [None, None] for i in ids]
    sheet = book.sheets[S.TASKS]
    write_block(sheet, f"{col_letter(header.index(S.RATE) + 1)}2", rates)
    start = header.index(LIGHT_COLUMNS[0]) if LIGHT_COLUMNS[0] in header else len(header)
    write_block(sheet, f"{col_letter(start + 1)}1", [LIGHT_COLUMNS] + extra)
    counts = metrics.tasks["灯"].value_counts()
    alert(book, f"已更新完成率和红黄绿灯：红 {counts.get('红', 0)}，黄 {counts.get('黄', 0)}，绿 {counts.get('绿', 0)}。")


@script(**_button("duban_report"))
@guarded("生成报表")
def duban_report(book: xw.Book) -> None:
    """生成报表: the bulletin sheets inside the master (charts are in the `duban report` file)."""
    master, rows = read_master(book)
    metrics, tables = _bulletin(master, rows)
    for name, table in tables.items():
        replace_sheet(book, f"通报-{name}", _safe_block(table_values(table)))
    alert(book, f"已生成通报 {len(tables)} 张表（截至 {metrics.as_of.isoformat()}）。")


@script(**_button("duban_tongbao", writes_files=True))
@guarded("生成通报")
def duban_tongbao(book: xw.Book) -> None:
    """生成通报: the Word 通报 (GB/T 9704) in a folder beside the master (classic) or in the data folder (Server)."""
    master, rows = read_master(book)
    metrics, tables = _bulletin(master, rows)
    out = _files_dir(book, master, "生成通报", datadir.period_folder(master.settings.period, "督查通报"), create=True)
    path = out / f"督查通报_{master.settings.period_label}.docx"
    write_tongbao(master, metrics, tables, path, force=True)
    alert(book, f"已生成 Word 通报：{_shown(out)}/{path.name}")


@script(**_button("duban_notices", writes_files=True))
@guarded("生成督办单")
def duban_notices(book: xw.Book) -> None:
    """生成督办单: one 督办通知单 per unit with red tasks, in a folder beside the master (classic) or in the
    data folder (Server); the numbers go into the open book's 督办记录, which staff then save."""
    master, rows = read_master(book)
    notices = plan_notices(master, compute(master), rows.get(S.NOTICES, [[]])[1:])
    if not notices:
        alert(book, "没有红灯或逾期任务，无需下发督办通知单。")
        return
    out = _files_dir(book, master, "生成督办单", datadir.period_folder(master.settings.period, "督办通知单"),
                     create=True)
    render_notices(master, notices, out, force=True)
    now = dt.datetime.now().replace(microsecond=0)
    _append_rows(book, S.NOTICES, [n.record(now) for n in notices if n.new], rows.get(S.NOTICES))
    alert(book, f"已生成 {len(notices)} 份督办通知单（{notices[0].code}至{notices[-1].code}）到 {_shown(out)}。"
                f"反馈期限 {notices[0].reply_by.isoformat()}（只跳过周末，未计法定节假日，请核对）。"
                "请保存台账（督办记录已更新）。")


@script(**_button("duban_apply_changes"))
@guarded("应用调整")
def duban_apply_changes(book: xw.Book) -> None:
    """应用调整: what ``duban check --fix`` does (the same plan), written into the open book; shows 调整记录.

    New units are not added to 单位 here (the command line's --add-units): in Excel staff add the row.
    """
    master, rows = read_master(book)
    plan = plan_fixes(master)
    _apply_updates(book, rows, plan.updates)
    counts = _write_check(book, check_master(plan.master), plan.fixes)
    if S.CHANGES in sheet_names(book):
        book.sheets[S.CHANGES].activate()
    if not (plan.fixes or plan.changes or plan.first_record):
        alert(book, f"无需修正，也没有新的调整。校验：错误 {counts['error']} 项，警告 {counts['warning']} 项。")
        return
    alert(book, f"已修正 {len(plan.fixes)} 处、记入“{S.CHANGES}” {len(plan.changes)} 条（请补填批复文号、备注）；"
                f"校验：错误 {counts['error']} 项，警告 {counts['warning']} 项，详见“{CHECK_SHEET}”表。请保存台账。")


def _apply_updates(book: xw.Book, rows: dict[str, list[list[Any]]], updates: Updates) -> None:
    """Write a plan of :mod:`workbook.updates` into the open book, as the file route patches it: changed
    cells (a run of one column per call), rows appended below the last, or a sheet's rows replaced."""
    for name, update in updates.items():
        existing = rows.get(name)
        if existing is None:  # a sheet this book lacks (a master made before it existed)
            existing = [list(S.SHEET_COLUMNS.get(name, []))]
            sheet = replace_sheet(book, name, existing)
            if SHEET_LAYOUTS.get(name, ((), {}, (), False))[3]:
                sheet.visible = False
        grid = Grid(existing[0])
        sheet = book.sheets[name]
        if update.body is not None:
            body = [grid.row(v) for v in update.body + update.append]
            blank = [[None] * len(grid.header) for _ in range(len(existing) - 1 - len(body))]
            write_block(sheet, "A2", _safe_block(_plain(body + blank)))
        else:
            columns: dict[int, dict[int, Any]] = {}
            for (r, column), value in update.cells.items():
                columns.setdefault(grid.column(column), {})[r] = value
            for c, cells in columns.items():
                run: list[int] = []
                for r in sorted(cells) + [0]:
                    if run and r != run[-1] + 1:
                        write_block(sheet, f"{col_letter(c + 1)}{run[0]}",
                                    _safe_block(_plain([[cells[x]] for x in run])))
                        run = []
                    run.append(r)
            if update.append:
                block = [grid.row(v) for v in update.append]
                write_block(sheet, f"A{max(len(existing), 1) + 1}", _safe_block(_plain(block)))
        if grid.added:
            write_block(sheet, "A1", [grid.header])


def _bulletin(master: Any, rows: dict[str, list[list[Any]]]) -> tuple[Any, dict[str, Any]]:
    """The bulletin's metrics and tables from the open book (its 进展记录 says who reported)."""
    metrics = compute(master)
    history = history_rows(rows.get(S.HISTORY, []))
    return metrics, bulletin(master, metrics, reported_units(history, master.settings.period))


def _refuse_errors(master: Any) -> None:
    report = check_master(master)
    if not report.valid:
        first = report.errors[0]
        raise DubanError(f"台账有 {len(report.errors)} 处错误，请先点“校验台账”并修正（如 {first.sheet}!{first.cell}：{first.message}）")


def _files_dir(book: xw.Book, master: Any, what: str, name: str, create: bool = False) -> Path:
    """The folder a file-handling script works in: beside the master on the desktop, in the
    office's data folder under the server; Lite has no file system."""
    if ON_SERVER:
        return datadir.subfolder(datadir.office_dir(master.settings.master_id), name, create)
    path = desktop_path(book)
    if path is None:
        raise DubanError(f"“{what}”需要读写文件，只能在桌面版 Excel 或 xlwings Server 中使用；"
                         "xlwings Lite 中请用命令行 duban")
    folder = path.parent / name
    if create:
        folder.mkdir(exist_ok=True)
    elif not folder.is_dir():
        raise DubanError(f"找不到文件夹 {folder}：请把各单位发回的文件放在台账旁的“{name}”文件夹中")
    return folder


def _shown(folder: Path) -> str:
    """Where files went, as the user may be told: no server path goes to a client."""
    return f"数据文件夹 {folder.parent.name}/{folder.name}" if ON_SERVER else str(folder)


def _append_rows(book: xw.Book, sheet_name: str, values: list[list[Any]], existing: list[list[Any]] | None) -> None:
    """Append below the ``existing`` rows (as read_master read them: one read per sheet, not two)."""
    if not values:
        return
    if existing is None:
        headers = {S.ISSUED: S.ISSUED_COLUMNS, S.NOTICES: S.NOTICE_COLUMNS}[sheet_name]
        replace_sheet(book, sheet_name, [headers])
    next_row = max(len(existing or []), 1) + 1
    write_block(book.sheets[sheet_name], f"A{next_row}", _safe_block(_plain(values)))


def _plain(values: list[list[Any]]) -> list[list[Any]]:
    return [[v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row] for row in values]


def _number(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


