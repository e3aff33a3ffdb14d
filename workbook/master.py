"""The master workbook (总台账): building it, writing it, reading it back."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator


from . import require_safe_xml
from . import schema as S
from .findings import DubanError, Report
from .language.deadlines import deadline_or_none
from .language.text import cell_text, col_letter, is_blank, to_date
from .language.units import UnitDirectory, join_units, unit_kind, unit_list
from .milestones import Milestone, by_task, milestone_rows
from .ooxml.lock import DEFAULT_WAIT, MasterLock, ensure_not_open
from .ooxml.safe_write import (
    WriteError,
    atomic_write,
    backup_dir,
    checkpoint,
    make_backup,
    real_path,
    remove_temps,
    rotate_backups,
    sha256_file,
    temp_name,
)
from .ooxml.xlsx_reader import open_book, sheet_rows

if TYPE_CHECKING:  # openpyxl, patching and decompositions are imported where used: reading stays fast
    from concurrent.futures import Executor

    from openpyxl import Workbook

    from .ooxml.sheetpatch import SheetEdits
    from .sources.decomposition import Decomposition


@dataclass
class Settings:
    year: int
    period: str
    as_of: dt.date
    report_day: int = S.DEFAULT_REPORT_DAY
    statuses: tuple[str, ...] = S.STATUSES
    lag_red: float = S.DEFAULT_LAG_RED
    due_soon: int = S.DEFAULT_DUE_SOON
    master_id: str = ""
    title: str = ""
    head: str = ""
    schema_version: int = S.SCHEMA_VERSION
    backup_keep: int = S.DEFAULT_BACKUP_KEEP
    backup_months: int = S.DEFAULT_BACKUP_MONTHS
    issuer: str = S.DEFAULT_ISSUER
    addressees: str = ""
    next_steps: str = ""
    reply_days: int = S.DEFAULT_REPLY_DAYS

    def rows(self) -> list[tuple[str, Any]]:
        return [
            (S.S_TITLE, self.title), (S.S_HEAD, self.head), (S.S_YEAR, self.year),
            (S.S_PERIOD, self.period), (S.S_AS_OF, self.as_of), (S.S_REPORT_DAY, self.report_day),
            (S.S_STATUSES, "、".join(self.statuses)), (S.S_LAG_RED, self.lag_red),
            (S.S_DUE_SOON, self.due_soon), (S.S_MASTER_ID, self.master_id),
            (S.S_SCHEMA, self.schema_version), (S.S_BACKUP_KEEP, self.backup_keep),
            (S.S_BACKUP_MONTHS, self.backup_months),
            (S.S_ISSUER, self.issuer), (S.S_ADDRESSEES, self.addressees),
            (S.S_NEXT_STEPS, self.next_steps or default_next_steps(self.report_day)),
            (S.S_REPLY_DAYS, self.reply_days),
        ]

    @property
    def period_label(self) -> str:
        return period_label(self.period)

    @property
    def plan_start(self) -> dt.date:
        return dt.date(self.year, 1, 1)


def default_next_steps(report_day: int) -> str:
    """The 通报's 下步工作要求 until the office writes its own in 设置 (one paragraph a line)."""
    return "\n".join([
        "（一）加快推进滞后任务。各牵头单位要对逾期、红灯和未启动任务逐项分析原因，制定整改措施，"
        "明确责任人和完成时限，确保尽快赶上序时进度。",
        "（二）压紧压实工作责任。牵头单位主要负责同志要亲自研究部署，协调解决推进中的困难和问题；"
        "配合单位要主动对接、协同推进，形成工作合力。",
        f"（三）按时准确报送进展。各牵头单位要于每月{report_day}日前如实报送任务推进情况，"
        "对未按时报送或报送质量不高的单位将予以通报。",
        "（四）强化跟踪督办。对逾期和红灯任务将下发督办通知单，实行跟踪督办、对账销号，直至任务完成。",
    ])


def default_addressees(kinds: set[str]) -> str:
    """主送机关 named from the kinds of units that lead tasks."""
    parts = [name for kind, name in (("旗县区", "各旗县区人民政府"), ("开发区", "各开发区管委会")) if kind in kinds]
    return "，".join(parts + ["市直各有关单位" if parts else "各有关单位"])



