"""Per-task `webhook` and `metadata`: signed deliveries to the task's own URL, inherited by
chained children, `data.metadata` in every event, metadata filters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from standardwebhooks.webhooks import Webhook

from dispatcher.dispatch_part import DispatchPart
from receiver.app import create_app
from receiver.fanout.fanout import Fanout
from receiver.fanout.fanout_part import FanoutPart
from receiver.fanout.task_webhooks import current_secrets, rotate
from receiver.provider_state import ProviderState
from receiver.settings import Settings
from tests.dispatcher.fake_adapter import FakeAdapter
from tests.dispatcher.harness import FAST, Harness, video
from tests.receiver.fanout_support import Recorder
from tests.support import app_client, live_server, tick_until

FANOUT = {"delivery_retry_schedule_s": (0.0, 0.05), "workers": False}


@dataclass
class FullHarness(Harness):
    """The dispatcher harness with a fan-out part wired in."""

    fanout: Fanout


@asynccontextmanager
async def full(settings: Settings, adapter: FakeAdapter) -> AsyncIterator[FullHarness]:
    fanout = FanoutPart()
    dispatch = DispatchPart({adapter.name: adapter}, fanout=fanout.fanout)
    app = create_app(settings.replace(**FAST, **FANOUT), [dispatch, fanout])
    async with app_client(app) as client:
        yield FullHarness(client, app.state.runtime, adapter, fanout.fanout.get())


async def _secret(h: FullHarness) -> str:
    box = h.fanout.require().box
    async with h.runtime.db.transaction() as tx:
        secret, _old, _until = await current_secrets(tx, box)
    return secret


async def _run_until(h: Harness, recorder: Recorder, n: int) -> None:
    await tick_until(h.runtime.runner, lambda: len(recorder.received) >= n)


def _verified(secret: str, recorder: Recorder) -> list[dict[str, Any]]:
    hook = Webhook(secret)
    return [hook.verify(r.body, r.headers) for r in recorder.received]


async def test_task_webhook_gets_signed_events_with_metadata_also_for_children(
    settings: Settings,
) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend(["succeeded", "succeeded"])
    own, acme, other, everyone = Recorder(), Recorder(), Recorder(), Recorder()
    async with live_server(own.app()) as o, live_server(acme.app()) as a, \
            live_server(other.app()) as b, live_server(everyone.app()) as e:  # fmt: skip
        async with full(settings, adapter) as h:
            for url, spec in ((a, {"metadata.customer": "acme*"}),
                              (b, {"metadata.customer": "other"}), (e, None)):  # fmt: skip
                sub = {"url": f"{url}/s", "kind": "webhook", "filter": spec}
                made = await h.client.post("/api/subscribers", json=sub)
                assert made.status_code == 201, made.text
            body = {**video(), "webhook": f"{o}/mine", "metadata": {"customer": "acme-eu", "n": 7},
                    "then": {"provider": "fake", "model": "video",
                             "input": {"prompt": "more {{task_id}}"}}}  # fmt: skip
            answer = await h.submit(body)
            assert answer.status_code == 202, answer.text
            task = answer.json()
            assert task["metadata"] == {"customer": "acme-eu", "n": 7}
            assert task["webhook"] == f"{o}/mine"
            await _run_until(h, own, 4)  # started and succeeded, for parent and child
            await _run_until(h, everyone, 2)
            secret = await _secret(h)
            listed = (await h.client.get("/api/tasks")).json()["items"]
    events = _verified(secret, own)
    assert sorted(ev["type"] for ev in events) == ["task.started"] * 2 + ["task.succeeded"] * 2
    events = [ev for ev in events if ev["type"] == "task.succeeded"]
    assert {ev["data"]["task_id"] for ev in events} == {t["id"] for t in listed}
    assert all(ev["data"]["metadata"] == {"customer": "acme-eu", "n": 7} for ev in events)
    assert all(t["metadata"] == {"customer": "acme-eu", "n": 7} for t in listed)
    assert len(acme.received) == 2 and other.received == []
    assert [json.loads(r.body)["id"] for r in acme.received] == [ev["id"] for ev in events]


async def test_a_task_webhook_sees_only_its_own_task(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend(["succeeded", "succeeded"])
    mine = Recorder()
    async with live_server(mine.app()) as url, full(settings, adapter) as h:
        first = (await h.submit({**video(), "webhook": f"{url}/a"})).json()
        await h.submit(video("another"))
        await _run_until(h, mine, 1)
        for _ in range(10):
            await h.tick()
    assert {json.loads(r.body)["data"]["task_id"] for r in mine.received} == {first["id"]}


async def test_invalid_metadata_and_webhook_are_422_naming_the_field(settings: Settings) -> None:
    cases = [
        ({"metadata": ["a"]}, "metadata"),
        ({"metadata": {"blob": "x" * 5000}}, "metadata"),
        ({"webhook": 42}, "webhook"),
        ({"webhook": "ftp://example.com/hook"}, "webhook"),
    ]
    async with full(settings.replace(allow_http_subscribers=False), FakeAdapter()) as h:
        for extra, field in cases:
            answer = await h.submit({**video(), **extra})
            assert answer.status_code == 422, extra
            assert answer.json()["error"]["field"] == field, answer.json()
        assert (await h.client.get("/api/tasks")).json()["items"] == []


async def test_rotation_signs_with_both_secrets_during_grace(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend(["succeeded"])
    mine = Recorder()
    async with live_server(mine.app()) as url, full(settings, adapter) as h:
        await h.submit({**video(), "webhook": f"{url}/a", "metadata": {"a": 1}})
        old = await _secret(h)
        box = h.fanout.require().box
        new = await rotate(h.runtime.db, box, 3600.0)
        assert new != old and new.startswith("whsec_")
        await _run_until(h, mine, 1)
    assert len(mine.received[0].headers["webhook-signature"].split(" ")) == 2
    assert _verified(new, mine) and _verified(old, mine)


async def test_lifecycle_events_reach_only_subscribers_that_name_them(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend([
        ProviderState("fake-1", "running", 30), ProviderState("fake-1", "running", 60),
        "succeeded",
    ])  # fmt: skip
    named, plain, mine = Recorder(), Recorder(), Recorder()
    async with live_server(named.app()) as a, live_server(plain.app()) as b, \
            live_server(mine.app()) as c, full(settings, adapter) as h:  # fmt: skip
        spec = {"type": ["task.started", "task.progress"]}
        for url, flt in ((a, spec), (b, None)):
            sub = {"url": f"{url}/s", "kind": "webhook", "filter": flt}
            assert (await h.client.post("/api/subscribers", json=sub)).status_code == 201
        task = (await h.submit({**video(), "webhook": f"{c}/t", "metadata": {"k": "v"}})).json()
        await _run_until(h, mine, 3)
        await _run_until(h, plain, 1)
    named_events = [json.loads(r.body) for r in named.received]
    assert [e["type"] for e in named_events] == ["task.started", "task.progress"]
    assert named_events[1]["data"]["progress"] == 30  # 60 came within 10 s: not sent
    assert all(e["data"]["task_id"] == task["id"] for e in named_events)
    assert named_events[0]["data"]["metadata"] == {"k": "v"}
    assert [json.loads(r.body)["type"] for r in plain.received] == ["task.succeeded"]
    assert [json.loads(r.body)["type"] for r in mine.received] == [
        "task.started", "task.progress", "task.succeeded",
    ]  # fmt: skip
