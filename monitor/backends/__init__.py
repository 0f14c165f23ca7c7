"""Engines: where a day's metrics are computed. Each provides
``compute_day_metrics(conn, day, settings)``, writing to the PostgreSQL store, and
``prepare(eng, day, settings)``: whatever can run before the run's snapshot opens (Spark's
job: no transaction stays open while it computes), returning the step that stores the
metrics in that snapshot."""

from __future__ import annotations

from types import ModuleType

from monitor.settings import Settings


def engine_for(settings: Settings) -> ModuleType:
    if settings.engine.name == "spark":
        from monitor.backends import spark  # pyspark is an optional extra: imported only when asked for

        return spark
    from monitor.backends import postgres

    return postgres