@dataclass
class Master:
    settings: Settings
    tasks: list[dict[str, Any]]
    leaders: list[dict[str, Any]] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None
    sha256: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # header → column letter
    read_report: Report = field(default_factory=Report)
    milestones: list[dict[str, Any]] = field(default_factory=list)  # rows of 时间节点
    # 台账状态 rows (the decomposition as last recorded); None when the master has no such sheet yet.
    state: list[dict[str, Any]] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)  # rows of 调整记录
    sheet_names: tuple[str, ...] = ()  # the master sheets the book has (as read)
    extra: dict[str, list[list[Any]]] = field(default_factory=dict)  # raw rows of other sheets read with it
    _by_unit: dict[str, list[dict[str, Any]]] | None = field(default=None, repr=False, compare=False)
    _directory: UnitDirectory | None = field(default=None, repr=False, compare=False)
    _steps: dict[str, list[Milestone]] | None = field(default=None, repr=False, compare=False)
    _leads: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    def directory(self) -> UnitDirectory:
        """The units of 单位 with their aliases (built on first use)."""
        if self._directory is None:
            self._directory = UnitDirectory()
            for u in self.units:
                aliases = [a for a in str(u.get(S.UNIT_ALIASES) or "").replace("，", "、").split("、") if a]
                self._directory.add(u[S.UNIT_NAME], *aliases)
        return self._directory

    def cell(self, task: dict[str, Any], column: str) -> str:
        letter = self.columns.get(column) or col_letter(S.TASK_COLUMNS.index(column) + 1)
        return f"{letter}{task['_row']}"

    @staticmethod
    def cancelled(task: dict[str, Any]) -> bool:
        """A task the office cancelled (完成状态 已撤销): it drops out of forms, rates and lights."""
        return cell_text(task.get(S.STATUS)) == S.STATUS_CANCELLED

    def active_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks if not self.cancelled(t)]

    def lead_units(self, task: dict[str, Any]) -> list[str]:
        return list(self.leads(task))

    def leads(self, task: dict[str, Any]) -> tuple[str, ...]:
        """The units that lead ``task`` (:meth:`lead_units`), parsed once per 牵头单位 text: a unit leads many tasks."""
        text = task.get(S.LEAD)
        if not isinstance(text, str):
            return tuple(unit_list(text))
        units = self._leads.get(text)
        if units is None:
            units = self._leads[text] = tuple(unit_list(text))
        return units

    def unit_names(self) -> list[str]:
        return [u[S.UNIT_NAME] for u in self.units]

    def units_with_tasks(self) -> list[str]:
        """Units of the 单位 sheet that lead at least one task, in sheet order."""
        return [u for u in self.unit_names() if self.tasks_of(u)]

    def steps_of(self, task_id: str) -> list[Milestone]:
        """The task's milestones (时间节点) in date order; empty when it has none."""
        if self._steps is None:
            self._steps = by_task(self.milestones)
        return self._steps.get(task_id, [])

    def tasks_of(self, unit: str) -> list[dict[str, Any]]:
        """The tasks ``unit`` leads and that are not cancelled, in master order (indexed on first use)."""
        if self._by_unit is None:
            self._by_unit = {}
            for t in self.active_tasks():
                for u in self.lead_units(t):
                    self._by_unit.setdefault(u, []).append(t)
        return self._by_unit.get(unit, [])


