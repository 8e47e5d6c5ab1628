"""Programmable faults: what the next N requests of a provider operation answer instead.

A fault (JSON for `POST /_emulator/faults`)::

    {"provider": "kie" | "foxapi" | "toapis",
     "operation": "create" | "query",
     "status": 429,          # answer with this HTTP status and the provider's error body
     "retry_after": 1,       # with a Retry-After header (seconds)
     "in_body_code": 402,    # answer HTTP 200 with this code in the body (kie's style)
     "malformed": true,      # answer a truncated, unparsable JSON body
     "hang_s": 3,            # wait this long first (alone: then answer normally)
     "message": "...",       # error message (default: the provider's usual words)
     "times": 2}             # for this many requests (default 1)

A faulted request (other than hang-only) does not create or advance anything.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

PROVIDERS = ("kie", "foxapi", "toapis")
OPERATIONS = ("create", "query")
MAX_HANG_S = 600.0


class FaultError(ValueError):
    """A fault description that cannot be used."""


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One programmed misbehaviour."""

    provider: str
    operation: str
    status: int | None = None
    retry_after: float | None = None
    in_body_code: int | None = None
    malformed: bool = False
    hang_s: float = 0.0
    message: str | None = None
    times: int = 1

    @property
    def answers(self) -> bool:
        """True when the fault replaces the normal answer (not just a hang)."""
        return self.status is not None or self.in_body_code is not None or self.malformed


def parse_fault(body: Any) -> Fault:
    """Validate a fault description from JSON."""
    if not isinstance(body, dict):
        raise FaultError("the body must be a JSON object describing the fault")
    unknown = set(body) - set(Fault.__dataclass_fields__)
    if unknown:
        raise FaultError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    if body.get("provider") not in PROVIDERS:
        raise FaultError(f"provider must be one of {', '.join(PROVIDERS)}")
    if body.get("operation") not in OPERATIONS:
        raise FaultError(f"operation must be one of {', '.join(OPERATIONS)}")
    return Fault(
        provider=body["provider"],
        operation=body["operation"],
        status=_int(body, "status", 100, 599),
        retry_after=_number(body, "retry_after", 0, 86400),
        in_body_code=_int(body, "in_body_code", 100, 999),
        malformed=_bool(body, "malformed"),
        hang_s=_number(body, "hang_s", 0, MAX_HANG_S) or 0.0,
        message=_text(body, "message"),
        times=_int(body, "times", 1, 1_000_000) or 1,
    )


def _int(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(f"{key} must be an integer from {low} to {high}")
    return value


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultError(f"{key} must be a number from {low:g} to {high:g}")
    return float(value)


def _bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise FaultError(f"{key} must be true or false")
    return value


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise FaultError(f"{key} must be a string")
    return value


@dataclass
class _Queued:
    fault: Fault
    left: int


class Faults:
    """Queued faults per provider and operation, used up first-in first-out."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], deque[_Queued]] = {}

    def add(self, fault: Fault) -> None:
        """Queue `fault` for its next `times` requests."""
        key = (fault.provider, fault.operation)
        self._queues.setdefault(key, deque()).append(_Queued(fault, fault.times))

    def take(self, provider: str, operation: str) -> Fault | None:
        """The fault for this request, if one is queued (uses one of its times)."""
        queue = self._queues.get((provider, operation))
        if not queue:
            return None
        entry = queue[0]
        entry.left -= 1
        if entry.left <= 0:
            queue.popleft()
        return entry.fault

    def clear(self) -> None:
        """Drop every queued fault."""
        self._queues.clear()

    def pending(self) -> int:
        """How many faulted requests are still to come."""
        return sum(entry.left for queue in self._queues.values() for entry in queue)
