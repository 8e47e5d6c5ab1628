"""What the message-broker sinks (redis, nats, amqp) share: URL parsing, pooling, publishing.

A broker sink does not speak HTTP: the worker hands it the stored event JSON and it
publishes it over a connection it keeps per subscriber. A publish counts only once the
broker confirmed it; any failure drops that connection, so the next attempt reconnects
(a broker restart costs one failed attempt, retried on the webhook schedule).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from receiver.errors import InvalidInput
from receiver.fanout.sinks.base import BaseSink, Target, Verdict
from receiver.fanout.ssrf import ForbiddenAddress, UrlGuard

log = logging.getLogger(__name__)
EXTRA_HINT = "install the queues extra: pip install 'taskhook[queues]'"
Conn = TypeVar("Conn")
CLOSE_TIMEOUT_S = 2.0
IDLE_CLOSE_S = 300.0  # a subscriber's connection unused this long is closed (removed, paused)


@dataclass(frozen=True)
class BrokerUrl:
    """A parsed, validated broker URL (credentials kept, never shown)."""

    scheme: str
    host: str
    port: int
    tls: bool
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    path: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


def redact_credentials(url: str) -> str:
    """The URL with its password (or lone token) replaced by `***`; all else kept."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, _ = userinfo.partition(":")
    shown = f"{user}:***" if sep else "***"
    return parts._replace(netloc=f"{shown}@{hostport}").geturl()


def scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    """`text` with every non-empty secret replaced by `***` (client errors may echo URLs)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]+@", r"\1***@", text)


def secrets_of(url: BrokerUrl) -> tuple[str | None, ...]:
    """What must never be shown: the password, or a user name standing alone (a token)."""
    return (url.password,) if url.password else (url.username,)


def parse_broker_url(
    url: str, schemes: Mapping[str, tuple[int, bool]], options: Mapping[str, str]
) -> BrokerUrl:
    """Check scheme, host, port and options; InvalidInput(field="url") saying what to fix."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise InvalidInput(f"url must start with {' or '.join(f'{s}://' for s in schemes)}",
                           field="url")  # fmt: skip
    if not parts.hostname:
        raise InvalidInput(f"url has no host: use {parts.scheme}://host:port", field="url")
    default_port, tls = schemes[parts.scheme]
    try:
        port = default_port if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise InvalidInput("url has an invalid port (use 1-65535)", field="url")
    if parts.fragment:
        raise InvalidInput("url must not have a #fragment", field="url")
    return BrokerUrl(
        parts.scheme, parts.hostname, port, tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        parts.path, _options(parts.query, options),
    )  # fmt: skip


def _options(query: str, known: Mapping[str, str]) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InvalidInput(f"url query {query!r} is not name=value pairs", field="url") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in known:
            raise InvalidInput(
                f"url option {name!r} is unknown: use {', '.join(known)}", field="url"
            )
        if name in found or not value:
            raise InvalidInput(f"url option {name!r} must be given once, with a value",
                               field="url")  # fmt: skip
        found[name] = value
    return {**known, **found}


async def connect_host(guard: UrlGuard, url: BrokerUrl) -> str:
    """The address to connect to, vetted by the SSRF guard (TLS keeps the name for SNI)."""
    addresses = await guard.vetted_addresses(url.host, url.port)
    return url.host if url.tls else addresses[0]


async def vet_address(guard: UrlGuard, url: BrokerUrl) -> None:
    """At creation: refuse a broker host that resolves to an internal address."""
    try:
        await guard.vetted_addresses(url.host, url.port)
    except ForbiddenAddress as exc:
        raise InvalidInput(
            f"url {exc}; use a public address (or TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS=1 "
            "for a broker on your own network)",
            field="url",
        ) from exc
    except OSError as exc:
        raise InvalidInput(f"url host {url.host!r} does not resolve: {exc}", field="url") from exc


def check_plaintext(guard: UrlGuard, url: BrokerUrl, tls_scheme: str) -> None:
    """An unencrypted scheme needs the same setting as http:// webhooks."""
    if not url.tls and not guard.allow_http:
        raise InvalidInput(
            f"url {url.scheme}:// is unencrypted: use {tls_scheme}:// (or "
            "TASKHOOK_ALLOW_HTTP_SUBSCRIBERS=1 for a broker on your own network)",
            field="url",
        )


