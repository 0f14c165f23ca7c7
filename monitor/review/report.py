"""`runner.py report`: one self-contained HTML file a person reads (README, "Results, alerts and gating").

The verdict of each day as a strip, charts of the stored metrics against the
band the baseline expected, and every alert with its message, linking each
day to its Data Docs pages. Charts are inline SVG drawn here; the file makes
no request of any kind (no script, no font, no image from anywhere), and it
prints as it shows.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from monitor.store import intraday as intraday_store

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
VERDICT_COLORS = {"pass": "#2c7a4b", "warning": "#e0a100", "critical": "#c62828"}


@dataclass
class Day:
    date: dt.date
    status: str | None = None  # the latest verdict, None when never run to the end
    run_id: str | None = None
    run_time: dt.datetime | None = None
    alerts: list[tuple[str, str, str]] = field(default_factory=list)  # (severity, check, message)
    metrics: dict[tuple[str, str], float] = field(default_factory=dict)
    bands: dict[str, tuple[float | None, float | None, float | None]] = field(default_factory=dict)
    intraday: list[dict] = field(default_factory=list)  # the day's intraday runs, oldest first


def collect(conn: sa.Connection, start: dt.date, end: dt.date) -> list[Day]:
    days = {start + dt.timedelta(days=i): Day(start + dt.timedelta(days=i)) for i in range((end - start).days + 1)}
    for r in conn.execute(sa.text(
            "SELECT day, status, run_id, started_at FROM monitor.latest_verdicts WHERE day BETWEEN :s AND :e"),
            {"s": start, "e": end}):
        days[r.day].status, days[r.day].run_id, days[r.day].run_time = r.status, r.run_id, r.started_at
    for r in conn.execute(sa.text(
            """SELECT data_date, check_name, status, severity, message, baseline, expected_low, expected_high
               FROM monitor.latest_results WHERE data_date BETWEEN :s AND :e ORDER BY data_date, check_name"""),
            {"s": start, "e": end}):
        day = days[r.data_date]
        day.bands[r.check_name] = (r.expected_low, r.baseline, r.expected_high)
        if r.status in ("warning", "critical", "error"):
            day.alerts.append(("critical" if r.status == "error" else r.status, r.check_name, r.message or ""))
    for r in conn.execute(sa.text(
            """SELECT day, metric, dimension, value FROM monitor.daily_metrics
               WHERE day BETWEEN :s AND :e AND metric IN ('rows', 'events', 'sessions', 'cart_rate',
                   'cart_to_checkout_rate', 'checkout_to_purchase_rate', 'channel_share', 'utm_source_share',
                   'device_share', 'bot_share')"""), {"s": start, "e": end}):
        days[r.day].metrics[(r.metric, r.dimension)] = r.value
    for day, runs in intraday_store.timeline(conn, start, end).items():
        days[day].intraday = runs
    return [d for d in days.values() if d.metrics or d.status or d.intraday]


# --- drawing -----------------------------------------------------------------------------------------

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 860, 230, 56, 150, 28, 34


def _fmt(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def line_chart(chart_id: str, title: str, days: list[Day], series: dict[str, list[float | None]],
               band: tuple[list[float | None], list[float | None]] | None = None, percent: bool = False) -> str:
    """An SVG line chart; ``data-values`` on each line carry its numbers (tests read them)."""
    values = [v for s in series.values() for v in s if v is not None]
    if band:
        values += [v for part in band for v in part if v is not None]
    if not values:
        return ""
    top = max(values) * 1.08 or 1.0
    n = len(days)

    def x(i: int) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * (i / max(n - 1, 1))

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - v / top)

    parts = [f'<svg class="chart" data-chart="{chart_id}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="{PAD_L}" y="16" class="title">{html.escape(title)}</text>']
    for k in range(5):  # grid and axis labels
        v = top * k / 4
        label = f"{v * 100:.0f}%" if percent else _fmt(v)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" class="axis" text-anchor="end">{label}</text>')
    step = max(1, n // 10)
    for i in range(0, n, step):
        parts.append(f'<text x="{x(i):.1f}" y="{H - 12}" class="axis" text-anchor="middle">'
                     f'{days[i].date:%m-%d}</text>')
    for i, d in enumerate(days):  # critical days marked behind the lines
        if d.status == "critical":
            parts.append(f'<rect x="{x(i) - 3:.1f}" y="{PAD_T}" width="6" height="{H - PAD_T - PAD_B}" class="crit"/>')
    if band:
        low, high = band
        upper = [(x(i), y(v)) for i, v in enumerate(high) if v is not None]
        lower = [(x(i), y(v)) for i, v in enumerate(low) if v is not None]
        if upper and lower:
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower[::-1])
            parts.append(f'<polygon points="{points}" class="band" data-band="expected"/>')
    for k, (name, vals) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for i, v in enumerate(vals):
            if v is None:
                segment = []
                segments.append(segment)
            else:
                segment.append(f"{x(i):.1f},{y(v):.1f}")
        data = ",".join("" if v is None else f"{v:.6g}" for v in vals)
        for seg in segments:
            if seg:
                parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" stroke-width="2" '
                             f'data-series="{html.escape(name)}" data-values="{data}"/>')
        ly = PAD_T + 14 * k
        parts.append(f'<rect x="{W - PAD_R + 10}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{W - PAD_R + 24}" y="{ly + 1}" class="legend">{html.escape(name[:22])}</text>')
    if band:
        ly = PAD_T + 14 * len(series)
        parts.append(f'<rect x="{W - PAD_R + 10}" y="{ly - 8}" width="10" height="10" class="band"/>'
                     f'<text x="{W - PAD_R + 24}" y="{ly + 1}" class="legend">expected band</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def panel_chart(chart_id: str, title: str, days: list[Day], series: dict[str, list[float | None]],
                columns: int = 3) -> str:
    """Small multiples in one SVG: a panel per series, each on its own scale, so 40 purchases
    a day stay readable beside 20,000 page views (one shared axis flattens them onto zero)."""
    if not any(v is not None for vals in series.values() for v in vals):
        return ""
    n, rows = len(days), -(-len(series) // columns)
    pw, ph, gap, top_pad = (W - 20) / columns, 120, 14, 26
    height = top_pad + rows * (ph + gap)
    parts = [f'<svg class="chart" data-chart="{chart_id}" viewBox="0 0 {W} {height:.0f}" width="{W}" '
             f'height="{height:.0f}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="{PAD_L}" y="16" class="title">{html.escape(title)}</text>']
    for k, (name, vals) in enumerate(series.items()):
        ox, oy = 10 + (k % columns) * pw, top_pad + (k // columns) * (ph + gap)
        left, right, up, down = ox + 44, ox + pw - 12, oy + 18, oy + ph - 18
        peak = max((v for v in vals if v is not None), default=0.0)
        scale = peak * 1.08 or 1.0

        def x(i: int) -> float:
            return left + (right - left) * (i / max(n - 1, 1))

        def y(v: float) -> float:
            return down - (down - up) * (v / scale)

        parts.append(f'<text x="{left}" y="{oy + 12}" class="legend">{html.escape(name[:30])}</text>')
        for v in sorted({0.0, peak}):
            parts.append(f'<line x1="{left}" x2="{right}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                         f'<text x="{left - 4}" y="{y(v) + 4:.1f}" class="axis" text-anchor="end">{_fmt(v)}</text>')
        for i, d in enumerate(days):
            if d.status == "critical":
                parts.append(f'<rect x="{x(i) - 2:.1f}" y="{up}" width="4" height="{down - up}" class="crit"/>')
        for i in sorted({0, n - 1}):
            parts.append(f'<text x="{x(i):.1f}" y="{down + 13}" class="axis" text-anchor="middle">'
                         f'{days[i].date:%m-%d}</text>')
        points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals) if v is not None]
        data = ",".join("" if v is None else f"{v:.6g}" for v in vals)
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{COLORS[k % len(COLORS)]}" '
                     f'stroke-width="2" data-series="{html.escape(name)}" data-values="{data}"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _series(days: list[Day], metric: str, dimension: str = "") -> list[float | None]:
    return [d.metrics.get((metric, dimension)) for d in days]


def _shares(days: list[Day], metric: str, top: int = 6) -> dict[str, list[float | None]]:
    totals: dict[str, float] = {}
    for d in days:
        for (m, dim), v in d.metrics.items():
            if m == metric:
                totals[dim] = totals.get(dim, 0.0) + v
    keys = sorted(totals, key=lambda k: -totals[k])[:top]
    return {k: [d.metrics.get((metric, k), 0.0 if d.metrics else None) for d in days] for k in keys}


def _band(days: list[Day], check: str) -> tuple[list[float | None], list[float | None]]:
    return ([d.bands.get(check, (None, None, None))[0] for d in days],
            [d.bands.get(check, (None, None, None))[2] for d in days])


def render(days: list[Day], start: dt.date, end: dt.date, links: dict[str, dict[str, str]]) -> str:
    strip = "".join(
        f'<a class="cell" href="{html.escape(links.get(d.run_id or "", {}).get("raw_events", "#"))}" '
        f'title="{d.date} {d.status or "no verdict"}" data-day="{d.date}" data-status="{d.status or "none"}" '
        f'style="background:{VERDICT_COLORS.get(d.status or "", "#bbb")}">{d.date:%d}</a>' for d in days)
    charts = [
        line_chart("total_events", "Events per day, against the band the baseline expected", days,
                   {"events": _series(days, "rows")}, _band(days, "total_events_shift")),
        line_chart("sessions", "Sessions (people, bots left out), against the expected band", days,
                   {"sessions": _series(days, "sessions")}, _band(days, "sessions_shift")),
        panel_chart("events_by_type", "Events per type, each on its own scale", days,
                    {k: _series(days, "events", k) for k in _funnel_first({dim for d in days for (m, dim) in d.metrics
                                                                           if m == "events"})}),
        line_chart("funnel", "Funnel rates", days,
                   {"cart per session": _series(days, "cart_rate"),
                    "cart -> checkout": _series(days, "cart_to_checkout_rate"),
                    "checkout -> purchase": _series(days, "checkout_to_purchase_rate")}, percent=True),
        line_chart("channel_share", "Channel shares of sessions", days, _shares(days, "channel_share"), percent=True),
        line_chart("utm_source_share", "utm_source shares of sessions", days, _shares(days, "utm_source_share"),
                   percent=True),
        line_chart("device_share", "Device shares of sessions", days, _shares(days, "device_share"), percent=True),
    ]
    alert_rows = "".join(
        f'<tr class="{sev}"><td>{d.date}</td><td>{sev}</td><td>{html.escape(check)}</td>'
        f'<td>{html.escape(message)}</td><td>{_doc_links(links.get(d.run_id or "", {}))}</td></tr>'
        for d in days for sev, check, message in sorted(d.alerts, key=lambda a: (a[0] != "critical", a[1])))
    counts = {s: sum(1 for d in days if d.status == s) for s in ("pass", "warning", "critical")}
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Event data report {start} .. {end}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1100px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-top: 28px; }}
.strip {{ display: flex; flex-wrap: wrap; gap: 3px; }}
.cell {{ width: 26px; height: 26px; color: #fff; font-size: 11px; text-align: center; line-height: 26px;
        text-decoration: none; border-radius: 3px; }}
.chart {{ display: block; margin: 10px 0 18px; max-width: 100%; height: auto; }}
.chart .title {{ font-size: 13px; font-weight: bold; }} .chart .axis, .chart .legend {{ font-size: 11px; fill: #444; }}
.chart .grid {{ stroke: #e3e3e3; }} .chart .band {{ fill: #9ecae1; fill-opacity: 0.45; }}
.chart .crit {{ fill: #c62828; fill-opacity: 0.12; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
td, th {{ border: 1px solid #ddd; padding: 4px 6px; vertical-align: top; text-align: left; }}
td:first-child, td:nth-child(2) {{ white-space: nowrap; }}
tr.critical td:nth-child(2) {{ color: #c62828; font-weight: bold; }} tr.warning td:nth-child(2) {{ color: #b07d00; }}
@media print {{ body {{ margin: 0; }} .chart {{ page-break-inside: avoid; }} a {{ color: inherit; }} }}
</style></head><body>
<h1>Event data {start} .. {end}</h1>
<p>{len(days)} day(s): {counts['pass']} pass, {counts['warning']} warning, {counts['critical']} critical.
Each square is a day's latest verdict and links to its Data Docs; red stripes in the charts mark critical days.</p>
<div class="strip">{strip}</div>
<h2>Volume, sessions, funnel and mix</h2>
{"".join(c for c in charts if c)}
<h2>Alerts</h2>
<table><tr><th>day</th><th>severity</th><th>check</th><th>message</th><th>Data Docs</th></tr>
{alert_rows or '<tr><td colspan="5">no alert in these days</td></tr>'}</table>
{intraday_section(days)}
</body></html>
"""


