"""``duban collect``: accepted submissions merged into the master, every row kept in history."""

from __future__ import annotations

import datetime as dt
import operator
import os
from concurrent.futures import Executor, Future, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import schema as S
from .findings import DubanError
from .language.text import cell_text, col_number
from .master import Master, archive_root, master_transaction
from .ooxml.lock import DEFAULT_WAIT
from .ooxml.safe_write import Staged, WriteError, checkpoint, copy_into, remove_temps, sha256_file, writing
from .ooxml.sheetpatch import SheetEdits
from .procs import process_pool
from .validate import Answer, Batch, Context, Submission, context_from_master, validate_loading

# Joint tasks (several lead units) show the least advanced answer.
_STATUS_RANK = {S.STATUS_BEHIND: 0, S.STATUS_NOT_STARTED: 1, S.STATUS_ON_TRACK: 2, S.STATUS_DONE: 3}
HISTORY_INDEX = {name: i for i, name in enumerate(S.HISTORY_COLUMNS)}


@dataclass
class CollectResult:
    batch: Batch
    accepted: list[Submission] = field(default_factory=list)
    already: list[Submission] = field(default_factory=list)
    missing_units: list[str] = field(default_factory=list)
    backup: Path | None = None
    archived: list[Path] = field(default_factory=list)


def archive_dir(master_path: Path, period: str) -> Path:
    return archive_root(master_path) / period


def collect(paths: Iterable[Path], master_path: Path, workers: int = 1,
            progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None,
            wait: float = DEFAULT_WAIT) -> CollectResult:
    """Validate ``paths`` and merge the accepted files into the master: one transaction under the lock.

    Backup, then the master (history rows and tracking cells in one atomic replace), then the
    originals archived. A run killed after the master was replaced left some originals
    unarchived: they are "already collected" in the next run, which archives them then.
    """
    with master_transaction(master_path, wait, command="collect") as tx:
        def load() -> tuple[Context, Master]:
            # Collect changes neither the decomposition's record (台账状态, 调整记录) nor reads it; what
            # validation needs of 发放记录 and 发放内容 comes from the same read of the file.
            master = tx.master(with_changes=False, extra=(S.ISSUED, S.ISSUED_CONTENT))
            return context_from_master(master), master

        batch = validate_loading(paths, load, tx.path, workers, progress, keep_answers=True)  # master read meanwhile
        master = batch.master
        assert master is not None  # load() reads it
        checkpoint("validated")
        history = read_history(tx.path, master.settings.period)
        result = _sorted_out(batch, history)
        originals = result.accepted + result.already
        # Helper processes for a large collect: one copies the originals into the archive, one writes
        # 进展记录, each while this process works (see _copying_early and tx.patch).
        copies = workers > 1 and len(originals) >= EARLY_COPY_MIN_FILES
        aside = workers > 1 and sum(len(sub.answers) for sub in result.accepted) >= HISTORY_ASIDE_MIN_ROWS
        try:
            with (process_pool(copies + aside) if copies or aside else nullcontext()) as pool, \
                    _copying_early(originals, tx.path, pool if copies else None) as early:
                plan = _plan(result, history, now)
                if plan.history_rows:
                    column = {name: col_number(letter) for name, letter in master.columns.items()}
                    tasks = SheetEdits(formats={column[c]: f for c, f in NUMBER_FORMATS.items() if c in column})
                    for row, values in plan.updates.items():
                        tasks.rows[row] = {column[col]: value for col, value in values.items() if col in column}
                    # A 进展记录 made before 发放版本 existed gets its header cell.
                    history_edits = SheetEdits(append=plan.history_rows,
                                               cells={(1, len(S.HISTORY_COLUMNS)): S.HISTORY_COLUMNS[-1]},
                                               segmented=True)
                    # Its errors say the master is unchanged.
                    tx.patch({S.TASKS: tasks, S.HISTORY: history_edits}, pool=pool if aside else None)
                    result.backup = tx.backup
                if originals:
                    result.archived = _archive(originals, tx.path, early)
        except WriteError as exc:
            done = "已汇总进台账，但" if tx.written else ""
            raise DubanError(f"{done}归档原件失败：{exc}；问题解决后重新运行同一 collect 命令即可补做归档") from exc
    return result


