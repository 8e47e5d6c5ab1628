"""A submission's `metadata` and `webhook`: checked, stored with the task, passed on to
its chained children (by a completion hook that runs after the chain hook)."""

from __future__ import annotations

from typing import Any

from dispatcher.submission import Submission
from receiver.db import Executor, Row
from receiver.errors import ConfigError, InvalidInput
from receiver.fanout.fanout import Fanout
from receiver.fanout.task_webhooks import add_task_webhook, inherit
from receiver.secretbox import SecretBox
from receiver.slot import Slot
from receiver.store.tasks import set_options


def _fanout(live: Slot[Fanout] | None) -> Fanout:
    fanout = live.peek() if live is not None else None
    if fanout is None or fanout.subscriptions is None:
        raise ConfigError(
            "a task webhook needs fan-out, which needs TASKHOOK_SECRET_KEY: set it and restart"
        )
    return fanout


async def check_webhook(live: Slot[Fanout] | None, submission: Submission) -> None:
    """Refuse a webhook URL the subscriber guard refuses (422 naming `webhook`)."""
    if submission.webhook is None:
        return
    fanout = _fanout(live)
    try:
        await fanout.guard.check_url(submission.webhook)
    except InvalidInput as exc:
        message = exc.message.removeprefix("url ")
        raise InvalidInput(f"webhook {message}", field="webhook") from exc


async def store_options(tx: Executor, live: Slot[Fanout] | None, row: Row, sub: Submission) -> Row:
    """Write the task's metadata and webhook (a one-off subscriber); the updated row."""
    if sub.metadata is None and sub.webhook is None:
        return row
    updated = await set_options(tx, row["id"], metadata=sub.metadata, webhook=sub.webhook)
    if sub.webhook is not None:
        box = _fanout(live).require().box
        await add_task_webhook(tx, box, row["id"], sub.webhook)
    return updated or row


class InheritHook:
    """Completion hook: a succeeded parent's new children get its metadata and webhook."""

    def __init__(self, live: Slot[Fanout] | None) -> None:
        self._live = live

    def _box(self) -> SecretBox | None:
        fanout = self._live.peek() if self._live is not None else None
        if fanout is not None and fanout.subscriptions is not None:
            return fanout.subscriptions.box
        return None

    async def __call__(self, tx: Executor, task: Row, event: dict[str, Any]) -> None:
        """Copy the options to children stored by the chain hook in this transaction."""
        if task["status"] == "succeeded" and task["then_spec"] is not None:
            await inherit(tx, self._box(), task)
