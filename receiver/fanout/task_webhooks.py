"""Per-task webhooks: one-off subscribers scoped to one task (and its chained children).

They are ordinary webhook subscribers (same signing, URL guard, retries, dead letters
and replay) whose row names the task, signed with ONE install-wide secret, so a user
verifies every task webhook with the same `whsec_...` (`taskhook secrets task-webhook`).
Each row holds a copy of that secret encrypted for the row; a rotation re-encrypts them
all and keeps the previous secret signing too for the grace period.
"""

from __future__ import annotations

from typing import Any

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row
from receiver.errors import StoreError
from receiver.fanout.signing import new_secret
from receiver.ids import new_id
from receiver.secretbox import SecretBox
from receiver.store.events import ALL_EVENT_TYPES
from receiver.store.subscribers import insert_subscriber

NAME = "task-webhook"


async def _row(tx: Executor) -> Row | None:
    return await tx.fetchone("SELECT * FROM install_secrets WHERE name = ?", NAME)


async def current_secrets(tx: Executor, box: SecretBox) -> tuple[str, str | None, int | None]:
    """(secret, previous secret while in grace, grace end); the secret is made on first use."""
    row = await _row(tx)
    if row is None:
        await tx.execute(
            "INSERT INTO install_secrets (name, secret_enc, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            NAME, box.encrypt(new_secret(), NAME), now_ms(),
        )  # fmt: skip
        row = await _row(tx)
    if row is None:  # pragma: no cover - just inserted (or by a concurrent caller)
        raise StoreError("the task-webhook secret vanished right after its insert")
    old_until = row["old_secret_until"]
    in_grace = row["old_secret_enc"] is not None and (old_until or 0) > now_ms()
    old = box.decrypt(row["old_secret_enc"], NAME) if in_grace else None
    return box.decrypt(row["secret_enc"], NAME), old, old_until if in_grace else None


async def add_task_webhook(tx: Executor, box: SecretBox, task_id: str, url: str) -> Row:
    """A subscriber receiving every event of `task_id` (URL already checked by the guard)."""
    secret, old, old_until = await current_secrets(tx, box)
    sub_id = new_id("sub")
    row = await insert_subscriber(
        tx, sub_id=sub_id, url=url, kind="webhook", filter_spec={"type": list(ALL_EVENT_TYPES)},
        secret_enc=box.encrypt(secret, sub_id),
    )  # fmt: skip
    await tx.execute(
        "UPDATE subscribers SET task_id = ?, old_secret_enc = ?, old_secret_until = ? "
        "WHERE id = ?",
        task_id, box.encrypt(old, sub_id) if old else None, old_until, sub_id,
    )  # fmt: skip
    return row


async def rotate(db: Database, box: SecretBox, grace_s: float) -> str:
    """A new install-wide secret; the old one keeps signing for `grace_s` seconds."""
    async with db.transaction() as tx:
        secret, _old, _until = await current_secrets(tx, box)
        fresh, until = new_secret(), now_ms() + int(grace_s * 1000)
        await tx.execute(
            "UPDATE install_secrets SET secret_enc = ?, old_secret_enc = ?, "
            "old_secret_until = ?, updated_at = ? WHERE name = ?",
            box.encrypt(fresh, NAME), box.encrypt(secret, NAME), until, now_ms(), NAME,
        )  # fmt: skip
        rows = await tx.fetchall("SELECT id FROM subscribers WHERE task_id IS NOT NULL")
        await tx.executemany(
            "UPDATE subscribers SET secret_enc = ?, old_secret_enc = ?, old_secret_until = ? "
            "WHERE id = ?",
            [_rotated(box, r["id"], fresh, secret, until) for r in rows],
        )
    return fresh


def _rotated(box: SecretBox, sub_id: str, fresh: str, old: str, until: int) -> list[Any]:
    return [box.encrypt(fresh, sub_id), box.encrypt(old, sub_id), until, sub_id]


async def inherit(tx: Executor, box: SecretBox | None, parent: Row) -> int:
    """Chained children of `parent` get its metadata and webhook; how many children."""
    children = await tx.fetchall(
        "SELECT id FROM tasks WHERE parent_id = ? AND metadata IS NULL AND webhook IS NULL",
        parent["id"],
    )
    if not children or (parent["metadata"] is None and parent["webhook"] is None):
        return 0
    for child in children:
        await tx.execute(
            "UPDATE tasks SET metadata = ?, webhook = ? WHERE id = ?",
            parent["metadata"], parent["webhook"], child["id"],
        )  # fmt: skip
        if parent["webhook"] and box is not None:
            await add_task_webhook(tx, box, child["id"], parent["webhook"])
    return len(children)
