"""督办通知单: one notice per unit whose tasks are red, numbered 督办〔2026〕N号.

The numbers issued are recorded in the master's 督办记录 sheet, so a number is
never given twice: the next is one above the highest recorded for the year.
Generating the same notice again (same unit, date and tasks) keeps its number
instead of using a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import schema as S
from ..findings import DubanError
from ..language.text import cell_text
from ..language.units import unit_list
from ..master import (
    Master,
    MasterTransaction,
    master_protected,
    master_transaction,
    open_master_for_edit,
)
from ..metrics import Metrics, compute, red_reason
from ..ooxml.lock import DEFAULT_WAIT
from ..ooxml.safe_write import (
    OUTPUT_TEMP_STALE_AFTER,
    Protected,
    Staged,
    check_output,
    remove_temps,
    writing,
)
from ..ooxml.sheetpatch import PatchError, SheetEdits
from ..ooxml.styles import set_value
from ..ooxml.xlsx_reader import open_book, sheet_rows
from ..split import safe_filename
from .gbt9704 import OfficialDocument, date_text
from .tongbao import plan_name, progress_text, red_tasks, serial

TITLE = "督办通知单"
TABLE_HEADERS = ["序号", "任务目标", "完成时限", "进展", "督办原因"]
TABLE_WIDTHS = [10, 74, 17, 17, 38]  # mm, 156 in all
_N = {name: i for i, name in enumerate(S.NOTICE_COLUMNS)}


@dataclass
class Notice:
    unit: str
    year: int
    number: int
    as_of: dt.date
    reply_by: dt.date
    tasks: list[Any] = field(default_factory=list)  # rows of metrics.tasks
    new: bool = True  # False: the same notice was issued before and keeps its number

    @property
    def code(self) -> str:
        return f"督办〔{self.year}〕{self.number}号"

    @property
    def file_name(self) -> str:
        return f"{TITLE}_{safe_filename(self.unit)}.docx"

    @property
    def task_ids(self) -> str:
        return ",".join(t[S.TASK_ID] for t in self.tasks)

    def record(self, now: dt.datetime) -> list[Any]:
        """The 督办记录 row, in ``schema.NOTICE_COLUMNS`` order."""
        return [self.code, self.year, self.number, self.unit, self.task_ids, self.as_of, self.reply_by, now,
                self.file_name]


def add_working_days(day: dt.date, n: int) -> dt.date:
    """``n`` working days after ``day``, skipping weekends (statutory holidays are not known)."""
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def plan_notices(master: Master, metrics: Metrics, records: Sequence[Sequence[Any]]) -> list[Notice]:
    """One notice per unit leading a red or overdue task, numbered after those ``records`` (督办记录 rows) hold."""
    as_of = metrics.as_of
    year = as_of.year
    issued: dict[tuple[str, str, str], int] = {}
    last = 0
    for row in records:
        row = list(row) + [""] * len(S.NOTICE_COLUMNS)
        try:
            row_year, number = int(float(row[_N["年度"]])), int(float(row[_N["序号"]]))
        except (TypeError, ValueError):
            continue  # a row staff typed by hand without a number: it cannot hold one
        if row_year == year:
            last = max(last, number)
            key = (cell_text(row[_N["单位"]]), _iso(row[_N["截至日期"]]), cell_text(row[_N["任务编号列表"]]))
            issued[key] = number
    per_unit: dict[str, list[Any]] = {}
    for _, task in red_tasks(metrics).iterrows():
        for unit in unit_list(task[S.LEAD]):
            per_unit.setdefault(unit, []).append(task)
    order = {u: i for i, u in enumerate(master.unit_names())}
    reply_by = add_working_days(as_of, master.settings.reply_days)
    notices = []
    for unit in sorted(per_unit, key=lambda u: (order.get(u, len(order)), u)):
        notice = Notice(unit, year, 0, as_of, reply_by, per_unit[unit])
        known = issued.get((unit, as_of.isoformat(), notice.task_ids))
        if known:
            notice.number, notice.new = known, False
        else:
            last += 1
            notice.number = last
        notices.append(notice)
    return notices


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else cell_text(value)[:10]


def build_notice(master: Master, notice: Notice) -> OfficialDocument:
    s = master.settings
    doc = OfficialDocument(f"{TITLE}（{notice.code}）", s.issuer, notice.as_of)
    doc.title(TITLE)
    doc.centred(notice.code)
    doc.blank()
    doc.flush_left(f"{notice.unit}：")
    overdue = sum(1 for t in notice.tasks if t["逾期"])
    count = f"{len(notice.tasks)}项任务" + (f"（其中{overdue}项已逾期）" if overdue else "")
    doc.body(f"根据{plan_name(master)}推进情况调度，截至{date_text(notice.as_of)}，你单位牵头的以下{count}"
             f"进度滞后，被列为红灯任务，现予督办。")
    doc.table(TABLE_HEADERS, [[serial(t[S.SERIAL]), t[S.TEXT], t[S.DEADLINE_TEXT], progress_text(t), red_reason(t)]
                              for t in notice.tasks], TABLE_WIDTHS, centred=(0, 2))
    doc.body(f"请你单位高度重视，逐项分析原因，制定整改措施，明确责任人和完成时限，加快推进，"
             f"并于{date_text(notice.reply_by)}前将整改措施和推进情况书面反馈{s.issuer}。")
    doc.signature(s.issuer, notice.as_of)
    return doc


def stage_notices(staged: Staged, master: Master, notices: Sequence[Notice], out_dir: Path, force: bool = False,
                  protected: Protected = (), stale_after: float = OUTPUT_TEMP_STALE_AFTER) -> list[Path]:
    """Write the notices to temp names in ``staged`` (refusing existing files without ``force``);
    the caller publishes them, or not."""
    paths = [out_dir / n.file_name for n in notices]
    if not force:
        existing = [p.name for p in paths if p.exists()]
        if existing:
            raise DubanError(f"以下文件已存在，未做任何改动（加 --force 覆盖）：{'、'.join(existing[:5])}"
                             + ("等" if len(existing) > 5 else ""))
    files = [check_output(p, True, protected) for p in paths]
    remove_temps(out_dir, files, stale_after)
    for notice, final in zip(notices, files):
        tmp = staged.temp(final)
        with writing(final):
            build_notice(master, notice).save(tmp)
    return files


def render_notices(master: Master, notices: Sequence[Notice], out_dir: Path, force: bool = False,
                   protected: Protected = ()) -> list[Path]:
    """Write one .docx per notice into ``out_dir`` (created if missing), all renamed into place together."""
    out_dir = Path(out_dir)
    with writing(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    with Staged() as staged:
        files = stage_notices(staged, master, notices, out_dir, force, protected)
        staged.publish()
    return files


@dataclass
class NoticeResult:
    notices: list[Notice]
    files: list[Path]
    backup: Path | None = None


def notices_from_file(master_path: Path, out_dir: Path, as_of: dt.date | None = None, force: bool = False,
                      wait: float = DEFAULT_WAIT) -> NoticeResult:
    """``duban notices``: under the master's lock, the notices are written to temp names, their numbers
    recorded in 督办记录 (the commit point), then the files renamed into place."""
    out_dir = Path(out_dir)
    with master_transaction(master_path, wait, command="notices") as tx:
        master = tx.master()
        book = open_book(tx.path)
        records = sheet_rows(book, S.NOTICES)[1:] if S.NOTICES in book.sheet_names else []
        notices = plan_notices(master, compute(master, as_of), records)
        if not notices:
            return NoticeResult([], [])
        with writing(out_dir):
            out_dir.mkdir(parents=True, exist_ok=True)
        with Staged() as staged:
            files = stage_notices(staged, master, notices, out_dir, force, master_protected(tx.path), stale_after=0)
            now = dt.datetime.now().replace(microsecond=0)
            rows = [n.record(now) for n in notices if n.new]
            if rows:
                record_notices(tx, rows)
            staged.publish(step="publish")
    return NoticeResult(notices, files, tx.backup)


def record_notices(tx: MasterTransaction, rows: list[list[Any]]) -> None:
    """Append 督办记录 rows by patching only that sheet; a master made before the sheet existed gets it added."""
    try:
        tx.patch({S.NOTICES: SheetEdits(append=rows)})
        return
    except PatchError:
        pass
    wb = open_master_for_edit(tx.path)
    ws = wb.create_sheet(S.NOTICES)
    for r, values in enumerate([S.NOTICE_COLUMNS] + rows, start=1):
        for c, value in enumerate(values, start=1):
            set_value(ws.cell(r, c), value)
    tx.save(wb)
