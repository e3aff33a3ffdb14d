"""xlwings Lite: ``from xlplugin.lite import *`` in Lite's main.py registers duban's functions and scripts.

Lite finds the ``@func`` and ``@script`` objects among main.py's names; this
module exports every one that :mod:`xlplugin.functions` and :mod:`xlplugin.scripts`
define (the ``DUBAN_`` functions and every script of ``BUTTONS``). Nothing here
needs python-calamine or a file system: the scripts read and write the open
book, and the two that need files say so in the 操作台 status cell.
"""

from __future__ import annotations

from . import functions as _functions
from . import scripts as _scripts

_exported = {**{name: f for name, f in vars(_functions).items() if name.startswith("DUBAN_")},
             **{name: getattr(_scripts, name) for name in _scripts.BUTTONS}}
globals().update(_exported)
__all__ = sorted(_exported)
