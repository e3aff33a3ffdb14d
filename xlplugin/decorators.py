"""One set of decorators for the three routes into Excel.

Classic desktop Excel on Windows uses xlwings' own (BSD) ``func``/``script``;
xlwings Lite and xlwings Server use the PRO ones from :mod:`xlwings.server`,
which also run anywhere a PRO or noncommercial licence key is set (tests).
"""

from __future__ import annotations

import os
import sys

import xlwings as xw

_CLASSIC = sys.platform.startswith("win") and os.environ.get("XLWINGS_ON_SERVER") != "true"

if _CLASSIC:
    func, script, arg, ret = xw.func, xw.script, xw.arg, xw.ret
else:
    try:
        from xlwings.server import arg, func, ret, script  # noqa: F401
    except Exception:  # no PRO licence: decorators become no-ops, the functions stay callable
        func, script, arg, ret = xw.func, xw.script, xw.arg, xw.ret

__all__ = ["func", "script", "arg", "ret"]
