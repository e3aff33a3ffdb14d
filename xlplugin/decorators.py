"""One set of decorators for the three routes into Excel.

Classic desktop Excel on Windows uses xlwings' own (BSD) ``func``/``script``;
xlwings Lite and xlwings Server use the PRO ones from :mod:`xlwings.server`,
which also run anywhere a PRO or noncommercial licence key is set (tests).
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable

import xlwings as xw

ON_SERVER = os.environ.get("XLWINGS_ON_SERVER") == "true"  # set by xlwings-server before it imports us
LITE = sys.platform == "emscripten"  # xlwings Lite runs Python in the browser (Pyodide)
CLASSIC = sys.platform.startswith("win") and not ON_SERVER

# Excel shows =DUBAN.DEADLINE(...) in Server and Lite. The Server's manifest
# carries the namespace (XLWINGS_FUNCTIONS_NAMESPACE=DUBAN, set by `duban serve`);
# Lite's add-in has none, so there the functions carry it themselves. Classic
# Excel has no namespaces and shows the Python names (=DUBAN_DEADLINE(...)),
# which never collide with Excel's own functions (RATE is one).
NAMESPACE = "DUBAN"

if CLASSIC:
    func, script, arg, ret = xw.func, xw.script, xw.arg, xw.ret
else:
    try:
        from xlwings.server import arg, func, ret, script  # noqa: F401
    except Exception:  # no PRO licence: decorators become no-ops, the functions stay callable
        func, script, arg, ret = xw.func, xw.script, xw.arg, xw.ret


def excel_func(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@func`` with the Excel-facing ``name`` (DUBAN.<name> in Server and Lite).

    Whatever a cell passes (a range where a value belongs, an error value), the
    cell gets a short Chinese text, never a server error.
    """
    register = func(name=name, namespace=NAMESPACE) if LITE else func(name=name)

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def safe(*args: Any) -> Any:
            try:
                return f(*args)
            except Exception:
                return "错误：参数无法识别，请检查各参数是否为单个单元格的值"

        return register(safe)

    return wrap


__all__ = ["func", "script", "arg", "ret", "excel_func", "CLASSIC", "ON_SERVER", "LITE", "NAMESPACE"]
