"""`backtest --start D --end D`: replay stored days under the current monitor.toml.

Each day's checks read the stored metrics exactly as a run's would (the same
provider query, the same expectation code), but the verdicts of the replayed
days come from the replay itself, so a threshold change shows what it would
have done over the whole range. Nothing is stored, nothing is sent.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from monitor.custom_expectations.day_metric_series import ALERTED, DayMetricSeries, fetch_series
from monitor.expectations import SUITES
from monitor.settings import Settings
from monitor.verdict.summary import CheckResult, DaySummary, _status

_WINDOW = sa.table("day_metric_window", sa.column("day"), sa.column("metric"), sa.column("dimension"),
                   sa.column("value"), sa.column("is_target"), schema="monitor")


def replay(conn: sa.Connection, days: list[dt.date], settings: Settings) -> list[DaySummary]:
    checks = [(suite, exp) for suite, build in SUITES.items() for exp in build(settings)]
    computed = {d for (d,) in conn.execute(sa.text(
        "SELECT DISTINCT day FROM monitor.daily_metrics WHERE day = ANY(:days) AND metric = 'rows'"),
        {"days": days})}
    replayed: dict[str, dict[str, dict]] = {}  # check -> day -> verdict, for the days replayed so far
    out = []
    for day in days:
        if day not in computed:
            continue  # never run: there are no stored metrics to replay
        conn.execute(sa.text("SELECT set_config('monitor.day', :d, false)"), {"d": day.isoformat()})
        results = []
        for suite, exp in checks:
            kwargs = {k: getattr(exp, k, None) for k in DayMetricSeries.value_keys}
            series = fetch_series(conn.execute, _WINDOW, kwargs)
            own = replayed.setdefault(exp.check_name, {})
            series["verdicts"] = {d: v for d, v in series["verdicts"].items() if dt.date.fromisoformat(d) < days[0]}
            series["verdicts"].update(own)
            result = exp.check(series)
            details = result["result"].get("details") or {}
            severity = details.get("severity") or str(exp.severity).split(".")[-1].lower()
            status = _status(result["success"], severity, bool(details.get("skipped")), False)
            own[day.isoformat()] = {"status": status, "direction": details.get("direction") or 0}
            results.append(CheckResult(suite=suite, check=exp.meta["check"], category=exp.meta["category"],
                                       severity=severity, status=status,
                                       observed=result["result"].get("observed_value"),
                                       expected=details.get("expected", ""), message=details.get("message", ""),
                                       details=details))
        out.append(DaySummary(date=day.isoformat(), run_id="backtest", run_time=None, results=tuple(results)))
    return out


def by_check(summaries: list[DaySummary]) -> dict[str, list[str]]:
    """check -> the days it would have alerted on."""
    out: dict[str, list[str]] = {}
    for summary in summaries:
        for r in summary.results:
            if r.status in ALERTED:
                out.setdefault(r.check, []).append(summary.date)
    return dict(sorted(out.items()))
