"""Writing files so that none is ever partial, lost or left with the wrong permissions.

Every file duban writes (the master, its backups, archived originals, unit
workbooks, reports, returned copies) is written to a temp name beside its final
name (``.<stem>.<random>.tmp<suffix>``: hidden, and skipped when a folder of
submissions is read), flushed to disk with ``fsync``, given its permissions, and
only then renamed into place with ``os.replace`` (atomic on one file system);
the folder is fsynced after the rename. A kill or a full disk at any moment
leaves either the old file or the new one under the final name, never a part.

Permissions: a file that replaces another keeps its mode, its group and (when
running as root) its owner; backups and archives take the master's; a new file
follows the umask (the temp file is created with mode 0666 and the umask
applies).

Outputs never replace inputs: :func:`check_output` refuses a path that resolves
(through symbolic links) to the master, a submitted file, or anything in the
master's backup or archive folders, and refuses an existing file unless
``force`` is given.

The master itself is written only through :func:`workbook.master.master_transaction`,
which adds the lock, the backup and the "changed since read" check.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import hashlib
import os
import re
import shutil
import stat
import sys
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..findings import DubanError
from .lock import ensure_not_open, lock_file_names

_TEMP = re.compile(r"^\.(.+)\.[0-9a-f]{12}\.tmp(\.[^.]*)?$")  # .<stem>.<random>.tmp<suffix>
BACKUP_STAMP = "%Y%m%d-%H%M%S-%f"
OUTPUT_TEMP_STALE_AFTER = 600.0  # seconds; an output's temp file older than this was left by a killed run

Protected = Iterable[tuple[Path, str]]  # paths no output may replace (a folder protects all inside), with a label


class WriteError(DubanError):
    """Writing a file failed (disk full, no permission, …); the file under the final name is unchanged."""

    def __init__(self, path: Path, cause: OSError) -> None:
        self.path, self.cause = path, cause
        super().__init__(f"写入 {path} 失败：{os_error_text(cause)}")

    def __reduce__(self) -> tuple:  # raised in worker processes, re-raised in the parent
        return WriteError, (self.path, self.cause)


def checkpoint(step: str) -> None:
    """Test hook at the step boundaries of a write: with ``DUBAN_TEST_PAUSE="step=seconds,…"`` (``*`` for
    every step) the process announces ``duban-test-pause <step>`` on stderr and sleeps, so tests can
    slow the write path down (as a network share does) or kill -9 at an exact point. Unset in use."""
    spec = os.environ.get("DUBAN_TEST_PAUSE")
    if not spec:
        return
    for item in spec.split(","):
        name, _, seconds = item.partition("=")
        if name.strip() in (step, "*"):
            print(f"duban-test-pause {step}", file=sys.stderr, flush=True)
            time.sleep(float(seconds or 0))
            return


# ------------------------------------------------------------------ errors


_CAUSES = {
    errno.ENOSPC: "磁盘空间不足", errno.EDQUOT: "超出磁盘配额", errno.EACCES: "没有权限",
    errno.EPERM: "没有权限", errno.EROFS: "磁盘或共享文件夹是只读的", errno.ENOENT: "文件或文件夹不存在",
    errno.EISDIR: "这是一个文件夹", errno.ENOTDIR: "路径中有一项不是文件夹", errno.EEXIST: "文件已存在",
    errno.EBUSY: "文件正被占用", errno.ETXTBSY: "文件正被占用", errno.ENAMETOOLONG: "文件名太长",
    errno.EIO: "读写错误（磁盘或网络故障）", errno.EXDEV: "不在同一个磁盘上", errno.EFBIG: "文件太大",
    errno.ESTALE: "网络共享上的文件已失效（请重新连接共享）", errno.ETIMEDOUT: "网络超时",
}


def os_error_text(exc: OSError) -> str:
    """The cause of an OS error in Chinese (the English text of the system as a fallback)."""
    return _CAUSES.get(exc.errno or -1) or exc.strerror or str(exc) or type(exc).__name__


def describe_os_error(exc: OSError) -> str:
    """One line: the file(s) and the cause, never empty brackets."""
    files = "、".join(str(f) for f in (exc.filename, exc.filename2) if f)
    return f"{files}：{os_error_text(exc)}" if files else os_error_text(exc)


def find_os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` (libraries wrap it, e.g. XlsxWriter's FileCreateError)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError):
            return cur
        for arg in getattr(cur, "args", ()):
            if isinstance(arg, OSError):
                return arg
        cur = cur.__cause__ or cur.__context__
    return None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OS error while writing ``path`` into a :class:`WriteError` naming it."""
    try:
        yield
    except WriteError:
        raise
    except Exception as exc:
        cause = find_os_error(exc)
        if cause is None:
            raise
        _close_abandoned_files(exc)
        raise WriteError(path, cause) from None


