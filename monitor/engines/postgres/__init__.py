"""PostgreSQL engine: the day's metrics pass over the loaded rows (day_metrics.sql), in
the database that holds them, written straight into the metrics store
(monitor.store.metrics). The Spark engine computes the same metrics elsewhere."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import sqlalchemy as sa

from monitor.engines import channels
from monitor.settings import FIELD_COLUMNS, INPUT_COLUMNS, Settings
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
    """The event names the metrics pass reads (monitor.toml [events]), the input columns
    and the behaviour rule for bots ([bots])."""
    ev = settings.events
    return {"known": list(ev.known), "required": list(INPUT_COLUMNS), "fields": list(FIELD_COLUMNS),
            "ev_page_view": ev.page_view,
            "ev_add_to_cart": ev.add_to_cart, "ev_checkout": ev.checkout, "ev_purchase": ev.purchase,
            "bot_hits_per_minute": settings.bots.max_hits_per_minute, "bot_minutes": settings.bots.fast_minutes,
            "tz": settings.day.timezone}


def with_flat_fields(text: str) -> str:
    """A pass's SQL with the flattened fields a row's identity includes written out."""
    fields = ", ".join(f"r.extra->>'{f}'" for f in FIELD_COLUMNS)
    return text.replace("%(flat_fields)s", fields)


@functools.cache
def _pass_sql() -> str:
    return with_flat_fields(_sql("day_metrics.sql"))


def prepare(eng: sa.Engine, day: dt.date, settings: Settings):
    """How to compute the day's metrics in the run's snapshot: here all of it happens there,
    once the planner knows how big the day is."""
    with eng.begin() as conn:
        refresh_day_statistics(conn.connection.cursor(), day)
    return lambda conn: compute_day_metrics(conn, day, settings)


def refresh_day_statistics(cursor, day: dt.date) -> None:
    """ANALYZE the rows table when the planner's estimate of the day is far below its rows.

    A day that arrives as many small files into a large table is never a large part
    of it, so no load analyses it (sources.loader): the planner then takes the day
    for a handful of rows and plans the pass with nested loops over it, which turns
    seconds into many minutes. Sampling costs a fraction of a second whatever the
    table's size, and the check is one EXPLAIN.
    """
    cursor.execute("SELECT coalesce(sum(row_count), 0) FROM events.load_days WHERE partition_date = %s", (day,))
    rows = cursor.fetchone()[0]
    cursor.execute("EXPLAIN (FORMAT JSON) SELECT 1 FROM events.raw_events WHERE partition_date = %s", (day,))
    estimate = cursor.fetchone()[0][0]["Plan"]["Plan Rows"]
    if rows > 2 * estimate + 1000:
        cursor.execute("ANALYZE events.raw_events")


def compute_day_metrics(conn: sa.Connection, day: dt.date, settings: Settings) -> dict[tuple[str, str], float]:
    """Recompute one day's metrics into monitor.daily_metrics (replacing the day)."""
    params = {
        "day": day,
        **event_params(settings),
        "gap_seconds": settings.sessions.inactivity_minutes * 60,
        "future_tolerance_minutes": settings.thresholds.future_tolerance_minutes,
    }
    cursor = conn.connection.cursor()
    set_pass_settings(cursor)
    cursor.execute(_pass_sql(), params)
    rows, samples = [], []
    for m, d, v in cursor.fetchall():
        (samples if m.startswith("sample:") else rows).append((m, d, v))
    store_day_metrics(cursor, day, rows, samples)
    return {(m, d): v for m, d, v in rows}


def count_slots(conn: sa.Connection, loads: list[int], settings: Settings) -> None:
    """Intraday: count these loads' rows per day and 15-minute slot, once
    (intraday_counts.sql), reading only their rows: a run of consecutive load ids at a time."""
    cursor = conn.connection.cursor()
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
