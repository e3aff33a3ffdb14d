"""duban's headless core: the master ledger, unit workbooks, validation, collection, reports."""

from __future__ import annotations


def require_safe_xml() -> None:
    """Refuse to run when openpyxl would parse XML without defusedxml (it prints no warning itself)."""
    import openpyxl

    from .findings import DubanError

    if not getattr(openpyxl, "DEFUSEDXML", False):
        raise DubanError("缺少 defusedxml，读取外来工作簿不安全：请先运行 pip install defusedxml")
