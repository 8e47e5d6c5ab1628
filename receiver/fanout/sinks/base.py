"""What every sink shares: the target, the verdict, and the generic reading of a response."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx

from receiver.retry import parse_retry_after
from receiver.settings import RateLimit

RETRY_AFTER_STATUSES = (429, 502, 503, 504)
EXCERPT_CHARS = 200
HEAD_BYTES = 2048  # how much of an answer is read (the rest is not needed)


@dataclass(frozen=True)
class Target:
    """Where one subscriber's messages go; `secrets` (current first) sign webhooks."""

    subscriber_id: str
    kind: str
    url: str = field(repr=False)
    display_url: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # custom, decrypted


@dataclass(frozen=True)
class Verdict:
    """What one attempt came to: `delivered`, `failed` (retry or dead) or `gone` (disable)."""

    outcome: str
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    head: bytes = field(default=b"", repr=False)  # the answer's first bytes (test events show it)


class Sink(Protocol):
    """One kind of subscriber: builds the request and judges the answer."""

    kind: str
    signed: bool  # has a whsec_ signing secret
    url_is_secret: bool  # the URL itself is a credential: stored encrypted, shown redacted
    # the receiving service's per-subscriber limit, kept across every process (None: none)
    pace: RateLimit | None

    def wait_s(self, target: Target) -> float:
        """0 to send now (a token is taken), else seconds until sending is allowed."""

    def build(self, target: Target, event: Mapping[str, Any], body: bytes) -> httpx.Request:
        """The HTTP request delivering `event` (`body` is its stored JSON)."""

    def judge(self, target: Target, status: int, headers: httpx.Headers, body: bytes) -> Verdict:
        """Read the answer (`body` is its first bytes)."""

    async def deliver(
        self,
        target: Target,
        event: Mapping[str, Any],
        body: bytes,
        client: httpx.AsyncClient,
        timeout_s: float,
    ) -> Verdict:
        """One attempt, bounded by `timeout_s` as a whole; a failure is a verdict, not raised."""

    async def aclose(self) -> None:
        """Release what the sink holds open (a broker's connections); at shutdown."""


def excerpt(body: bytes) -> str:
    """The first characters of a response body, on one line."""
    text = body[: EXCERPT_CHARS * 2].decode("utf-8", "replace")
    return " ".join(text.split())[:EXCERPT_CHARS]


def judge_status(status: int, headers: httpx.Headers, body: bytes) -> Verdict:
    """The documented rules shared by every sink."""
    if 200 <= status < 300:
        return Verdict("delivered", status)
    if 300 <= status < 400:
        where = headers.get("location", "?")
        return Verdict(
            "failed", status,
            f"HTTP {status} redirect to {where[:100]} not followed: set the subscriber URL "
            "to the final address",
        )  # fmt: skip
    if status == 410:
        return Verdict("gone", status, "HTTP 410 Gone: the endpoint no longer exists")
    detail = f"HTTP {status}: {excerpt(body)}".rstrip(": ")
    if status in RETRY_AFTER_STATUSES:
        return Verdict("failed", status, detail, parse_retry_after(headers.get("retry-after")))
    return Verdict("failed", status, detail)


class BaseSink:
    """Defaults: no pacing, the shared status rules."""

    kind = "base"
    signed = False
    url_is_secret = True
    pace: RateLimit | None = None

    def wait_s(self, target: Target) -> float:
        """Never wait."""
        return 0.0

    def judge(self, target: Target, status: int, headers: httpx.Headers, body: bytes) -> Verdict:
        """The shared rules."""
        return judge_status(status, headers, body)

    def build(self, target: Target, event: Mapping[str, Any], body: bytes) -> httpx.Request:
        """The HTTP request delivering `event` (each HTTP sink builds its own)."""
        raise NotImplementedError

    async def deliver(
        self,
        target: Target,
        event: Mapping[str, Any],
        body: bytes,
        client: httpx.AsyncClient,
        timeout_s: float,
    ) -> Verdict:
        """POST the request `build()` makes through `client`; judge the answer."""
        request = self.build(target, event, body)
        try:
            # the client's timeout bounds each read; this bounds the whole attempt (a
            # subscriber trickling its answer byte by byte would otherwise hold it forever)
            async with asyncio.timeout(timeout_s):
                response = await client.send(request, stream=True)
                try:
                    head = await _read_head(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return Verdict("failed", None, f"timeout: no complete answer within {timeout_s:g}s")
        except httpx.TimeoutException as exc:
            return Verdict("failed", None, f"timeout: {type(exc).__name__} {exc}".strip())
        except httpx.HTTPError as exc:
            return Verdict("failed", None, f"{type(exc).__name__}: {exc}")
        verdict = self.judge(target, response.status_code, response.headers, head)
        return replace(verdict, head=head)

    async def aclose(self) -> None:
        """An HTTP sink holds nothing open (the client is the worker's)."""
        return None


async def _read_head(response: httpx.Response) -> bytes:
    """The first bytes of a response body."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= HEAD_BYTES:
            break
    return head[:HEAD_BYTES]
