"""`taskhook subscribers / deliveries / replay` as a user runs them (in-process)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from receiver.db import migrate, open_database
from receiver.store.jsonutil import loads
from tests import cli_support
from tests.receiver.fanout_support import complete

ENV = {"TASKHOOK_ALLOW_HTTP_SUBSCRIBERS": "1", "TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS": "1"}


def taskhook(*args: str, cwd: Path) -> cli_support.Ran:
    env = {**ENV, "TASKHOOK_DB": str(cwd / "taskhook.db")}
    return cli_support.taskhook(*args, cwd=cwd, env=env)


async def _seed_events(path: Path, n: int) -> list[str]:
    db = await open_database(str(path))
    try:
        await migrate(db)
        return [(await complete(db))["id"] for _ in range(n)]
    finally:
        await db.close()


async def _mark_all_dead(path: Path) -> None:
    db = await open_database(str(path))
    try:
        await db.execute("UPDATE deliveries SET state = 'dead', last_error = 'HTTP 500: down'")
    finally:
        await db.close()


def test_subscriber_lifecycle(tmp_path: Path) -> None:
    added = taskhook(
        "subscribers", "add", "http://127.0.0.1:9/hook", "--kind", "webhook",
        "--filter", "provider=kie", "--filter", "type=task.failed", "--filter", "model=sora-2*",
        cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    sub = json.loads(added.stdout)
    assert sub["secret"].startswith("whsec_") and "not shown again" in added.stderr
    assert sub["filter"] == {"provider": ["kie"], "type": ["task.failed"], "model": ["sora-2*"]}
    assert (tmp_path / "taskhook.secret_key").exists()  # generated like `serve` does

    listed = taskhook("subscribers", "list", cwd=tmp_path)
    assert listed.returncode == 0 and sub["id"] in listed.stdout
    assert sub["secret"] not in listed.stdout and sub["secret"] not in listed.stderr
    as_json = json.loads(taskhook("subscribers", "list", "--json", cwd=tmp_path).stdout)
    assert [s["id"] for s in as_json] == [sub["id"]] and "secret" not in as_json[0]

    paused = json.loads(taskhook("subscribers", "pause", sub["id"], cwd=tmp_path).stdout)
    assert paused["paused"] is True
    resumed = json.loads(taskhook("subscribers", "resume", sub["id"], cwd=tmp_path).stdout)
    assert resumed["paused"] is False
    rotated = taskhook("subscribers", "rotate-secret", sub["id"], cwd=tmp_path)
    new_secret = json.loads(rotated.stdout)["secret"]
    assert new_secret.startswith("whsec_") and new_secret != sub["secret"]

    assert taskhook("subscribers", "remove", sub["id"], cwd=tmp_path).returncode == 0
    gone = taskhook("subscribers", "remove", sub["id"], cwd=tmp_path)
    assert gone.returncode == 1 and "no subscriber" in gone.stderr


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, needle in (
        (("subscribers", "add", "ftp://x/y"), "https://"),
        (("subscribers", "add", "https://127.0.0.1/x", "--filter", "colour=red"), "filter key"),
        (("subscribers", "add", "https://127.0.0.1/x", "--filter", "oops"), "key=glob"),
        (("subscribers", "add", "https://127.0.0.1/x", "--kind", "email"), "invalid choice"),
        (("replay",), "EVENT_ID or --dead"),
        (("replay", "--dead", "--since", "soon"), "--since"),
    ):
        out = taskhook(*args, cwd=tmp_path)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr
        errors = [line for line in out.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and needle in errors[0]


def test_deliveries_and_replay(tmp_path: Path) -> None:
    added = taskhook("subscribers", "add", "http://127.0.0.1:9/hook", cwd=tmp_path)
    sub_id = json.loads(added.stdout)["id"]
    db_path = tmp_path / "taskhook.db"
    event_ids = asyncio.run(_seed_events(db_path, 2))
    asyncio.run(_mark_all_dead(db_path))

    dead = json.loads(taskhook("deliveries", "--dead", "--json", cwd=tmp_path).stdout)
    assert sorted(d["event_id"] for d in dead) == sorted(event_ids)
    assert all(d["state"] == "dead" and d["attempts"] == [] for d in dead)
    table = taskhook("deliveries", "--dead", cwd=tmp_path)
    assert table.returncode == 0 and "HTTP 500: down" in table.stdout

    one = taskhook("replay", event_ids[0], "--subscriber", sub_id, "--json", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert [(r["event_id"], r["generation"]) for r in loads(one.stdout)] == [(event_ids[0], 1)]
    rest = taskhook("replay", "--dead", "--since", "2000-01-01T00:00:00Z", cwd=tmp_path)
    assert rest.returncode == 0 and "queued 1 deliveries" in rest.stderr  # only the other one
    pending = json.loads(taskhook("deliveries", "--json", cwd=tmp_path).stdout)
    assert sorted(d["generation"] for d in pending if d["state"] == "pending") == [1, 1]
    missing = taskhook("replay", "evt_nope", cwd=tmp_path)
    assert missing.returncode == 1 and "no event" in missing.stderr
