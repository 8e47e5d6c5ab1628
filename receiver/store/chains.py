"""Chains: a task's follow-up (`then`) is a task of its own whose `parent_id` names it."""

from __future__ import annotations

from receiver.db import Executor


async def child_of(db: Executor, parent_id: str) -> str | None:
    """The id of the follow-up task created for `parent_id`, if one was."""
    found = await db.fetchone("SELECT id FROM tasks WHERE parent_id = ? LIMIT 1", parent_id)
    return str(found["id"]) if found is not None else None
