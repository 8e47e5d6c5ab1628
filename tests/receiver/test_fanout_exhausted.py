"""`delivery.exhausted` goes to the other subscribers that ask for it by type, once."""

from __future__ import annotations

from starlette.responses import Response

from receiver.db import Database
from receiver.settings import Settings
from receiver.store.jsonutil import loads
from tests.receiver.fanout_support import Recorder, complete, fanout, fast_settings
from tests.support import live_server


async def _exhausted(db: Database) -> list[dict[str, object]]:
    rows = await db.fetchall("SELECT payload FROM events WHERE type = 'delivery.exhausted'")
    return [loads(row["payload"]) for row in rows]


async def test_exhausted_delivery_is_reported_to_those_who_ask(db: Database, settings: Settings):
    settings = fast_settings(settings)
    failing = Recorder(lambda _n, _r: Response("boom", 500))
    watcher = Recorder()
    async with (
        live_server(failing.app()) as bad,
        live_server(watcher.app()) as good,
        fanout(db, settings) as fo,
    ):
        sub = await fo.subs.create(f"{bad}/hook", "webhook", {"type": "task.*"})
        ops = await fo.subs.create(f"{good}/ops", "webhook", {"type": "delivery.*"})
        await fo.subs.create(f"{good}/all", "webhook")  # no type filter: not told
        event = await complete(db)
        await fo.drain(lambda: len(watcher.on("/ops")) >= 1)
    reports = [loads(r.body) for r in watcher.on("/ops")]
    assert len(reports) == 1 and reports[0]["type"] == "delivery.exhausted"
    data = reports[0]["data"]
    assert data["event_id"] == event["id"] and data["subscriber_id"] == sub["id"]
    assert data["attempts"] == 3 and data["last_status"] == 500 and "boom" in data["last_error"]
    assert data["event_type"] == "task.succeeded" and data["provider"] == "kie"
    assert [loads(r.body)["type"] for r in watcher.on("/all")] == ["task.succeeded"]
    assert len(failing.received) == 3  # the failing subscriber is not sent its own report
    assert ops["id"] != sub["id"]


async def test_an_exhausted_report_raises_no_further_report(db: Database, settings: Settings):
    settings = fast_settings(settings)
    failing = Recorder(lambda _n, _r: Response("down", 503))
    async with live_server(failing.app()) as bad, fanout(db, settings) as fo:
        await fo.subs.create(f"{bad}/a", "webhook", {"type": "task.*"})
        await fo.subs.create(f"{bad}/b", "webhook", {"type": "delivery.exhausted"})
        await complete(db)

        async def settled() -> bool:
            rows = await db.fetchall("SELECT state FROM deliveries")
            return len(rows) == 2 and all(r["state"] == "dead" for r in rows)

        await fo.drain(settled)
        assert await fo.worker.run_once() == 0
    assert len(await _exhausted(db)) == 1
