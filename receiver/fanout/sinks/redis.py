"""Redis Streams: `XADD stream [MAXLEN ~ N] * id <event id> type <event type> data <event JSON>`.

URL: `redis[s]://[user:pass@]host:port/db?stream=NAME[&maxlen=N]`; delivered once XADD
returned the entry id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from receiver.errors import InvalidInput
from receiver.fanout.sinks.broker import EXTRA_HINT, BrokerSink
from receiver.fanout.sinks.broker_url import BrokerUrl, parse_broker_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

SCHEMES = {"redis": (6379, False), "rediss": (6379, True)}
OPTIONS = {"stream": "taskhook.events", "maxlen": ""}
MAX_CONNECTIONS = 16  # per subscriber


class RedisSink(BrokerSink["Redis"]):
    """One redis-py asyncio client (its own small pool) per subscriber."""

    kind = "redis"
    broker = "redis"
    client_module = "redis"
    drop_on_failure = False

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """`redis://[user:pass@]host:port/db?stream=NAME&maxlen=N`."""
        parsed = parse_broker_url(url, SCHEMES, OPTIONS)
        db = parsed.path.strip("/") or "0"
        if not db.isdigit():
            raise InvalidInput(f"url path must be a database number like /0, not /{db}",
                               field="url")  # fmt: skip
        maxlen = parsed.options["maxlen"]
        if maxlen and (not maxlen.isdigit() or int(maxlen) < 1):
            raise InvalidInput("url option maxlen must be a positive whole number", field="url")
        return parsed

    @classmethod
    def tls_scheme(cls) -> str:
        """rediss://."""
        return "rediss"

    def _usable(self, conn: Redis) -> bool:
        return True  # the client's pool replaces broken connections itself

    async def _open(self, parsed: BrokerUrl, host: str) -> Redis:
        try:
            from redis.asyncio import BlockingConnectionPool, Connection, Redis, SSLConnection
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - the extra is part of [test]
            raise RuntimeError(f"the redis client is missing: {EXTRA_HINT}") from exc
        # concurrent publishes wait for a free connection; one quick retry covers a pooled
        # connection the broker dropped (after a restart); our schedule does the rest
        pool = BlockingConnectionPool(
            connection_class=SSLConnection if parsed.tls else Connection,
            host=host, port=parsed.port, db=int(parsed.path.strip("/") or "0"),
            username=parsed.username, password=parsed.password,
            socket_timeout=10, socket_connect_timeout=5, retry=Retry(NoBackoff(), 1),
            max_connections=MAX_CONNECTIONS, timeout=10,
        )  # fmt: skip
        return Redis.from_pool(pool)

    async def _close(self, conn: Redis) -> None:
        await conn.aclose()

    async def _send(
        self, conn: Redis, parsed: BrokerUrl, event: Mapping[str, Any], body: bytes
    ) -> None:
        maxlen = parsed.options["maxlen"]
        fields: dict[str | bytes, str | bytes] = {
            "id": str(event["id"]), "type": str(event["type"]), "data": body,
        }  # fmt: skip
        entry = await conn.xadd(
            parsed.options["stream"], fields,  # type: ignore[arg-type]
            maxlen=int(maxlen) if maxlen else None, approximate=True,
        )  # fmt: skip
        if not entry:
            raise RuntimeError("XADD returned no entry id")
