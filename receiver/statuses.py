"""The words taskhook stores for where things stand, each set defined once.

A task is `submitted` (waiting to be sent, or sent and not yet started), `running`, then
one of the terminal statuses, after which nothing about it changes. A delivery is
`pending` until it is `delivered` or `dead`; each attempt at it ends in an outcome.
SQL that needs a set builds it from here (`in_sql`), so no statement spells it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

ActiveStatus = Literal["submitted", "running"]
TerminalStatus = Literal["succeeded", "failed", "cancelled", "expired"]
TaskStatus = Literal[ActiveStatus, TerminalStatus]

ACTIVE: tuple[ActiveStatus, ...] = get_args(ActiveStatus)
# in the order a task moves through them (the dashboard lists them so)
TASK_STATUSES: tuple[TaskStatus, ...] = (*ACTIVE, *get_args(TerminalStatus))
TERMINAL: frozenset[TaskStatus] = frozenset(get_args(TerminalStatus))
# the terminal statuses that are not a success (a command waiting on a task exits 1)
UNSUCCESSFUL: frozenset[TaskStatus] = TERMINAL - {"succeeded"}

DeliveryState = Literal["pending", "delivered", "dead"]
DELIVERY_STATES: tuple[DeliveryState, ...] = get_args(DeliveryState)

# What one delivery attempt came to: `retry` and `dead` are failures with or without
# another attempt to come; `gone` disabled the subscriber.
AttemptOutcome = Literal["delivered", "retry", "dead", "gone"]
ATTEMPT_OUTCOMES: tuple[AttemptOutcome, ...] = get_args(AttemptOutcome)


def in_sql(column: str, values: Iterable[str], *, negate: bool = False) -> str:
    """`column IN ('a', 'b')` (or NOT IN) for one of the sets above, in a stable order.

    Only for these fixed words (never user input): they are inlined so that the
    statement reads whole and the planner sees constants.
    """
    words = sorted(values)
    if not words or not all(word.isalpha() and word.islower() for word in words):
        raise ValueError(f"not a status set: {words!r}")
    listed = ", ".join(f"'{word}'" for word in words)
    return f"{column} {'NOT IN' if negate else 'IN'} ({listed})"


ACTIVE_SQL = in_sql("status", ACTIVE)
TERMINAL_SQL = in_sql("status", TERMINAL)
NOT_TERMINAL_SQL = in_sql("status", TERMINAL, negate=True)
