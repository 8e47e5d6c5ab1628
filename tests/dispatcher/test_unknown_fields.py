"""Unknown fields are refused with 422 naming the field (and the closest known one)."""

from __future__ import annotations

from dispatcher.compose import build_app
from receiver.settings import Settings
from tests.dispatcher.harness import harness, video
from tests.support import app_client


async def test_a_misspelt_then_is_refused_not_dropped(settings: Settings) -> None:
    async with harness(settings) as h:
        body = {**video(), "thne": video()}
        answer = await h.submit(body)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["field"] == "thne" and "did you mean 'then'?" in error["message"]
        nested = {**video(), "then": {**video(), "modle": "video"}}
        error = (await h.submit(nested)).json()["error"]
        assert error["field"] == "then.modle" and "did you mean 'model'?" in error["message"]
        assert (await h.client.get("/api/tasks")).json()["items"] == []
        assert h.adapter.submitted == []


async def test_subscriber_and_replay_bodies_name_only_known_fields(settings: Settings) -> None:
    async with app_client(build_app(settings.replace(workers=False))) as client:
        url = "https://93.184.216.34/hook"
        answer = await client.post("/api/subscribers", json={"url": url, "filtre": "x"})
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "filtre"
        assert "did you mean 'filter'?" in answer.json()["error"]["message"]
        assert (await client.get("/api/subscribers")).json()["items"] == []
        created = await client.post("/api/subscribers", json={"url": url, "kind": "webhook"})
        assert created.status_code == 201, created.text
        sub_id = created.json()["id"]
        patch = await client.patch(f"/api/subscribers/{sub_id}", json={"pasued": True})
        assert patch.status_code == 422 and patch.json()["error"]["field"] == "pasued"
        assert "did you mean 'paused'?" in patch.json()["error"]["message"]
        replay = await client.post("/api/deliveries/replay-dead", json={"snice": "x"})
        assert replay.status_code == 422 and replay.json()["error"]["field"] == "snice"