def _close_abandoned_files(exc: BaseException) -> None:
    """A library that failed mid-write (XlsxWriter on a full disk) leaves its zip file open in the
    failed frames; its destructor would retry the write later and print the same error on stderr.
    Release those frames now, with that report silenced."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _: None
    try:
        cur: BaseException | None = exc
        while cur is not None:
            traceback.clear_frames(cur.__traceback__)
            cur = cur.__cause__ or cur.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


# ------------------------------------------------------------------ building blocks


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def real_path(path: Path) -> Path:
    """``path`` with every symbolic link resolved: the file that is really written."""
    return Path(os.path.realpath(path))


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)  # Windows flushes writable handles only
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable; some systems (Windows, some SMB mounts) cannot open or sync a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def apply_stat(path: Path, like: os.stat_result) -> None:
    """Give ``path`` the mode, group and (as root) owner of ``like``."""
    if hasattr(os, "chown"):
        try:
            os.chown(path, like.st_uid if os.geteuid() == 0 else -1, like.st_gid)
        except OSError:
            pass  # not a member of that group, or the share ignores owners: the mode is still kept
    os.chmod(path, stat.S_IMODE(like.st_mode))


def final_of(temp: Path) -> Path:
    """The final path a temp file from :class:`Staged` is written for."""
    m = _TEMP.match(temp.name)
    return temp.with_name(m.group(1) + (m.group(2) or "")) if m else temp


def temp_name(final: Path) -> Path:
    """A fresh temp name beside ``final``, one :func:`remove_temps` knows as ``final``'s."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:12]}.tmp{final.suffix}")


