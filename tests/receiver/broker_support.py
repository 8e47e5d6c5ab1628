"""The shared local brokers, read back with their own clients; skip only where unreachable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

BROKERS = {"redis": 6379, "nats": 4222, "amqp": 5672}
HOST = "127.0.0.1"
_reachable: dict[str, str | None] = {}


async def unreachable(kind: str) -> str | None:
    """None when the broker's port answers, else the reason (cached per run)."""
    if kind not in _reachable:
        port = BROKERS[kind]
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 3)
            writer.close()
            await writer.wait_closed()
            _reachable[kind] = None
        except (OSError, TimeoutError) as exc:
            _reachable[kind] = (
                f"{kind} broker not reachable at {HOST}:{port} ({exc!r}); .ci/run starts it"
            )
    return _reachable[kind]


async def require(kind: str) -> None:
    """Skip the test, saying why, when the broker cannot be reached."""
    reason = await unreachable(kind)
    if reason:
        pytest.skip(reason)


@dataclass(frozen=True)
class Message:
    """One message as the consumer sees it."""

    event_id: str
    type: str
    body: bytes
    extra: dict[str, Any] = field(default_factory=dict)


def unique(prefix: str) -> str:
    """A name no other test (or parallel run) uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class RedisReader:
    """XRANGE on a fresh stream."""

    kind = "redis"

    def __init__(self) -> None:
        self.stream = unique("th.test.")

    async def setup(self) -> None:
        return None

    def url(self, port: int = BROKERS["redis"], auth: str = "") -> str:
        return f"redis://{auth}{HOST}:{port}/0?stream={self.stream}"

    async def messages(self) -> list[Message]:
        from redis.asyncio import Redis

        client = Redis(host=HOST, port=BROKERS["redis"])
        try:
            entries = await client.xrange(self.stream)
        finally:
            await client.aclose()
        return [
            Message(f[b"id"].decode(), f[b"type"].decode(), f[b"data"], {"entry": entry_id})
            for entry_id, f in entries
        ]

    async def close(self) -> None:
        from redis.asyncio import Redis

        client = Redis(host=HOST, port=BROKERS["redis"])
        try:
            await client.delete(self.stream)
        finally:
            await client.aclose()


class NatsReader:
    """A fresh JetStream stream on a fresh subject, read message by message."""

    kind = "nats"

    def __init__(self, *, duplicate_window_s: float = 120.0) -> None:
        self.subject = unique("th.test.")
        self.stream = unique("THTEST_")
        self.duplicate_window_s = duplicate_window_s

    async def setup(self) -> None:
        import nats

        client = await nats.connect(f"nats://{HOST}:{BROKERS['nats']}")
        try:
            await client.jetstream().add_stream(
                name=self.stream, subjects=[self.subject], duplicate_window=self.duplicate_window_s
            )
        finally:
            await client.close()

    def url(self, port: int = BROKERS["nats"], auth: str = "") -> str:
        return f"nats://{auth}{HOST}:{port}?subject={self.subject}"

    async def messages(self) -> list[Message]:
        import nats

        client = await nats.connect(f"nats://{HOST}:{BROKERS['nats']}")
        try:
            js = client.jetstream()
            info = await js.stream_info(self.stream)
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(self.stream, seq)
                headers = dict(msg.headers or {})
                found.append(Message(headers["Nats-Msg-Id"], headers["Taskhook-Event-Type"],
                                     msg.data or b"", {"seq": seq}))  # fmt: skip
            return found
        finally:
            await client.close()

    async def close(self) -> None:
        import nats

        client = await nats.connect(f"nats://{HOST}:{BROKERS['nats']}")
        try:
            await client.jetstream().delete_stream(self.stream)
        finally:
            await client.close()


class AmqpReader:
    """A fresh exchange, with a queue bound to every routing key before anything is published."""

    kind = "amqp"

    def __init__(self) -> None:
        self.exchange = unique("th.test.")
        self._connection: Any = None
        self._queue: Any = None

    async def setup(self) -> None:
        import aio_pika

        self._connection = await aio_pika.connect(f"amqp://guest:guest@{HOST}:{BROKERS['amqp']}/")
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        self._queue = await channel.declare_queue(exclusive=True)
        await self._queue.bind(exchange, "#")

    def url(self, port: int = BROKERS["amqp"], auth: str = "guest:guest@") -> str:
        return f"amqp://{auth}{HOST}:{port}/?exchange={self.exchange}"

    async def messages(self) -> list[Message]:
        found = []
        while (msg := await self._queue.get(fail=False, no_ack=True)) is not None:
            found.append(Message(msg.message_id, msg.type, msg.body, {
                "content_type": msg.content_type, "delivery_mode": int(msg.delivery_mode),
                "routing_key": msg.routing_key,
            }))  # fmt: skip
        self.seen = [*getattr(self, "seen", []), *found]
        return list(self.seen)

    async def close(self) -> None:
        if self._connection is not None:
            channel = await self._connection.channel()
            await channel.exchange_delete(self.exchange)
            await self._connection.close()


Reader = RedisReader | NatsReader | AmqpReader
READERS: dict[str, type[Reader]] = {"redis": RedisReader, "nats": NatsReader, "amqp": AmqpReader}


@asynccontextmanager
async def broker(kind: str, **options: Any) -> AsyncIterator[Reader]:
    """A reader on fresh names of the `kind` broker (skips when unreachable), cleaned up after."""
    await require(kind)
    reader = READERS[kind](**options)
    await reader.setup()
    try:
        yield reader
    finally:
        await reader.close()