NUMBER_FORMATS = {S.RATE: "0.00%", S.UPDATED: "yyyy-mm-dd hh:mm"}


@dataclass
class CollectPlan:
    """What a collect changes: rows to append to 进展记录, and 任务分解 cells by sheet row."""

    history_rows: list[list[Any]] = field(default_factory=list)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)


def plan_collect(batch: Batch, history: list[list[Any]], now: dt.datetime | None = None) -> tuple[CollectResult, CollectPlan]:
    """Decide what to merge; the caller writes it (to a file, or into an open Excel book).

    ``history`` holds at least the 进展记录 rows of the current period (rows of other periods
    change nothing: files of another period are never accepted)."""
    result = _sorted_out(batch, history)
    return result, _plan(result, history, now)


def _sorted_out(batch: Batch, history: list[list[Any]]) -> CollectResult:
    """The valid submissions, new ones (accepted) apart from those collected before (already)."""
    seen = {cell_text(r[HISTORY_INDEX["文件SHA256"]]) for r in history}
    result = CollectResult(batch)
    for sub in batch.submissions:
        if sub.valid and sub.used:
            (result.already if sub.sha256 in seen else result.accepted).append(sub)
    return result


def _plan(result: CollectResult, history: list[list[Any]], now: dt.datetime | None) -> CollectPlan:
    """The rows and cells to write for ``result``'s accepted files; the units still missing noted in it."""
    master = result.batch.master
    now = (now or dt.datetime.now()).replace(microsecond=0)
    plan = CollectPlan([_history_row(sub, a, now) for sub in result.accepted for a in sub.answers])
    touched = {a.task_id for sub in result.accepted for a in sub.answers}
    history = history + plan.history_rows
    plan.updates = _tracking_updates(master, history, touched, now)
    reported = reported_units(history, master.settings.period)
    result.missing_units = [u for u in master.units_with_tasks() if u not in reported]
    return plan


def reported_units(history: list[list[Any]], period: str) -> set[str]:
    """Units with at least one accepted submission for ``period``."""
    return {cell_text(r[HISTORY_INDEX["单位"]]) for r in history if cell_text(r[HISTORY_INDEX["填报期"]]) == period}


def units_reported(master_path: Path, period: str) -> set[str]:
    """Units with an accepted submission for ``period`` (only the first two history columns are read)."""
    from .ooxml.rowstream import rows_matching

    return reported_units(rows_matching(master_path, S.HISTORY, period, HISTORY_INDEX["单位"] + 1), period)


def read_history(master_path: Path, period: str) -> list[list[Any]]:
    """The 进展记录 rows of ``period``: all a collect or a report needs (which files were taken,
    the latest answers, who reported), streamed so a year of history is never held in memory."""
    from .ooxml.rowstream import rows_matching

    return rows_matching(master_path, S.HISTORY, period, len(S.HISTORY_COLUMNS))


def history_rows(sheet: list[list[Any]]) -> list[list[Any]]:
    """The data rows of a 进展记录 sheet (header first), each exactly as wide as its columns."""
    width = len(S.HISTORY_COLUMNS)
    return [(list(r) + [""] * width)[:width] for r in sheet[1:] if any(v not in ("", None) for v in r)]


def _history_row(sub: Submission, a: Answer, now: dt.datetime) -> list[Any]:
    values = {
        "填报期": sub.period, "单位": sub.unit, S.TASK_ID: a.task_id, S.STATUS: a.status, S.PROGRESS: a.progress,
        S.ACTUAL: a.actual, S.NARRATIVE: a.narrative, S.PROBLEMS: a.problems, S.NEXT_STEPS: a.next_steps,
        "填报人": sub.reporter, "联系电话": sub.phone, "填报日期": sub.report_date, "来源文件": sub.file,
        "文件SHA256": sub.sha256, "接收时间": now, "发放版本": sub.version or None,
    }
    return list(_IN_HISTORY_ORDER(values))