class BrokerSink(BaseSink, Generic[Conn]):
    """Base of the broker sinks: one pooled connection per subscriber, confirmed publishes."""

    url_is_secret = True  # the URL may carry credentials: stored encrypted, shown redacted
    broker: ClassVar[str] = "broker"
    # a failure drops the subscriber's connection (in-flight publishes on it fail too, and are
    # retried); a sink whose client heals its own pool of connections says False
    drop_on_failure: ClassVar[bool] = True
    client_module: ClassVar[str] = ""  # the client library, from the queues extra

    def __init__(
        self, guard: UrlGuard | None = None, *, idle_close_s: float = IDLE_CLOSE_S
    ) -> None:
        self.guard = guard or UrlGuard()
        self.idle_close_s = idle_close_s
        self._conns: dict[str, Conn] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._used: dict[str, float] = {}

    def open_connections(self) -> set[str]:
        """The subscribers this sink holds a connection for."""
        return set(self._conns)

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """The validated URL (subclasses: schemes, options, path)."""
        raise NotImplementedError

    @classmethod
    def shown_url(cls, url: str) -> str:
        """How the URL is stored in clear and shown: credentials redacted."""
        return redact_credentials(url)

    @classmethod
    async def vet(cls, url: str, guard: UrlGuard) -> None:
        """Validate a new subscriber's URL (syntax, plaintext, SSRF); 422 naming the field."""
        cls.check_client()
        parsed = cls.parse(url)
        check_plaintext(guard, parsed, cls.tls_scheme())
        await vet_address(guard, parsed)

    @classmethod
    def check_client(cls) -> None:
        """Refuse a subscriber whose client library is not installed."""
        if cls.client_module and importlib.util.find_spec(cls.client_module) is None:
            raise InvalidInput(
                f"{cls.kind} subscribers need the {cls.client_module} client: {EXTRA_HINT}",
                field="kind",
            )

    @classmethod
    def tls_scheme(cls) -> str:
        """The encrypted form of this broker's scheme."""
        raise NotImplementedError

    def build(self, target: Target, event: Mapping[str, Any], body: bytes) -> httpx.Request:
        """Brokers are not reached over HTTP."""
        raise TypeError(f"{self.kind} subscribers are published to, not sent HTTP requests")

    async def publish(self, target: Target, event: Mapping[str, Any], body: bytes) -> Verdict:
        """Publish `body`; `delivered` once the broker confirmed it, else `failed`."""
        try:
            parsed = self.parse(target.url)
        except InvalidInput as exc:  # stored before a rule tightened: fails until replaced
            return Verdict("failed", None, f"{self.broker}: {exc.message}")
        self._used[target.subscriber_id] = time.monotonic()
        await self._close_idle(but=target.subscriber_id)
        try:
            conn = await self._connection(target.subscriber_id, parsed)
            await self._send(conn, parsed, event, body)
        except asyncio.CancelledError:
            if self.drop_on_failure:
                await self._drop(target.subscriber_id)
            raise
        except Exception as exc:  # any client failure is a failed attempt, reported
            if self.drop_on_failure:
                await self._drop(target.subscriber_id)
            message = scrub(f"{type(exc).__name__}: {exc}", secrets_of(parsed))
            return Verdict("failed", None, f"{self.broker}: {message}".rstrip(": "))
        return Verdict("delivered")

    async def _connection(self, sub_id: str, parsed: BrokerUrl) -> Conn:
        lock = self._locks.setdefault(sub_id, asyncio.Lock())
        async with lock:
            conn = self._conns.get(sub_id)
            if conn is not None and self._usable(conn):
                return conn
            if conn is not None:
                await self._drop(sub_id)
            conn = await self._open(parsed, await connect_host(self.guard, parsed))
            self._conns[sub_id] = conn
            return conn

    async def _close_idle(self, *, but: str) -> None:
        now = time.monotonic()
        for sub_id, used in list(self._used.items()):
            if sub_id != but and now - used > self.idle_close_s:
                del self._used[sub_id]
                await self._drop(sub_id)
                lock = self._locks.get(sub_id)
                if lock is not None and not lock.locked():
                    del self._locks[sub_id]

    async def _drop(self, sub_id: str) -> None:
        conn = self._conns.pop(sub_id, None)
        if conn is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._close(conn)
        except Exception as exc:  # closing a broken connection may fail (or hang) too
            log.debug("closing %s connection of %s: %r", self.broker, sub_id, exc)

    async def aclose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        for sub_id in list(self._conns):
            await self._drop(sub_id)

    def _usable(self, conn: Conn) -> bool:
        raise NotImplementedError

    async def _open(self, parsed: BrokerUrl, host: str) -> Conn:
        raise NotImplementedError

    async def _close(self, conn: Conn) -> None:
        raise NotImplementedError

    async def _send(
        self, conn: Conn, parsed: BrokerUrl, event: Mapping[str, Any], body: bytes
    ) -> None:
        """Publish and wait for the broker's confirmation (raise when there is none)."""
        raise NotImplementedError


async def publish_within(
    sink: BrokerSink[Any], target: Target, event: Mapping[str, Any], body: bytes, limit_s: float
) -> Verdict:
    """`sink.publish` bounded by the delivery timeout (the connection is dropped on timeout)."""
    try:
        async with asyncio.timeout(limit_s):
            return await sink.publish(target, event, body)
    except TimeoutError:
        return Verdict(
            "failed", None, f"{sink.broker}: timeout: no confirmation within {limit_s:g}s"
        )
