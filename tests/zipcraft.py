"""Rewriting .xlsx zips at the byte level, for hostile and broken test files."""

from __future__ import annotations

import zipfile
from pathlib import Path


def rewrite(src: Path, dst: Path, add: dict[str, bytes] | None = None, remove: set[str] | None = None,
            replace: dict[str, bytes] | None = None, duplicate: list[tuple[str, bytes]] | None = None) -> Path:
    add, remove, replace = add or {}, remove or set(), replace or {}
    with zipfile.ZipFile(src) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    tmp = dst.with_name(dst.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename in remove:
                continue
            zout.writestr(info.filename, replace.get(info.filename, data))
        for name, data in add.items():
            zout.writestr(name, data)
        for name, data in duplicate or []:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                zout.writestr(name, data)
    tmp.replace(dst)
    return dst


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part of a sheet by name (openpyxl-written files number sheets in order)."""
    import re

    wb = read(path, "xl/workbook.xml").decode()
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', wb)
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"
