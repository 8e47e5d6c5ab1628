"""Item 9: kie `progressCallBackUrl`: progress recorded as from polls, never a terminal event."""

from __future__ import annotations

from receiver.providers import parse_kie_callback
from receiver.settings import Settings
from tests.dispatcher.emulated import (
    emulator,
    emulator_stats,
    events_of,
    finished,
    submit,
    taskhook,
)
from tests.dispatcher.test_emulator import Inbox, kie_body
from tests.dispatcher.test_emulator import emulator as emulator_client
from tests.support import live_server, wait_for

CLIP = "https://files.example/me.mp4"


def test_a_progress_report_never_ends_a_task() -> None:
    """With no `state`, a body's outcome comes from `code`, except a progress below 100."""
    report = parse_kie_callback({"code": 200, "msg": "success",
                                 "data": {"taskId": "k", "progress": 40}})  # fmt: skip
    assert (report.status, report.progress, report.is_final) == ("running", 40, False)
    done = parse_kie_callback({"code": 200, "data": {"taskId": "k"}})
    assert done.status == "succeeded"


async def test_page_kie_progress_callback_url_gets_a_progress_report() -> None:
    """kie's model pages send `progressCallBackUrl` beside `callBackUrl` in createTask."""
    inbox = Inbox()
    async with live_server(inbox.app()) as hooks, emulator_client(delay_s=0.6) as client:
        body = {**kie_body(callback=f"{hooks}/hook"), "progressCallBackUrl": f"{hooks}/hook"}
        await client.post("/api/v1/jobs/createTask", json=body)
        await wait_for(lambda: len(inbox.received) == 2, timeout_s=5)
    (_, progress), (_, final) = inbox.received
    assert progress["data"]["state"] == "generating" and 0 < progress["data"]["progress"] < 100
    assert final["data"]["state"] == "success"


async def test_taskhook_records_progress_callbacks_without_an_event(settings: Settings) -> None:
    tuned = settings.replace(poll_min_interval_s=30.0, poll_safety_interval_s=300.0)
    async with emulator(delay_s=2.0) as emu, taskhook(tuned, emu, callbacks=True) as th:
        task = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        done = await finished(th, task["id"])
        history = (await th.get(f"/api/tasks/{task['id']}")).json()["history"]
        events = await events_of(th, task["id"])
        stats = await emulator_stats(emu)
    assert done["status"] == "succeeded" and done["source"] == "callback"
    reports = [h["detail"] for h in history if h["kind"] == "callback"]
    assert reports[0]["status"] == "running" and 0 < reports[0]["progress"] < 100
    assert reports[-1]["status"] == "succeeded"
    assert stats["callbacks"]["progress"] == 1
    assert len(events) == 1  # the progress report made no event
