"""The ASGI app that ``duban serve`` runs: xlwings-server's own app behind a request guard.

The guard trusts no client: it bounds the size of every request, checks the
shape of the book and function calls Excel sends before xlwings sees them, and
turns what would be a bare "500" into a Chinese sentence.
"""

from __future__ import annotations

import json
import os
from typing import Any, Awaitable, Callable

MAX_REQUEST_ENV = "DUBAN_MAX_REQUEST_BYTES"
MAX_REQUEST_BYTES = int(os.environ.get(MAX_REQUEST_ENV, 20 * 1024 * 1024))
MAX_CELLS = 2_000_000  # a master of 10,000 tasks × 30 columns is 300,000
MAX_TEXT = 32_767  # Excel's own limit for one cell
_SCALARS = (str, int, float, bool, type(None))

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_script_call(name: str, data: Any, known: set[str]) -> None:
    if name not in known:
        raise Refused(404, f"没有名为“{name[:50]}”的督办操作")
    if not isinstance(data, dict) or not isinstance(data.get("book"), dict) \
            or not isinstance(data["book"].get("name"), str) or not isinstance(data.get("sheets"), list):
        raise Refused(400, "请求格式不对：缺少工作簿数据（book、sheets）")
    cells = 0
    for sheet in data["sheets"]:
        if not isinstance(sheet, dict) or not isinstance(sheet.get("name"), str) or not 0 < len(sheet["name"]) <= 31:
            raise Refused(400, "请求格式不对：工作表名称缺失或超过 31 个字符")
        values = sheet.get("values")
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            raise Refused(400, f"请求格式不对：工作表“{sheet['name']}”的数据不是表格")
        for row in values:
            cells += len(row)
            for v in row:
                if not isinstance(v, _SCALARS) or (isinstance(v, str) and len(v) > MAX_TEXT):
                    raise Refused(400, f"请求格式不对：工作表“{sheet['name']}”中有无法识别的单元格值")
        if cells > MAX_CELLS:
            raise Refused(413, f"工作簿过大：超过 {MAX_CELLS:,} 个单元格")


def check_function_call(data: Any, known: set[str]) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("func_name"), str) or not isinstance(data.get("args"), list):
        raise Refused(400, "请求格式不对：缺少函数名或参数")
    if data["func_name"] not in known:
        raise Refused(404, f"没有名为“{data['func_name'][:50]}”的督办函数")


def _known(kind: str) -> set[str]:
    import custom_functions  # the packages of the xlwings-server project folder (XLWINGS_PROJECT_DIR)
    import custom_scripts

    if kind == "functions":
        return {n for n, f in vars(custom_functions).items() if hasattr(f, "__xlfunc__")}
    return {n for n, f in vars(custom_scripts).items() if hasattr(f, "__xlscript__")}


def check(path: str, body: bytes) -> None:
    if "/xlwings/custom-scripts-call/" not in path and not path.endswith("/xlwings/custom-functions-call"):
        return
    try:
        data = json.loads(body)
    except ValueError:
        raise Refused(400, "请求格式不对：不是 JSON") from None
    if path.endswith("/xlwings/custom-functions-call"):
        check_function_call(data, _known("functions"))
    else:
        check_script_call(path.rsplit("/", 1)[1], data, _known("scripts"))


async def _reply(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def guard(inner: Callable[[Scope, Receive, Send], Awaitable[None]]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await inner(scope, receive, send)
        too_large = f"请求过大：超过 {MAX_REQUEST_BYTES / 1024 / 1024:g} MB"
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > 4 * MAX_REQUEST_BYTES:
            return await _reply(send, 413, too_large)  # not read at all: the client may see the connection close
        body = bytearray()
        while True:
            message = await receive()
            if len(body) <= MAX_REQUEST_BYTES:  # past the limit the rest is read and dropped, so the client gets the answer
                body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if len(body) > MAX_REQUEST_BYTES:
            return await _reply(send, 413, too_large)
        try:
            check(scope["path"], bytes(body))
        except Refused as exc:
            return await _reply(send, exc.status, str(exc))
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        failed = False

        async def send_clear(message: dict[str, Any]) -> None:
            # xlwings-server answers an unexpected error with a bare "An error occurred." and 500
            nonlocal failed
            if message["type"] == "http.response.start" and message["status"] == 500:
                failed = True
                return await _reply(send, 500, "服务器处理出错，工作簿未被修改：请检查工作簿是否完整，或联系管理员查看服务器日志")
            if not failed:
                await send(message)

        await inner(scope, replay, send_clear)

    return app


def _app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    from xlwings_server.main import main_app

    return guard(main_app)


app = _app()
