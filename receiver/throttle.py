"""Per-client-address throttles: a token bucket per address, a bounded number of addresses.

Used for what an anonymous client can make the server do cheaply and repeatedly: refused
callbacks (each costs an audit row) and failed admin-token checks (each is a guess).
An address that spends its budget is refused (429) until the bucket refills.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_MAX_ADDRESSES = 10_000


@dataclass
class _Bucket:
    tokens: float
    at_s: float
    told: bool = False  # the log has said this address ran out (until it spends again)


@dataclass
class AddressThrottle:
    """At most `burst` events per `per_s` seconds per address (refilled continuously)."""

    burst: int
    per_s: float
    max_addresses: int = DEFAULT_MAX_ADDRESSES
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def _refilled(self, address: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.pop(address, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        else:
            rate = self.burst / self.per_s
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at_s) * rate)
            bucket.at_s = now
        self._buckets[address] = bucket  # most recently seen last
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        return bucket

    def blocked(self, address: str) -> bool:
        """True while `address` has no budget left (nothing is spent by asking)."""
        return self._refilled(address).tokens < 1.0

    def spend(self, address: str) -> bool:
        """Count one event for `address`; False when it had no budget left for it."""
        bucket = self._refilled(address)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        bucket.told = False
        return True

    def first_refusal(self, address: str) -> bool:
        """True once per lock-out of `address` (so the log says it once, not per request)."""
        bucket = self._refilled(address)
        first = not bucket.told
        bucket.told = True
        return first

    def retry_after_s(self, address: str) -> int:
        """Whole seconds until `address` may try again (at least 1)."""
        missing = max(0.0, 1.0 - self._refilled(address).tokens)
        return max(1, int(missing * self.per_s / self.burst + 0.999))


def client_address(scope_client: tuple[str, int] | None) -> str:
    """The peer address of a request (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return scope_client[0] if scope_client else "unknown"


@dataclass
class Throttles:
    """The throttles of one app instance."""

    callback_refusals: AddressThrottle
    auth_failures: AddressThrottle
