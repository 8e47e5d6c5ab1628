"""Managing subscribers (shared by the admin API and the CLI): validate, encrypt, rotate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row
from receiver.errors import InvalidInput, NotFound
from receiver.fanout.custom_headers import parse_headers, seal
from receiver.fanout.sinks import SINKS, BrokerSink
from receiver.fanout.ssrf import UrlGuard
from receiver.ids import new_id
from receiver.known_fields import reject_unknown_fields
from receiver.secretbox import SecretBox
from receiver.settings import Settings
from receiver.signatures.standard_webhooks import new_secret
from receiver.store.events import ALL_EVENT_TYPES
from receiver.store.jsonutil import dumps
from receiver.store.subscribers import (
    FILTER_KEYS,
    METADATA_PREFIX,
    delete_subscriber,
    get_subscriber,
    insert_subscriber,
    redact_url,
    subscriber_to_api,
    update_subscriber,
)

MAX_PATTERNS = 20
MAX_URL_CHARS = 2048
FilterSpec = dict[str, list[str]]


def parse_filter(raw: Any) -> FilterSpec:
    """`{"provider": ["kie"], "type": "task.failed"}` -> key -> globs; InvalidInput if bad."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput('filter must be an object like {"provider": ["kie"]}', field="filter")
    spec: FilterSpec = {}
    for key, value in raw.items():
        if key not in FILTER_KEYS and not _metadata_key(key):
            raise InvalidInput(
                f"filter key {key!r} is unknown: use {', '.join(FILTER_KEYS)} or metadata.<key>",
                field="filter",
            )
        patterns = [value] if isinstance(value, str) else value
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
            raise InvalidInput(f"filter {key} must be a glob or a list of globs", field="filter")
        if len(patterns) > MAX_PATTERNS:
            raise InvalidInput(f"filter {key}: at most {MAX_PATTERNS} globs", field="filter")
        _check_type_globs(key, patterns)
        spec[key] = patterns
    return spec


def _metadata_key(key: Any) -> bool:
    return isinstance(key, str) and key.startswith(METADATA_PREFIX) and len(key) > 9


def parse_filter_args(items: list[str]) -> FilterSpec:
    """CLI `--filter key=glob` (repeatable) -> spec."""
    merged: dict[str, list[str]] = {}
    for item in items:
        key, sep, glob = item.partition("=")
        if not sep or not glob:
            raise InvalidInput(
                f"--filter {item!r}: use key=glob, e.g. provider=kie", field="filter"
            )
        merged.setdefault(key.strip(), []).append(glob.strip())
    return parse_filter(merged)


def _check_type_globs(key: str, patterns: list[str]) -> None:
    if key != "type":
        return
    for pattern in patterns:
        if not any(fnmatchcase(t, pattern) for t in ALL_EVENT_TYPES):
            raise InvalidInput(
                f"type filter {pattern!r} matches no event type: use one of "
                f"{', '.join(ALL_EVENT_TYPES)} (globs allowed, e.g. task.*)",
                field="filter",
            )


def _kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind not in SINKS:
        raise InvalidInput(f"kind must be one of {', '.join(SINKS)}", field="kind")
    return kind


