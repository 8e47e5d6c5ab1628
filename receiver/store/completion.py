"""`record_completion()`: the single entry point for a task's terminal state.

In one transaction: compare-and-set the task to terminal (only if it is not already),
write its one event (a UNIQUE constraint backs this up) and one pending delivery per
matching subscriber, then run completion hooks (e.g. chaining) in the same transaction.
The loser of a callback/poll race changes nothing and gets None.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from receiver.clock import now_ms, rfc3339
from receiver.db import Database, Executor, Row
from receiver.errors import InvalidInput
from receiver.statuses import NOT_TERMINAL_SQL, TERMINAL
from receiver.store.events import emit_event
from receiver.store.jsonutil import dumps, loads
from receiver.store.tasks import add_history

EVENT_TYPE = {
    "succeeded": "task.succeeded",
    "failed": "task.failed",
    "cancelled": "task.failed",
    "expired": "task.expired",
}
PROMPT_EXCERPT_CHARS = 280

CompletionHook = Callable[[Executor, Row, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """A terminal state found for a task, by callback, poll or submission."""

    task_id: str
    status: str
    source: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None  # what the provider reported (receiver.providers.cost)
    expires_at_ms: int | None = None  # when the result's URLs stop working

    def __post_init__(self) -> None:
        if self.status not in TERMINAL:
            raise InvalidInput(f"{self.status!r} is not a terminal status", field="status")


async def record_completion(
    db: Database, outcome: Outcome, *, hooks: Sequence[CompletionHook] = ()
) -> dict[str, Any] | None:
    """Make the task terminal and emit its event, once; None if it was already terminal."""
    async with db.transaction() as tx:
        return await record_completion_in(tx, outcome, hooks=hooks)


async def record_completion_in(
    tx: Executor, outcome: Outcome, *, hooks: Sequence[CompletionHook] = ()
) -> dict[str, Any] | None:
    """`record_completion` inside a transaction the caller already holds."""
    now = now_ms()
    task = await tx.fetchone(
        "UPDATE tasks SET status = ?, result = ?, error = ?, cost = ?, expires_at = ?, "
        "completion_source = ?, "
        "progress = CASE WHEN ? = 'succeeded' THEN 100 ELSE progress END, "
        "next_poll_at = NULL, poll_lease_until = NULL, send_next_at = NULL, "
        "send_lease_until = NULL, completed_at = ?, updated_at = ? "
        f"WHERE id = ? AND {NOT_TERMINAL_SQL} "
        "RETURNING *",
        outcome.status,
        dumps(outcome.result) if outcome.result is not None else None,
        dumps(outcome.error) if outcome.error is not None else None,
        dumps(outcome.cost) if outcome.cost is not None else None,
        outcome.expires_at_ms,
        outcome.source, outcome.status, now, now, outcome.task_id,
    )  # fmt: skip
    if task is None:  # already terminal: the loser of a race writes nothing
        return None
    event = await emit_event(
        tx, EVENT_TYPE[outcome.status], event_data(task, outcome),
        task_id=task["id"], terminal=True, source=outcome.source,
    )  # fmt: skip
    if event is None:
        return None
    await add_history(
        tx, task["id"], "completion", {"status": outcome.status, "source": outcome.source}
    )
    for hook in hooks:
        await hook(tx, task, event)
    return event


def event_data(task: Row, outcome: Outcome) -> dict[str, Any]:
    """The `data` of a task event (one schema for every provider)."""
    task_input = loads(task["input"]) or {}
    prompt = task_input.get("prompt") or task_input.get("character_prompt")
    return {
        "task_id": task["id"],
        "provider": task["provider"],
        "model": task["model"],
        "provider_task_id": task["provider_task_id"],
        "status": outcome.status,
        "result": outcome.result,
        "error": outcome.error,
        "source": outcome.source,
        "prompt": str(prompt)[:PROMPT_EXCERPT_CHARS] if prompt else None,
        "parent_id": task["parent_id"],
        "cost": outcome.cost,
        "expires_at": rfc3339(outcome.expires_at_ms),
        "metadata": loads(task.get("metadata")),
    }
