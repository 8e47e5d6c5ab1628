"""Account credits where a provider reports them (kie's Common API); None elsewhere.

kie: `GET {base}/api/v1/chat/credit` -> `{"code": 200, "msg": "success", "data": 100}`
("Get Remaining Credits", docs.kie.ai/common-api/get-account-credits). foxapi and toapis
document no balance endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

from dispatcher.providers.base import ProviderError
from dispatcher.providers.http import request_json
from receiver.providers.cost import number
from receiver.settings import ProviderSettings, Settings

KIE_CREDIT_PATH = "/api/v1/chat/credit"
CREDITS_TIMEOUT_S = 10.0
DASHBOARD_TIMEOUT_S = 3.0

CreditReader = Callable[[httpx.AsyncClient, ProviderSettings], Awaitable[float | None]]


async def kie_credits(client: httpx.AsyncClient, settings: ProviderSettings) -> float | None:
    """kie's remaining credits (`data` of the Common API answer)."""
    answer = await request_json(client, settings, "GET", KIE_CREDIT_PATH, envelope=True)
    return number(answer.get("data"))


READERS: Mapping[str, CreditReader] = {"kie": kie_credits}


@dataclass(frozen=True)
class ProviderAccount:
    """One provider as configured: where, whether a key is set, and its credits."""

    name: str
    base_url: str
    key_set: bool
    credits: float | None = None
    credits_error: str | None = None

    def to_json(self) -> dict[str, object]:
        """The `taskhook providers --json` / dashboard row."""
        return {"provider": self.name, "base_url": self.base_url, "key_set": self.key_set,
                "credits": self.credits, "credits_error": self.credits_error}  # fmt: skip


async def account(
    client: httpx.AsyncClient, settings: ProviderSettings, timeout_s: float = CREDITS_TIMEOUT_S
) -> ProviderAccount:
    """`settings`' provider, asking for its credits when it reports them and a key is set."""
    key_set = bool(settings.api_key)
    found = ProviderAccount(settings.name, settings.base_url, key_set)
    reader = READERS.get(settings.name)
    if reader is None or not key_set:
        return found
    try:
        async with asyncio.timeout(timeout_s):
            credits = await reader(client, settings)
    except (ProviderError, httpx.HTTPError, TimeoutError) as exc:
        reason = exc.message if isinstance(exc, ProviderError) else type(exc).__name__
        return ProviderAccount(settings.name, settings.base_url, key_set, None, reason)
    return ProviderAccount(settings.name, settings.base_url, key_set, credits)


async def accounts(
    client: httpx.AsyncClient, settings: Settings, timeout_s: float = CREDITS_TIMEOUT_S
) -> list[ProviderAccount]:
    """Every configured provider, credits read concurrently."""
    names = sorted(settings.providers)
    found = (account(client, settings.provider(n), timeout_s) for n in names)
    return list(await asyncio.gather(*found))


class AccountsCache:
    """`accounts()` remembered for `ttl_s`, so a live dashboard does not ask on every refresh;
    a provider slower than `DASHBOARD_TIMEOUT_S` shows as unavailable rather than hold a page."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings, ttl_s: float = 60.0) -> None:
        self._client = client
        self._settings = settings
        self._ttl_s = ttl_s
        self._found: list[dict[str, object]] = []
        self._at: float | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> list[dict[str, object]]:
        """Every provider's row (`ProviderAccount.to_json()`), at most `ttl_s` old."""
        async with self._lock:
            now = asyncio.get_running_loop().time()
            if self._at is None or now - self._at >= self._ttl_s:
                found = await accounts(self._client, self._settings, DASHBOARD_TIMEOUT_S)
                self._found = [a.to_json() for a in found]
                self._at = now
            return self._found
