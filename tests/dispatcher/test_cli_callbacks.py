"""`taskhook callbacks`: the audit log from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from receiver.settings import Settings
from tests.cli_support import taskhook
from tests.receiver.callback_helpers import KIE_KEY, add_task, kie_body, post_kie, running
from tests.support import ADMIN_TOKEN, SECRET_KEY


async def test_callbacks_command_lists_and_filters(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    cfg = Settings(db=db, admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY,
                   kie_webhook_key=KIE_KEY, workers=False)  # fmt: skip
    async with running(cfg) as (client, rt):
        await add_task(rt.db)
        await post_kie(client, kie_body("task_abc"))
        await post_kie(client, kie_body("task_abc"), key="wrong")
    out = await asyncio.to_thread(taskhook, "callbacks", "--db", db, "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [i["verdict"] for i in json.loads(out.stdout)] == ["unauthorized", "accepted"]
    out = await asyncio.to_thread(
        taskhook, "callbacks", "--db", db, "--verdict", "accepted", cwd=tmp_path
    )
    assert out.returncode == 0 and "accepted" in out.stdout and "unauthorized" not in out.stdout
    out = await asyncio.to_thread(
        taskhook, "callbacks", "--db", db, "--verdict", "nope", cwd=tmp_path
    )
    assert out.returncode == 2 and "--verdict must be one of" in out.stderr
