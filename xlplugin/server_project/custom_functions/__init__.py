"""duban's cell functions, as xlwings-server finds them: every ``@func`` of :mod:`xlplugin.functions`."""

import xlplugin.functions as _functions

globals().update({name: f for name, f in vars(_functions).items() if hasattr(f, "__xlfunc__")})
