"""PostgreSQL engine, and the metrics store every engine writes to.

The schema, the day's metrics pass over loaded rows and the user-agent table
live here; the Spark engine (monitor/backends/spark) computes the same metrics
elsewhere and stores them with ``store_day_metrics``. The expectations read the
store and do not know which engine filled it.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import sqlalchemy as sa

from monitor import channels
from monitor.errors import UsageError
from monitor.settings import FIELD_COLUMNS, INPUT_COLUMNS, Settings

_HERE = Path(__file__).parent


@functools.cache
def _sql(name: str) -> str:
    return (_HERE / name).read_text()


# Bump with every change to schema.sql: commands other than `init` refuse a
# database whose recorded version differs, instead of altering tables (which
# takes locks and rights a read-only gate must not need).
SCHEMA_VERSION = 3


def apply_schema(eng: sa.Engine) -> None:
    """`init` only: create or upgrade the tables and record the schema version."""
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('monitor.schema'))")
        cur.execute(_sql("schema.sql"))
        cur.execute(channels.postgres_functions())
        reclassify_user_agents(cur)
        cur.execute("DELETE FROM monitor.schema_version")
        cur.execute("INSERT INTO monitor.schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
        raw.commit()
    finally:
        raw.close()


def check_schema(eng: sa.Engine) -> None:
    """Every command but `init`: the database must carry this monitor's schema version."""
    with eng.connect() as conn:
        found = conn.execute(sa.text("SELECT to_regclass('monitor.schema_version') IS NOT NULL")).scalar()
        version = conn.execute(sa.text("SELECT max(version) FROM monitor.schema_version")).scalar() if found else None
    if version == SCHEMA_VERSION:
        return
    if version is None:
        raise UsageError("the database is not initialised for the monitor: run `runner.py init`")
    if version < SCHEMA_VERSION:
        raise UsageError(f"the database schema is version {version}, this monitor needs {SCHEMA_VERSION}: "
                         "run `runner.py init`")
    raise UsageError(f"the database schema is version {version}, newer than this monitor's {SCHEMA_VERSION}: "
                     "upgrade the monitor")


# Session settings of the metrics pass. The day's sorts and hashes (sessions,
# duplicates) fit in memory instead of spilling to disk, and parallel workers
# parse the day's JSON and timestamps: PostgreSQL's default costs overrate
# handing rows back to the leader for such a CPU-heavy scan (944k rows: ~20%
# faster on 2 cores). bench/ gives its hand-written reference pass the same.
PASS_SETTINGS = {"work_mem": "128MB", "parallel_setup_cost": "0", "parallel_tuple_cost": "0"}


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
            "bot_hits_per_minute": settings.bots.max_hits_per_minute, "bot_minutes": settings.bots.fast_minutes}


@functools.cache
def _pass_sql() -> str:
    """day_metrics.sql with the flattened fields a row's identity includes written out."""
    fields = ", ".join(f"r.extra->>'{f}'" for f in FIELD_COLUMNS)
    return _sql("day_metrics.sql").replace("%(flat_fields)s", fields)


def prepare(eng: sa.Engine, day: dt.date, settings: Settings):
    """How to compute the day's metrics in the run's snapshot: here all of it happens there."""
    return lambda conn: compute_day_metrics(conn, day, settings)


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


def store_day_metrics(cursor, day: dt.date, rows: list, samples: list) -> None:
    """Replace the day's rows in the metrics store, whichever engine computed them."""
    cursor.execute("DELETE FROM monitor.daily_metrics WHERE day = %s", (day,))
    cursor.executemany(
        "INSERT INTO monitor.daily_metrics (day, metric, dimension, value) VALUES (%s, %s, %s, %s)",
        [(day, m, d, v) for m, d, v in rows],
    )
    _store_samples(cursor, day, samples)