def intraday_section(days: list[Day]) -> str:
    """Each day's intraday runs on a 24-hour line (a mark per run at the time it judged up
    to, in its verdict's colour), and when each finding began and ended."""
    watched = [d for d in days if d.intraday]
    if not watched:
        return ""
    width, left, right = 860, 90, 20

    def x(until: str) -> float:
        h, m = (int(p) for p in until.split(":"))
        return left + (width - left - right) * (h * 60 + m) / 1440

    lines, rows = [], []
    for d in watched:
        ticks = "".join(f'<line x1="{x(f"{h:02d}:00"):.1f}" y1="8" x2="{x(f"{h:02d}:00"):.1f}" y2="30" class="grid"/>'
                        f'<text x="{x(f"{h:02d}:00"):.1f}" y="42" class="axis" text-anchor="middle">{h:02d}</text>'
                        for h in range(0, 25, 3))
        marks = "".join(
            f'<rect x="{x(r["until"]) - 3:.1f}" y="10" width="6" height="18" fill="{VERDICT_COLORS.get(r["status"], "#bbb")}">'
            f'<title>{d.date} until {r["until"]}: {r["status"]}'
            f'{html.escape(": " + ", ".join(a["check"] for a in r["failed"])) if r["failed"] else ""}</title></rect>'
            for r in d.intraday)
        values = ",".join(f'{r["until"]}={r["status"]}' for r in d.intraday)
        lines.append(f'<svg class="chart" data-intraday="{d.date}" data-runs="{values}" viewBox="0 0 {width} 48" '
                     f'width="{width}" height="48" role="img"><text x="0" y="24" class="axis">{d.date}</text>'
                     f'{ticks}{marks}</svg>')
        rows += _intraday_spells(d)
    table = "".join(f'<tr class="{sev}"><td>{day}</td><td>{since}-{until}</td><td>{sev}</td><td>{html.escape(check)}'
                    f'</td><td>{html.escape(message)}</td></tr>' for day, since, until, sev, check, message in rows)
    return (f"<h2>Within the day</h2><p>Intraday runs judge the day so far against the same hours of its usual "
            f"days; they page once per incident and never decide the day's verdict (its daily run does).</p>"
            f"{''.join(lines)}<table><tr><th>day</th><th>seen</th><th>severity</th><th>check</th><th>first message"
            f"</th></tr>{table or '<tr><td colspan=5>no intraday finding</td></tr>'}</table>")


