"""`bench/fanout.py --queue redis|nats|amqp`: deliveries per second to one queue subscriber.

After the webhook phases, the webhook subscribers are removed and one subscriber of the
chosen kind is added, on fresh names on the local broker (127.0.0.1, default port); then a
burst of `--burst` callbacks, timed from the first callback sent until the broker holds
every event (read back with the broker's own client, duplicates counted). Printed next to
the webhook burst's deliveries per second.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.common import SEND_CONCURRENCY, Run, bounded

KINDS = ("redis", "nats", "amqp")
BROKER = "127.0.0.1"


def add_queue_args(parser: argparse.ArgumentParser) -> None:
    """`--queue KIND`."""
    parser.add_argument(
        "--queue", choices=KINDS, help="also measure one queue subscriber of this local broker"
    )


@dataclass
class QueueResult:
    """The queue burst's figures."""

    kind: str
    expected: int
    arrived: int
    duplicates: int
    elapsed_s: float


class Target:
    """Fresh names on one broker: set up, count what arrived, clean up."""

    def __init__(self, kind: str) -> None:
        self.kind, self.name = kind, f"bench.{uuid.uuid4().hex[:10]}"
        self._amqp: Any = None
        self._queue: Any = None
        self._amqp_seen: list[str] = []

    @property
    def url(self) -> str:
        return {
            "redis": f"redis://{BROKER}:6379/0?stream={self.name}",
            "nats": f"nats://{BROKER}:4222?subject={self.name}&create_stream=B{self.name[6:]}",
            "amqp": f"amqp://guest:guest@{BROKER}:5672/?exchange={self.name}",
        }[self.kind]

    async def setup(self) -> None:
        if self.kind == "amqp":  # a queue bound before publishing keeps the messages
            import aio_pika

            self._amqp = await aio_pika.connect(f"amqp://guest:guest@{BROKER}/")
            channel = await self._amqp.channel()
            exchange = await channel.declare_exchange(
                self.name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            self._queue = await channel.declare_queue(exclusive=True)
            await self._queue.bind(exchange, "#")

    async def ids(self) -> list[str]:
        """The event id of every message the broker holds."""
        return await {"redis": self._redis_ids, "nats": self._nats_ids,
                      "amqp": self._amqp_ids}[self.kind]()  # fmt: skip

    async def _redis_ids(self) -> list[str]:
        from redis.asyncio import Redis

        client = Redis(host=BROKER)
        try:
            return [f[b"id"].decode() for _, f in await client.xrange(self.name)]
        finally:
            await client.aclose()

    async def _nats_ids(self) -> list[str]:
        async def read(js: Any) -> list[str]:
            name = await js.find_stream_name_by_subject(self.name)
            info = await js.stream_info(name)
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                found.append((await js.get_msg(name, seq)).headers["Nats-Msg-Id"])
            return found

        return await self._nats(read)

    async def _amqp_ids(self) -> list[str]:
        while (msg := await self._queue.get(fail=False, no_ack=True)) is not None:
            self._amqp_seen.append(str(msg.message_id))
        return list(self._amqp_seen)

    async def _nats(self, use: Callable[[Any], Awaitable[Any]]) -> Any:
        import nats

        client = await nats.connect(f"nats://{BROKER}:4222")
        try:
            return await use(client.jetstream())
        finally:
            await client.close()

    async def cleanup(self) -> None:
        if self.kind == "redis":
            from redis.asyncio import Redis

            client = Redis(host=BROKER)
            await client.delete(self.name)
            await client.aclose()
        elif self.kind == "nats":
            await self._nats(_delete_stream_of(self.name))
        elif self._amqp is not None:
            channel = await self._amqp.channel()
            await channel.exchange_delete(self.name)
            await self._amqp.close()


def _delete_stream_of(subject: str) -> Callable[[Any], Awaitable[None]]:
    async def delete(js: Any) -> None:
        await js.delete_stream(await js.find_stream_name_by_subject(subject))

    return delete


async def queue_phase(bench: Any, args: argparse.Namespace) -> QueueResult | None:
    """Swap the webhook subscribers for one queue subscriber, then time a burst."""
    if not args.queue:
        return None
    target = Target(args.queue)
    await target.setup()
    try:
        await _swap_subscribers(bench, target)
        run = Run(started=time.monotonic())
        await bounded(args.burst, SEND_CONCURRENCY, lambda _i: bench.send_callback(run))
        deadline = time.monotonic() + args.drain
        while len(set(ids := await target.ids())) < len(run.sent):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - run.started
    finally:
        await target.cleanup()
    return QueueResult(args.queue, len(run.sent), len(set(ids)), len(ids) - len(set(ids)), elapsed)


async def _swap_subscribers(bench: Any, target: Target) -> None:
    from bench.common import ADMIN_TOKEN

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    api = f"{bench.taskhook}/api/subscribers"
    for sub in (await bench.client.get(api, headers=headers)).json()["items"]:
        await bench.client.delete(f"{api}/{sub['id']}", headers=headers)
    answer = await bench.client.post(
        api, json={"url": target.url, "kind": target.kind}, headers=headers
    )
    if answer.status_code != 201:
        raise SystemExit(f"registering the {target.kind} subscriber failed: {answer.text[:300]}")


def report_queue(result: QueueResult | None, webhook_per_s: float) -> bool:
    """Print the queue figure next to the webhook one; False when events were lost or doubled."""
    if result is None:
        return True
    rate = result.arrived / max(result.elapsed_s, 1e-9)
    print(f"\n3. deliveries per second to one {result.kind} subscriber: burst of {result.expected}")
    print(
        f"  {result.kind:<9} {rate:7.0f} deliveries/s in {result.elapsed_s:5.2f} s  "
        f"arrived {result.arrived}/{result.expected}  duplicates {result.duplicates}"
    )
    print(f"  webhook   {webhook_per_s:7.0f} deliveries/s (phase 2, taskhook)")
    print("  (one subscriber gets one delivery per callback, so the intake of callbacks bounds it)")
    return result.arrived == result.expected and result.duplicates == 0
