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
from receiver.store import backlogs


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
    """Count the backlogs (a handful of indexed aggregate queries, `receiver.store.backlogs`)."""
    by_state = await backlogs.deliveries_by_state(db, ("pending", "dead"))
    oldest_ms = await backlogs.oldest_pending_delivery_ms(db)
    return StoreGauges(
        deliveries_pending=by_state["pending"],
        deliveries_dead=by_state["dead"],
        oldest_pending_delivery_age_s=max(0.0, (now_ms - oldest_ms) / 1000) if oldest_ms else 0.0,
        polls_due=await backlogs.polls_due(db, now_ms),
        inbox_unprocessed=await backlogs.inbox_unprocessed(db),
        tasks=await backlogs.tasks_by_provider_status(db),
    )
