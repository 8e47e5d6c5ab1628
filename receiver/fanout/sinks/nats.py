"""NATS JetStream: the event JSON published to a subject, acknowledged by its stream.

URL: `nats|tls://[user:pass@ | token@]host:port?subject=NAME[&create_stream=NAME]`. Headers
`Nats-Msg-Id: <event id>` (JetStream's duplicate window drops a re-send) and
`Taskhook-Event-Type: <type>`. A subject no stream covers is refused at creation, unless
`create_stream` names a stream to create for it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from receiver.errors import InvalidInput
from receiver.fanout.sinks.broker import EXTRA_HINT, BrokerSink
from receiver.fanout.sinks.broker_url import (
    BrokerUrl,
    connect_host,
    parse_broker_url,
    scrub,
    secrets_of,
)
from receiver.fanout.ssrf import UrlGuard

if TYPE_CHECKING:
    from nats.aio.client import Client

log = logging.getLogger(__name__)
SCHEMES = {"nats": (4222, False), "tls": (4222, True)}
OPTIONS = {"subject": "taskhook.events", "create_stream": ""}
CONNECT_TIMEOUT_S = 5
ACK_TIMEOUT_S = 10.0


async def _quiet(exc: Exception) -> None:
    log.debug("nats client: %r", exc)


async def open_nats(parsed: BrokerUrl, host: str) -> Client:
    """A connection that does not reconnect by itself (a closed one is replaced by us)."""
    try:
        import nats
    except ImportError as exc:  # pragma: no cover - the extra is part of [test]
        raise RuntimeError(f"the nats client is missing: {EXTRA_HINT}") from exc
    token = parsed.username if parsed.username and not parsed.password else None
    return await nats.connect(
        servers=[f"nats://{host}:{parsed.port}"], allow_reconnect=False,
        # nats-py loops over its servers until they are used up: two quick tries, then fail
        max_reconnect_attempts=1, reconnect_time_wait=0,
        connect_timeout=CONNECT_TIMEOUT_S, error_cb=_quiet,
        user=None if token else parsed.username, password=parsed.password, token=token,
        tls=ssl.create_default_context() if parsed.tls else None,
        tls_hostname=parsed.host if parsed.tls else None,
    )  # fmt: skip


async def ensure_stream(client: Client, subject: str, create: str) -> None:
    """Refuse (InvalidInput) a subject no stream covers, or create the named stream for it."""
    from nats.js.errors import NotFoundError

    js = client.jetstream()
    try:
        await js.find_stream_name_by_subject(subject)
        return
    except NotFoundError:
        if not create:
            raise InvalidInput(
                f"no JetStream stream covers subject {subject!r}: create one (nats stream add "
                f"--subjects {subject!r}) or add &create_stream=NAME to the url",
                field="url",
            ) from None
    await js.add_stream(name=create, subjects=[subject])


class NatsSink(BrokerSink["Client"]):
    """One nats-py connection per subscriber; JetStream publishes wait for the stream's ack."""

    kind = "nats"
    broker = "nats"
    client_module = "nats"

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """`nats://[user:pass@]host:port?subject=NAME[&create_stream=NAME]`."""
        parsed = parse_broker_url(url, SCHEMES, OPTIONS)
        if parsed.path.strip("/"):
            raise InvalidInput("url must have no path: put the subject in ?subject=NAME",
                               field="url")  # fmt: skip
        subject = parsed.options["subject"]
        if any(c in subject for c in " \t*>") or subject.startswith(".") or ".." in subject:
            raise InvalidInput(f"url subject {subject!r} is not a literal NATS subject",
                               field="url")  # fmt: skip
        return parsed

    @classmethod
    def tls_scheme(cls) -> str:
        """tls://."""
        return "tls"

    @classmethod
    async def vet(cls, url: str, guard: UrlGuard) -> None:
        """Also: a JetStream stream must cover the subject (or create_stream creates one)."""
        await super().vet(url, guard)
        parsed = cls.parse(url)
        try:
            client = await open_nats(parsed, await connect_host(guard, parsed))
        except Exception as exc:  # unreachable, refused, bad credentials: say which
            detail = scrub(f"{type(exc).__name__}: {exc}", secrets_of(parsed))
            raise InvalidInput(
                f"url: cannot reach NATS at {parsed.host}:{parsed.port} to check the "
                f"subject's stream ({detail})",
                field="url",
            ) from exc
        try:
            await ensure_stream(client, parsed.options["subject"], parsed.options["create_stream"])
        except InvalidInput:
            raise
        except Exception as exc:  # JetStream off, stream name taken, ...
            raise InvalidInput(f"url: JetStream refused: {exc}", field="url") from exc
        finally:
            await client.close()

    def _usable(self, conn: Client) -> bool:
        return conn.is_connected

    async def _open(self, parsed: BrokerUrl, host: str) -> Client:
        return await open_nats(parsed, host)

    async def _close(self, conn: Client) -> None:
        await conn.close()

    async def _send(
        self, conn: Client, parsed: BrokerUrl, event: Mapping[str, Any], body: bytes
    ) -> None:
        headers = {"Nats-Msg-Id": str(event["id"]), "Taskhook-Event-Type": str(event["type"])}
        await conn.jetstream().publish(
            parsed.options["subject"], body, timeout=ACK_TIMEOUT_S, headers=headers
        )
