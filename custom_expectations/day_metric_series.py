"""Metric provider: one metric's value on the target day, its history, and the check's own past.

The batch is ``monitor.day_metric_window``: daily metrics up to the target
day. Besides the metric, the provider reads the check's latest verdict on each
earlier day (which days it alerted on, and in which direction), the days a
person accepted, and the per-segment metrics that explain a change. The SQL
here is SQLAlchemy Core, so any engine with the same tables works; `backtest`
calls ``fetch_series`` on a plain connection with the same window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import sqlalchemy as sa
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from monitor.rules.baseline import ALERTED  # noqa: F401  (kept here for its importers)


class DayMetricSeries(TableMetricProvider):
    """Returns ``fetch_series``' dict (see there)."""

    metric_name = "day_metric.series"
    value_keys = ("metric", "dimension", "window_days", "history_days", "check_name", "segment_metrics",
                  "count_metric")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, execution_engine: SqlAlchemyExecutionEngine, metric_domain_kwargs: dict,
                    metric_value_kwargs: dict, metrics: dict, runtime_configuration: dict) -> dict[str, Any]:
        selectable, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        window = selectable.subquery() if isinstance(selectable, sa.Select) else selectable
        return fetch_series(execution_engine.execute_query, window, metric_value_kwargs)


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def segment_metric_names(spec: str | None) -> list[str]:
    """``"events,seg_hits"`` (additive) or ``"seg_checkouts/seg_carts"`` (a ratio) -> metric names."""
    return [m for part in (spec or "").split(",") for m in part.split("/") if m]


def fetch_series(execute: Callable, window, kw: dict) -> dict[str, Any]:
    """``{"day", "target": {dim: v}, "history": {day: {dim: v}}, "recent": {...},
    "verdicts": {day: {"status", "direction"}}, "accepted": [day], "segments": {metric: {"target", "history"}},
    "counts": {day: n}, "samples": [{"file", "line", "value"} or {"row_id", "value"}]}``.

    ``history`` holds every earlier day within ``history_days`` (which of them
    may serve as baseline is the expectation's call), ``recent`` the last
    ``window_days`` of them. ``dimension`` None means every dimension.
    """
    day, dimension, value, metric = (sa.column(c) for c in ("day", "dimension", "value", "metric"))
    # the window's latest day is the target when it has metrics: one index probe, not a scan of the
    # window (which grows with the history a check reads, 90 days at most)
    latest = execute(sa.select(day, sa.column("is_target")).select_from(window).order_by(day.desc()).limit(1)).first()
    target_day = latest[0] if latest is not None and latest[1] else None
    empty = {"day": None, "target": {}, "history": {}, "recent": {}, "verdicts": {}, "accepted": [], "segments": {},
             "samples": []}
    if target_day is None:
        return empty
    target_day = _day(target_day)
    window_days = int(kw.get("window_days") or 7)
    oldest = target_day - dt.timedelta(days=max(window_days, int(kw.get("history_days") or 0)))
    main = metric == kw["metric"]
    if kw.get("dimension") is not None:
        main = sa.and_(main, dimension == kw["dimension"])
    seg_names = segment_metric_names(kw.get("segment_metrics"))
    count_metric, _, count_dimension = (kw.get("count_metric") or "").partition(":")
    extra = seg_names + ([count_metric] if count_metric else [])
    wanted = sa.or_(main, metric.in_(extra)) if extra else main
    query = sa.select(day, metric, dimension, value).select_from(window).where(wanted, day >= oldest, day <= target_day)
    series = dict(empty, day=target_day.isoformat(), segments={m: {"target": {}, "history": {}} for m in seg_names},
                  counts={}, since=oldest.isoformat())
    for row_day, row_metric, row_dimension, row_value in execute(query).fetchall():
        iso, v = _day(row_day).isoformat(), float(row_value)
        is_target = iso == series["day"]
        if row_metric == kw["metric"] and (kw.get("dimension") is None or row_dimension == kw["dimension"]):
            if is_target:
                series["target"][row_dimension] = v
            else:
                series["history"].setdefault(iso, {})[row_dimension] = v
                if (target_day - _day(row_day)).days <= window_days:
                    series["recent"].setdefault(iso, {})[row_dimension] = v
        if row_metric == count_metric and row_dimension == count_dimension:
            series["counts"][iso] = v
        if row_metric in series["segments"]:
            seg = series["segments"][row_metric]
            (seg["target"] if is_target else seg["history"].setdefault(iso, {}))[row_dimension] = v
    if kw.get("check_name"):
        params = {"c": kw["check_name"], "o": oldest, "t": target_day}
        series["samples"] = [
            {"row_id": r, "value": v} if r is not None else {"file": f, "line": int(n), "value": v}
            for f, n, r, v in execute(sa.text(
                """SELECT file, line, row_id, value FROM monitor.day_samples WHERE day = :t AND check_name = :c
                   ORDER BY file, line, row_id""").bindparams(t=target_day, c=kw["check_name"])).fetchall()]
        for d, status, direction in execute(sa.text(
                """SELECT data_date, status, details->>'direction' FROM monitor.latest_results
                   WHERE check_name = :c AND data_date >= :o AND data_date < :t""").bindparams(**params)).fetchall():
            series["verdicts"][_day(d).isoformat()] = {"status": status, "direction": int(float(direction or 0))}
        accepted = execute(sa.text(
            """SELECT day, max(accepted_by) FROM monitor.accepted_days
               WHERE check_name IN (:c, '') AND day >= :o AND day <= :t GROUP BY day""").bindparams(**params)).fetchall()
        series["accepted"] = sorted(_day(d).isoformat() for d, _ in accepted)
        series["accepted_by"] = {_day(d).isoformat(): by or "runner.py accept" for d, by in accepted}
    return series
