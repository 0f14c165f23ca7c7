"""The report's charts, as drawn: every funnel step readable on its own scale."""

from __future__ import annotations

import datetime as dt
import re

from monitor import report

DAY = dt.date(2026, 11, 1)


def _days():
    days = []
    for i in range(10):
        purchases = 0.0 if i >= 7 else 40.0 + i  # purchases stop on the last three days
        days.append(report.Day(DAY + dt.timedelta(days=i), status="critical" if i >= 7 else "pass",
                               metrics={("events", "page_viewed"): 20_000.0 + 50 * i,
                                        ("events", "checkout_started"): 300.0, ("events", "purchase"): purchases,
                                        ("rows", ""): 21_000.0}))
    return days


def _panel_points(text: str, series: str) -> list[tuple[float, float]]:
    chart = re.search(r'<svg class="chart" data-chart="events_by_type".*?</svg>', text, re.S).group(0)
    line = re.search(rf'<polyline points="([^"]+)"[^>]*data-series="{series}"', chart).group(1)
    return [tuple(map(float, p.split(","))) for p in line.split()]


def test_purchases_get_their_own_scale_beside_page_views():
    text = report.render(_days(), DAY, DAY + dt.timedelta(days=9), {})
    assert report.chart_data(text)["events_by_type"]["purchase"][:7] == [40.0 + i for i in range(7)]
    purchase = _panel_points(text, "purchase")
    # the drop from ~46 purchases to 0 spans most of a panel (on one shared axis with
    # 20,000 page views it would span a fraction of a pixel)
    assert max(y for _, y in purchase) - min(y for _, y in purchase) > 60
    # the funnel's steps in order: page views, ..., purchase
    order = re.findall(r'data-series="([^"]+)"', re.search(r'data-chart="events_by_type".*?</svg>', text, re.S).group(0))
    assert order == ["page_viewed", "checkout_started", "purchase"]


def test_the_day_column_never_wraps():
    text = report.render(_days(), DAY, DAY + dt.timedelta(days=9), {})
    assert re.search(r"td:first-child[^{]*\{[^}]*white-space:\s*nowrap", text)