def _store_samples(cursor, day: dt.date, samples: list) -> None:
    """The offending rows the pass named: their file, line and value. Only days with
    bad rows pay for this one lookup (a clean day names none)."""
    cursor.execute("DELETE FROM monitor.day_samples WHERE day = %s", (day,))
    if not samples:
        return
    checks = [m.removeprefix("sample:") for m, _, _ in samples]
    loads = [int(d.split(":")[0]) for _, d, _ in samples]
    lines = [int(v) for _, _, v in samples]
    copies = [int(d.split(":")[2]) if d.count(":") == 2 else 1 for _, d, _ in samples]  # duplicates: how many
    cursor.execute(
        """INSERT INTO monitor.day_samples (day, check_name, file, line, value)
           SELECT %(day)s, s.check_name, l.source_file, s.line_no,
                  CASE s.check_name
                    WHEN 'unknown_event_name' THEN r.event_name
                    WHEN 'invalid_timestamp' THEN r."timestamp"
                    WHEN 'malformed_json' THEN left(r.event_data, 200)
                    WHEN 'invalid_revenue' THEN 'revenue ' || coalesce(  -- as it was sent: 1e400 stays 1e400
                         nullif(left(btrim(substring(r.event_data from '"revenue"\s*:\s*("[^"]*"|[^,}\s]*)'), '"'), 40), ''),
                         nullif(left(r.extra->>'revenue', 40), ''), '(missing)')
                    WHEN 'duplicate_order_id' THEN 'order ' || coalesce(
                         CASE WHEN r.event_data IS JSON OBJECT AND pg_input_is_valid(r.event_data, 'jsonb')
                              THEN r.event_data::jsonb->>'order_id' END, r.extra->>'order_id', '')
                         || ' on ' || s.copies || ' purchases'
                    ELSE left(concat_ws(',', coalesce(r.client_id, ''), coalesce(r."timestamp", ''),
                                        coalesce(r.event_name, ''), coalesce(r.event_data, '')), 200)
                  END || CASE WHEN s.copies > 1 AND s.check_name = 'duplicate_spike'
                              THEN ' (' || s.copies || ' identical rows)' ELSE '' END
           FROM unnest(%(checks)s::text[], %(loads)s::bigint[], %(lines)s::bigint[], %(copies)s::int[])
                AS s(check_name, load_id, line_no, copies)
           JOIN events.raw_events r ON r.partition_date = %(day)s AND r.load_id = s.load_id AND r.line_no = s.line_no
           JOIN events.loads l ON l.load_id = s.load_id""",
        {"day": day, "checks": checks, "loads": loads, "lines": lines, "copies": copies})



def learn_user_agents(cursor, table: str, where: str = "true", flat: bool = False) -> int:
    """Classify user agents first seen in a load's rows; return how many were new.

    The user agent is cut out of the JSON text with string functions (a full
    parse of every row costs twice as much); values holding escapes are parsed.
    OFFSET 0 keeps the cut computed once per row, not once per use. ``flat``: the
    file also has a ``user_agent`` column (kept in ``extra``).
    """
    flat_agents = f"UNION SELECT extra->>'user_agent' FROM {table} WHERE {where}" if flat else ""
    cursor.execute(
        f"""WITH c AS (
                SELECT event_data,
                       CASE WHEN strpos(event_data, '"user_agent":"') > 0
                            THEN split_part(split_part(event_data, '"user_agent":"', 2), '"', 1) END AS fast
                FROM {table} WHERE {where} AND strpos(event_data, '"user_agent"') > 0 OFFSET 0),
            agents AS (
                SELECT DISTINCT CASE WHEN fast IS NOT NULL AND strpos(fast, '\\') = 0 THEN fast
                                     WHEN event_data IS JSON OBJECT AND pg_input_is_valid(event_data, 'jsonb')
                                     THEN (event_data::jsonb)->>'user_agent' END AS ua
                FROM c {flat_agents})
            SELECT ua FROM agents
            WHERE ua IS NOT NULL AND NOT EXISTS (SELECT 1 FROM monitor.user_agents k WHERE k.user_agent = agents.ua)"""
    )
    new = [r[0] for r in cursor.fetchall()]
    store_user_agents(cursor, new)
    return len(new)


def store_user_agents(cursor, agents: list[str]) -> None:
    """Classify agents the table does not hold yet and add them (every engine's one way in)."""
    if not agents:
        return
    from monitor import devices  # the parser's rules take a while to load: only when needed

    cursor.executemany(
        "INSERT INTO monitor.user_agents (user_agent, device_type, bot_name) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        [(ua, *devices.classify(ua)) for ua in agents],
    )


def reclassify_user_agents(cursor) -> int:
    """`init`: classify the known agents again with the current lists (an upgrade may know
    more bots); returns how many changed."""
    cursor.execute("SELECT user_agent, device_type, bot_name FROM monitor.user_agents")
    known = cursor.fetchall()
    if not known:
        return 0
    from monitor import devices

    changed = [(*devices.classify(ua), ua) for ua, device, name in known if devices.classify(ua) != (device, name)]
    cursor.executemany("UPDATE monitor.user_agents SET device_type = %s, bot_name = %s WHERE user_agent = %s", changed)
    return len(changed)
