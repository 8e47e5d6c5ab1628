"""Retention and delivery tuning from the environment: defaults, values, one-line errors."""

from __future__ import annotations

import pytest

from receiver.errors import ConfigError
from receiver.fanout.fanout_part import FanoutPart
from receiver.settings import DEFAULT_RETRY_SCHEDULE_S, Settings
from tests.receiver.fanout_support import fanout_of
from tests.support import SECRET_KEY, app_client


def test_defaults_are_unchanged() -> None:
    s = Settings.from_env({})
    assert s.retention_days == 90
    assert s.delivery_retry_schedule_s == DEFAULT_RETRY_SCHEDULE_S
    assert s.delivery_timeout_s == 15 and s.subscriber_disable_after_s == 5 * 86400
    assert s.max_body_bytes == 1024 * 1024 and s.delivery_concurrency == 32


def test_values_are_read_with_units() -> None:
    s = Settings.from_env({
        "TASKHOOK_RETENTION_DAYS": "0",
        "TASKHOOK_DELIVERY_RETRY_SCHEDULE": "0, 5s, 2m, 1.5h, 1d",
        "TASKHOOK_DELIVERY_TIMEOUT_S": "3.5",
        "TASKHOOK_SUBSCRIBER_DISABLE_AFTER_S": "600",
        "TASKHOOK_MAX_CALLBACK_BYTES": "2048",
        "TASKHOOK_DELIVERY_CONCURRENCY": "4",
    })  # fmt: skip
    assert s.retention_days == 0
    assert s.delivery_retry_schedule_s == (0.0, 5.0, 120.0, 5400.0, 86400.0)
    assert s.delivery_timeout_s == 3.5 and s.subscriber_disable_after_s == 600
    assert s.max_body_bytes == 2048 and s.delivery_concurrency == 4


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("TASKHOOK_RETENTION_DAYS", "-1", "0 keeps everything"),
        ("TASKHOOK_RETENTION_DAYS", "soon", "not a number of days"),
        ("TASKHOOK_DELIVERY_RETRY_SCHEDULE", "0,5x", "'5x' is not a duration"),
        ("TASKHOOK_DELIVERY_RETRY_SCHEDULE", "0,8d", "at most 7d"),
        ("TASKHOOK_DELIVERY_RETRY_SCHEDULE", ",".join(["1"] * 51), "at most 50 attempts"),
        ("TASKHOOK_DELIVERY_TIMEOUT_S", "0", "greater than 0"),
        ("TASKHOOK_DELIVERY_TIMEOUT_S", "nan", "not a number of seconds"),
        ("TASKHOOK_DELIVERY_TIMEOUT_S", "900", "use at most 300"),
        ("TASKHOOK_SUBSCRIBER_DISABLE_AFTER_S", "-5", "greater than 0"),
        ("TASKHOOK_MAX_CALLBACK_BYTES", "1MB", "whole number of bytes"),
        ("TASKHOOK_MAX_CALLBACK_BYTES", "10", "1024-104857600 bytes"),
        ("TASKHOOK_DELIVERY_CONCURRENCY", "0", "1-1000 requests"),
    ],
)
def test_bad_values_are_refused_in_one_line(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    message = caught.value.message
    assert variable in message and says in message and "\n" not in message


async def test_delivery_concurrency_reaches_the_worker(settings: Settings) -> None:
    from receiver.app import create_app

    tuned = settings.replace(delivery_concurrency=3, workers=False, secret_key=SECRET_KEY)
    app = create_app(tuned, [FanoutPart()])
    async with app_client(app):
        worker = fanout_of(app).worker
        assert worker.batch_size == 3


async def test_max_callback_bytes_is_enforced(settings: Settings) -> None:
    from tests.receiver.callback_helpers import running

    env_settings = Settings.from_env({"TASKHOOK_MAX_CALLBACK_BYTES": "2048"})
    tuned = settings.replace(max_body_bytes=env_settings.max_body_bytes, workers=False)
    async with running(tuned) as (client, _rt):
        big = await client.post("/callbacks/kie", content=b"{" + b" " * 3000 + b"}")
        small = await client.post("/callbacks/kie", content=b"{}")
    assert big.status_code == 413
    assert small.status_code != 413
