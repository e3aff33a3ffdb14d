"""Writing the master without ever losing it.

Every write goes to a temporary file beside the master and replaces it with
``os.replace`` (atomic on one file system), after a timestamped backup. A master
that Excel holds open (its ``~$`` lock file exists) or that changed since it was
read is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from openpyxl import Workbook

from ..findings import DubanError


class MasterLockedError(DubanError):
    pass


class MasterChangedError(DubanError):
    pass


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def lock_file(path: Path) -> Path:
    # Excel writes "~$" plus the name (Office trims long names to keep the tail).
    return path.with_name("~$" + path.name)


def ensure_not_locked(path: Path) -> None:
    locks = [lock_file(path), path.with_name("~$" + path.name[2:])]
    if any(p.exists() for p in locks):
        raise MasterLockedError(f"台账 {path.name} 正在被 Excel/WPS 打开（存在锁文件 ~$），请先关闭后再试")


def backup_dir(path: Path) -> Path:
    return path.with_name(f"{path.stem}_备份")


def replace_atomically(
    path: Path,
    write: Callable[[Path], None],
    expected_sha256: str | None = None,
    backup: bool = True,
) -> Path | None:
    """Write ``path`` through ``write(temp_path)``; return the backup made, if any.

    ``expected_sha256`` is the hash taken when the master was read: if the file
    on disk differs, somebody saved it meanwhile and the write is refused.
    """
    path = Path(path)
    ensure_not_locked(path)
    _remove_stale_temps(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.xlsx", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if expected_sha256 and path.exists() and sha256_file(path) != expected_sha256:
            raise MasterChangedError(f"台账 {path.name} 在读取后已被他人修改保存，为避免覆盖，本次未写入；请重新运行")
        ensure_not_locked(path)
        made = None
        if backup and path.exists():
            folder = backup_dir(path)
            folder.mkdir(exist_ok=True)
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            made = folder / f"{path.stem}_{stamp}{path.suffix}"
            shutil.copy2(path, made)
        os.replace(tmp, path)
        return made
    finally:
        if tmp.exists():
            tmp.unlink()


def _remove_stale_temps(path: Path, age_seconds: float = 600) -> None:
    """Temp files left by a run that was killed before ``os.replace`` (the master itself is intact)."""
    import time

    for stale in path.parent.glob(f".{path.stem}.*.tmp.xlsx"):
        try:
            if time.time() - stale.stat().st_mtime > age_seconds:
                stale.unlink()
        except OSError:
            pass


def save_workbook(wb: Workbook, path: Path, expected_sha256: str | None = None, backup: bool = True) -> Path | None:
    return replace_atomically(Path(path), lambda tmp: wb.save(tmp), expected_sha256, backup)
