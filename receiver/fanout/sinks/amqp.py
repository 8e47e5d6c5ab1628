"""AMQP 0-9-1 (RabbitMQ): a persistent message on a durable topic exchange, publisher-confirmed.

URL: `amqp[s]://user:pass@host:port/vhost?exchange=NAME` (exchange declared if missing);
routing key = event type; `message_id` = event id; `type` = event type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from receiver.errors import InvalidInput
from receiver.fanout.sinks.broker import EXTRA_HINT, BrokerSink
from receiver.fanout.sinks.broker_url import BrokerUrl, parse_broker_url

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

SCHEMES = {"amqp": (5672, False), "amqps": (5671, True)}
OPTIONS = {"exchange": "taskhook"}
CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class AmqpLink:
    """One subscriber's connection, its confirming channel and the declared exchange."""

    connection: AbstractConnection
    channel: AbstractChannel
    exchange: AbstractExchange


def vhost_of(parsed: BrokerUrl) -> str:
    """`/` for no path, else the path without its leading slash, %-decoded."""
    path = parsed.path[1:] if parsed.path.startswith("/") else parsed.path
    return unquote(path) if path else "/"


class AmqpSink(BrokerSink[AmqpLink]):
    """One aio-pika connection per subscriber; a publish returns once the broker confirmed."""

    kind = "amqp"
    broker = "amqp"
    client_module = "aio_pika"

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """`amqp://user:pass@host:port/vhost?exchange=NAME`."""
        parsed = parse_broker_url(url, SCHEMES, OPTIONS)
        if "/" in parsed.path[1:]:
            raise InvalidInput("url path must be one vhost (write / inside it as %2F)",
                               field="url")  # fmt: skip
        exchange = parsed.options["exchange"]
        if exchange.startswith("amq.") or len(exchange) > 255:
            raise InvalidInput(f"url exchange {exchange!r} is reserved or too long",
                               field="url")  # fmt: skip
        return parsed

    @classmethod
    def tls_scheme(cls) -> str:
        """amqps://."""
        return "amqps"

    def _usable(self, conn: AmqpLink) -> bool:
        return not (conn.connection.is_closed or conn.channel.is_closed)

    async def _open(self, parsed: BrokerUrl, host: str) -> AmqpLink:
        try:
            import aio_pika
        except ImportError as exc:  # pragma: no cover - the extra is part of [test]
            raise RuntimeError(f"the amqp client is missing: {EXTRA_HINT}") from exc
        connection = await aio_pika.connect(
            host=host, port=parsed.port, login=parsed.username or "guest",
            password=parsed.password or "guest", virtualhost=vhost_of(parsed),
            ssl=parsed.tls, timeout=CONNECT_TIMEOUT_S,
        )  # fmt: skip
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.declare_exchange(
                parsed.options["exchange"], aio_pika.ExchangeType.TOPIC, durable=True
            )
        except BaseException:
            await connection.close()
            raise
        return AmqpLink(connection, channel, exchange)

    async def _close(self, conn: AmqpLink) -> None:
        await conn.connection.close()

    async def _send(
        self, conn: AmqpLink, parsed: BrokerUrl, event: Mapping[str, Any], body: bytes
    ) -> None:
        import aio_pika

        message = aio_pika.Message(
            body, message_id=str(event["id"]), type=str(event["type"]),
            content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )  # fmt: skip
        # not mandatory: like any topic exchange, an event no queue is bound for is dropped
        confirmation = await conn.exchange.publish(
            message, routing_key=str(event["type"]), mandatory=False
        )
        if confirmation is None:  # pragma: no cover - confirms are on
            raise RuntimeError("the broker did not confirm the publish")
