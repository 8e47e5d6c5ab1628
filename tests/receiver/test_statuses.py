"""The status sets are defined once; the SQL built from them says the same thing."""

from __future__ import annotations

from typing import get_args

import pytest

from receiver import statuses
from receiver.db import Database
from receiver.statuses import (
    ACTIVE,
    ACTIVE_SQL,
    NOT_TERMINAL_SQL,
    TASK_STATUSES,
    TERMINAL,
    TERMINAL_SQL,
    TaskStatus,
    in_sql,
)
from receiver.store.tasks import NewTask, insert_task


def test_the_sets_partition_the_statuses_in_lifecycle_order() -> None:
    assert TASK_STATUSES == ("submitted", "running", "succeeded", "failed", "cancelled", "expired")
    assert set(get_args(TaskStatus)) == set(TASK_STATUSES)
    assert set(ACTIVE) | TERMINAL == set(TASK_STATUSES) and not set(ACTIVE) & TERMINAL
    assert statuses.DELIVERY_STATES == ("pending", "delivered", "dead")


def test_in_sql_takes_only_status_words() -> None:
    assert in_sql("t.status", ("running", "submitted")) == "t.status IN ('running', 'submitted')"
    assert in_sql("state", ["dead"], negate=True) == "state NOT IN ('dead')"
    for bad in ([], ["x') OR 1=1 --"], ["Dead"]):
        with pytest.raises(ValueError, match="not a status set"):
            in_sql("status", bad)


async def test_the_fragments_select_what_the_sets_name(db: Database) -> None:
    for status in TASK_STATUSES:
        await insert_task(db, NewTask("kie", "m", {}, status=status))

    async def picked(fragment: str) -> set[str]:
        rows = await db.fetchall(f"SELECT status FROM tasks WHERE {fragment}")
        return {row["status"] for row in rows}

    assert await picked(ACTIVE_SQL) == set(ACTIVE)
    assert await picked(TERMINAL_SQL) == TERMINAL
    assert await picked(NOT_TERMINAL_SQL) == set(ACTIVE)
