"""The dashboard's server-rendered SVG charts: what they count, escaping, windows."""

from __future__ import annotations

import re

from receiver.clock import now_ms
from receiver.dashboard.chart_data import percentile
from receiver.dashboard.charts import Series, nice_ceiling, stacked_bars
from receiver.settings import Settings
from tests.receiver.chart_seed import seed_history
from tests.receiver.dashboard_seed import seed_subscriber
from tests.receiver.test_dashboard import logged_in


def test_percentiles_and_scale() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0
    assert percentile([7.0], 0.95) == 7.0
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 11, 420)] == [1, 1, 5, 10, 20, 500]


def test_bars_stack_and_escape() -> None:
    svg = str(stacked_bars("t<", [Series("a<b>", "s0", [1, 0, 2]), Series("c", "s1", [1, None, 0])],
                           ("x", "y", "z")))  # fmt: skip
    assert svg.count("<rect") == 3 and "a&lt;b&gt;: 2" in svg and "<b>" not in svg
    assert 'aria-label="t&lt;"' in svg


async def test_overview_and_subscriber_pages_draw_the_history(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        sub = await seed_subscriber(db)
        finished = await seed_history(db, sub, now_ms(), hours=48)
        day = (await client.get("/ui/")).text
        week = (await client.get("/ui/?window=7d")).text
        partial = (await client.get("/ui/?partial=1")).text
        page = await client.get(f"/ui/subscribers/{sub}")
        missing = await client.get("/ui/subscribers/sub_nope")
    assert day.count('<svg class="chart') == 3 and "Last 24 hours" in day
    assert "Last 7 days" in week and 'href="?window=7d" aria-current="page"' in week
    assert "<svg" not in partial
    rects_day = _bar_total(day, 0)
    rects_week = _bar_total(week, 0)
    assert rects_week == finished and 0 < rects_day < finished  # 48 h seeded, 24 h shown
    assert "&lt;b&gt;x&lt;/b&gt;" in week and "<b>x</b>" not in week
    assert 'class="c-line1"' in day and "<script" not in day.split("<main")[1].split("</main")[0]
    assert page.status_code == 200 and page.text.count('<svg class="chart') == 2
    assert "retry" in page.text and "Recent deliveries" in page.text
    assert missing.status_code == 404


def _bar_total(html: str, chart: int) -> int:
    """The sum of the bar values in the `chart`-th SVG of the page."""
    svg = html.split('<svg class="chart')[chart + 1].split("</svg>")[0]
    return int(sum(float(v) for v in re.findall(r"<title>[^<]*: ([0-9.]+)</title></rect>", svg)))
