"""Engines: where a day's metrics are computed, behind one registry.

An engine is a module with this protocol (``Engine``): ``prepare(eng, day, settings)``
does whatever can run before the run's snapshot opens (Spark's job: no transaction
stays open while it computes) and returns the step that stores the metrics in that
snapshot; ``compute_day_metrics(conn, day, settings)`` does both at once. Every
engine computes the metrics of ``monitor.rules.catalogue`` into the same store
(``monitor.store.metrics``); the rules never know which engine ran. Intraday runs
count loaded rows per 15-minute slot with the PostgreSQL engine (``count_slots``).

May import: the foundation and ``monitor.store``. ``channels`` holds the landing
rules both engines' SQL is generated from.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Callable, Protocol

import sqlalchemy as sa

from monitor.settings import Settings

# name (engine.name in monitor.toml) -> module; imported only when asked for (pyspark is optional)
ENGINES = {"postgres": "monitor.engines.postgres", "spark": "monitor.engines.spark"}


class Engine(Protocol):
    def prepare(self, eng: sa.Engine, day: dt.date, settings: Settings) -> Callable[[sa.Connection], None]: ...

    def compute_day_metrics(self, conn: sa.Connection, day: dt.date, settings: Settings): ...


def engine_named(name: str) -> Engine:
    return importlib.import_module(ENGINES[name])


def engine_for(settings: Settings) -> Engine:
    return engine_named(settings.engine.name)
