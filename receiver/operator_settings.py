"""Operator settings read from the environment: retention and delivery tuning.

Each is validated here, and a bad value is refused with one line naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from receiver.errors import ConfigError

DEFAULT_RETENTION_DAYS = 90.0
DEFAULT_DELIVERY_CONCURRENCY = 32
MAX_DELIVERY_CONCURRENCY = 1000
MAX_SCHEDULE_STEPS = 50
MAX_SCHEDULE_STEP_S = 7 * 86400.0
MIN_BODY_BYTES = 1024
MAX_BODY_BYTES = 100 * 1024 * 1024
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def operator_values(env: Mapping[str, str]) -> dict[str, Any]:
    """The Settings fields given in `env` (absent variables keep the defaults)."""
    readers = {
        "retention_days": ("TASKHOOK_RETENTION_DAYS", _retention_days),
        "delivery_retry_schedule_s": ("TASKHOOK_DELIVERY_RETRY_SCHEDULE", parse_schedule),
        "delivery_timeout_s": ("TASKHOOK_DELIVERY_TIMEOUT_S", _positive_s),
        "subscriber_disable_after_s": ("TASKHOOK_SUBSCRIBER_DISABLE_AFTER_S", _positive_s),
        "max_body_bytes": ("TASKHOOK_MAX_CALLBACK_BYTES", _body_bytes),
        "delivery_concurrency": ("TASKHOOK_DELIVERY_CONCURRENCY", _concurrency),
    }
    values: dict[str, Any] = {}
    for field_name, (variable, reader) in readers.items():
        raw = env.get(variable, "").strip()
        if raw:
            values[field_name] = reader(variable, raw)
    return values


def parse_schedule(variable: str, raw: str) -> tuple[float, ...]:
    """`0,5s,5m,30m,2h`: the wait before each attempt (first usually 0); units s, m, h, d."""
    steps: list[float] = []
    for item in raw.split(","):
        match = _STEP.match(item.strip().lower())
        if match is None:
            raise ConfigError(
                f"{variable}={raw!r}: {item.strip()!r} is not a duration; "
                "use comma-separated waits such as 0,5s,5m,30m,2h"
            )
        steps.append(float(match[1]) * _UNITS[match[2]])
    if len(steps) > MAX_SCHEDULE_STEPS:
        raise ConfigError(f"{variable}: at most {MAX_SCHEDULE_STEPS} attempts, got {len(steps)}")
    if max(steps) > MAX_SCHEDULE_STEP_S:
        raise ConfigError(f"{variable}={raw!r}: a single wait can be at most 7d")
    return tuple(steps)


def _number(variable: str, raw: str, what: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not {what}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{variable}={raw!r} is not {what}")
    return value


def _positive_s(variable: str, raw: str) -> float:
    value = _number(variable, raw, "a number of seconds")
    if value <= 0:
        raise ConfigError(f"{variable}={raw!r} must be greater than 0")
    return value


def _retention_days(variable: str, raw: str) -> float:
    value = _number(variable, raw, "a number of days")
    if value < 0:
        raise ConfigError(f"{variable}={raw!r}: use a number of days >= 0 (0 keeps everything)")
    return value


def _whole(variable: str, raw: str, low: int, high: int, what: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} is not a whole number of {what}") from None
    if not low <= value <= high:
        raise ConfigError(f"{variable}={raw!r}: use {low}-{high} {what}")
    return value


MAX_DELIVERY_TIMEOUT_S = 300.0


def _body_bytes(variable: str, raw: str) -> int:
    return _whole(variable, raw, MIN_BODY_BYTES, MAX_BODY_BYTES, "bytes")


def _concurrency(variable: str, raw: str) -> int:
    return _whole(variable, raw, 1, MAX_DELIVERY_CONCURRENCY, "requests")


def check_delivery(timeout_s: float, schedule_s: tuple[float, ...]) -> None:
    """An attempt ends in bounded time (its lease is renewed while it runs); a schedule is
    not empty."""
    if not schedule_s:
        raise ConfigError("TASKHOOK_DELIVERY_RETRY_SCHEDULE is empty: give at least one wait")
    if timeout_s > MAX_DELIVERY_TIMEOUT_S:
        raise ConfigError(
            f"TASKHOOK_DELIVERY_TIMEOUT_S={timeout_s:g} is too long: use at most "
            f"{MAX_DELIVERY_TIMEOUT_S:g} (a hung subscriber would hold a delivery slot that long)"
        )
