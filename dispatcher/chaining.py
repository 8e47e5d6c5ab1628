"""`then` follow-ups: a submission made once, when its parent task succeeds.

A follow-up's input may refer to the parent's outcome with placeholders, anywhere in
its values (also inside lists): `{{character_id}}`, `{{character_name}}`,
`{{provider_task_id}}`, `{{video_url}}` (a video, never a picture), `{{image_url}}`,
`{{task_id}}`. A string that is exactly one
placeholder becomes the value itself; a placeholder inside longer text is substituted
as text.

The child is created by `ChainHook`, a completion hook that runs inside
`record_completion`'s transaction: the parent's terminal transition happens once, so
the child is inserted once (stored unsent; the submitter sends it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor, Row
from receiver.store.chains import child_of
from receiver.store.completion import Outcome, record_completion_in
from receiver.store.jsonutil import loads
from receiver.store.tasks import NewTask, add_history, insert_task

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = ("character_id", "character_name", "image_url", "provider_task_id", "task_id",
                "video_url")  # fmt: skip
# Stand-ins used to validate a follow-up's shape before the parent's outcome is known.
SAMPLE_CONTEXT: dict[str, Any] = {
    "character_id": "char_00000000000000000000",
    "character_name": "character",
    "provider_task_id": "task_01KBYT59JDHB4A3KDDR9N9JVWP",
    "task_id": "tsk_00000000000000000000000000",
    "video_url": "https://example.com/placeholder.mp4",
    "image_url": "https://example.com/placeholder.png",
}
MAX_CHAIN_DEPTH = 8


class MissingValue(Exception):
    """A placeholder names something the parent's outcome does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def placeholders_in(value: Any) -> set[str]:
    """Every placeholder name used anywhere in `value`."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(placeholders_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders_in(v) for v in value)) if value else set()
    return set()


def render(value: Any, context: dict[str, Any]) -> Any:
    """`value` with every placeholder replaced from `context` (raises MissingValue)."""
    if isinstance(value, str):
        return _render_text(value, context)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def _render_text(text: str, context: dict[str, Any]) -> Any:
    whole = PLACEHOLDER.fullmatch(text.strip())
    if whole:
        return _lookup(whole.group(1), context)
    return PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), context)), text)


def _lookup(name: str, context: dict[str, Any]) -> Any:
    found = context.get(name)
    if found is None or found == "":
        raise MissingValue(name)
    return found


def context_from(parent: Row) -> dict[str, Any]:
    """The values a follow-up may refer to, from its (succeeded) parent."""
    result = loads(parent["result"]) or {}
    urls = result.get("video_urls") or []
    images = result.get("image_urls") or []
    return {
        "image_url": images[0] if images else None,
        "character_id": result.get("character_id"),
        "character_name": result.get("character_name"),
        "provider_task_id": parent["provider_task_id"],
        "task_id": parent["id"],
        "video_url": urls[0] if urls else None,
    }


class ChainHook:
    """The completion hook that creates a succeeded parent's follow-up task."""

    def __init__(self, deadline_s: float, wake: Callable[[], None] | None = None) -> None:
        self._deadline_s = deadline_s
        self._wake = wake

    async def __call__(self, tx: Executor, task: Row, event: dict[str, Any]) -> None:
        """Insert the child (unsent) when `task` succeeded and has a `then`."""
        spec = loads(task["then_spec"])
        if task["status"] != "succeeded" or not isinstance(spec, dict):
            return
        if await child_of(tx, task["id"]) is not None:
            return  # never a second follow-up
        try:
            child_input = render(spec["input"], context_from(task))
        except MissingValue as exc:
            await self._insert_failed(tx, task, spec, exc.name)
            return
        child = await insert_task(tx, self._new_child(task, spec, child_input))
        await add_history(tx, child["id"], "chained", {"parent_id": task["id"]})
        await add_history(tx, task["id"], "then", {"child_id": child["id"]})
        log.info("task %s succeeded: follow-up %s stored", task["id"], child["id"])
        if self._wake is not None:
            self._wake()

    def _new_child(self, parent: Row, spec: dict[str, Any], child_input: Any) -> NewTask:
        then = spec.get("then")
        return NewTask(
            provider=spec["provider"],
            model=spec["model"],
            input=child_input,
            mode="poll",  # the submitter decides callback/poll when it sends
            parent_id=parent["id"],
            then_spec=then if isinstance(then, dict) else None,
            deadline_at=now_ms() + int(self._deadline_s * 1000),
        )

    async def _insert_failed(
        self, tx: Executor, parent: Row, spec: dict[str, Any], name: str
    ) -> None:
        """The follow-up cannot be built: store it as failed, so the user is told."""
        child = await insert_task(tx, self._new_child(parent, spec, spec["input"]))
        message = (
            f"the follow-up refers to {{{{{name}}}}} but parent task {parent['id']} "
            f"has no {name} in its result"
        )
        error = {"code": "chain_missing_value", "message": message}
        await record_completion_in(tx, Outcome(child["id"], "failed", "submit", error=error))
