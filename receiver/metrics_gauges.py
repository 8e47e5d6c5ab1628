"""Gauges read from the store at scrape time: backlogs and task counts.

Counters live in `receiver.metrics` (incremented as things happen, per process); these
values describe the shared store, so every instance on one database reports the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric

from receiver.db import Executor

_NOT_TERMINAL = "status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')"


@dataclass(frozen=True, eq=False)  # eq=False: hashable by identity, as a collector
class StoreGauges:
    """One snapshot of the store's backlogs."""

    deliveries_pending: int = 0
    deliveries_dead: int = 0
    oldest_pending_delivery_age_s: float = 0.0
    polls_due: int = 0
    inbox_unprocessed: int = 0
    tasks: dict[tuple[str, str], int] = field(default_factory=dict)

    def collect(self) -> Iterator[Metric]:
        """The gauge families (the prometheus_client collector interface)."""
        singles = (
            ("deliveries_pending", "Deliveries waiting to be sent (incl. retries)",
             self.deliveries_pending),
            ("deliveries_dead", "Deliveries that exhausted their retries", self.deliveries_dead),
            ("deliveries_oldest_pending_age_seconds",
             "Age of the oldest pending delivery (0 when none)",
             self.oldest_pending_delivery_age_s),
            ("polls_due", "Unfinished tasks whose next poll time has passed", self.polls_due),
            ("inbox_unprocessed", "Accepted callbacks not yet processed", self.inbox_unprocessed),
        )  # fmt: skip
        for name, documentation, value in singles:
            yield GaugeMetricFamily(f"taskhook_{name}", documentation, value=value)
        tasks = GaugeMetricFamily(
            "taskhook_tasks",
            "Tasks in the store by provider and status",
            labels=["provider", "status"],
        )
        for (provider, status), count in sorted(self.tasks.items()):
            tasks.add_metric([provider, status], count)
        yield tasks

    def registry(self) -> CollectorRegistry:
        """A registry holding only this snapshot, ready for `generate_latest`."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return registry


async def read_gauges(db: Executor, now_ms: int) -> StoreGauges:
    """Count the backlogs (a handful of indexed aggregate queries)."""
    by_state = {
        row["state"]: int(row["n"])
        for row in await db.fetchall(
            "SELECT state, COUNT(*) AS n FROM deliveries "
            "WHERE state IN ('pending', 'dead') GROUP BY state"
        )
    }
    oldest = await db.fetchone(
        "SELECT MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending'"
    )
    polls = await db.fetchone(
        f"SELECT COUNT(*) AS n FROM tasks WHERE next_poll_at <= ? AND {_NOT_TERMINAL}", now_ms
    )
    inbox = await db.fetchone("SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL")
    tasks = await db.fetchall(
        "SELECT provider, status, COUNT(*) AS n FROM tasks GROUP BY provider, status"
    )
    oldest_ms = oldest["oldest"] if oldest else None
    return StoreGauges(
        deliveries_pending=by_state.get("pending", 0),
        deliveries_dead=by_state.get("dead", 0),
        oldest_pending_delivery_age_s=max(0.0, (now_ms - oldest_ms) / 1000) if oldest_ms else 0.0,
        polls_due=int(polls["n"]) if polls else 0,
        inbox_unprocessed=int(inbox["n"]) if inbox else 0,
        tasks={(row["provider"], row["status"]): int(row["n"]) for row in tasks},
    )