def remove_temps(folder: Path, finals: Iterable[Path] | None = None, older_than: float = 0.0) -> None:
    """Temp files left in ``folder`` by a killed run: all of them, or those of ``finals``."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    names = None if finals is None else {f.name for f in finals}
    now = time.time()
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or (names is not None and m.group(1) + (m.group(2) or "") not in names):
            continue
        try:
            if now - entry.stat().st_mtime >= older_than:
                os.unlink(entry.path)
        except OSError:
            pass


def _fsync_all(temps: dict[Path, Path]) -> None:
    """fsync many files at once: concurrent flushes share the file system's journal commits
    (1,000 unit workbooks one after the other would cost seconds)."""
    if len(temps) <= 1:
        for final, tmp in temps.items():
            with writing(final):
                fsync_file(tmp)
        return
    with ThreadPoolExecutor(min(16, len(temps))) as pool:
        done = {final: pool.submit(fsync_file, tmp) for final, tmp in temps.items()}
    for final, future in done.items():
        with writing(final):
            future.result()


class Staged:
    """Files written to temp names, then renamed into place together (:meth:`publish`) or discarded."""

    def __init__(self) -> None:
        self.temps: dict[Path, Path] = {}

    def temp(self, final: Path) -> Path:
        """A new empty temp file beside ``final`` (mode 0666 less the umask) to write ``final`` into."""
        with writing(final):
            while True:
                tmp = temp_name(final)
                try:
                    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                    break
                except FileExistsError:
                    continue
        self.temps[final] = tmp
        return tmp

    def sync(self) -> None:
        """fsync every temp file (done by :meth:`publish` unless told they are synced already)."""
        _fsync_all(self.temps)

    def publish(self, like: os.stat_result | None = None, step: str = "", synced: bool = False) -> None:
        """fsync each temp file (unless ``synced``: the process that wrote them did), give it its
        permissions (``like``, else those of the file it replaces) and rename it to its final name;
        then fsync the folders."""
        if not synced:
            self.sync()
        folders = set()
        for final, tmp in list(self.temps.items()):
            with writing(final):
                try:
                    apply_stat(tmp, like or os.stat(final))
                except FileNotFoundError:
                    pass  # a new file: the umask applied when the temp was created
                os.replace(tmp, final)
            del self.temps[final]
            folders.add(final.parent)
            if step:
                checkpoint(step)
        for folder in folders:
            fsync_dir(folder)

    def discard(self) -> None:
        for tmp in self.temps.values():
            try:
                tmp.unlink()
            except OSError:
                pass
        self.temps.clear()

    def __enter__(self) -> "Staged":
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()  # whatever was not published


def atomic_write(final: Path, write: Callable[[Path], None], like: os.stat_result | None = None,
                 step: str = "") -> None:
    """Write ``final`` through ``write(temp_path)``; all or nothing."""
    with Staged() as staged:
        tmp = staged.temp(final)
        with writing(final):
            write(tmp)
        if step:
            checkpoint(f"{step}-temp")
        staged.publish(like)
    if step:
        checkpoint(step)


def copy_into(src: Path, tmp: Path) -> None:
    """Copy ``src``'s bytes into an existing temp file (which keeps its mode)."""
    with open(src, "rb") as fin, open(tmp, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


def copy_atomically(src: Path, dst: Path, like: os.stat_result | None = None, step: str = "") -> None:
    atomic_write(dst, lambda tmp: copy_into(src, tmp), like, step)


# ------------------------------------------------------------------ backups


def backup_dir(real: Path) -> Path:
    return real.with_name(f"{real.stem}_备份")


def make_backup(real: Path, like: os.stat_result) -> Path:
    """A complete copy of the master in ``<stem>_备份/<stem>_<time><suffix>``, with the master's permissions."""
    folder = backup_dir(real)
    with writing(folder):
        folder.mkdir(exist_ok=True)
    remove_temps(folder)
    target = folder / f"{real.stem}_{dt.datetime.now().strftime(BACKUP_STAMP)}{real.suffix}"
    copy_atomically(real, target, like, step="backup")
    return target


def rotate_backups(real: Path, keep: int, months: int, now: dt.datetime | None = None) -> list[Path]:
    """Delete old backups: keep the newest ``keep``, and the newest of each of the last ``months`` months
    (the current month included). ``keep`` 0 or less keeps everything. Returns what was deleted."""
    folder = backup_dir(real)
    if keep <= 0 or not folder.is_dir():
        return []
    pattern = re.compile(re.escape(real.stem) + r"_(\d{8})-(\d{6})-(\d{6})" + re.escape(real.suffix) + "$")
    found = sorted(((m.group(1) + m.group(2) + m.group(3), folder / name) for name in os.listdir(folder)
                    if (m := pattern.match(name))), reverse=True)
    kept = {path for _, path in found[:keep]}
    now = now or dt.datetime.now()
    this_month = now.year * 12 + now.month - 1
    months_seen: set[int] = set()
    for stamp, path in found:  # newest first: the first of a month is its last backup
        month = int(stamp[:4]) * 12 + int(stamp[4:6]) - 1
        if 0 <= this_month - month < months and month not in months_seen:
            months_seen.add(month)
            kept.add(path)
    removed = []
    for _, path in found:
        if path not in kept:
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


# ------------------------------------------------------------------ outputs


def check_output(path: Path, force: bool = False, protected: Protected = ()) -> Path:
    """The real path ``path`` will write, after refusing inputs, the master and (without ``force``)
    existing files; also refused: an output a spreadsheet program holds open."""
    real = real_path(path)
    _refuse(path, real, _guarded(protected), real.is_dir(), real.exists() and not force)
    ensure_not_open(real, "文件")
    return real


def check_outputs(paths: list[Path], force: bool = False, protected: Protected = ()) -> list[Path]:
    """:func:`check_output` for many files (a split's unit workbooks), with the same refusals.

    The protected paths are resolved once and each folder is listed once: a file that is not a
    symbolic link and has no lock file of a spreadsheet program beside it needs no look-up of its
    own (:func:`check_output` makes about ten, each a round trip on a network share). Any other
    file is checked by :func:`check_output` itself."""
    guarded = _guarded(protected)
    folders: dict[Path, tuple[Path, dict[str, os.DirEntry[str]], set[str]] | None] = {}
    out = []
    for path in paths:
        if path.parent not in folders:
            try:
                entries = {e.name: e for e in os.scandir(path.parent)}
                folders[path.parent] = (real_path(path.parent), entries, {n.casefold() for n in entries})
            except OSError:
                folders[path.parent] = None
        folder = folders[path.parent]
        if folder is None:
            out.append(check_output(path, force, protected))
            continue
        real_folder, entries, folded = folder
        entry = entries.get(path.name)
        if ((entry is None and path.name.casefold() in folded) or (entry is not None and entry.is_symlink())
                or any(n.casefold() in folded for n in lock_file_names(path.name))):
            out.append(check_output(path, force, protected))  # another case, a link, a lock file: look closer
            continue
        real = real_folder / path.name
        _refuse(path, real, guarded, entry is not None and entry.is_dir(), entry is not None and not force)
        out.append(real)
    return out


def _guarded(protected: Protected) -> list[tuple[Path, str, Path]]:
    return [(real_path(item), label, item) for item, label in protected]


def _refuse(path: Path, real: Path, guarded: list[tuple[Path, str, Path]], is_dir: bool, exists: bool) -> None:
    """Refuse an output that would replace something protected, is a folder, or exists (without force)."""
    for target, label, item in guarded:
        if real == target or target in real.parents:
            raise DubanError(f"输出 {path} 会覆盖{label} {item}，已拒绝，未做任何改动：请换一个文件名或文件夹")
    if is_dir:
        raise DubanError(f"输出 {path} 是一个文件夹：请给出文件名")
    if exists:
        raise DubanError(f"输出文件 {path} 已存在，未做任何改动：加 --force 覆盖，或换一个文件名")


def write_output(path: Path, write: Callable[[Path], None], force: bool = False,
                 protected: Protected = ()) -> Path:
    """Write one output file atomically (outputs never replace inputs; existing ones only with ``force``)."""
    real = check_output(path, force, protected)
    if not real.parent.is_dir():
        raise DubanError(f"输出文件夹不存在：{real.parent}")
    remove_temps(real.parent, [real], OUTPUT_TEMP_STALE_AFTER)
    atomic_write(real, write)
    return real
