"""`taskhook doctor`: check a deployment the way a newcomer needs it checked.

Each check yields `Check` lines: ok, FAIL (with what to do), or skip (not configured).
Nothing is changed: the write probe is rolled back, provider reads ask about a task id
that does not exist, and the public-URL probe carries no task.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from dispatcher.providers import ADAPTERS
from dispatcher.providers.base import ProviderError, ProviderUnavailable
from receiver.db import Database, latest_version, open_database, schema_version
from receiver.errors import StoreError
from receiver.settings import PROVIDERS, Settings
from receiver.store.readiness import check_writable_silently
from receiver.store.subscriber_health import subscriber_health

PROBE_TASK_ID = "taskhook-doctor-probe"
AUTH_STATUSES = (401, 403)
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    """One line of the report: `ok` True/False, or None when skipped."""

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`ok    name: detail`, `FAIL  name: detail -> fix`, `skip  name: detail`."""
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        tail = f" -> {self.fix}" if self.fix and self.ok is False else ""
        return f"{mark}  {self.name}: {self.detail}{tail}"


def _exists(path: str) -> bool:
    return Path(path).expanduser().exists()


async def check_database(settings: Settings) -> AsyncIterator[Check]:
    """Reachable, writable, schema current; then the subscriber checks on the same store."""
    if not settings.is_postgres and not await asyncio.to_thread(_exists, settings.db):
        yield Check(
            "database",
            False,
            f"no database at {settings.db}",
            "run `taskhook serve` once (it creates and migrates it) or set TASKHOOK_DB",
        )
        return  # fmt: skip
    try:
        db = await open_database(settings.db, pool_size=1)
    except StoreError as exc:
        yield Check("database", False, f"unreachable: {exc.message}", "check TASKHOOK_DB")
        return
    try:
        yield await _writable(db, settings)
        yield await _schema(db)
        async for check in check_subscribers(db):
            yield check
    finally:
        await db.close()


async def _writable(db: Database, settings: Settings) -> Check:
    try:
        await check_writable_silently(db)
    except StoreError as exc:
        return Check("database", False, f"not writable: {exc.message}",
                     "give taskhook's user write access to the database")  # fmt: skip
    return Check("database", True, f"reachable and writable ({db.dialect})")


async def _schema(db: Database) -> Check:
    current, latest = await schema_version(db), latest_version()
    if current == latest:
        return Check("schema", True, f"current (version {current})")
    if current > latest:
        return Check("schema", False, f"version {current} is newer than this taskhook ({latest})",
                     "upgrade taskhook")  # fmt: skip
    return Check("schema", False, f"version {current}, this taskhook needs {latest}",
                 "start `taskhook serve` once: it migrates at start-up")  # fmt: skip


def check_secret_key(settings: Settings) -> Check:
    """A key to encrypt subscriber secrets with (generated beside a SQLite database)."""
    if settings.secret_key:
        return Check("secret key", True, "TASKHOOK_SECRET_KEY is set")
    if settings.is_postgres:
        return Check(
            "secret key",
            False,
            "TASKHOOK_SECRET_KEY is not set (needed with PostgreSQL)",
            "export TASKHOOK_SECRET_KEY=$(openssl rand -hex 32) on every instance",
        )
    beside = Path(settings.db).expanduser().resolve().parent / "taskhook.secret_key"
    if beside.exists():
        return Check("secret key", True, f"generated key file {beside}")
    return Check(
        "secret key",
        False,
        "no TASKHOOK_SECRET_KEY and no generated key file",
        "run `taskhook serve` once (it generates one) or set TASKHOOK_SECRET_KEY",
    )


async def check_provider(client: httpx.AsyncClient, settings: Settings, name: str) -> Check:
    """The base URL answers and the key is accepted (a read of a task that does not exist)."""
    provider = settings.provider(name)
    label = f"provider {name}"
    if not provider.api_key:
        return Check(label, None, f"TASKHOOK_{name.upper()}_API_KEY is not set")
    try:
        await ADAPTERS[name].query(client, provider, PROBE_TASK_ID)
    except ProviderUnavailable as exc:
        return Check(
            label,
            False,
            f"{provider.base_url} did not answer usefully: {exc.message}",
            f"check TASKHOOK_{name.upper()}_BASE_URL and this machine's network",
        )
    except ProviderError as exc:
        if exc.http_status in AUTH_STATUSES or exc.code in AUTH_STATUSES:
            return Check(
                label,
                False,
                f"{provider.base_url} refused the key: {exc.message}",
                f"check TASKHOOK_{name.upper()}_API_KEY",
            )
    return Check(label, True, f"{provider.base_url} reachable, key accepted")  # fmt: skip


async def check_public_url(client: httpx.AsyncClient, settings: Settings) -> Check:
    """TASKHOOK_PUBLIC_URL reaches this taskhook: /healthz, then its callback route answers."""
    if not settings.public_url:
        return Check("public URL", None, "TASKHOOK_PUBLIC_URL is not set (every task is polled)")
    base, fix = settings.public_url, "make TASKHOOK_PUBLIC_URL reach this taskhook's port"
    try:
        health = await client.get(f"{base}/healthz")
        probe = await client.post(f"{base}/callbacks/kie", content=b'{"doctor": true}',
                                  headers={"content-type": "application/json"})  # fmt: skip
    except httpx.HTTPError as exc:
        return Check("public URL", False, f"{base} unreachable: {type(exc).__name__}", fix)
    if health.status_code != 200 or not _is_taskhook_error(probe):
        return Check("public URL", False,
                     f"{base} answered {health.status_code}/{probe.status_code}, not as taskhook",
                     fix)  # fmt: skip
    return Check("public URL", True, f"{base} reaches taskhook; its callback route answers")


def _is_taskhook_error(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return False
    return response.status_code in (400, 401) and isinstance(body.get("error"), dict)


async def check_subscribers(db: Database) -> AsyncIterator[Check]:
    """Each subscriber's state and last attempt."""
    for sub, last in await subscriber_health(db):
        yield _subscriber_check(sub, last)


def _subscriber_check(sub: dict[str, object], last: dict[str, object] | None) -> Check:
    label = f"subscriber {sub['id']}"
    fix = f"fix the endpoint, then `taskhook subscribers resume {sub['id']}`"
    if not sub["enabled"]:
        return Check(label, False, f"disabled: {sub['disabled_reason']}", fix)
    if last is None:
        return Check(label, True, "no deliveries yet (try `taskhook subscribers test ID`)")
    if last["outcome"] == "delivered":
        return Check(label, True, f"last delivery accepted (HTTP {last['status_code']})")
    return Check(label, False, f"last delivery failed: {last['error']}", fix)


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a newcomer needs them."""
    found = [check async for check in check_database(settings)]
    found.insert(min(2, len(found)), check_secret_key(settings))
    async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
        for name in PROVIDERS:
            found.append(await check_provider(client, settings, name))
        found.append(await check_public_url(client, settings))
    return found
