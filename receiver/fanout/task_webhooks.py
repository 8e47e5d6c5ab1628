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
from receiver.ids import new_id
from receiver.secretbox import SecretBox
from receiver.signatures.standard_webhooks import new_secret
from receiver.store import task_webhooks as store
from receiver.store.events import ALL_EVENT_TYPES
from receiver.store.subscribers import insert_subscriber

NAME = "task-webhook"


async def current_secrets(tx: Executor, box: SecretBox) -> tuple[str, str | None, int | None]:
    """(secret, previous secret while in grace, grace end); the secret is made on first use."""
    row = await store.install_secret(tx, NAME)
    if row is None:
        await store.add_install_secret(tx, NAME, box.encrypt(new_secret(), NAME))
        row = await store.install_secret(tx, NAME)
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
    old_enc = box.encrypt(old, sub_id) if old else None
    await store.scope_to_task(tx, sub_id, task_id, old_secret_enc=old_enc, old_until=old_until)
    return row


async def rotate(db: Database, box: SecretBox, grace_s: float) -> str:
    """A new install-wide secret; the old one keeps signing for `grace_s` seconds."""
    async with db.transaction() as tx:
        secret, _old, _until = await current_secrets(tx, box)
        fresh, until = new_secret(), now_ms() + int(grace_s * 1000)
        await store.replace_install_secret(
            tx, NAME, secret_enc=box.encrypt(fresh, NAME),
            old_secret_enc=box.encrypt(secret, NAME), old_until=until,
        )  # fmt: skip
        sub_ids = await store.task_scoped_subscriber_ids(tx)
        await store.set_subscriber_secrets(
            tx, [_rotated(box, sub_id, fresh, secret, until) for sub_id in sub_ids]
        )
    return fresh


def _rotated(box: SecretBox, sub_id: str, fresh: str, old: str, until: int) -> list[Any]:
    return [box.encrypt(fresh, sub_id), box.encrypt(old, sub_id), until, sub_id]


async def inherit(tx: Executor, box: SecretBox | None, parent: Row) -> int:
    """Chained children of `parent` get its metadata and webhook; how many children."""
    children = await store.children_without_settings(tx, parent["id"])
    if not children or (parent["metadata"] is None and parent["webhook"] is None):
        return 0
    for child_id in children:
        await store.set_metadata_and_webhook(tx, child_id, parent["metadata"], parent["webhook"])
        if parent["webhook"] and box is not None:
            await add_task_webhook(tx, box, child_id, parent["webhook"])
    return len(children)
