"""Short leases: a live worker renews them; a dead worker's rows are taken again soon.

A claimed row's lease is short (seconds), so a process killed mid-work gives its rows
back quickly; while a worker is alive and still working on a row, it renews the lease,
so another worker never takes a row that is merely slow.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from receiver.callbacks.processor import InboxOptions, InboxWorker
from receiver.callbacks.sources import build_sources
from receiver.db import Database
from receiver.provider_state import ProviderState
from receiver.settings import Settings
from receiver.store.deliveries import claim_due as claim_deliveries
from receiver.store.inbox import claim_due as claim_inbox
from tests.receiver.callback_helpers import (
    KIE_KEY,
    add_task,
    count,
    events,
    kie_body,
    post_kie,
    running,
)
from tests.receiver.fanout_support import Recorder, complete, delivery_states, fanout, fast_settings
from tests.receiver.test_callbacks_durability import FrozenAfterResponse
from tests.support import live_server, wait_for

LEASE_S = 0.6  # renewed every 0.2 s while in flight
SLOW_S = 2.4  # four leases long
DEAD_LEASE_S = 1.5  # a crashed worker's lease: long enough to see it held on a loaded machine


class SlowConfirmer:
    """A provider whose confirming read takes `SLOW_S`; counts the reads."""

    def __init__(self) -> None:
        self.calls = 0

    def confirms(self, provider: str) -> bool:
        return provider == "kie"

    async def confirm(self, provider: str, provider_task_id: str) -> ProviderState:
        self.calls += 1
        await asyncio.sleep(SLOW_S)
        return ProviderState(provider_task_id, "succeeded", 100, {"character_id": "char_x"})


async def test_a_slow_row_keeps_its_lease_while_its_worker_lives(settings: Settings) -> None:
    options = InboxOptions(lease_s=LEASE_S, confirm_timeout_s=5)
    slow = SlowConfirmer()
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(cfg, options=options, confirmer=slow) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        rival = InboxWorker(rt, build_sources(cfg), options, slow)
        first = asyncio.create_task(rt.runner.tick())
        await asyncio.sleep(LEASE_S * 2)  # the first lease has run out twice over by now
        assert await rival.run_once() == 0  # renewed: not up for grabs
        await first
        assert slow.calls == 1
        assert len(await events(rt.db)) == 1


async def test_a_dead_workers_inbox_row_is_taken_once_its_short_lease_ends(
    settings: Settings,
) -> None:
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(cfg, FrozenAfterResponse()) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        # a worker claims the row, then its process dies: nothing renews the lease
        assert len(await claim_inbox(rt.db, limit=10, lease_s=DEAD_LEASE_S)) == 1
    async with running(cfg) as (_client, rt):
        assert (await rt.runner.tick())["callbacks"] == 0  # still leased

        async def recorded() -> bool:
            await rt.runner.tick()
            return await count(rt.db, "events") == 1

        await wait_for(recorded, timeout_s=5)


def test_default_leases_let_a_crashed_process_go_within_ten_seconds() -> None:
    assert InboxOptions().lease_s <= 10
    assert Settings().delivery_lease_s <= 10


async def test_a_slow_delivery_is_sent_once_while_its_worker_renews(
    db: Database, settings: Settings
) -> None:
    settings = fast_settings(settings, delivery_lease_s=LEASE_S, delivery_timeout_s=5.0)

    async def slow(_n: int, _request: Request) -> Response:
        await asyncio.sleep(SLOW_S)
        return Response("ok")

    hook = Recorder(slow)
    async with live_server(hook.app()) as base, fanout(db, settings) as one:
        async with fanout(db, settings) as other:
            await one.subs.create(f"{base}/h", "webhook")
            await complete(db)
            sending = asyncio.create_task(one.worker.run_once())
            await asyncio.sleep(LEASE_S * 2)
            assert await other.worker.run_once() == 0  # still leased by a live worker
            await sending
    assert len(hook.received) == 1
    assert await delivery_states(db) == ["delivered"]


async def test_a_dead_workers_delivery_is_sent_after_its_short_lease(
    db: Database, settings: Settings
) -> None:
    settings = fast_settings(settings, delivery_lease_s=LEASE_S)
    hook = Recorder()
    async with live_server(hook.app()) as base, fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/h", "webhook")
        await complete(db)
        dead = await claim_deliveries(db, "dead-worker", lease_s=DEAD_LEASE_S, limit=10)
        assert len(dead) == 1
        assert await fo.worker.run_once() == 0  # still leased
        await fo.drain(lambda: len(hook.received) == 1)
    assert await delivery_states(db) == ["delivered"]
