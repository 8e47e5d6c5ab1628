"""What the message-broker sinks (redis, nats, amqp) share: pooled connections, publishing.

A broker sink does not speak HTTP: the worker hands it the stored event JSON and it
publishes it over a connection it keeps per subscriber. A publish counts only once the
broker confirmed it; a failure drops that connection (redis: its pool heals itself), so
the next attempt reconnects (a broker restart costs a failed attempt, retried on the
webhook schedule).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from receiver.errors import InvalidInput
from receiver.fanout.sinks.base import BaseSink, Target, Verdict
from receiver.fanout.sinks.broker_url import (
    BrokerUrl,
    check_plaintext,
    connect_host,
    redact_credentials,
    scrub,
    secrets_of,
    vet_address,
)
from receiver.fanout.ssrf import UrlGuard

log = logging.getLogger(__name__)
EXTRA_HINT = "install the queues extra: pip install 'taskhook[queues]'"
Conn = TypeVar("Conn")
CLOSE_TIMEOUT_S = 2.0
IDLE_CLOSE_S = 300.0  # a subscriber's connection unused this long is closed (removed, paused)


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

    async def deliver(
        self,
        target: Target,
        event: Mapping[str, Any],
        body: bytes,
        client: httpx.AsyncClient,
        timeout_s: float,
    ) -> Verdict:
        """Published, not POSTed (`client` is not used); bounded by the delivery timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                return await self.publish(target, event, body)
        except TimeoutError:
            return Verdict(
                "failed", None, f"{self.broker}: timeout: no confirmation within {timeout_s:g}s"
            )

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
