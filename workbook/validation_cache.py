"""Validation contexts kept between runs, so a master is read once and not at every ``duban validate``.

An office validates the files as they come in, several times a month, against one master; at a
province's scale (20,000 tasks) reading the master and building what validation needs from it costs
more than checking a hundred files. The context is kept in the user's cache directory as JSON: plain
data, so a file planted there can at worst be refused, never run. It is found by a key made of the
SHA-256 of the master's bytes and of duban's own code: a master changed in any way, or another
version of duban, misses, and a miss reads the master as before. A context is written the second
time its master is read (writing one costs a quarter of reading the master: a master validated only
once, say just before a collect changes it, leaves nothing but an empty mark). Nothing here ever
stops a validation: a cache that cannot be used is not used.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .language.units import UnitDirectory
from .milestones import Milestone
from .validate import Context, TaskInfo

CACHE_ENV = "DUBAN_CACHE_DIR"  # where to keep it instead of the user's cache directory
FORMAT = 1  # of the stored data; the code's own hash is in the key as well
KEEP = 3  # contexts kept, the most recently used (a few MB each for 1,000 units)
KEEP_MARKS = 20  # marks of masters read once (empty files)
_TEMP_STALE_AFTER = 3600.0  # seconds: a temp file this old was left by a killed run


def cache_dir() -> Path | None:
    """duban's cache directory, private to the user (made 0700); None when it is not (nothing is cached)."""
    if os.environ.get(CACHE_ENV):
        root = Path(os.environ[CACHE_ENV])
    elif sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "duban" / "Cache"
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "duban"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "duban"
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or (os.name == "posix" and (st.st_uid != os.getuid() or st.st_mode & 0o077)):
        return None  # a link, or a directory others may write to: what it holds cannot be trusted
    return root


def cache_key(master_sha256: str) -> str:
    """The key of a master's context: its bytes, and the code that builds and reads contexts."""
    return hashlib.sha256(f"{master_sha256} {_code()}".encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _code() -> str:
    """The SHA-256 of duban's source (every module may shape a context) and of this format and Python."""
    code = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        code.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return code.hexdigest()


def load(key: str) -> Context | None:
    """The context stored under ``key``; None when there is none or it cannot be trusted or read."""
    root = cache_dir()
    if root is None:
        return None
    path = root / f"validation-{key}.json"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if os.name == "posix" and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                return None
            data = json.loads(fh.read())
        if data.get("key") != key:
            return None
        ctx = _context(data)
        os.utime(path)  # recently used: kept longest
    except Exception:  # missing, unreadable, not JSON, not a context: read the master instead
        return None
    return ctx


def keep(key: str, ctx: Context) -> None:
    """After a miss: store ``ctx`` when its master was read before (a mark says so), else mark it."""
    root = cache_dir()
    if root is None:
        return
    mark = root / f"seen-{key}"
    try:
        if not mark.exists():
            os.close(os.open(mark, os.O_CREAT | os.O_WRONLY, 0o600))
            _evict(root, "seen-*", KEEP_MARKS)
            return
        mark.unlink()
    except OSError:
        return
    store(key, ctx)


def store(key: str, ctx: Context) -> None:
    """Keep ``ctx`` under ``key`` (written whole, then renamed into place), and only the newest few."""
    root = cache_dir()
    if root is None:
        return
    try:
        payload = json.dumps(_plain(key, ctx), ensure_ascii=False, separators=(",", ":")).encode()
        fd, temp = tempfile.mkstemp(dir=root, prefix=".validation-", suffix=".tmp")  # 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(temp, root / f"validation-{key}.json")
        except BaseException:
            os.unlink(temp)
            raise
        _evict(root, "validation-*.json", KEEP)
    except Exception:  # a full disk, a read-only home: validation goes on without a cache
        return


def _evict(root: Path, pattern: str, keep: int) -> None:
    """All but the ``keep`` newest files of ``pattern``, and temp files a killed run left."""
    entries = sorted(root.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    stale = [p for p in root.glob(".validation-*.tmp") if time.time() - p.stat().st_mtime > _TEMP_STALE_AFTER]
    for path in entries[keep:] + stale:
        path.unlink(missing_ok=True)


def _plain(key: str, ctx: Context) -> dict[str, Any]:
    # Tuples, and no copies of what is already a tuple: JSON writes both as arrays.
    return {
        "key": key, "master_id": ctx.master_id, "year": ctx.year, "period": ctx.period,
        "as_of": ctx.as_of.isoformat(), "statuses": ctx.statuses,
        "units": (list(ctx.units.names), ctx.units.aliases),
        "tasks": [(tid, t.text, t.deadline_text, _value(t.due), t.target,
                   [(m.task_id, m.serial, m.content, m.when, m.due.isoformat(), m.share) for m in t.steps],
                   t.next_step, t.leads, t.cancelled) for tid, t in ctx.tasks.items()],
        "issued": [(unit, period, records) for (unit, period), records in ctx.issued.items()],
        "content": ctx.content,
    }


def _context(data: dict[str, Any]) -> Context:
    tasks = {tid: TaskInfo(text, deadline, _from_value(due), target,
                           tuple(Milestone(m[0], m[1], m[2], m[3], dt.date.fromisoformat(m[4]), m[5]) for m in steps),
                           next_step, tuple(leads), cancelled)
             for tid, text, deadline, due, target, steps, next_step, leads, cancelled in data["tasks"]}
    names, aliases = data["units"]
    return Context(data["master_id"], data["year"], data["period"], dt.date.fromisoformat(data["as_of"]),
                   tuple(data["statuses"]), UnitDirectory(dict.fromkeys(names), aliases), tasks,
                   {(unit, period): [(digest, ids) for digest, ids in records]
                    for unit, period, records in data["issued"]},
                   {digest: [(unit, text) for unit, text in records] for digest, records in data["content"].items()})


def _value(value: Any) -> Any:
    """A task's 截止日期 as JSON: a date (what it almost always is) tagged, anything else as it was read."""
    return {"date": value.isoformat()} if isinstance(value, dt.date) else value


def _from_value(value: Any) -> Any:
    return dt.date.fromisoformat(value["date"]) if isinstance(value, dict) else value
