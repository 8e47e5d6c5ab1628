"""`serve`'s bounds: a connection limit answered with 503, a file-descriptor limit to match."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from dispatcher.cli.serve import Server, bind, uvicorn_config
from dispatcher.compose import build_app
from receiver.settings import Settings
from tests.support import free_port
from tests.test_deploy import DEPLOY, unit_settings


def test_the_limits_reach_uvicorn_and_the_unit() -> None:
    settings = Settings.from_env({"TASKHOOK_MAX_CONNECTIONS": "250"})
    assert uvicorn_config(object(), settings).limit_concurrency == 250
    unit = unit_settings(DEPLOY / "systemd" / "taskhook.service")
    assert int(unit["LimitNOFILE"][0]) >= 10 * Settings().max_connections


async def test_connections_beyond_the_limit_get_503(settings: Settings, tmp_path: Path) -> None:
    cfg = settings.replace(port=free_port(), max_connections=2, workers=False)
    server = Server(uvicorn_config(build_app(cfg), cfg))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    sock = bind(cfg)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        _, slow = await asyncio.open_connection("127.0.0.1", cfg.port)  # holds one slot
        slow.write(b"POST /callbacks/kie HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        await slow.drain()
        base = f"http://127.0.0.1:{cfg.port}"
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{base}/healthz")
        assert answer.status_code == 503
        slow.close()
        await slow.wait_closed()
        async with httpx.AsyncClient() as client:
            for _ in range(200):  # the slot frees once the server sees the close
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    break
                await asyncio.sleep(0.02)
            assert (await client.get(f"{base}/healthz")).status_code == 200
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()
