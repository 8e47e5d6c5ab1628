"""Per-task callback tokens echoed by the provider are not stored, listed or shown."""

from __future__ import annotations

import json

from receiver.callbacks.redact import redact_bytes, redact_text
from receiver.settings import Settings
from receiver.store.tasks import get_task
from tests.receiver.callback_helpers import add_task, kie_body, running
from tests.receiver.test_dashboard import logged_in


async def test_an_echoed_callback_url_is_redacted_before_storing(settings: Settings) -> None:
    cfg = settings.replace(workers=False, public_url="https://hooks.example.com")
    async with running(cfg) as (client, rt):
        task, token = await add_task(rt.db)
        url = f"https://hooks.example.com/callbacks/kie/{token}"
        body = kie_body("task_abc")
        body["data"]["param"] = json.dumps({"callBackUrl": url, "prompt": "a fox"})
        body["data"]["echo"] = {"callBackUrl": url, "bare": token}
        raw = json.dumps(body).replace("/", "\\/")  # kie-style escaped slashes, too
        answer = await client.post(f"/callbacks/kie/{token}", content=raw.encode())
        assert answer.status_code == 200, answer.text
        stored = [r["body"] for r in await rt.db.fetchall("SELECT body FROM inbox")]
        stored += [r["body"] for r in await rt.db.fetchall("SELECT body FROM callbacks")]
        listed = (await client.get("/api/callbacks")).text
        row = await get_task(rt.db, task["id"])
        assert row is not None and row["status"] == "succeeded"  # still processed
    assert len(stored) == 2 and all(token not in text for text in stored)
    assert "callbacks\\\\/kie\\\\/[redacted]" in listed and token not in listed
    async with logged_in(settings) as (ui, _db):
        assert token not in (await ui.get("/ui/callbacks")).text


async def test_a_refused_callback_does_not_store_a_token_either(settings: Settings) -> None:
    async with running(settings.replace(workers=False)) as (client, rt):
        _, token = await add_task(rt.db)
        echo = json.dumps({"data": {"callBackUrl": f"https://h/callbacks/kie/{token}"}})
        assert (await client.post(f"/callbacks/kie/{token}", content=echo)).status_code == 400
        (row,) = await rt.db.fetchall("SELECT body FROM callbacks")
    assert token not in row["body"] and "callbacks/kie/[redacted]" in row["body"]


def test_redaction_covers_encoded_slashes_and_leaves_other_text_alone() -> None:
    token = "AbCdEfGhIjKlMnOpQrStUv_-0123456789"
    for text in (
        f"/callbacks/kie/{token}",
        f"callbacks%2Fkie%2F{token}",
        f"callbacks\\/x\\/{token}",
    ):
        assert token not in redact_text(text) and "[redacted]" in redact_text(text)
        assert token.encode() not in redact_bytes(text.encode())
    assert redact_text(f"id {token}", token) == "id [redacted]"
    plain = "https://cdn.example.com/videos/abcdefghijklmnopqrstuvwxyz.mp4 /callbacks/kie/short"
    assert redact_text(plain) == plain