@dataclass
class Subscriptions:
    """Subscriber operations over one database, with the URL guard and the secret box."""

    db: Database
    guard: UrlGuard
    box: SecretBox
    rotation_grace_s: float = 86400.0

    @classmethod
    def from_settings(cls, db: Database, settings: Settings, guard: UrlGuard) -> Subscriptions:
        """Built from settings (needs settings.secret_key)."""
        box = SecretBox(settings.secret_key)
        return cls(db, guard, box, settings.secret_rotation_grace_s)

    async def create(
        self, url: Any, kind: Any, filter_raw: Any = None, headers_raw: Any = None
    ) -> dict[str, Any]:
        """Validate and store; the answer carries the secret (the only time it is shown)."""
        kind = _kind(kind)
        headers = _headers_for(kind, headers_raw)
        if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
            scheme = kind if issubclass(SINKS[kind], BrokerSink) else "https"
            raise InvalidInput(
                f"url must be a {scheme}:// URL (at most 2048 characters)", field="url"
            )
        spec = parse_filter(filter_raw)
        sink, sub_id = SINKS[kind], new_id("sub")
        if issubclass(sink, BrokerSink):
            return await self._create_broker(sink, url, spec, sub_id)
        await self.guard.check_url(url)
        secret = new_secret() if sink.signed else None
        hidden = url if sink.url_is_secret else secret
        row = await insert_subscriber(
            self.db, sub_id=sub_id, kind=kind, filter_spec=spec,
            url=redact_url(url) if sink.url_is_secret else url,
            secret_enc=self.box.encrypt(hidden, sub_id) if hidden else None,
            headers_enc=seal(self.box, sub_id, headers),
        )  # fmt: skip
        return {**subscriber_to_api(row), "url": url, "secret": secret}

    async def _create_broker(
        self, sink: type[BrokerSink[Any]], url: str, spec: FilterSpec, sub_id: str
    ) -> dict[str, Any]:
        """A redis/nats/amqp subscriber: the URL (credentials) encrypted, shown redacted."""
        await sink.vet(url, self.guard)
        row = await insert_subscriber(
            self.db, sub_id=sub_id, kind=sink.kind, filter_spec=spec,
            url=sink.shown_url(url), secret_enc=self.box.encrypt(url, sub_id),
        )  # fmt: skip
        return {**subscriber_to_api(row), "secret": None}

    async def get(self, sub_id: str) -> Row:
        """The subscriber row; NotFound otherwise."""
        row = await get_subscriber(self.db, sub_id)
        if row is None:
            raise NotFound(f"no subscriber {sub_id!r}")
        return row

    async def update(self, sub_id: str, patch: Any) -> dict[str, Any]:
        """Pause/resume (`paused`), re-enable (`enabled: true`), change `filter`."""
        if not isinstance(patch, Mapping) or not patch:
            raise InvalidInput('send an object such as {"paused": true}', field="body")
        reject_unknown_fields(patch, ("paused", "enabled", "filter", "headers"))
        row = await self.get(sub_id)
        changes = _changes(patch)
        if "headers" in patch:  # replaces them all; {} removes them
            headers = _headers_for(row["kind"], patch["headers"])
            changes["headers_enc"] = seal(self.box, sub_id, headers)
        await update_subscriber(self.db, sub_id, **changes)
        return subscriber_to_api(await self.get(sub_id))

    async def rotate_secret(self, sub_id: str) -> dict[str, Any]:
        """A new signing secret; the old one keeps signing too for the grace period."""
        row = await self.get(sub_id)
        if not SINKS[row["kind"]].signed:
            raise InvalidInput(
                f"{row['kind']} subscribers have no signing secret; to change the "
                "webhook URL, add a new subscriber and remove this one",
                field="kind",
            )
        secret = new_secret()
        await update_subscriber(
            self.db, sub_id,
            secret_enc=self.box.encrypt(secret, sub_id),
            old_secret_enc=row["secret_enc"],
            old_secret_until=now_ms() + int(self.rotation_grace_s * 1000),
        )  # fmt: skip
        return {**subscriber_to_api(await self.get(sub_id)), "secret": secret}

    async def remove(self, sub_id: str) -> None:
        """Delete; its pending deliveries become dead."""
        async with self.db.transaction() as tx:
            if not await delete_subscriber(tx, sub_id):
                raise NotFound(f"no subscriber {sub_id!r}")


async def set_paused(db: Executor, sub_id: str, *, paused: bool) -> None:
    """Pause or resume one subscriber as `PATCH {"paused": ...}` does (the dashboard's buttons)."""
    if not await update_subscriber(db, sub_id, **_changes({"paused": paused})):
        raise NotFound(f"no subscriber {sub_id!r}")


def _headers_for(kind: str, raw: Any) -> dict[str, str]:
    headers = parse_headers(raw)
    if headers and kind != "webhook":
        raise InvalidInput(
            f"custom headers are for webhook subscribers, not {kind}", field="headers"
        )
    return headers


def _changes(patch: Mapping[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for flag in ("paused", "enabled"):
        if flag in patch:
            if not isinstance(patch[flag], bool):
                raise InvalidInput(f"{flag} must be true or false", field=flag)
            changes[flag] = int(patch[flag])
            changes["failing_since"] = None  # a pause or re-enable restarts the failing clock
    if patch.get("enabled") is False:
        raise InvalidInput("to stop deliveries use paused: true (or DELETE)", field="enabled")
    if patch.get("enabled") is True:
        changes["disabled_reason"] = None
    if "filter" in patch:
        changes["filter"] = dumps(parse_filter(patch["filter"]))
    return changes
