"""Fuzz the admin API: no query, path or body yields a 500 or a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.applications import Starlette

from dispatcher.compose import build_app
from receiver.settings import Settings
from tests.asgi_raw import raw_request, split_body
from tests.support import ADMIN_TOKEN, SECRET_KEY, app_client

Caller = Callable[..., httpx.Response]
READ_PATHS = ["/api/tasks", "/api/events", "/api/callbacks", "/api/subscribers", "/api/deliveries"]
PARAMS = ["limit", "cursor", "status", "provider", "model", "task_id", "type", "verdict", "state"]
junk = st.text(min_size=0, max_size=40)
# digits str.isdigit() accepts but int() refuses, other scripts' digits, and too many digits
odd_numbers = st.sampled_from(
    ["²", "³", "¹", "\u0663", "\u07c0", "\uff15", "1" * 5000, "9" * 30, "-0", "1e3"]
)
deep_json = st.builds(
    lambda depth, opener: opener * depth + (b"]" if opener == b"[" else b"}") * depth,
    st.integers(60, 40_000), st.sampled_from([b"[", b'{"a":']),
)  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | junk,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(junk, inner, max_size=4),
    max_leaves=12,
)


def _check(response_status: int, text: str) -> None:
    assert response_status < 500, text
    assert "Traceback" not in text


def _app(tmp_path: Path) -> Starlette:
    settings = Settings(
        db=str(tmp_path / "fuzz.db"), admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY, workers=False
    )
    return build_app(settings)


async def _fuzz(tmp_path: Path, check: Callable[[Caller], Callable[[], None]]) -> None:
    """Run a sync hypothesis test in a thread; its requests run on this loop's app client."""
    loop = asyncio.get_running_loop()
    async with app_client(_app(tmp_path)) as client:

        def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
            coro = client.request(method, url, **kwargs)
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

        await asyncio.to_thread(check(call))


async def test_list_endpoints_survive_any_query(tmp_path: Path) -> None:
    def build(call: Caller) -> Callable[[], None]:
        @hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            st.sampled_from(READ_PATHS),
            st.dictionaries(st.sampled_from(PARAMS), junk | odd_numbers),
        )
        def check(path: str, params: dict[str, str]) -> None:
            response = call("GET", path, params=params)
            _check(response.status_code, response.text)

        return check

    await _fuzz(tmp_path, build)


async def test_detail_endpoints_survive_any_id(tmp_path: Path) -> None:
    def build(call: Caller) -> Callable[[], None]:
        @hsettings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(READ_PATHS), st.text(min_size=1, max_size=60))
        def check(path: str, ident: str) -> None:
            response = call("GET", f"{path}/{quote(ident, safe='')}")
            _check(response.status_code, response.text)

        return check

    await _fuzz(tmp_path, build)


async def test_write_endpoints_survive_any_body(tmp_path: Path) -> None:
    writes = ["/api/tasks", "/api/subscribers", "/api/tick", "/api/deliveries/replay-dead"]

    def build(call: Caller) -> Callable[[], None]:
        @hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(writes), json_values | st.binary(max_size=64) | deep_json)
        def check(path: str, body: object) -> None:
            if isinstance(body, bytes):
                response = call("POST", path, content=body)
            else:
                response = call("POST", path, json=body)
            _check(response.status_code, response.text)

        return check

    await _fuzz(tmp_path, build)


async def test_admin_clients_vanishing_mid_body_leave_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writes = ["/api/tasks", "/api/subscribers", "/api/deliveries/replay-dead", "/api/tick"]
    app = _app(tmp_path)
    auth = [(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]
    loop = asyncio.get_running_loop()
    async with app_client(app):

        def build() -> Callable[[], None]:
            @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
            @given(
                st.sampled_from(writes), st.binary(max_size=200) | deep_json, st.integers(0, 300)
            )
            def check(path: str, body: bytes, cut: int) -> None:
                coro = raw_request(app, path, split_body(body, cut), headers=auth)
                sent = asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)
                assert all(m.get("status", 0) < 500 for m in sent)

            return check

        await asyncio.to_thread(build())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
