"""`CostMeter`: sums what providers report tasks cost into /metrics, per provider and model.

A completion hook (it runs once per task, inside `record_completion`'s transaction):
`taskhook_provider_cost_total{provider, model, unit}` adds each reported unit (foxapi
`usage` fields, kie credit fields) and `taskhook_provider_task_seconds_total{provider,
model}` the provider's reported processing time.
"""

from __future__ import annotations

from typing import Any

from receiver.db import Executor, Row
from receiver.metrics import Metrics
from receiver.providers.cost import number
from receiver.store.jsonutil import loads


class CostMeter:
    """Adds a finished task's reported cost to the app's counters."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, tx: Executor, task: Row, event: dict[str, Any]) -> None:
        """Count `task`'s cost (no-op when the provider reported none)."""
        cost = loads(task.get("cost"))
        if not isinstance(cost, dict):
            return
        provider, model = str(task["provider"]), str(task["model"])
        units = cost.get("units")
        for unit, amount in units.items() if isinstance(units, dict) else ():
            value = number(amount)
            if value is not None:
                self._metrics.provider_cost.labels(provider, model, str(unit)).inc(value)
        duration = number(cost.get("duration_s"))
        if duration is not None:
            self._metrics.provider_task_seconds.labels(provider, model).inc(duration)
