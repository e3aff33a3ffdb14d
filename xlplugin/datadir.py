"""The server's data folder: the only place a script under xlwings Server reads or writes files.

Under the server a workbook comes from a client, so nothing in it names a path:
the office's folder is ``<data dir>/<台账编号>/``, which the administrator
creates (the server never creates an office folder), its name is checked, and
links that lead out of it are neither followed nor written through.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from workbook.findings import DubanError

DATA_DIR_ENV = "DUBAN_DATA_DIR"
INBOX = "报送文件"
_NAME = re.compile(r"[0-9A-Za-z_\-\u4e00-\u9fff]{1,64}")
_PERIOD = re.compile(r"\d{4}-\d{2}")


def data_root() -> Path:
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        raise DubanError("服务器未配置数据文件夹，不能读写文件：请管理员用 duban serve --data-dir 启动")
    path = Path(root)
    if path.is_symlink() or not path.is_dir():
        raise DubanError("服务器的数据文件夹不存在：请管理员检查 duban serve --data-dir")
    return path.resolve()


def office_dir(office: str) -> Path:
    """The folder of the office whose master has ID ``office``; it must exist and be a real folder."""
    if not _NAME.fullmatch(office or ""):
        raise DubanError(f"台账编号“{office}”不能作为文件夹名（只允许字母、数字、汉字、-、_）：请检查“设置”表")
    root = data_root()
    folder = root / office
    if folder.is_symlink() or not folder.is_dir() or folder.resolve().parent != root:
        raise DubanError(f"服务器上没有本台账（台账编号 {office}）的数据文件夹：请管理员在数据文件夹中建立“{office}”文件夹")
    return folder


def subfolder(office: Path, name: str, create: bool = False) -> Path:
    """A folder directly inside the office folder (``name`` is ours; a link there is refused, never followed)."""
    path = office / name
    if path.is_symlink():
        raise DubanError(f"“{name}”是链接，服务器不读写数据文件夹以外的位置")
    if create:
        path.mkdir(exist_ok=True)
    if not path.is_dir():
        raise DubanError(f"服务器上的本台账数据文件夹中没有“{name}”文件夹：请把各单位发回的文件放在其中")
    return path


def period_folder(period: str, kind: str = "单位填报表") -> str:
    if not _PERIOD.fullmatch(period or ""):
        raise DubanError(f"当前填报期“{period}”格式不对，应为 YYYY-MM：请检查“设置”表")
    return f"{kind}_{period}"


def regular_files(folder: Path) -> list[Path]:
    """Files under ``folder``, not following links: a link to a file or folder elsewhere is skipped."""
    out = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not (Path(top) / d).is_symlink())
        for name in sorted(files):
            path = Path(top) / name
            if not path.is_symlink() and path.is_file():
                out.append(path)
    return out
