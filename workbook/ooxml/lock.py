"""Who may write the master: duban's own lock file, and the lock files of spreadsheet programs.

duban's lock is a file created with ``O_CREAT | O_EXCL`` beside the real master
(``.总台账.xlsx.duban.lock``). Exclusive creation is atomic on local disks, NFS v3+
and SMB shares, where ``fcntl``/``flock`` locks are not reliable. The file holds
the holder's host, PID, user, start time and command as JSON, so a waiting
colleague is told who holds it.

A lock is stale, and is removed by the next process that wants it, when

* it was taken on this host and its process is gone, or
* it has not been refreshed for :data:`STALE_AFTER` seconds: the holder touches
  the file every :data:`HEARTBEAT` seconds, so only a holder that died on another
  computer (or a lock left by a crash before a reboot) stops refreshing it.

Breaking a stale lock is itself guarded by a second exclusive file
(``….duban.lock.break``), so two waiters can never both remove it and then
remove each other's fresh lock.

Spreadsheet programs write their own lock files; a master that any of them
holds open is never written (see :func:`ensure_not_open`).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..findings import DubanError

DEFAULT_WAIT = 30.0  # seconds a command waits for the lock (``--wait``)
STALE_AFTER = 600.0  # seconds without a heartbeat after which any lock is stale
HEARTBEAT = 60.0
_BREAK_STALE_AFTER = 30.0  # a ``.break`` file older than this was left by a killed breaker
_HALF_WRITTEN_AFTER = 10.0  # an unreadable lock older than this was left by a holder killed while creating it


class LockTimeout(DubanError):
    """The master stayed locked by another duban process for the whole wait."""


class MasterOpenError(DubanError):
    """A spreadsheet program holds the master open."""


def lock_path(real: Path) -> Path:
    return real.with_name(f".{real.name}.duban.lock")


@dataclass
class Holder:
    host: str = ""
    pid: int = 0
    user: str = ""
    since: str = ""
    command: str = ""
    token: str = ""

    def describe(self) -> str:
        parts = [f"用户 {self.user or '未知'}", f"电脑 {self.host or '未知'}", f"进程 {self.pid}"]
        if self.command:
            parts.append(f"命令 duban {self.command}")
        if self.since:
            parts.append(f"自 {self.since} 起")
        return "，".join(parts)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (a service account): the PID still identifies it
        return ""


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (signal 0 on POSIX, a process handle on Windows)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: Path) -> tuple[Holder | None, bytes, float] | None:
    """The lock's holder (None if unreadable), its raw bytes and its mtime; None if there is no lock."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(4096)
            mtime = os.fstat(fh.fileno()).st_mtime
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        holder = Holder(**{k: data[k] for k in Holder.__dataclass_fields__ if k in data})
        holder.pid = int(holder.pid)
    except (ValueError, TypeError, AttributeError):
        holder = None
    return holder, raw, mtime


def _is_stale(holder: Holder | None, mtime: float) -> bool:
    age = time.time() - mtime
    if holder is None:
        return age > _HALF_WRITTEN_AFTER
    if age > STALE_AFTER:
        return True
    return holder.host == socket.gethostname() and not pid_alive(holder.pid)


def _break_stale(path: Path, raw: bytes, mtime: float) -> None:
    """Remove the lock if it is still exactly the stale one we read (same bytes, not refreshed since)."""
    guard = path.with_name(path.name + ".break")
    try:
        fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            if time.time() - guard.stat().st_mtime > _BREAK_STALE_AFTER:
                guard.unlink()
        except OSError:
            pass
        return
    try:
        current = read_holder(path)
        if current is not None and current[1] == raw and current[2] == mtime:
            path.unlink()
    finally:
        os.close(fd)
        try:
            guard.unlink()
        except OSError:
            pass


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class MasterLock:
    """The exclusive lock on one master, held by this process (re-entrant within one thread)."""

    _held: dict[Path, "MasterLock"] = {}
    _registry_guard = threading.Lock()

    def __init__(self, real: Path, wait: float = DEFAULT_WAIT, command: str = "",
                 notify: Callable[[str], None] = _say) -> None:
        self.real, self.path = real, lock_path(real)
        self.wait, self.command, self.notify = max(0.0, wait), command, notify
        self.holder = Holder(host=socket.gethostname(), pid=os.getpid(), user=_user(), command=command,
                             token=uuid.uuid4().hex)
        self._depth = 0
        self._thread = threading.get_ident()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> "MasterLock":
        with MasterLock._registry_guard:
            mine = MasterLock._held.get(self.real)
        if mine is not None and mine._thread == threading.get_ident():
            mine._depth += 1
            self._reentered = mine
            return mine
        self._reentered = None
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reentered is not None:
            self._reentered._depth -= 1
            return
        self.release()

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        told = False
        delay = 0.05
        while True:
            if self._try_create():
                break
            found = read_holder(self.path)
            if found is None:
                continue  # released between our attempt and the read: try again at once
            holder, raw, mtime = found
            if _is_stale(holder, mtime):
                _break_stale(self.path, raw, mtime)
                continue
            who = holder.describe() if holder else "另一个 duban 进程"
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"台账 {self.real.name} 正被另一个 duban 命令使用（{who}），等待 {self.wait:g} 秒后仍未释放，"
                    f"本次未做任何改动：请稍后再试（可用 --wait 延长等待）；如确认该程序已不在运行，"
                    f"可删除锁文件 {self.path}")
            if not told:
                self.notify(f"台账 {self.real.name} 正被另一个 duban 命令使用（{who}），"
                            f"最多等待 {self.wait:g} 秒……")
                told = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 1.0)
        self._depth = 1
        with MasterLock._registry_guard:
            MasterLock._held[self.real] = self
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="duban-lock-heartbeat", daemon=True)
        self._beat.start()

    def _try_create(self) -> bool:
        self.holder.since = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise self._cannot_create(exc) from exc
        try:
            os.write(fd, json.dumps(self.holder.__dict__, ensure_ascii=False).encode("utf-8"))
            os.fsync(fd)
        except OSError as exc:  # e.g. a full disk: leave no empty lock behind
            os.close(fd)
            self.path.unlink()
            raise self._cannot_create(exc) from exc
        os.close(fd)
        return True

    def _cannot_create(self, exc: OSError) -> DubanError:
        import errno

        from .safe_write import os_error_text

        hint = "（台账所在的文件夹必须可写）" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else ""
        return DubanError(f"无法创建锁文件 {self.path}：{os_error_text(exc)}；台账 {self.real.name} 未改动{hint}")

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            if not self.still_held():
                return
            try:
                os.utime(self.path)
            except OSError:
                return

    def still_held(self) -> bool:
        found = read_holder(self.path)
        return bool(found and found[0] and found[0].token == self.holder.token)

    def release(self) -> None:
        self._stop.set()
        with MasterLock._registry_guard:
            if MasterLock._held.get(self.real) is self:
                del MasterLock._held[self.real]
        if self.still_held():
            try:
                self.path.unlink()
            except OSError:
                pass


