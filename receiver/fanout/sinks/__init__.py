"""The sink registry: subscriber kind -> sink class. A new sink is one file and one line."""

from __future__ import annotations

from collections.abc import Mapping

from receiver.fanout.sinks.amqp import AmqpSink
from receiver.fanout.sinks.base import Sink, Target, Verdict
from receiver.fanout.sinks.broker import BrokerSink
from receiver.fanout.sinks.discord import DiscordSink
from receiver.fanout.sinks.nats import NatsSink
from receiver.fanout.sinks.redis import RedisSink
from receiver.fanout.sinks.slack import SlackSink
from receiver.fanout.sinks.webhook import WebhookSink
from receiver.fanout.ssrf import UrlGuard

SINKS: dict[str, type[Sink]] = {
    "webhook": WebhookSink,
    "slack": SlackSink,
    "discord": DiscordSink,
    "redis": RedisSink,
    "nats": NatsSink,
    "amqp": AmqpSink,
}


def build_sinks(guard: UrlGuard | None = None) -> dict[str, Sink]:
    """One fresh instance of every sink (they hold per-subscriber pacing state, connections).

    Broker sinks connect through `guard` (the settings' SSRF rules; strict when None).
    """
    return {
        kind: cls(guard) if issubclass(cls, BrokerSink) else cls() for kind, cls in SINKS.items()
    }


async def close_sinks(sinks: Mapping[str, Sink]) -> None:
    """Close the connections the broker sinks hold (at shutdown)."""
    for sink in sinks.values():
        await sink.aclose()


__all__ = ["SINKS", "BrokerSink", "Sink", "Target", "Verdict", "build_sinks", "close_sinks"]