_IN_HISTORY_ORDER = operator.itemgetter(*S.HISTORY_COLUMNS)  # one C call per row: a collect makes 20,000


def latest_answers(history: list[list[Any]], period: str) -> dict[str, dict[str, list[Any]]]:
    """task ID → unit → the history row that counts for ``period`` (newest issue, then 填报日期, then 接收时间)."""
    out: dict[str, dict[str, list[Any]]] = {}
    for row in history:
        if cell_text(row[HISTORY_INDEX["填报期"]]) != period:
            continue
        per_unit = out.setdefault(cell_text(row[HISTORY_INDEX[S.TASK_ID]]), {})
        unit = cell_text(row[HISTORY_INDEX["单位"]])
        if unit not in per_unit or _order(row) >= _order(per_unit[unit]):
            per_unit[unit] = row
    return out


def _order(row: list[Any]) -> tuple[int, str, str]:
    """A newer issue's answer wins (a version sent after the decomposition changed), then the newer one."""
    version = row[HISTORY_INDEX["发放版本"]]
    return (int(version) if isinstance(version, (int, float)) else 0,
            _iso(row[HISTORY_INDEX["填报日期"]]), _iso(row[HISTORY_INDEX["接收时间"]]))


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else cell_text(value)


def combine(rows_by_unit: dict[str, list[Any]]) -> dict[str, Any]:
    """The tracking values of one task from its units' latest answers."""
    rows = list(rows_by_unit.items())
    if len(rows) == 1:
        row = rows[0][1]
        return {c: row[HISTORY_INDEX[c]] for c in (S.STATUS, S.PROGRESS, S.ACTUAL, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS)}
    statuses = [cell_text(r[HISTORY_INDEX[S.STATUS]]) for _, r in rows]
    progresses = [r[HISTORY_INDEX[S.PROGRESS]] for _, r in rows if isinstance(r[HISTORY_INDEX[S.PROGRESS]], (int, float))]
    out: dict[str, Any] = {
        S.STATUS: min(statuses, key=lambda s: _STATUS_RANK.get(s, 0)),
        S.PROGRESS: int(min(progresses)) if progresses else None,
    }
    for col in (S.ACTUAL, S.NARRATIVE, S.PROBLEMS, S.NEXT_STEPS):
        parts = [f"{unit}：{cell_text(r[HISTORY_INDEX[col]])}" for unit, r in rows if cell_text(r[HISTORY_INDEX[col]])]
        out[col] = "；".join(parts)
    return out


def _tracking_updates(master: Master, history: list[list[Any]], touched: set[str],
                      now: dt.datetime) -> dict[int, dict[str, Any]]:
    from .indicators import rate_for_task

    period = master.settings.period
    latest = latest_answers(history, period)
    rows = {cell_text(t.get(S.TASK_ID)): t for t in master.tasks}
    updates = {}
    for tid in sorted(touched):
        task = rows.get(tid)
        # Only the units that lead the task now: the answer of a unit it was moved away from no longer counts.
        leads = master.lead_units(task) if task else []
        answers = {u: r for u, r in latest.get(tid, {}).items() if u in leads}
        if not answers:
            continue
        values = combine(answers)
        values[S.RATE] = rate_for_task(cell_text(task.get(S.TARGET)), cell_text(values[S.ACTUAL]), master)
        values[S.LAST_PERIOD] = period
        values[S.UPDATED] = now
        updates[task["_row"]] = {k: (None if v == "" else v) for k, v in values.items()}
    return updates


