"""Where rows come from, one class per kind of source, all read by the same metrics pass:

- ``LoadedTable``: files loaded into events.raw_events (``loader``), kept as received,
  line by line; samples name file and line;
- ``InPlace``: a table or view the team's pipeline writes, read where it is
  (``relation``, ``presets``); samples name ``row_id``;
- the lake, read by the Spark engine where it lies (``monitor.engines.spark``).

A source gives the PostgreSQL engine the day's rows as one SELECT (``day_rows``), the
day's columns (``schema_rows``), the values of the rows the pass named (``samples``), and
what makes a verdict stale (``fingerprint``: None where the loads say it).

May import: the foundation (settings, errors, outcome, project, days) and ``monitor.store``.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from monitor.errors import UsageError
from monitor.settings import FIELD_COLUMNS, INPUT_COLUMNS, Settings
from monitor.store import user_agents

_HERE = Path(__file__).parent

# monitor.day_events (CONTRACT section 9): the day's rows as a team's GX suites see them,
# the same columns whatever the source
DAY_EVENTS_COLUMNS = (("row_id", "text"), ("client_id", "text"), ("timestamp", "timestamptz"),
                      ("event_name", "text"), ("event_data", "jsonb"), ("session_id", "text"), ("page_url", "text"),
                      ("referrer", "text"), ("user_agent", "text"), ("utm_source", "text"), ("utm_medium", "text"),
                      ("utm_campaign", "text"), ("device_type", "text"), ("order_id", "text"), ("revenue", "numeric"),
                      ("currency", "text"))


def install_day_events(cursor, settings: Settings) -> None:
    """(Re)create monitor.day_events_on(date), the day's rows from this source, and the
    view monitor.day_events over it (the day monitor.scope_day() names). One SELECT
    declared STABLE: the planner inlines it, so a check reading one column computes
    that column, and the day's predicate reaches the source's index."""
    import psycopg2

    body = source_for(settings).day_events_sql(cursor).strip()
    cursor.execute("SELECT p.prosrc, to_regclass('monitor.day_events') IS NOT NULL FROM pg_proc p "
                   "WHERE p.oid = to_regprocedure('monitor.day_events_on(date)')")
    row = cursor.fetchone()
    if row and row[0].strip() == body and row[1]:
        return  # as the source wants it already (a role that does not own it may run)
    columns = ", ".join(f'"{n}" {t}' for n, t in DAY_EVENTS_COLUMNS)
    try:
        cursor.execute(f"CREATE OR REPLACE FUNCTION monitor.day_events_on(d date) RETURNS TABLE ({columns}) "
                       f"LANGUAGE sql STABLE AS $day_events$\n{body}\n$day_events$")
        cursor.execute("CREATE OR REPLACE VIEW monitor.day_events AS "
                       "SELECT * FROM monitor.day_events_on(monitor.scope_day())")
    except psycopg2.errors.InsufficientPrivilege:
        raise UsageError("monitor.day_events must follow [source], and this role does not own it: run "
                         "`runner.py init` once as the role that owns the monitor's schema") from None


@functools.cache
def _loaded_rows_sql() -> str:
    fields = ", ".join(f"r.extra->>'{f}'" for f in FIELD_COLUMNS)
    return (_HERE / "loaded_rows.sql").read_text().replace("%(flat_fields)s", fields)


class LoadedTable:
    """The loader's own table (events.raw_events, by partition)."""

    label = "events.raw_events"
    in_place = False

    def __init__(self, settings: Settings):
        self.settings = settings

    def prepare(self, cursor, day: dt.date) -> None:
        summarize_new_ranges(cursor)
        classify_loaded_agents(cursor, day)
        refresh_day_statistics(cursor, day)

    def day_rows(self, cursor, day: dt.date) -> tuple[str, dict]:
        return _loaded_rows_sql(), {}

    def day_events_sql(self, cursor) -> str:
        return (_HERE / "loaded_day_events.sql").read_text()

    def schema_rows(self, cursor, day: dt.date) -> list[tuple[str, str, float]]:
        """``loads``, and per column of the day's loads (contract names) how many had it:
        ``column``, ``missing_column`` (required ones), ``unexpected_column``."""
        cursor.execute(
            """SELECT c, count(*) FROM events.load_days d JOIN events.loads l USING (load_id), unnest(l.columns) c
               WHERE d.partition_date = %s GROUP BY c ORDER BY c""", (day,))
        seen = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM events.load_days WHERE partition_date = %s", (day,))
        loads = cursor.fetchone()[0]
        known = set(INPUT_COLUMNS) | set(FIELD_COLUMNS)
        rows = [("loads", "", float(loads))] + [("column", c, float(n)) for c, n in seen.items()]
        if loads:
            rows += [("missing_column", c, float(loads - seen.get(c, 0))) for c in INPUT_COLUMNS
                     if seen.get(c, 0) < loads]
        rows += [("unexpected_column", c, float(n)) for c, n in seen.items() if c not in known]
        return rows

    def samples(self, cursor, day: dt.date, picked: list[tuple[str, str, int]]) -> list[tuple]:
        """(check, file, line, row_id, value) of the rows the pass named: their file and
        line, and the value as it was sent."""
        if not picked:
            return []
        checks = [c for c, _, _ in picked]
        loads = [int(ref) >> 32 for _, ref, _ in picked]
        lines = [int(ref) & 0xFFFFFFFF for _, ref, _ in picked]
        copies = [int(n) for _, _, n in picked]
        cursor.execute(
            """SELECT s.check_name, l.source_file, s.line_no, NULL::text,
                      CASE s.check_name
                        WHEN 'unknown_event_name' THEN r.event_name
                        WHEN 'invalid_timestamp' THEN r."timestamp"
                        WHEN 'malformed_json' THEN left(r.event_data, 200)
                        WHEN 'invalid_revenue' THEN 'revenue ' || coalesce(  -- as it was sent: 1e400 stays 1e400
                             nullif(left(btrim(substring(r.event_data from '"revenue"\\s*:\\s*("[^"]*"|[^,}\\s]*)'), '"'), 40), ''),
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
               JOIN events.raw_events r ON r.partition_date = %(day)s AND r.load_id = s.load_id
                                       AND r.line_no = s.line_no
               JOIN events.loads l ON l.load_id = s.load_id""",
            {"day": day, "checks": checks, "loads": loads, "lines": lines, "copies": copies})
        return cursor.fetchall()

    def fingerprint(self, cursor, day: dt.date) -> str | None:
        return None  # the day's loads (monitor.runs.loads) say whether a verdict is current


