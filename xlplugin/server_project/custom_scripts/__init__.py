"""duban's button scripts, as xlwings-server finds them: every ``@script`` of :mod:`xlplugin.scripts`."""

import xlplugin.scripts as _scripts

globals().update({name: f for name, f in vars(_scripts).items() if hasattr(f, "__xlscript__")})
