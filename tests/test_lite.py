"""The xlwings Lite route: a pure wheel whose import registers duban in Lite, and works without python-calamine."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from xlremote import apply, payload, sheets_from_file

ROOT = Path(__file__).resolve().parents[1]

# Run in a subprocess: python-calamine is blocked the way Pyodide lacks it, then
# the plugin is imported as Lite's main.py does and scripts run on the book JSON.
LITE_RUN = r"""
import asyncio, json, sys

class NoCalamine:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "python_calamine":
            raise ImportError("python-calamine is not available here (as in Pyodide before 0.28)")

sys.meta_path.insert(0, NoCalamine())
import xlwings as xw
from xlwings.server import custom_functions_meta, custom_scripts_meta, custom_scripts_call
import xlplugin.lite as main  # Lite's main.py: from xlplugin.lite import *

data = json.load(sys.stdin)
out = {"functions": sorted(f["name"] for f in custom_functions_meta(main)["functions"]),
       "scripts": sorted(m["function_name"] for m in custom_scripts_meta(main)), "actions": {}}
for name in data["scripts"]:
    book = xw.Book(json=data["payload"])
    asyncio.run(custom_scripts_call(main, name, typehint_to_value={xw.Book: book}))
    out["actions"][name] = book.json()["actions"]
out["calamine_loaded"] = "python_calamine" in sys.modules
print(json.dumps(out, ensure_ascii=False, default=str))
"""


def test_plugin_imports_and_runs_without_calamine(sample_master_file):
    import xlplugin.scripts as scripts

    sheets = sheets_from_file(sample_master_file)
    sheets = {"操作台": [[""] * 4 for _ in range(4)], **sheets}
    names = ["duban_check_master", "duban_rates", "duban_collect"]
    result = subprocess.run([sys.executable, "-c", LITE_RUN], input=json.dumps({"payload": payload(sheets), "scripts": names}),
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert not out["calamine_loaded"]
    assert out["scripts"] == sorted(scripts.BUTTONS)
    assert {"DEADLINE", "RATE", "LIGHT", "UNIT", "DAYS_LEFT"} <= {n.split(".")[-1] for n in out["functions"]}
    check = dict(sheets)
    apply(check, out["actions"]["duban_check_master"])
    assert "校验结果" in check and "校验完成" in check["操作台"][2][1]
    rates = dict(sheets)
    apply(rates, out["actions"]["duban_rates"])
    assert "灯" in rates["任务分解"][0]
    files = dict(sheets)
    apply(files, out["actions"]["duban_collect"])
    assert "需要读写文件" in files["操作台"][2][1]  # Lite has no message box: the status cell says it


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    return next(out.glob("duban-*.whl"))


def test_wheel_is_pure_and_carries_the_plugin(wheel: Path):
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
        requires = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Root-Is-Purelib: true" in meta
    assert 'Requires-Dist: python-calamine>=0.2; sys_platform != "emscripten"' in requires  # micropip skips it
    assert not [n for n in names if n.endswith((".so", ".pyd", ".dll", ".dylib"))]
    for part in ("xlplugin/lite.py", "xlplugin/functions.py", "xlplugin/scripts.py", "workbook/master.py",
                 "xlplugin/server_project/custom_scripts/__init__.py", "xlplugin/server_project/static/js/auth.js",
                 "xlplugin/server_project/templates/taskpane.html"):
        assert part in names
