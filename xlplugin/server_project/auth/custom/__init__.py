"""xlwings-server's ``custom`` auth provider for ``duban serve --users FILE``.

FILE (JSON) lists the users: ``{"users": [{"name": "张三", "roles": ["duban.write"],
"token_sha256": "<hex>"}]}``. Only the SHA-256 of each token is stored; Excel sends
the token itself in the Authorization header (the task pane keeps it, see
``static/js/auth.js``). A request without a known token is refused with 401.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from fastapi import HTTPException, status

from xlwings_server.models import User

USERS_ENV = "DUBAN_USERS_FILE"


def _users() -> list[dict]:
    return json.loads(Path(os.environ[USERS_ENV]).read_text(encoding="utf-8"))["users"]


async def validate_token(token_string: str) -> User:
    token = token_string.removeprefix("Bearer ").strip()
    digest = hashlib.sha256(token.encode()).hexdigest()
    for user in _users():
        if token and secrets.compare_digest(digest, str(user.get("token_sha256", ""))):
            return User(id=user["name"], name=user["name"], roles=list(user.get("roles", [])))
    raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="身份验证失败：请在督办任务窗格中填写有效的令牌")
