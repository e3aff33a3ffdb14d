"""Start ``duban serve`` as a subprocess on a free loopback port and talk to it as Excel does.

Shared by the HTTP tests and ``benchmarks/bench_server.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlwings as xw

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                raw: bytes | None = None) -> tuple[int, str]:
        data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def call_script(self, name: str, payload: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
        status, text = self.request("POST", f"/xlwings/custom-scripts-call/{name}", payload, token)
        return status, json.loads(text) if status == 200 else text

    def call_function(self, name: str, *args: Any, token: str | None = None) -> tuple[int, Any]:
        body = {"func_name": name, "args": [[[a]] for a in args], "version": xw.__version__, "client": "Office.js",
                "caller_address": "Sheet1!A1", "formula_name": name, "culture_info_name": "zh-CN",
                "date_format": "yyyy/m/d", "runtime": "1.4"}
        status, text = self.request("POST", "/xlwings/custom-functions-call", body, token)
        return status, json.loads(text)["result"][0][0] if status == 200 else text

    def stop(self) -> None:
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start(args: list[str], log: Path, workers: int = 1) -> Server:
    port = free_port()
    env = {**os.environ, "XLWINGS_LICENSE_KEY": os.environ.get("XLWINGS_LICENSE_KEY", "noncommercial"),
           "XLWINGS_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "workbook.cli", "serve", "--port", str(port), "--workers", str(workers), *args]
    with open(log, "w") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"duban serve exited: {log.read_text()}")
        try:
            if server.request("GET", "/manifest.xml")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"duban serve did not answer: {log.read_text()}")
