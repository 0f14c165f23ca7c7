"""Metric provider: one metric's value on the target day, and its trailing history.

The batch is ``monitor.day_metric_window``: daily metrics up to the target day,
with days whose own run was critical already left out. The SQL here is
SQLAlchemy Core over that batch, so any engine with the same table works.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider


class DayMetricSeries(TableMetricProvider):
    """Returns ``{"day", "target": {dim: v}, "history": {day: {dim: v}}, "recent": {...}}``.

    ``history`` holds the trailing days fit to serve as baseline (critical days
    left out); ``recent`` holds every trailing day, for context in messages.
    ``dimension`` None means every dimension of the metric.
    """

    metric_name = "day_metric.series"
    value_keys = ("metric", "dimension", "window_days")

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, execution_engine: SqlAlchemyExecutionEngine, metric_domain_kwargs: dict,
                    metric_value_kwargs: dict, metrics: dict, runtime_configuration: dict) -> dict[str, Any]:
        selectable, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        window = selectable.subquery() if isinstance(selectable, sa.Select) else selectable
        day, dimension, value, metric = (sa.column(c) for c in ("day", "dimension", "value", "metric"))
        target_day = execution_engine.execute_query(
            sa.select(sa.func.max(day)).select_from(window).where(sa.column("is_target"))
        ).scalar()
        if target_day is None:
            return {"day": None, "target": {}, "history": {}, "recent": {}}
        if isinstance(target_day, dt.datetime):
            target_day = target_day.date()
        oldest = target_day - dt.timedelta(days=int(metric_value_kwargs["window_days"]))
        query = sa.select(day, dimension, value, sa.column("is_baseline")).select_from(window).where(
            metric == metric_value_kwargs["metric"], day >= oldest, day <= target_day
        )
        if metric_value_kwargs.get("dimension") is not None:
            query = query.where(dimension == metric_value_kwargs["dimension"])
        target: dict[str, float] = {}
        history: dict[str, dict[str, float]] = {}
        recent: dict[str, dict[str, float]] = {}
        for row_day, row_dimension, row_value, is_baseline in execution_engine.execute_query(query).fetchall():
            row_day = row_day.date() if isinstance(row_day, dt.datetime) else row_day
            if row_day == target_day:
                target[row_dimension] = float(row_value)
                continue
            recent.setdefault(row_day.isoformat(), {})[row_dimension] = float(row_value)
            if is_baseline:
                history.setdefault(row_day.isoformat(), {})[row_dimension] = float(row_value)
        return {"day": target_day.isoformat(), "target": target, "history": history, "recent": recent}
