"""Throttling wrong admin tokens per client address (the `/api` bearer and the login form).

Both count against one budget per address (`settings.auth_failure_limit`, default 10 per
minute). An address that spends it is refused with 429 for every admin-token check, right
or wrong, until the budget refills (else the difference between 429 and 200 would still
answer its guesses), and the log says so once per lock-out.
"""

from __future__ import annotations

import logging
from typing import Any

from receiver.throttle import AddressThrottle

log = logging.getLogger(__name__)


def auth_throttle(app: Any) -> AddressThrottle | None:
    """The app's failed-token throttle (None before its lifespan has started)."""
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    return runtime.throttles.auth_failures if runtime is not None else None


def locked_out(throttle: AddressThrottle | None, address: str) -> int | None:
    """Seconds to wait when `address` may not try a token now, else None."""
    if throttle is None or not throttle.blocked(address):
        return None
    return throttle.retry_after_s(address)


def count_failure(throttle: AddressThrottle | None, address: str, where: str) -> None:
    """Count one wrong token from `address`; log when it locks the address out."""
    if throttle is None:
        return
    throttle.spend(address)
    if throttle.blocked(address):
        log.warning(
            "too many wrong admin tokens from %s (%s): refusing it with 429 for %d s",
            address, where, throttle.retry_after_s(address),
        )  # fmt: skip
