"""Guessing the admin token: wrong tokens are throttled per address, and logged."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from receiver.app import create_app
from receiver.dashboard.dashboard_part import DashboardPart
from receiver.errors import ConfigError
from receiver.settings import RateLimit, Settings
from receiver.throttle import AddressThrottle
from tests.support import ADMIN_TOKEN, app_client


def _app(settings: Settings) -> Starlette:
    limited = settings.replace(auth_failure_limit=RateLimit(5, 3600.0))
    return create_app(limited, [DashboardPart()])


async def test_wrong_bearer_tokens_lock_the_address_out(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with app_client(_app(settings), token=None) as client:
        wrong = {"Authorization": "Bearer not-the-token"}
        statuses = [(await client.get("/api/tasks", headers=wrong)).status_code for _ in range(7)]
        assert statuses == [403] * 5 + [429, 429]
        right = await client.get("/api/tasks", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1
        assert right.json()["error"]["code"] == "rate_limited"
        login = await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        assert login.status_code == 429 and "set-cookie" not in login.headers
        assert "retry-after" in login.headers
    assert any("too many wrong admin tokens from" in r.getMessage() for r in caplog.records)


async def test_wrong_logins_lock_the_address_out_but_a_missing_token_does_not(
    settings: Settings,
) -> None:
    async with app_client(_app(settings), token=None) as client:
        for _ in range(10):
            assert (await client.get("/api/tasks")).status_code == 401  # no guess: not counted
        for _ in range(5):
            assert (await client.post("/ui/login", data={"token": "guess"})).status_code == 401
        assert (await client.post("/ui/login", data={"token": ADMIN_TOKEN})).status_code == 429
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert (await client.get("/api/tasks", headers=bearer)).status_code == 429


def test_the_budget_refills_and_addresses_are_counted_apart() -> None:
    now = [0.0]
    throttle = AddressThrottle(2, 60.0, max_addresses=3, clock=lambda: now[0])
    assert throttle.spend("a") and throttle.spend("a") and not throttle.spend("a")
    assert throttle.blocked("a") and not throttle.blocked("b")
    assert throttle.retry_after_s("a") == 30
    now[0] = 30.0
    assert not throttle.blocked("a") and throttle.spend("a") and throttle.blocked("a")
    for name in ("b", "c", "d"):  # "a" is forgotten beyond max_addresses, not kept forever
        throttle.spend(name)
    assert not throttle.blocked("a")


@pytest.mark.parametrize("token", ["a", "fifteen-chars-x"])
def test_a_short_admin_token_is_refused_at_start_up(token: str) -> None:
    with pytest.raises(ConfigError, match=r"TASKHOOK_ADMIN_TOKEN is .* use at least 16"):
        Settings.from_env({"TASKHOOK_ADMIN_TOKEN": token})
    assert Settings.from_env({"TASKHOOK_ADMIN_TOKEN": "x" * 16}).admin_token == "x" * 16