# ------------------------------------------------------------------ spreadsheet programs' lock files


def _excel_owner(data: bytes) -> str:
    """The user name in an Office owner file: a length byte, the name in the ANSI code page padded to
    54 bytes, then (from byte 54) a length byte, a zero byte and the name again in UTF-16LE."""
    if not data:
        return ""
    n = data[0]
    if len(data) >= 56 + 2 * n and data[54] == n and n:
        try:
            return data[56:56 + 2 * n].decode("utf-16-le").strip()
        except UnicodeDecodeError:
            pass
    raw = data[1:1 + n]
    for codec in ("utf-8", "gbk"):
        try:
            return raw.decode(codec).strip()
        except UnicodeDecodeError:
            continue
    return ""


def _libreoffice_owner(data: bytes) -> str:
    """``.~lock.NAME#`` holds one CSV record ``name,sysuser,host,DD.MM.YYYY HH:MM,profile URL;``
    (commas, semicolons and backslashes inside fields are escaped with a backslash)."""
    text = data.decode("utf-8", "replace")
    fields, cur, escaped = [], "", False
    for ch in text:
        if escaped:
            cur, escaped = cur + ch, False
        elif ch == "\\":
            escaped = True
        elif ch in ",;":
            fields.append(cur)
            cur = ""
            if ch == ";":
                break
        else:
            cur += ch
    fields = (fields + [""] * 4)[:4]
    name, user, host, when = (f.strip() for f in fields)
    parts = [p for p in (name, f"用户 {user}" if user else "", f"电脑 {host}" if host else "",
                         f"自 {when} 起" if when else "") if p]
    return "，".join(parts)


def foreign_locks(real: Path) -> list[tuple[Path, str, str]]:
    """Lock files spreadsheet programs keep beside ``real``: (lock file, program, who holds it).

    * Excel (and WPS on Windows, which writes Office-compatible owner files): ``~$`` + name; Office
      replaces the first two characters of long names instead, so ``~$`` + name[2:] is checked too.
    * LibreOffice: ``.~lock.`` + name + ``#`` (user, host and time inside).
    * WPS on Linux: ``.~`` + name, with the first one or two characters of the name dropped for
      some names (as Seafile's lock-file detection handles them, seadrive-fuse ``repo-tree.c``).
    """
    name = real.name
    found = []
    for lock_name, rest, program in _lock_candidates(name):
        path = real.with_name(lock_name)
        if rest != name and rest != name + "#" and real.with_name(rest).exists():
            continue  # the lock belongs to the file that really has the shorter name
        try:
            data = path.read_bytes()[:4096]
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            data = b""
        who = _libreoffice_owner(data) if program == "LibreOffice" else _excel_owner(data)
        found.append((path, program, who))
    return found


def lock_file_names(name: str) -> set[str]:
    """The names of the lock files :func:`foreign_locks` looks for beside a file called ``name``."""
    return {lock_name for lock_name, _, _ in _lock_candidates(name)}


def _lock_candidates(name: str) -> list[tuple[str, str, str]]:
    """(lock file name, the file name it stands for, program), each name once."""
    candidates = [
        ("~$", name, "Excel/WPS"), ("~$", name[2:], "Excel/WPS"), (".~lock.", name + "#", "LibreOffice"),
        (".~", name, "WPS"), (".~", name[1:], "WPS"), (".~", name[2:], "WPS"),
    ]
    out, seen = [], set()
    for prefix, rest, program in candidates:
        if prefix + rest not in seen and len(rest) >= 3:
            seen.add(prefix + rest)
            out.append((prefix + rest, rest, program))
    return out


def ensure_not_open(real: Path, what: str = "台账") -> None:
    """Refuse to write a file (the master, or an output being replaced) that Excel, WPS or
    LibreOffice holds open."""
    locks = foreign_locks(real)
    if not locks:
        return
    path, program, who = locks[0]
    raise MasterOpenError(
        f"{what} {real.name} 正被 {program} 打开" + (f"（{who}）" if who else "")
        + f"，本次未做任何改动：请先关闭后再试；如确认已无人打开，可删除锁文件 {path}")
