"""A signed kie callback from the emulator, for a dispatched task: one event, confirmed."""

from __future__ import annotations

from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, events_of, finished, submit, taskhook

KEY = "emulator-kie-webhook-key-0123"
CLIP = "https://files.example/me.mp4"


async def test_signed_kie_callback_ends_as_one_confirmed_event(settings: Settings) -> None:
    tuned = settings.replace(kie_webhook_key=KEY, poll_min_interval_s=30, poll_max_interval_s=60)
    async with (
        emulator(delay_s=0.2, kie_webhook_key=KEY) as emu,
        taskhook(tuned, emu, callbacks=True) as th,
    ):
        task = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        assert task["mode"] == "callback"
        done = await finished(th, task["id"])
        assert done["status"] == "succeeded" and done["source"] == "callback"
        assert done["result"]["character_id"].startswith("char_")
        [event] = await events_of(th, task["id"])
        assert event["data"]["source"] == "callback"
        detail = (await th.get(f"/api/tasks/{task['id']}")).json()
        callbacks = [h["detail"] for h in detail["history"] if h["kind"] == "callback"]
        assert callbacks and callbacks[0]["confirmed"] is True  # the re-read decided
        audit = (await th.get("/api/callbacks", params={"provider": "kie"})).json()["items"]
        # the final callback, and a progress report when it came before the end
        assert [a["verdict"] for a in audit] in (["accepted"], ["accepted"] * 2)
        assert audit[0]["headers"]["x-webhook-signature"] == "[redacted]"
