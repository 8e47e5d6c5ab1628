"""The rows behind per-task webhooks: the install-wide secret and the task-scoped subscribers.

The secrets arrive here already encrypted (`receiver.fanout.task_webhooks` holds the
secret box); this module only reads and writes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from receiver.clock import now_ms
from receiver.db import Executor, Row


async def install_secret(tx: Executor, name: str) -> Row | None:
    """The install-wide secret row called `name`."""
    return await tx.fetchone("SELECT * FROM install_secrets WHERE name = ?", name)


async def add_install_secret(tx: Executor, name: str, secret_enc: str) -> None:
    """Store the first secret called `name`; a concurrent first one wins, this one is dropped."""
    await tx.execute(
        "INSERT INTO install_secrets (name, secret_enc, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        name, secret_enc, now_ms(),
    )  # fmt: skip


async def replace_install_secret(
    tx: Executor, name: str, *, secret_enc: str, old_secret_enc: str, old_until: int
) -> None:
    """A new secret called `name`; the previous one stays valid until `old_until`."""
    await tx.execute(
        "UPDATE install_secrets SET secret_enc = ?, old_secret_enc = ?, "
        "old_secret_until = ?, updated_at = ? WHERE name = ?",
        secret_enc, old_secret_enc, old_until, now_ms(), name,
    )  # fmt: skip


async def scope_to_task(
    tx: Executor, sub_id: str, task_id: str, *, old_secret_enc: str | None, old_until: int | None
) -> None:
    """Make a subscriber see only `task_id`'s events, with the previous secret in grace."""
    await tx.execute(
        "UPDATE subscribers SET task_id = ?, old_secret_enc = ?, old_secret_until = ? "
        "WHERE id = ?",
        task_id, old_secret_enc, old_until, sub_id,
    )  # fmt: skip


async def task_scoped_subscriber_ids(tx: Executor) -> list[str]:
    """Every per-task webhook subscriber."""
    rows = await tx.fetchall("SELECT id FROM subscribers WHERE task_id IS NOT NULL")
    return [row["id"] for row in rows]


async def set_subscriber_secrets(tx: Executor, rows: Sequence[Sequence[object]]) -> None:
    """Re-encrypted secrets per subscriber: (secret_enc, old_secret_enc, old_until, id)."""
    await tx.executemany(
        "UPDATE subscribers SET secret_enc = ?, old_secret_enc = ?, old_secret_until = ? "
        "WHERE id = ?",
        rows,
    )


async def children_without_settings(tx: Executor, parent_id: str) -> list[str]:
    """Chained children of `parent_id` with neither metadata nor a webhook of their own."""
    rows = await tx.fetchall(
        "SELECT id FROM tasks WHERE parent_id = ? AND metadata IS NULL AND webhook IS NULL",
        parent_id,
    )
    return [row["id"] for row in rows]


async def set_metadata_and_webhook(
    tx: Executor, task_id: str, metadata: str | None, webhook: str | None
) -> None:
    """Give a task its (JSON) metadata and webhook URL."""
    await tx.execute(
        "UPDATE tasks SET metadata = ?, webhook = ? WHERE id = ?", metadata, webhook, task_id
    )