class InPlace:
    """A team's own table or view, read in place (``[source] relation``)."""

    in_place = True

    def __init__(self, settings: Settings):
        from monitor.sources.relation import Relation

        self.settings = settings
        self.relation = Relation(settings)
        self.label = settings.source.relation
        self._described = False

    def _rel(self, cursor):
        if not self._described:
            self.relation.describe(cursor)
            self._described = True
        return self.relation

    def prepare(self, cursor, day: dt.date) -> None:
        """Classify the day's user agents the store does not know yet (as a loaded day's
        first run does): devices and bots come from the day's distinct agents."""
        sql, params = self._rel(cursor).agents_sql(day)
        # known agents drop out by their 8-byte key first (a hash anti-join), so only the day's
        # new ones are made distinct: after the first days, a handful
        cursor.execute(f"""SELECT DISTINCT a.user_agent FROM ({sql}) a
                           WHERE NOT EXISTS (SELECT 1 FROM monitor.user_agents k
                                             WHERE k.ua_hash = hashtextextended(a.user_agent, 0)
                                               AND k.user_agent = a.user_agent)""",
                       {**params, "ev_purchase": self.settings.events.purchase})
        user_agents.store_user_agents(cursor, [r[0] for r in cursor.fetchall()])

    def day_rows(self, cursor, day: dt.date) -> tuple[str, dict]:
        return self._rel(cursor).day_rows(day)

    def day_events_sql(self, cursor) -> str:
        from monitor.sources.relation import Bounds

        return self._rel(cursor).day_events_sql(Bounds.of_argument("$1", self.settings.day.timezone))

    def schema_rows(self, cursor, day: dt.date) -> list[tuple[str, str, float]]:
        cursor.execute("""SELECT dimension FROM monitor.daily_metrics WHERE metric = 'column' AND day = (
                              SELECT max(day) FROM monitor.daily_metrics
                              WHERE metric = 'rows' AND dimension = '' AND value > 0 AND day < %s)""", (day,))
        previous = {r[0] for r in cursor.fetchall()}
        return self._rel(cursor).schema_rows(previous or None)

    def samples(self, cursor, day: dt.date, picked: list[tuple[str, str, int]]) -> list[tuple]:
        if not picked:
            return []
        sql, params = self._rel(cursor).sample_sql(day, sorted({ref for _, ref, _ in picked}))
        cursor.execute(sql, params)
        found = {r[0]: r for r in cursor.fetchall()}
        out = []
        for check, ref, copies in picked:
            row = found.get(ref)
            if row is None:
                continue
            out.append((check, self.label, None, ref, _value(check, row, int(copies))))
        return out

    def fingerprint(self, cursor, day: dt.date) -> str | None:
        sql, params = self._rel(cursor).fingerprint_sql(day)
        cursor.execute(sql, {**params, "ev_purchase": self.settings.events.purchase})
        return cursor.fetchone()[0]


