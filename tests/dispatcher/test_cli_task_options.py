"""CLI: `submit --webhook/--meta` and `secrets task-webhook [--rotate]`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.cli_support import taskhook
from tests.support import ADMIN_TOKEN, SECRET_KEY, live_server

ENV = {"TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN, "TASKHOOK_SECRET_KEY": SECRET_KEY}


async def test_submit_sends_webhook_and_metadata(tmp_path: Path) -> None:
    seen: list[Any] = []

    async def create(request: Request) -> JSONResponse:
        seen.append(await request.json())
        task = {"id": "tsk_1", "status": "succeeded", "provider": "foxapi", "model": "sora-2"}
        return JSONResponse(task, 202)

    app = Starlette(routes=[Route("/api/tasks", create, methods=["POST"])])
    async with live_server(app) as url:
        out = await asyncio.to_thread(
            taskhook, "submit", "foxapi", "sora-2", "-p", "prompt=a fox", "--url", url,
            "--webhook", "https://hooks.example/t", "--meta", "customer=acme", "--meta", "run=7",
            cwd=tmp_path, env=ENV,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert seen == [{"provider": "foxapi", "model": "sora-2", "input": {"prompt": "a fox"},
                     "webhook": "https://hooks.example/t",
                     "metadata": {"customer": "acme", "run": "7"}}]  # fmt: skip


def test_submit_refuses_a_malformed_meta(tmp_path: Path) -> None:
    out = taskhook("submit", "foxapi", "sora-2", "--meta", "nokey", "--url", "http://127.0.0.1:9",
                   cwd=tmp_path, env=ENV)  # fmt: skip
    assert out.returncode == 2 and "key=value" in out.stderr


def test_task_webhook_secret_is_stable_until_rotated(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "t.db")]
    first = taskhook("secrets", "task-webhook", *db, cwd=tmp_path, env=ENV)
    again = taskhook("secrets", "task-webhook", *db, cwd=tmp_path, env=ENV)
    rotated = taskhook("secrets", "task-webhook", "--rotate", *db, cwd=tmp_path, env=ENV)
    after = taskhook("secrets", "task-webhook", *db, cwd=tmp_path, env=ENV)
    assert [p.returncode for p in (first, again, rotated, after)] == [0, 0, 0, 0]
    secret = first.stdout.strip()
    assert secret.startswith("whsec_") and again.stdout.strip() == secret
    assert rotated.stdout.strip() != secret and after.stdout.strip() == rotated.stdout.strip()
    assert "24 h" in rotated.stderr and json.dumps(secret) not in rotated.stderr
