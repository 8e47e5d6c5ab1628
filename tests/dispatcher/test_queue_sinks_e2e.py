"""A kie callback and a polled foxapi task, end to end, onto Redis, NATS and RabbitMQ."""

from __future__ import annotations

import json

import pytest

from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, finished, submit, taskhook
from tests.receiver.broker_support import broker
from tests.receiver.fanout_support import Recorder
from tests.support import live_server, wait_for

CLIP = "https://files.example/me.mp4"
TUNED = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2, "poll_safety_interval_s": 300.0}


@pytest.mark.parametrize("kind", ["redis", "nats", "amqp"])
async def test_a_callback_and_a_polled_task_each_arrive_once_as_the_webhook_body(
    kind: str, settings: Settings
) -> None:
    recorder = Recorder()
    async with (
        broker(kind) as reader,
        live_server(recorder.app()) as hook,
        emulator(delay_s=0.2) as emu,
        taskhook(settings.replace(**TUNED), emu, callbacks=True) as th,
    ):
        made = await th.post("/api/subscribers", json={"url": reader.url(), "kind": kind})
        assert made.status_code == 201, made.text
        assert (await th.post("/api/subscribers", json={"url": f"{hook}/h"})).status_code == 201
        called = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        polled = await submit(th, "foxapi", "sora-2", {"prompt": "waves"})
        assert (called["mode"], polled["mode"]) == ("callback", "poll")
        assert (await finished(th, called["id"]))["source"] == "callback"
        assert (await finished(th, polled["id"]))["source"] == "poll"
        await wait_for(lambda: len(recorder.received) == 2)

        async def both() -> list:  # type: ignore[type-arg]
            found = await reader.messages()
            return found if len(found) >= 2 else []

        messages = await wait_for(both)
        listed = (await th.get("/api/subscribers", params={"kind": kind})).json()["items"]
    webhook_bodies = {r.headers["webhook-id"]: r.body for r in recorder.received}
    assert sorted(m.event_id for m in messages) == sorted(webhook_bodies)  # each once
    for message in messages:
        assert message.type == "task.succeeded"
        assert message.body == webhook_bodies[message.event_id]  # byte for byte
    sources = {json.loads(m.body)["data"]["task_id"]: json.loads(m.body)["data"]["source"]
               for m in messages}  # fmt: skip
    assert sources == {called["id"]: "callback", polled["id"]: "poll"}
    assert [s["kind"] for s in listed] == [kind]
    assert "guest:guest" not in json.dumps(listed)
