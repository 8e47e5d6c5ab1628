"""A burst of signed kie callbacks drains through overlapping confirmations, once each.

The emulator answers every recordInfo read after 100 ms (a realistic round trip). The
inbox worker must keep many confirmations in flight at once (the emulator records the
peak), and every task must end as exactly one event delivered once to the subscriber.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter

import httpx

from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, emulator_stats, taskhook
from tests.receiver.fanout_support import Recorder
from tests.support import live_server, wait_for

KEY = "emulator-kie-webhook-key-0123"
CLIP = "https://files.example/me.mp4"
CALLBACKS = 500


async def _create_at_emulator(emu: str, n: int) -> list[str]:
    """Tasks the emulator knows (created straight at it, as another system would)."""
    body = {"model": "sora-2-characters", "input": {"character_file_url": [CLIP]}}
    headers = {"Authorization": "Bearer key-kie"}
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=f"{emu}/kie", headers=headers, timeout=30) as client:

        async def one() -> str:
            async with gate:
                answer = (await client.post("/api/v1/jobs/createTask", json=body)).json()
            return str(answer["data"]["taskId"])

        return list(await asyncio.gather(*(one() for _ in range(n))))


def _signed(task_id: str) -> tuple[bytes, dict[str, str]]:
    """kie's callback for a finished task, signed as kie signs (taskId.timestamp)."""
    stamp = str(int(time.time()))
    mac = hmac.new(KEY.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    data = {"taskId": task_id, "state": "success", "model": "sora-2-characters",
            "resultJson": json.dumps({"character_id": "char_claimed"})}  # fmt: skip
    headers = {"Content-Type": "application/json", "X-Webhook-Timestamp": stamp,
               "X-Webhook-Signature": base64.b64encode(mac).decode()}  # fmt: skip
    return json.dumps({"code": 200, "msg": "success", "data": data}).encode(), headers


async def _send_all(th: httpx.AsyncClient, task_ids: list[str]) -> None:
    gate = asyncio.Semaphore(32)

    async def one(task_id: str) -> None:
        body, headers = _signed(task_id)
        async with gate:
            answer = await th.post("/callbacks/kie", content=body, headers=headers)
        assert answer.status_code == 200, answer.text

    await asyncio.gather(*(one(t) for t in task_ids))


async def test_a_burst_of_callbacks_is_confirmed_concurrently_and_delivered_once(
    settings: Settings,
) -> None:
    tuned = settings.replace(kie_webhook_key=KEY, delivery_retry_schedule_s=(0.0, 0.2, 0.5))
    hook = Recorder()
    async with (
        emulator(delay_s=0, query_delay_s=0.1, kie_webhook_key=KEY) as emu,
        live_server(hook.app()) as sub_base,
        taskhook(tuned, emu, callbacks=True) as th,
    ):
        sub = {"url": f"{sub_base}/h", "kind": "webhook"}
        created = await th.post("/api/subscribers", json=sub)
        assert created.status_code == 201, created.text
        task_ids = await _create_at_emulator(emu, CALLBACKS)
        await _send_all(th, task_ids)
        await wait_for(lambda: len(hook.received) >= CALLBACKS, timeout_s=90)
        await asyncio.sleep(0.3)  # a duplicate would show up now
        stats = await emulator_stats(emu)
    ids = Counter(r.headers["webhook-id"] for r in hook.received)
    assert len(ids) == CALLBACKS and max(ids.values()) == 1
    payloads = [json.loads(r.body) for r in hook.received]
    assert {p["data"]["provider_task_id"] for p in payloads} == set(task_ids)
    # the provider's answer won over the body's claim
    assert all(p["data"]["result"]["character_id"] != "char_claimed" for p in payloads)
    assert stats["requests"]["kie"]["query"] == CALLBACKS  # one confirming read each
    assert stats["max_in_flight"]["query"] > 1  # the reads overlapped
