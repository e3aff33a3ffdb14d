"""``duban serve``: xlwings-server's app with duban's functions and scripts, under gunicorn."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from workbook.findings import DubanError

PROJECT_DIR = Path(__file__).resolve().parent / "server_project"
LICENCE_HELP = ("请设置环境变量 XLWINGS_LICENSE_KEY：非商业用途设为 noncommercial，"
                "商业用途需 xlwings PRO 商业许可证的密钥")


def environment(data_dir: Path | None, users: Path | None, max_request_mb: int) -> dict[str, str]:
    """The settings xlwings-server and duban's scripts read, for the server and its workers."""
    env = {
        "XLWINGS_PROJECT_DIR": str(PROJECT_DIR),
        "XLWINGS_ON_SERVER": "true",
        "XLWINGS_FUNCTIONS_NAMESPACE": "DUBAN",
        "XLWINGS_PROJECT_NAME": "督办",
        "XLWINGS_ENABLE_EXAMPLES": "false",
        "XLWINGS_ENABLE_HOTRELOAD": "false",
        "XLWINGS_ENABLE_SOCKETIO": "false",  # no streaming functions; plain HTTP scales over workers
        "DUBAN_MAX_REQUEST_BYTES": str(max_request_mb * 1024 * 1024),
    }
    if data_dir is not None:
        if not data_dir.is_dir():
            raise DubanError(f"数据文件夹不存在：{data_dir}")
        env["DUBAN_DATA_DIR"] = str(data_dir.resolve())
    if users is not None:
        try:
            listed = json.loads(users.read_text(encoding="utf-8"))["users"]
            assert all(isinstance(u["name"], str) and len(u["token_sha256"]) == 64 for u in listed)
        except (OSError, ValueError, KeyError, TypeError, AssertionError):
            raise DubanError(f"用户文件 {users} 不对：应为 JSON，"
                             '如 {"users": [{"name": "张三", "roles": ["duban.write"], "token_sha256": "…"}]}') from None
        env["DUBAN_USERS_FILE"] = str(users.resolve())
        env["XLWINGS_AUTH_PROVIDERS"] = '["custom"]'
    return env


def check_licence() -> None:
    if not os.environ.get("XLWINGS_LICENSE_KEY"):
        raise DubanError(f"缺少 xlwings 许可证密钥：{LICENCE_HELP}")
    try:
        import xlwings.server  # noqa: F401  (validates the key)
    except ImportError:
        raise DubanError("未安装服务器组件：请运行 pip install 'duban[server]'") from None
    except Exception as exc:
        raise DubanError(f"xlwings 许可证密钥无效（{exc}）：{LICENCE_HELP}") from None
    try:
        import gunicorn  # noqa: F401
        import uvicorn  # noqa: F401
        import xlwings_server  # noqa: F401
    except ImportError:
        raise DubanError("未安装服务器组件：请运行 pip install 'duban[server]'") from None


def manifest_url(host: str, port: int, https: bool) -> str:
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    return f"{'https' if https else 'http'}://{shown}:{port}/manifest.xml"


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, certfile: Path | None = None,
          keyfile: Path | None = None, data_dir: Path | None = None, users: Path | None = None,
          max_request_mb: int = 20) -> int:
    if bool(certfile) != bool(keyfile):
        raise DubanError("--certfile 和 --keyfile 要一起给出")
    for f in (certfile, keyfile):
        if f is not None and not f.is_file():
            raise DubanError(f"找不到证书文件：{f}")
    if not 1 <= workers <= 64:
        raise DubanError("--workers 应在 1 到 64 之间")
    os.environ.update(environment(data_dir, users, max_request_mb))
    check_licence()
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "uvicorn.workers.UvicornWorker",
        "timeout": 300,
        "graceful_timeout": 10,
        "errorlog": "-",
        "loglevel": "warning",
    }
    if certfile and keyfile:
        options.update(certfile=str(certfile), keyfile=str(keyfile))
    print(f"督办服务：{workers} 个工作进程，在 Excel 中加载加载项清单 {manifest_url(host, port, bool(certfile))}", flush=True)
    if not certfile:
        print("注意：Excel 只加载 HTTPS 的加载项：请用 --certfile/--keyfile，或放在提供 HTTPS 的反向代理之后", flush=True)
    if "XLWINGS_AUTH_PROVIDERS" not in os.environ:
        print("注意：未配置身份验证，“导出单位工作簿”“汇总报送”将被拒绝（需要 duban.write 角色；见 --users）", flush=True)
    if data_dir is None:
        print("注意：未指定 --data-dir，读写文件的操作不可用", flush=True)
    _run_gunicorn(options)
    return 0


def _run_gunicorn(options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from .server_app import app

            return app

    Server().run()
