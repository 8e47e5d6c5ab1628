"""A callback's claim that the provider did not confirm does not swallow the real callback."""

from __future__ import annotations

from receiver.provider_state import ProviderState
from receiver.settings import Settings
from receiver.store.tasks import get_task
from tests.receiver.callback_helpers import (
    KIE_KEY,
    FakeConfirmer,
    add_task,
    count,
    events,
    kie_body,
    post_kie,
    running,
)


async def test_an_early_success_claim_does_not_dedupe_the_real_success(settings: Settings) -> None:
    provider_says = ["running"]

    def answer(ptid: str) -> ProviderState:
        if provider_says[0] == "running":
            return ProviderState(ptid, "running", 40)
        return ProviderState(ptid, "succeeded", 100, {"video_urls": [], "character_id": "c1",
                                                       "character_name": None})  # fmt: skip

    confirmer = FakeConfirmer(answer)
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(cfg, confirmer=confirmer) as (client, rt):
        task, _ = await add_task(rt.db)
        early = await post_kie(client, kie_body("task_abc"))  # claims success; still running
        assert early.json() == {"status": "accepted"}
        row = await get_task(rt.db, task["id"])
        assert row is not None and row["status"] == "running" and row["progress"] == 40
        provider_says[0] = "succeeded"
        real = await post_kie(client, kie_body("task_abc"))  # the provider's own callback
        assert real.json() == {"status": "accepted"}, "the claim swallowed the real callback"
        row = await get_task(rt.db, task["id"])
        assert row is not None and row["status"] == "succeeded"
        assert [e["type"] for e in await events(rt.db)] == ["task.succeeded"]
        again = await post_kie(client, kie_body("task_abc"))  # a true repeat is still one
        assert again.json() == {"status": "duplicate"}
        assert await count(rt.db, "inbox") == 2 and confirmer.calls == ["task_abc"] * 2
