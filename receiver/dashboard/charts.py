"""Server-rendered charts: small inline SVGs, styled by the stylesheet (no script, no CDN).

The view box is about as wide as a phone's card, so labels stay readable at 390 px; on
wider screens the grid gives each chart a card of similar size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

W, H = 320.0, 150.0
LEFT, RIGHT, TOP, BOTTOM = 40.0, 6.0, 8.0, 20.0
FONT = 11


@dataclass(frozen=True)
class Series:
    """One named row of values (None: no data), drawn with the CSS class `css`."""

    name: str
    css: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """1, 2, 5 x 10^n at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _frame(title: str, top: float, unit: str, x_labels: Sequence[str]) -> list[str]:
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    parts = [f"<title>{escape(title)}</title>"]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = _format(top * fraction, unit)
        parts.append(f'<text class="axis" x="{LEFT - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end" font-size="{FONT}">{escape(label)}</text>')  # fmt: skip
    anchors = ("start", "middle", "end")
    for i, text in enumerate(x_labels[:3]):
        x = LEFT + plot_w * i / 2
        parts.append(f'<text class="axis" x="{x:.1f}" y="{H - 5}" text-anchor="{anchors[i]}" '
                     f'font-size="{FONT}">{escape(text)}</text>')  # fmt: skip
    return parts


def _format(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2g}s" if value < 10 else f"{value:.0f}s"
    return f"{value:g}"


def _svg(title: str, css: str, parts: list[str]) -> Markup:
    body = "".join(parts)
    # every text in `parts` went through escape(); class names and numbers are ours
    return Markup(  # noqa: S704
        f'<svg class="chart {css}" viewBox="0 0 {W:g} {H:g}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(title)}">{body}</svg>'
    )


def stacked_bars(title: str, series: Sequence[Series], x_labels: Sequence[str]) -> Markup:
    """Counts per bucket, stacked by series."""
    n = max((len(s.values) for s in series), default=0)
    totals = [sum((s.values[i] or 0) for s in series if i < len(s.values)) for i in range(n)]
    top = nice_ceiling(max(totals, default=0))
    parts = _frame(title, top, "", x_labels)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    width = plot_w / max(n, 1)
    for i in range(n):
        base = TOP + plot_h
        for s in series:
            value = (s.values[i] or 0) if i < len(s.values) else 0
            if value <= 0:
                continue
            height = plot_h * value / top
            base -= height
            parts.append(
                f'<rect class="{s.css}" x="{LEFT + i * width:.2f}" y="{base:.2f}" '
                f'width="{width * 0.85:.2f}" height="{height:.2f}">'
                f"<title>{escape(s.name)}: {value:g}</title></rect>"
            )
    return _svg(title, "bars", parts)


def line_chart(title: str, series: Sequence[Series], x_labels: Sequence[str], unit: str) -> Markup:
    """Values per bucket as lines (gaps where there is no data)."""
    values = [v for s in series for v in s.values if v is not None]
    top = nice_ceiling(max(values, default=0))
    parts = _frame(title, top, unit, x_labels)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    for s in series:
        n = max(len(s.values), 1)
        step = plot_w / n
        for run in _runs(s.values):
            points = " ".join(
                f"{LEFT + (i + 0.5) * step:.1f},{TOP + plot_h * (1 - v / top):.1f}" for i, v in run
            )
            if len(run) == 1:
                i, v = run[0]
                parts.append(f'<circle class="{s.css}" cx="{LEFT + (i + 0.5) * step:.1f}" '
                             f'cy="{TOP + plot_h * (1 - v / top):.1f}" r="2"/>')  # fmt: skip
            else:
                parts.append(f'<polyline class="{s.css}" fill="none" points="{points}"/>')
    return _svg(title, "lines", parts)


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Consecutive buckets with data."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, value))
    if current:
        runs.append(current)
    return runs
