"""duban's headless core: the master ledger, unit workbooks, validation, collection, reports."""

from __future__ import annotations

import importlib.util
import os
import sys


def require_safe_xml() -> None:
    """Refuse to run when openpyxl would parse XML without defusedxml (it prints no warning itself).

    openpyxl decides once, at import, from the same two facts checked here; checking them
    without importing openpyxl keeps commands that never touch it (validate) fast.
    """
    from .findings import DubanError

    openpyxl = sys.modules.get("openpyxl")
    if openpyxl is not None:
        safe = getattr(openpyxl, "DEFUSEDXML", False)
    else:
        safe = importlib.util.find_spec("defusedxml") is not None and \
            os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True"
    if not safe:
        raise DubanError("缺少 defusedxml，读取外来工作簿不安全：请先运行 pip install defusedxml")