def default_period(year: int, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"{year}-{today.month:02d}" if today.year == year else f"{year}-01"


def parse_period(text: object) -> str:
    """``2026-06``, ``2026-6``, ``2026年6月`` or a date cell → ``2026-06``."""
    if isinstance(text, (dt.date, dt.datetime)):
        return f"{text.year}-{text.month:02d}"
    import re

    m = re.fullmatch(r"\s*(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?\s*", str(text or ""))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise DubanError(f"填报期“{text}”格式不对，应为 YYYY-MM，如 2026-06")
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def reporting_day(period: str, day: int) -> dt.date:
    y, m = (int(p) for p in period.split("-"))
    return dt.date(y, m, min(day, calendar.monthrange(y, m)[1]))


def period_label(period: str) -> str:
    y, m = period.split("-")
    return f"{int(y)}年{int(m)}月"


def period_end(period: str) -> dt.date:
    y, m = (int(p) for p in period.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def build_master(dec: Decomposition, year: int, period: str | None = None,
                 as_of: dt.date | None = None, source_bytes: bytes = b"") -> Master:
    """The master for a parsed decomposition (deadlines parsed, main targets placed)."""
    from .sources.decomposition import main_target_expression, place_main_targets

    place_main_targets(dec)
    period = parse_period(period) if period else default_period(year)
    master_id = hashlib.sha256(f"{year}|{dec.title}|".encode() + source_bytes).hexdigest()[:16].upper()
    settings = Settings(year=year, period=period, as_of=as_of or period_end(period),
                        master_id=master_id, title=dec.title, head=dec.head)
    directory = UnitDirectory()
    tasks, milestones = [], []
    for row, t in enumerate(dec.tasks, start=2):
        for u in t.lead + t.support:
            directory.add(u.name, u.raw if u.raw != u.name and not u.note else "")
        deadline = deadline_or_none(t.deadline_text, year)
        notes = [f"{u.name}：{u.note}" for u in t.lead + t.support if u.note]
        if t.published:  # the master numbers 1, 2, 3 …; keep the number the document prints
            notes.insert(0, f"原序号：{t.published}")
        milestones += milestone_rows(S.task_id(year, t.serial), deadline)
        tasks.append({
            S.TASK_ID: S.task_id(year, t.serial), S.SERIAL: t.serial, S.CATEGORY: t.category,
            S.TEXT: t.text, S.LEAD: join_units([u.name for u in t.lead]),
            S.SUPPORT: join_units([u.name for u in t.support]), S.LEADER: t.leader,
            S.DEADLINE_TEXT: t.deadline_text, S.DUE: deadline.due if deadline else default_due(t.deadline_text, year),
            S.TARGET: main_target_expression(t), S.NOTE: "；".join(notes), "_row": row,
        })
    units = [{S.UNIT_NAME: n, S.UNIT_ALIASES: "、".join(a for a, c in directory.aliases.items() if c == n),
              S.UNIT_KIND: unit_kind(n)} for n in directory.names]
    units.sort(key=lambda u: S.UNIT_KINDS.index(u[S.UNIT_KIND]))
    settings.addressees = default_addressees({u[S.UNIT_KIND] for u in units})
    leaders = [{S.LEADER_NAME: lead.name, S.LEADER_DECLARED: lead.declared,
                S.LEADER_DECLARED_MAIN: lead.declared_main, "_row": row}
               for row, lead in enumerate(dec.leaders, start=2)]
    _count_leaders(leaders, tasks)
    for row, m in enumerate(milestones, start=2):
        m["_row"] = row
    master = Master(settings=settings, tasks=tasks, leaders=leaders, units=units, milestones=milestones,
                    columns={c: col_letter(i) for i, c in enumerate(S.TASK_COLUMNS, start=1)})
    master.state = [dict(zip(S.STATE_COLUMNS, state_row(t)), _row=r) for r, t in enumerate(tasks, start=2)]
    return master


def state_row(task: dict[str, Any]) -> list[Any]:
    """A task's row of 台账状态: its decomposition columns (完成状态 only when 已撤销)."""
    return [cell_text(task.get(c)) if c == S.STATUS and Master.cancelled(task) else
            None if c == S.STATUS else task.get(c) for c in S.STATE_COLUMNS]


def default_due(deadline_text: str, year: int) -> dt.date | None:
    """A task published without a 完成时限 is a task of the plan year: due at its end."""
    return dt.date(year, 12, 31) if is_blank(deadline_text) else None


def _count_leaders(leaders: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> None:
    for lead in leaders:
        actual = sum(1 for t in tasks if t.get(S.LEADER) == lead[S.LEADER_NAME])
        lead[S.LEADER_ACTUAL] = actual
        lead[S.LEADER_DIFF] = actual - int(lead.get(S.LEADER_DECLARED) or 0)


TASK_WIDTHS = {
    S.TASK_ID: 11, S.SERIAL: 6, S.CATEGORY: 14, S.TEXT: 50, S.LEAD: 18, S.SUPPORT: 16,
    S.LEADER: 13, S.DEADLINE_TEXT: 11, S.DUE: 12, S.TARGET: 16, S.STATUS: 10, S.PROGRESS: 10,
    S.ACTUAL: 14, S.RATE: 9, S.NARRATIVE: 40, S.PROBLEMS: 30, S.NEXT_STEPS: 30,
    S.LAST_PERIOD: 11, S.UPDATED: 17, S.NOTE: 20, S.SCHEDULE: 10, S.LIGHT: 6,
}
TASK_WRAP = (S.CATEGORY, S.TEXT, S.LEAD, S.SUPPORT, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS, S.TARGET, S.NOTE)


def write_master_file(master: Master, path: Path) -> None:
    """Write ``master`` as a new, formatted workbook (XlsxWriter: a province's 20,000 tasks in seconds)."""
    import xlsxwriter

    from .ooxml.tables import LIGHT_COLORS, Tables, print_setup

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "in_memory": True})
    tables = Tables(wb)
    ws, n = tables.sheet(S.TASKS, S.TASK_COLUMNS, ([t.get(c) for c in S.TASK_COLUMNS] for t in master.tasks),
                         TASK_WIDTHS, TASK_WRAP, numbers={S.DUE: "yyyy-mm-dd", S.RATE: "0.00%"})
    last = max(n, 1) + 1  # 0-based index of the last row the validations cover (at least one data row)
    status, progress, light = (S.TASK_COLUMNS.index(c) for c in (S.STATUS, S.PROGRESS, S.LIGHT))
    # The office may also cancel a task here (已撤销); units choose only from 状态词表.
    ws.data_validation(1, status, last - 1, status, {"validate": "list", "ignore_blank": True,
                                                     "source": [*master.settings.statuses, S.STATUS_CANCELLED]})
    ws.data_validation(1, progress, last - 1, progress, {"validate": "integer", "criteria": "between",
                                                         "minimum": 0, "maximum": 100, "ignore_blank": True})
    for word, color in LIGHT_COLORS.items():  # scripts write only the words; these colour them
        ws.conditional_format(1, light, last + 999, light, {
            "type": "cell", "criteria": "==", "value": f'"{word}"',
            "format": wb.add_format({"bg_color": color, "pattern": 1})})
    print_setup(ws)
    tables.sheet(S.MILESTONES, S.MILESTONE_COLUMNS, ([m.get(c) for c in S.MILESTONE_COLUMNS] for m in master.milestones),
                 {S.TASK_ID: 11, S.MS_SERIAL: 6, S.MS_CONTENT: 40, S.DEADLINE_TEXT: 16, S.DUE: 12, S.MS_SHARE: 12},
                 (S.MS_CONTENT,))
    tables.sheet(S.LEADERS, S.LEADER_COLUMNS, ([lead.get(c) for c in S.LEADER_COLUMNS] for lead in master.leaders),
                 {S.LEADER_NAME: 16})
    tables.sheet(S.UNITS, S.UNIT_COLUMNS, ([u.get(c) for c in S.UNIT_COLUMNS] for u in master.units),
                 {S.UNIT_NAME: 30, S.UNIT_ALIASES: 30, S.UNIT_KIND: 10})
    tables.sheet(S.SETTINGS, [S.SETTING_KEY, S.SETTING_VALUE], master.settings.rows(),
                 {S.SETTING_KEY: 24, S.SETTING_VALUE: 60}, [S.SETTING_VALUE], filter=False)
    tables.sheet(S.HISTORY, S.HISTORY_COLUMNS, [], {c: 14 for c in S.HISTORY_COLUMNS})
    _layout_sheet(tables, S.CHANGES)
    _layout_sheet(tables, S.ISSUED)
    tables.sheet(S.NOTICES, S.NOTICE_COLUMNS, [], {c: 16 for c in S.NOTICE_COLUMNS})
    _layout_sheet(tables, S.STATE, [state_row(t) for t in master.tasks])
    _layout_sheet(tables, S.ISSUED_CONTENT)
    wb.close()


def _layout_sheet(tables: Any, name: str, rows: list[list[Any]] = ()) -> None:
    """One of :data:`SHEET_LAYOUTS` in a new workbook, as :func:`add_sheet` adds it to an existing one."""
    from .ooxml.tables import print_setup

    columns, widths, wrap, hidden = SHEET_LAYOUTS[name]
    if not rows and not hidden:
        rows = [[None] * len(columns)]
    ws, _ = tables.sheet(name, columns, rows, widths, wrap, hidden=hidden)
    if not hidden:  # staff read and fill it: printed landscape; the empty row 2 gives appended rows the look
        print_setup(ws)


# Sheets duban adds to a master made before they existed: columns, widths, wrapped columns, hidden.
SHEET_LAYOUTS: dict[str, tuple[list[str], dict[str, float], tuple[str, ...], bool]] = {
    S.CHANGES: (S.CHANGE_COLUMNS, {S.CH_TIME: 17, S.CH_PERIOD: 9, S.TASK_ID: 11, S.CH_KIND: 13, S.CH_OLD: 36,
                                   S.CH_NEW: 36, S.CH_APPROVAL: 20, S.NOTE: 30}, (S.CH_OLD, S.CH_NEW, S.NOTE), False),
    S.ISSUED: (S.ISSUED_COLUMNS, {c: 18 for c in S.ISSUED_COLUMNS}, (), True),
    S.STATE: (S.STATE_COLUMNS, {c: 14 for c in S.STATE_COLUMNS}, (), True),
    S.ISSUED_CONTENT: (S.ISSUED_CONTENT_COLUMNS, {c: 14 for c in S.ISSUED_CONTENT_COLUMNS}, (), True),
}


def add_sheet(wb: Workbook, name: str, rows: list[list[Any]] = ()) -> Any:
    """Add one of :data:`SHEET_LAYOUTS` to an openpyxl workbook, formatted like every master sheet."""
    from openpyxl.styles import Alignment

    from .ooxml.styles import BODY_FONT, BORDER, WRAP, print_setup, write_table

    columns, widths, wrap, hidden = SHEET_LAYOUTS[name]
    ws = wb.create_sheet(name)
    write_table(ws, columns, rows, widths, wrap=wrap)
    if hidden:
        ws.sheet_state = "hidden"
    else:  # staff read and fill it: printed landscape, and rows duban appends look like the header's table
        print_setup(ws, "1:1")
        if not rows:
            for c, column in enumerate(columns, start=1):
                cell = ws.cell(2, c)
                cell.font, cell.border = BODY_FONT, BORDER
                cell.alignment = WRAP if column in wrap else Alignment(vertical="top")
    return ws


def write_new_master(master: Master, path: Path, force: bool = False, wait: float = DEFAULT_WAIT) -> None:
    """Write a freshly built master; an existing one is replaced only with ``force`` (after a backup,
    keeping its permissions); a new file follows the umask."""
    with master_transaction(path, wait, command="import", create=True) as tx:
        if tx.path.exists() and not force:
            raise DubanError(f"{path} 已存在：为防止覆盖台账，请换一个文件名或加 --force（原文件会先备份）")
        tx.write(lambda tmp: write_master_file(master, tmp))
    master.path, master.sha256 = tx.path, tx.sha256


# ---------------------------------------------------------------- the one write path


class MasterChangedError(DubanError):
    pass


def archive_root(real: Path) -> Path:
    """Where collect keeps the originals of accepted files (one folder per period inside)."""
    return real.with_name(f"{real.stem}_归档")


def master_protected(path: Path) -> list[tuple[Path, str]]:
    """What no output may replace: the master, its backups and its archive."""
    real = real_path(path)
    return [(real, "台账"), (backup_dir(real), "台账备份"), (archive_root(real), "归档文件")]


class MasterTransaction:
    """One read–modify–write of the master under its lock (see :func:`master_transaction`)."""

    def __init__(self, real: Path) -> None:
        self.path = real
        self.backup: Path | None = None  # made before the first write of the transaction
        self.written = False
        self._master: Master | None = None
        self._read: tuple[bool, tuple[str, ...]] = (True, ())
        self._sha256: str | None = None
        self._settings: Settings | None = None

    @property
    def sha256(self) -> str:
        """The digest of the master as this transaction last read or wrote it."""
        return self._sha256 or sha256_file(self.path)

    def master(self, with_changes: bool = True, extra: tuple[str, ...] = ()) -> Master:
        """The master as it is now (read once, under the lock; the arguments as :func:`read_master`'s)."""
        if self._master is None or self._read != (with_changes, extra):
            self._master = read_master(self.path, with_changes, extra)
            self._sha256, self._settings, self._read = self._master.sha256, self._master.settings, (with_changes, extra)
        return self._master

    def patch(self, edits: dict[str, SheetEdits], prepare: Callable[[Workbook], None] | None = None,
              pool: Executor | None = None) -> None:
        """Change only the given cells and rows; every other part of the file is copied byte for byte.

        A sheet of :data:`SHEET_LAYOUTS` the master lacks (one made before it existed) is added
        first through openpyxl, and so is whatever ``prepare(workbook)`` does (sheets of its
        own, e.g. the per-unit sheets): all in the same atomic write. With ``pool``, a long
        segmented sheet may be written in a child process (see ``sheetpatch.patch_workbook``).
        """
        from .ooxml import sheetpatch

        patch_workbook = sheetpatch.patch_workbook if pool is None else partial(sheetpatch.patch_workbook, pool=pool)
        missing = [n for n in edits if n in SHEET_LAYOUTS and n not in self.sheet_names()]
        if not missing and prepare is None:
            self.write(lambda tmp: patch_workbook(self.path, tmp, edits))
            return

        def add_then_patch(tmp: Path) -> None:
            wb = open_master_for_edit(self.path)
            for name in missing:
                add_sheet(wb, name)
            if prepare is not None:
                prepare(wb)
            staged = temp_name(self.path)  # a temp of the master's: a run killed here leaves nothing behind
            try:
                wb.save(staged)
                patch_workbook(staged, tmp, edits)
            finally:
                staged.unlink(missing_ok=True)

        self.write(add_then_patch)

    def sheet_names(self) -> list[str]:
        return list(open_book(self.path).sheet_names) if self.path.exists() else []

    def save(self, wb: Workbook) -> None:
        """Replace the master with an openpyxl workbook (only for changes a cell patch cannot make)."""
        self.write(wb.save)

    def write(self, write: Callable[[Path], None]) -> None:
        """Backup (once), then ``write(temp)`` and replace the master atomically, keeping its permissions."""
        ensure_not_open(self.path)
        like = None
        if self.path.exists():
            if self._sha256 is not None and sha256_file(self.path) != self._sha256:
                raise MasterChangedError(f"台账 {self.path.name} 在读取后已被其他程序修改保存，为避免覆盖，"
                                         f"本次未写入；请重新运行")
            like = os.stat(self.path)
        digest: list[str] = []

        def write_and_hash(tmp: Path) -> None:
            write(tmp)
            digest.append(sha256_file(tmp))

        try:
            if like is not None and self.backup is None:
                self.backup = make_backup(self.path, like)
            atomic_write(self.path, write_and_hash, like, step="master")
        except WriteError as exc:
            raise DubanError(f"{exc}；台账 {self.path.name} 未改动") from exc
        self._sha256, self._master, self.written = digest[0], None, True


@contextmanager
def master_transaction(path: Path, wait: float = DEFAULT_WAIT, command: str = "",
                       create: bool = False) -> Iterator[MasterTransaction]:
    """Hold the master's lock for a whole read–modify–write: the one way to change a master.

    ``with master_transaction(path, wait=30) as tx:`` then ``tx.master()`` to read it and
    ``tx.patch(edits)`` / ``tx.save(workbook)`` / ``tx.write(fn)`` to write it. A symbolic link is
    followed (lock, temp files and backups live beside the real file); a master with several hard
    links is refused, since replacing it would leave the other names on the old version; a master
    a spreadsheet program holds open is refused. Waits up to ``wait`` seconds for another duban
    process; old backups are rotated after a successful write.
    """
    real = real_path(path)
    if not real.exists():
        if not create:
            raise DubanError(f"找不到台账文件：{path}")
        if not real.parent.is_dir():
            raise DubanError(f"输出目录不存在：{real.parent}")
    elif not real.is_file():
        raise DubanError(f"{path} 不是文件")
    elif os.stat(real).st_nlink > 1:
        raise DubanError(f"台账 {path} 有 {os.stat(real).st_nlink} 个硬链接（同一文件的多个名字）：替换它会让其他名字"
                         f"停留在旧版本，本次未做任何改动；请删除其他硬链接，或改用快捷方式/符号链接")
    ensure_not_open(real)
    with MasterLock(real, wait, command):
        checkpoint("locked")
        remove_temps(real.parent, [real])  # left by a run killed before its os.replace
        tx = MasterTransaction(real)
        yield tx
        if tx.written:
            settings = tx._settings or read_settings(real)
            rotate_backups(real, settings.backup_keep, settings.backup_months)


def update_master(path: Path, edit: Callable[[Master], dict[str, SheetEdits] | None],
                  wait: float = DEFAULT_WAIT, command: str = "") -> Path | None:
    """Read the master under its lock, let ``edit`` decide the cell edits, patch them in; the backup made."""
    with master_transaction(path, wait, command) as tx:
        edits = edit(tx.master())
        if edits:
            tx.patch(edits)
        return tx.backup


# ---------------------------------------------------------------- reading


def read_master(path: Path, with_changes: bool = True, extra: tuple[str, ...] = (),
                task_columns: tuple[str, ...] | None = None) -> Master:
    """Read a master with calamine (values only). Structural problems become findings.

    A missing 任务分解 sheet or 设置 value that makes the master unusable raises
    :class:`DubanError`; anything else is left for :func:`workbook.checks.check_master`.
    Validation reads neither 台账状态 nor 调整记录 (``with_changes=False``: a year's record
    of the decomposition is as large as the decomposition) but the sheets in ``extra``
    (发放记录, 发放内容) as rows, from the same read of the file. With ``task_columns``, each task
    holds only those columns (validation needs 7 of the 22; see :func:`master_from_rows`).
    """
    path = Path(path)
    if not path.is_file():
        raise DubanError(f"找不到台账文件：{path}")
    digest = sha256_file(path)
    book = open_book(path)
    wanted = (S.TASKS, S.LEADERS, S.UNITS, S.SETTINGS, S.MILESTONES) + ((S.STATE, S.CHANGES) if with_changes else ())
    master = master_from_rows({n: sheet_rows(book, n) for n in wanted if n in book.sheet_names}, path.name,
                              task_columns)
    master.path, master.sha256 = path, digest
    master.extra = {n: sheet_rows(book, n) if n in book.sheet_names else [] for n in extra}
    return master


def read_settings(path: Path) -> Settings:
    """Only the 设置 sheet of a master."""
    from .ooxml.xlsx_reader import read_sheet_rows

    return _read_settings(read_sheet_rows(path, S.SETTINGS), Path(path).name)


def master_from_rows(sheets: dict[str, list[list[Any]]], name: str = "",
                     task_columns: tuple[str, ...] | None = None) -> Master:
    """A master from the values of its sheets (a file read by calamine, or an open Excel book).

    With ``task_columns``, each task holds only those of its columns: a master read for one purpose
    (validation) that needs a few, not a dict of every column for each of 20,000 tasks."""
    report = Report()
    for sheet in (S.TASKS, S.LEADERS, S.UNITS, S.SETTINGS):
        if sheet not in sheets:
            if sheet in (S.TASKS, S.SETTINGS):
                raise DubanError(f"{name} 不是 duban 台账：缺少“{sheet}”工作表")
            report.add("sheet-missing", f"台账缺少“{sheet}”工作表", "error", file=name, sheet=sheet)
    settings = _read_settings(sheets[S.SETTINGS], name)
    tasks, columns = _read_table(sheets[S.TASKS], S.TASKS, name, report, required=S.TASK_COLUMNS[:10],
                                 only=task_columns)
    for t in tasks:
        if t.get(S.DUE) is not None:
            t[S.DUE] = to_date(t[S.DUE]) or t[S.DUE]
    leaders = _read_table(sheets[S.LEADERS], S.LEADERS, name, report,
                          required=S.LEADER_COLUMNS[:3])[0] if S.LEADERS in sheets else []
    units = _read_table(sheets[S.UNITS], S.UNITS, name, report,
                        required=[S.UNIT_NAME])[0] if S.UNITS in sheets else []
    units = [u for u in units if not is_blank(u.get(S.UNIT_NAME))]
    for u in units:
        u[S.UNIT_NAME] = cell_text(u[S.UNIT_NAME])
    # 时间节点 is optional: a master made before milestones existed has none.
    milestones = _read_table(sheets[S.MILESTONES], S.MILESTONES, name, report,
                             required=S.MILESTONE_COLUMNS)[0] if sheets.get(S.MILESTONES) else []
    # 台账状态 and 调整记录 are optional too (a master made before them has neither). An empty
    # 台账状态 (the template's, under sheets copied in from elsewhere) has recorded nothing yet.
    state = _read_table(sheets[S.STATE], S.STATE, name, report, required=[S.TASK_ID])[0] \
        if sheets.get(S.STATE) else None
    state = state or None
    changes = _read_table(sheets[S.CHANGES], S.CHANGES, name, report, required=S.CHANGE_COLUMNS[:6])[0] \
        if sheets.get(S.CHANGES) else []
    return Master(settings=settings, tasks=tasks, leaders=leaders, units=units, columns=columns,
                  read_report=report, milestones=milestones, state=state, changes=changes, sheet_names=tuple(sheets))


def _read_table(rows: list[list[Any]], sheet: str, file: str, report: Report, required: list[str],
                only: tuple[str, ...] | None = None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    if not rows:
        for col in required:
            report.add("column-missing", f"“{sheet}”表缺少“{col}”列", "error", file=file, sheet=sheet, cell="A1")
        return [], {}
    header = [cell_text(h) for h in rows[0]]
    columns = {h: col_letter(i) for i, h in enumerate(header, start=1) if h}
    for col in required:
        if col not in columns:
            report.add("column-missing", f"“{sheet}”表缺少“{col}”列", "error", file=file, sheet=sheet, cell="A1")
    # Of several columns with one header, the last one's cell is kept, as in a dict of every column.
    picked = [(i, h) for i, h in enumerate(header) if h in only] if only is not None else []
    width = len(header)
    out = []
    for r, values in enumerate(rows[1:], start=2):
        # A row with its first cell filled (a task's ID: nearly every row) is not blank, asked at once.
        if (not values or is_blank(values[0])) and all(is_blank(v) for v in values):
            continue
        if only is None:
            item = {h: (v if v != "" else None) for h, v in zip(header, values) if h}
        else:  # a cell the row is too short to hold reads as empty (None), as .get() would read it
            cells = values if len(values) >= width else list(values) + [""] * (width - len(values))
            item = {h: (v if v != "" else None) for i, h in picked for v in (cells[i],)}
        item["_row"] = r
        out.append(item)
    return out, columns


def _read_settings(rows: list[list[Any]], name: str) -> Settings:
    values = {cell_text(r[0]): (r[1] if len(r) > 1 else None) for r in rows[1:] if r and not is_blank(r[0])}
    try:
        year = int(float(values.get(S.S_YEAR)))
    except (TypeError, ValueError):
        raise DubanError(f"{name} 的“设置”表中“{S.S_YEAR}”不是年份") from None
    period = parse_period(values.get(S.S_PERIOD) or f"{year}-01")
    as_of = to_date(values.get(S.S_AS_OF)) or period_end(period)
    statuses = tuple(s for s in cell_text(values.get(S.S_STATUSES)).replace(",", "、").split("、") if s)
    return Settings(
        year=year, period=period, as_of=as_of,
        report_day=_number(values.get(S.S_REPORT_DAY), S.DEFAULT_REPORT_DAY, int),
        statuses=statuses or S.STATUSES,
        lag_red=_number(values.get(S.S_LAG_RED), S.DEFAULT_LAG_RED, float),
        due_soon=_number(values.get(S.S_DUE_SOON), S.DEFAULT_DUE_SOON, int),
        master_id=cell_text(values.get(S.S_MASTER_ID)), title=cell_text(values.get(S.S_TITLE)),
        head=cell_text(values.get(S.S_HEAD)),
        schema_version=_number(values.get(S.S_SCHEMA), S.SCHEMA_VERSION, int),
        backup_keep=_number(values.get(S.S_BACKUP_KEEP), S.DEFAULT_BACKUP_KEEP, int),
        backup_months=_number(values.get(S.S_BACKUP_MONTHS), S.DEFAULT_BACKUP_MONTHS, int),
        issuer=cell_text(values.get(S.S_ISSUER)) or S.DEFAULT_ISSUER,
        addressees=cell_text(values.get(S.S_ADDRESSEES)),
        next_steps=cell_text(values.get(S.S_NEXT_STEPS)),
        reply_days=_number(values.get(S.S_REPLY_DAYS), S.DEFAULT_REPLY_DAYS, int),
    )


def _number(value: Any, default: Any, kind: type) -> Any:
    try:
        return kind(float(value))
    except (TypeError, ValueError):
        return default


def open_master_for_edit(path: Path) -> Workbook:
    """The master as an editable openpyxl workbook (formatting kept)."""
    require_safe_xml()
    from openpyxl import load_workbook

    try:
        return load_workbook(path)
    except Exception as exc:
        raise DubanError(f"无法打开台账 {Path(path).name}：{exc}") from None