class _Archive:
    """Where the originals of a collect are archived: the period folders made (temp files a killed run
    left in them removed), each original's target chosen, and the copies still to make."""

    def __init__(self, subs: list[Submission], master_real: Path) -> None:
        for folder in {archive_dir(master_real, sub.period) for sub in subs}:
            with writing(folder):
                folder.mkdir(parents=True, exist_ok=True)
            remove_temps(folder)
        self.targets: list[Path] = []
        self.copies: list[tuple[Path, Path]] = []  # (original, target) for those not archived yet
        claimed: dict[Path, str] = {}  # targets of this batch, not yet renamed into place → SHA-256
        for sub in subs:
            target, present = _archive_target(sub, archive_dir(master_real, sub.period), claimed)
            if not present:
                self.copies.append((sub.path, target))
                claimed[target] = sub.sha256
            self.targets.append(target)


def _copy_to_temps(copies: list[tuple[Path, Path]], parent: int | None = None) -> dict[Path, Path]:
    """Each original copied to a temp file beside its target (target → temp); none left on an error.

    In a child process (``parent``: the PID of the collect), it stops as soon as the collect is
    gone (killed): a rerun may already be clearing the archive folder of temp files. There it also
    fsyncs them, which the collect would otherwise do after the master is written."""
    staged = Staged()
    try:
        for original, target in copies:
            if parent is not None and os.getppid() != parent:
                raise SystemExit(1)
            with writing(target):
                copy_into(original, staged.temp(target))
        if parent is not None:
            staged.sync()
    except BaseException:
        staged.discard()
        raise
    return staged.temps


# From this many originals on, a child process copies them while the master is written: creating a
# file costs the file system ~0.3 ms of CPU (0.3 s at 1,000 units), done on another core meanwhile.
# Fewer are copied after the master is written, sooner than a process starts.
EARLY_COPY_MIN_FILES = 32
# From this many new history rows on, 进展记录 is written by a child process while this one patches
# 任务分解 (about 20 µs a row each; sending the rows costs about 2 µs a row and the child ~20 ms).
HISTORY_ASIDE_MIN_ROWS = 2000


@dataclass
class _EarlyCopies:
    archive: _Archive
    temps: Future  # of _copy_to_temps


@contextmanager
def _copying_early(subs: list[Submission], master_real: Path, pool: Executor | None) -> Iterator[_EarlyCopies | None]:
    """Start copying the originals to temp names in the archive in ``pool`` while the master is planned
    and written (the copies are renamed into place only after it is, by :func:`_archive`). Copies left
    unpublished (the master could not be written) are removed, once the child process has finished."""
    if pool is None:
        yield None
        return
    archive = _Archive(subs, master_real)
    early = _EarlyCopies(archive, pool.submit(_copy_to_temps, archive.copies, os.getpid()))
    try:
        yield early
    finally:
        wait([early.temps])
        if early.temps.exception() is None:
            unpublished = Staged()
            unpublished.temps.update(early.temps.result())  # published ones are gone already
            unpublished.discard()


def _archive(subs: list[Submission], master_real: Path, early: _EarlyCopies | None = None) -> list[Path]:
    """Copy accepted originals into the archive unless they are there already: all to temp names
    (or take those copied early), then renamed into place with the master's permissions."""
    archive = early.archive if early else _Archive(subs, master_real)
    with Staged() as staged:
        staged.temps.update(early.temps.result() if early else _copy_to_temps(archive.copies))
        checkpoint("archive-temp")
        staged.publish(os.stat(master_real), step="archive", synced=early is not None)
    return archive.targets


def _archive_target(sub: Submission, folder: Path, claimed: dict[Path, str]) -> tuple[Path, bool]:
    """Where ``sub`` is archived, and whether it is there already (another file of the same name
    gets its SHA-256 prefix added)."""
    plain = folder / sub.path.name
    if plain in claimed:
        same = claimed[plain] == sub.sha256
    elif not plain.exists():
        return plain, False
    else:
        same = plain.stat().st_size == sub.path.stat().st_size and sha256_file(plain) == sub.sha256
    if same:
        return plain, True
    hashed = folder / f"{sub.path.stem}_{sub.sha256[:8]}{sub.path.suffix}"
    return hashed, hashed in claimed or hashed.exists()  # only ever renamed into place complete
