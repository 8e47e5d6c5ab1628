"""No value nested deeply, stored or submitted, breaks a page or an API answer."""

from __future__ import annotations

import json

from receiver.clock import now_ms
from receiver.ids import new_id
from receiver.settings import Settings
from tests.dispatcher.harness import harness
from tests.receiver.callback_helpers import running
from tests.receiver.test_dashboard import logged_in

DEEP = b"[" * 30_000
DEEP_VALID = "[" * 5_000 + "]" * 5_000  # valid JSON, deeper than any printer recurses


async def test_a_deeply_nested_callback_is_refused_and_the_audit_page_still_works(
    settings: Settings,
) -> None:
    cfg = settings.replace(workers=False)
    async with running(cfg) as (client, _rt):
        assert (await client.post("/callbacks/kie", content=DEEP)).status_code == 400
        nested = json.dumps({"data": {"taskId": "t1", "x": json.loads("[" * 20 + "]" * 20)}})
        wide = "{" + '"data": {"taskId": "t1", "x": ' + "[" * 70 + "]" * 70 + "}}"
        assert (await client.post("/callbacks/kie/" + "A" * 20, content=nested)).status_code == 404
        answer = await client.post("/callbacks/kie", content=wide.encode())
        assert answer.status_code == 400 and "levels deep" in answer.json()["error"]["message"]
        assert (await client.get("/api/callbacks")).status_code == 200
    async with logged_in(settings) as (ui, db):
        await db.execute(
            "INSERT INTO callbacks (id, provider, route, headers, body, verdict, status_code, "
            "received_at) VALUES (?, 'kie', '/callbacks/kie', ?, ?, 'accepted', 200, ?)",
            new_id("cbk"), DEEP_VALID, DEEP_VALID, now_ms(),
        )  # fmt: skip
        page = await ui.get("/ui/callbacks")
        assert page.status_code == 200, page.text[:300]
        assert (await ui.get("/ui/callbacks?partial=1")).status_code == 200


async def test_a_deeply_nested_submission_is_400_not_500(settings: Settings) -> None:
    async with harness(settings) as h:
        flood = b'{"provider": "fake", "model": "video", "input": ' + DEEP + b"}"
        answer = await h.client.post("/api/tasks", content=flood)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
        deep_input = {"prompt": "a fox", "extra": json.loads("[" * 200 + "]" * 200)}
        body = {"provider": "fake", "model": "video", "input": deep_input}
        answer = await h.client.post("/api/tasks", content=json.dumps(body).encode())
        assert answer.status_code == 400 and "levels deep" in answer.json()["error"]["message"]
        assert (await h.client.get("/api/tasks")).json()["items"] == []
        sub = await h.client.post("/api/subscribers", content=b'{"url": ' + DEEP + b"}")
        assert sub.status_code in (400, 404)
