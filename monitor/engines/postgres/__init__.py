"""PostgreSQL engine: the day's metrics pass over the loaded rows (day_metrics.sql), in
the database that holds them, written straight into the metrics store
(monitor.store.metrics). The Spark engine computes the same metrics elsewhere."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import sqlalchemy as sa

from monitor.engines import channels
from monitor import sources
from monitor.settings import Settings
from monitor.store.metrics import store_day_metrics

_HERE = Path(__file__).parent


@functools.cache
def _sql(name: str) -> str:
    return (_HERE / name).read_text()


# Session settings of the metrics pass. The day's sorts and hashes (sessions,
# duplicates) fit in memory instead of spilling to disk, and parallel workers
# parse the day's JSON and timestamps: PostgreSQL's default costs overrate
# handing rows back to the leader for such a CPU-heavy scan (944k rows: ~20%
# faster on 2 cores). bench/ gives its hand-written reference pass the same.
PASS_SETTINGS = {"work_mem": "128MB", "parallel_setup_cost": "0", "parallel_tuple_cost": "0"}


def install(cursor) -> None:
    """`init`: the SQL functions the pass calls (the channel rules of monitor.engines.channels)."""
    cursor.execute(channels.postgres_functions())


def set_pass_settings(cursor) -> None:
    for name, value in PASS_SETTINGS.items():
        cursor.execute(f"SET LOCAL {name} = '{value}'")


def event_params(settings: Settings) -> dict:
    """The event names the metrics pass reads (monitor.toml [events]) and the behaviour
    rule for bots ([bots])."""
    ev = settings.events
    return {"known": list(ev.known),
            "ev_page_view": ev.page_view,
            "ev_add_to_cart": ev.add_to_cart, "ev_checkout": ev.checkout, "ev_purchase": ev.purchase,
            "bot_hits_per_minute": settings.bots.max_hits_per_minute, "bot_minutes": settings.bots.fast_minutes,
            "tz": settings.day.timezone}


def pass_sql(rows_sql: str) -> str:
    """The metrics pass over a source's SELECT of the day (monitor.sources)."""
    from monitor.sources.relation import FINGERPRINT  # written once: `status` computes it again

    return _sql("day_metrics.sql").replace("__FINGERPRINT__", FINGERPRINT).replace("%(day_rows)s", rows_sql)


def pass_params(settings: Settings, day: dt.date) -> dict:
    return {"day": day, **event_params(settings), "gap_seconds": settings.sessions.inactivity_minutes * 60,
            "future_tolerance_minutes": settings.thresholds.future_tolerance_minutes}


def prepare(eng: sa.Engine, day: dt.date, settings: Settings):
    """How to compute the day's metrics in the run's snapshot: here all of it happens there,
    once the source has done what it does first (new BRIN ranges summarised, statistics for
    the planner, the day's new user agents classified)."""
    with eng.begin() as conn:
        sources.source_for(settings).prepare(conn.connection.cursor(), day)
    return lambda conn: _store_day_pass(conn, day, settings)


def compute_day_metrics(conn: sa.Connection, day: dt.date, settings: Settings) -> dict[tuple[str, str], float]:
    """Recompute one day's metrics from its source into monitor.daily_metrics (replacing the
    day), the source's preparation included, all in ``conn``'s transaction."""
    sources.source_for(settings).prepare(conn.connection.cursor(), day)
    return _store_day_pass(conn, day, settings)


def _store_day_pass(conn: sa.Connection, day: dt.date, settings: Settings) -> dict[tuple[str, str], float]:
    source = sources.source_for(settings)
    cursor = conn.connection.cursor()
    rows_sql, rows_params = source.day_rows(cursor, day)
    set_pass_settings(cursor)
    cursor.execute(pass_sql(rows_sql), {**rows_params, **pass_params(settings, day)})
    rows, picked, fingerprint = [], [], None
    for m, d, v in cursor.fetchall():
        if m.startswith("sample:"):
            picked.append((m.removeprefix("sample:"), d, int(v)))
        elif m == "fingerprint":
            fingerprint = d
        else:
            rows.append((m, d, v))
    rows += source.schema_rows(cursor, day)
    store_day_metrics(cursor, day, rows, source.samples(cursor, day, picked),
                      fingerprint if source.in_place else None)
    return {(m, d): v for m, d, v in rows}


def count_slots(conn: sa.Connection, loads: list[int], settings: Settings) -> None:
    """Intraday: count these loads' rows per day and 15-minute slot, once
    (intraday_counts.sql), reading only their rows: a run of consecutive load ids at a time."""
    cursor = conn.connection.cursor()
    sources.summarize_new_ranges(cursor)
    set_pass_settings(cursor)
    for run in _consecutive(sorted(set(loads))):
        cursor.execute(_sql("intraday_counts.sql"), {
            "loads": run, "lo": run[0], "hi": run[-1], "known": list(settings.events.known),
            "ev_purchase": settings.events.purchase,
            "future_tolerance_minutes": settings.thresholds.future_tolerance_minutes, "tz": settings.day.timezone})


def _consecutive(ids: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs
