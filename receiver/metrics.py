"""Prometheus metrics, one registry per app instance (no module-level globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

DELIVERY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)


class Metrics:
    """The counters every part increments; gauges are computed from the store at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.callbacks = Counter(
            "taskhook_callbacks",
            "Inbound callback requests by provider and verdict",
            ["provider", "verdict"],
            registry=self.registry,
        )
        self.tasks = Counter(
            "taskhook_tasks_completed",
            "Tasks that reached a terminal status, by provider and status",
            ["provider", "status"],
            registry=self.registry,
        )
        self.provider_requests = Counter(
            "taskhook_provider_requests",
            "Requests to providers by provider, operation and outcome",
            ["provider", "operation", "outcome"],
            registry=self.registry,
        )
        self.provider_cost = Counter(
            "taskhook_provider_cost",
            "Units providers reported tasks cost (their own units and names), by provider, "
            "model and unit",
            ["provider", "model", "unit"],
            registry=self.registry,
        )
        self.provider_task_seconds = Counter(
            "taskhook_provider_task_seconds",
            "Processing time providers reported for finished tasks, by provider and model",
            ["provider", "model"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "taskhook_deliveries",
            "Delivery attempts by sink kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.audit_dropped = Counter(
            "taskhook_callback_audit_dropped",
            "Callback audit rows dropped (oldest first) to keep the table under its size cap",
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "taskhook_delivery_latency_seconds",
            "Time from an event's creation to its successful delivery",
            ["kind"],
            buckets=DELIVERY_BUCKETS_S,
            registry=self.registry,
        )
        self.retention_pruned = Counter(
            "taskhook_retention_pruned",
            "Rows deleted by retention (TASKHOOK_RETENTION_DAYS), by table",
            ["table"],
            registry=self.registry,
        )
        self.tasks_erased = Counter(
            "taskhook_tasks_erased",
            "Tasks erased on request (DELETE /api/tasks/{id}, taskhook tasks erase)",
            registry=self.registry,
        )