def _intraday_spells(d: Day) -> list[tuple]:
    """(day, first until, last until, severity, check, message) per stretch of runs that found it."""
    spells, open_ = [], {}
    for r in d.intraday:
        now = {(a["check"], a["severity"]): a["message"] for a in r["failed"]}
        for key in list(open_):
            if key not in now:
                spells.append(open_.pop(key))
        for key, message in now.items():
            if key in open_:
                open_[key][2] = r["until"]
            else:
                open_[key] = [str(d.date), r["until"], r["until"], key[1], key[0], message]
    spells += open_.values()
    return [tuple(s) for s in sorted(spells, key=lambda s: (s[1], s[3] != "critical", s[4]))]


def _funnel_first(names: set[str]) -> list[str]:
    """The funnel's steps in their order, then any other event names alphabetically."""
    from monitor import settings

    steps = [n for n in settings.load().events.known if n in names]
    return steps + sorted(names - set(steps))


def _doc_links(pages: dict[str, str]) -> str:
    return " ".join(f'<a href="{html.escape(url)}">{html.escape(suite)}</a>' for suite, url in pages.items())


def write(conn: sa.Connection, start: dt.date, end: dt.date, out: Path, docs_links) -> Path:
    """Build the report; ``docs_links(run_id, run_time)`` gives each run's Data Docs pages.
    Links are made relative to the report when both live on this disk."""
    days = collect(conn, start, end)
    links = {}
    for d in days:
        if d.run_id:
            pages = docs_links(d.run_id, d.run_time)
            links[d.run_id] = {s: _relative(url, out) for s, url in pages.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(days, start, end, links))
    return out


def _relative(url: str, out: Path) -> str:
    if url.startswith("file://"):
        return os.path.relpath(url.removeprefix("file://"), out.parent)
    return url


def chart_data(text: str) -> dict[str, dict[str, list[float | None]]]:
    """chart id -> series -> values, read back from a report (for tests and tools)."""
    import re

    out: dict[str, dict[str, list[float | None]]] = {}
    for chart in re.finditer(r'<svg class="chart" data-chart="([^"]+)"(.*?)</svg>', text, re.S):
        for name, values in re.findall(r'data-series="([^"]*)" data-values="([^"]*)"', chart.group(2)):
            out.setdefault(chart.group(1), {})[html.unescape(name)] = [
                float(v) if v else None for v in values.split(",")]
    return out