def _value(check: str, row, copies: int) -> str:
    """What an in-place sample shows, as the loader's do for a file's line."""
    _, client, ts, event, payload, revenue, order = row
    if check == "unknown_event_name":
        return event or ""
    if check == "invalid_timestamp":
        return ts or ""
    if check == "malformed_json":
        return (payload or "")[:200]
    if check == "invalid_revenue":
        return "revenue " + ((revenue or "")[:40] or "(missing)")
    if check == "duplicate_order_id":
        return f"order {order or ''} on {copies} purchases"
    text = ",".join(v or "" for v in (client, ts, event, payload))[:200]
    return text + (f" ({copies} identical rows)" if check == "duplicate_spike" and copies > 1 else "")


def source_for(settings: Settings):
    """The day's source as monitor.toml says: a relation read in place, else the loaded table."""
    return InPlace(settings) if settings.source.in_place else LoadedTable(settings)


def summarize_new_ranges(cursor) -> None:
    """Summarise the BRIN ranges of events.raw_events that loads filled since the last
    reader: an unsummarised range matches every day and every load, so each scan would
    read it. `load` leaves this to its readers (a day's run, an intraday count). A role
    that does not own the table leaves it to autovacuum (the indexes autosummarize)."""
    import psycopg2

    cursor.execute("SAVEPOINT summarize_ranges")
    try:
        cursor.execute("SELECT brin_summarize_new_values('events.raw_events_day_brin'),"
                       " brin_summarize_new_values('events.raw_events_load_brin')")
    except psycopg2.errors.InsufficientPrivilege:
        cursor.execute("ROLLBACK TO SAVEPOINT summarize_ranges")
    else:
        cursor.execute("RELEASE SAVEPOINT summarize_ranges")


def classify_loaded_agents(cursor, day: dt.date) -> int:
    """Classify the user agents of the day's loads that no run has read yet; return how
    many agents were new.

    `load` only stores rows: the day's first run looks for its new agents (one scan of
    those loads' rows, by the day's and the load's BRIN), and monitor.classified_loads
    remembers the loads it read, so later runs of the day skip the scan.
    """
    cursor.execute("""SELECT d.load_id, l.columns FROM events.load_days d JOIN events.loads l USING (load_id)
                      WHERE d.partition_date = %s AND NOT EXISTS (
                          SELECT 1 FROM monitor.classified_loads c
                          WHERE c.partition_date = d.partition_date AND c.load_id = d.load_id)""", (day,))
    pending = cursor.fetchall()
    if not pending:
        return 0
    ids = [load_id for load_id, _ in pending]
    with_agents = [cols for _, cols in pending if "event_data" in cols or "user_agent" in cols]
    new = 0
    if with_agents:
        cursor.execute("SET LOCAL work_mem = '128MB'")  # the distinct agents sort in memory
        where = cursor.mogrify("partition_date = %s AND load_id = ANY(%s)", (day, ids)).decode()
        new = user_agents.learn_user_agents(cursor, "events.raw_events", where,
                                            flat=any("user_agent" in cols for cols in with_agents))
    cursor.execute("INSERT INTO monitor.classified_loads (partition_date, load_id) SELECT %s, unnest(%s::bigint[])"
                   " ON CONFLICT DO NOTHING", (day, ids))
    return new


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
