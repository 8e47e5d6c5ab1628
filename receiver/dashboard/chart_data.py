"""What the dashboard's charts show, read from the store in hourly buckets."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from receiver.dashboard.charts import Series, line_chart, stacked_bars
from receiver.db import Executor
from receiver.store import charts

HOUR_MS = 3_600_000
WINDOWS = {"24h": 24, "7d": 168}
X_LABELS = {"24h": ("24 h ago", "12 h ago", "now"), "7d": ("7 d ago", "3.5 d ago", "now")}
STATUS_CSS = {"succeeded": "c-good", "failed": "c-bad", "expired": "c-warn", "cancelled": "c-idle"}
OUTCOME_CSS = {"delivered": "c-good", "retry": "c-warn", "dead": "c-bad", "gone": "c-idle"}
MAX_SERIES = 6
MAX_LATENCY_ROWS = 20_000


@dataclass(frozen=True)
class Window:
    """`hours` hourly buckets ending with the current hour."""

    name: str
    hours: int
    start_ms: int

    @classmethod
    def ending(cls, name: str, now_ms: int) -> Window:
        """The window called `name` (24h, 7d) ending now."""
        hours = WINDOWS.get(name, 24)
        start = (now_ms // HOUR_MS - hours + 1) * HOUR_MS
        return cls(name if name in WINDOWS else "24h", hours, start)

    def bucket(self, at_ms: int) -> int | None:
        """The bucket index of a time (None outside the window)."""
        index = (at_ms - self.start_ms) // HOUR_MS
        return int(index) if 0 <= index < self.hours else None


def _counts(window: Window, rows: Sequence[dict[str, object]], key: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(lambda: [0.0] * window.hours)
    for row in rows:
        index = window.bucket(int(str(row["at"])))
        if index is not None:
            out[str(row[key])][index] += 1
    return dict(out)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _percentiles(window: Window, rows: Sequence[dict[str, object]]) -> list[Series]:
    per: list[list[float]] = [[] for _ in range(window.hours)]
    for row in rows:
        index = window.bucket(int(str(row["at"])))
        if index is not None and row["ms"] is not None:
            per[index].append(max(0.0, float(str(row["ms"])) / 1000))
    p50 = [percentile(v, 0.5) if v else None for v in per]
    p95 = [percentile(v, 0.95) if v else None for v in per]
    return [Series("p50", "c-line1", p50), Series("p95", "c-line2", p95)]


def _top_series(counts: dict[str, list[float]], css: dict[str, str] | None = None) -> list[Series]:
    ranked = sorted(counts.items(), key=lambda kv: -sum(kv[1]))
    shown = ranked[:MAX_SERIES]
    series = [Series(name, (css or {}).get(name, f"s{i}"), values)
              for i, (name, values) in enumerate(shown)]  # fmt: skip
    rest = ranked[MAX_SERIES:]
    if rest:
        merged = [sum(col) for col in zip(*(v for _, v in rest), strict=True)]
        series.append(Series("other", "c-idle", merged))
    return series


@dataclass(frozen=True)
class Chart:
    """One chart: its SVG and its legend."""

    title: str
    svg: object
    legend: list[Series]
    empty: bool


def _chart(title: str, series: list[Series], window: Window, unit: str = "") -> Chart:
    labels = X_LABELS[window.name]
    svg = line_chart(title, series, labels, unit) if unit else stacked_bars(title, series, labels)
    empty = not any(v for s in series for v in s.values)
    return Chart(title, svg, series, empty)


async def overview_charts(db: Executor, window: Window) -> list[Chart]:
    """Tasks finished by status, completion-to-delivery latency, provider errors."""
    finished = await charts.finished_tasks(db, window.start_ms)
    latency = await charts.first_delivery_latencies(db, window.start_ms, limit=MAX_LATENCY_ROWS)
    failed = await charts.failed_tasks(db, window.start_ms)
    by_status = _counts(window, finished, "status")
    statuses = [Series(name, STATUS_CSS.get(name, "c-idle"), by_status[name])
                for name in STATUS_CSS if name in by_status]  # fmt: skip
    return [
        _chart("Tasks finished per hour, by status", statuses, window),
        _chart("Completion to delivery, p50 and p95", _percentiles(window, latency), window, "s"),
        _chart("Provider errors per hour, by provider / model",
               _top_series(_counts(window, failed, "pm")), window),
    ]  # fmt: skip


async def subscriber_charts(db: Executor, sub_id: str, window: Window) -> list[Chart]:
    """One subscriber's attempt outcomes and attempt latency per hour."""
    attempts = await charts.subscriber_attempts(db, sub_id, window.start_ms, limit=MAX_LATENCY_ROWS)
    outcomes = _top_series(_counts(window, attempts, "outcome"), OUTCOME_CSS)
    return [
        _chart("Delivery attempts per hour, by outcome", outcomes, window),
        _chart("Attempt latency, p50 and p95", _percentiles(window, attempts), window, "s"),
    ]
