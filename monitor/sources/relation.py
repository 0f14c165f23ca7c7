"""In place: the day's rows read straight from a table or view the team's pipeline writes
(``[source] relation``; README, "Monitor your own table"), needing only SELECT on it.

Typed columns are read as they are (timestamptz, timestamp as UTC, epoch micros, millis
or seconds, ISO text; numeric revenue; json, jsonb or text payloads; a nested path
``col.key.key`` inside a json column), so nothing typed is parsed again as text. The day
is a half-open range on the timestamp column (its index serves it), or an equality on a
date column when ``[columns] partition_date`` names one. This module writes the SQL the
PostgreSQL engine's pass reads its rows from (the same columns as the loader's rows), the
day's columns from the catalog, the fingerprint that makes a verdict stale, and the
offending rows' values by ``row_id``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from monitor import days
from monitor.errors import UsageError
from monitor.settings import FIELD_COLUMNS, INPUT_COLUMNS, Settings

# the flattened fields the metrics pass reads (the others are kept, not read)
PASS_FIELDS = ("page_url", "referrer", "utm_source", "utm_medium", "utm_campaign", "device_type", "user_agent",
               "session_id", "order_id", "revenue")
_JSON = ("json", "jsonb")
_NUMBER = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
_MICROS, _MILLIS = 10**14, 10**11  # an epoch number this large is in micro- or milliseconds
# the day's fingerprint over a source's rows (day_rows' fp and stamp columns): the metrics
# pass computes it (day_metrics.sql), `status` again over the relation
FINGERPRINT = "count(*) || '/' || coalesce(sum(fp::numeric), 0) || '/' || coalesce(max(stamp), '')"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _base_type(type_name: str) -> str:
    return type_name.split("(")[0].strip()


@dataclasses.dataclass(frozen=True)
class Expr:
    """A contract column read from the relation: its SQL and the type it has there."""

    sql: str
    type: str
    column: str  # the relation column it reads (the head of a nested path)

    @property
    def text(self) -> str:
        """As text, the way a file would carry it (a JSON scalar without quotes)."""
        t = _base_type(self.type)
        if t in _JSON:
            return f"({self.sql} #>> '{{}}')"
        if t in ("text", "character varying", "character", "name"):
            return self.sql
        return f"({self.sql})::text"


@dataclasses.dataclass(frozen=True)
class Bounds:
    """Day D's bounds as SQL: parameters of one pass (``params``), or expressions of a
    function's date argument (``of_argument``, for monitor.day_events_on)."""

    lo: str  # D 00:00 in the zone, timestamptz
    hi: str  # D+1 00:00
    lo_utc: str  # the same instants as naive UTC timestamps
    hi_utc: str
    epoch_lo: str  # ... as epoch seconds
    epoch_hi: str
    date: str  # D as a date, as 'YYYY-MM-DD', 'YYYYMMDD' and the integer YYYYMMDD
    iso: str
    compact: str
    number: str
    text_lo: str  # 'YYYY-MM-DD' of D-1 and D+2: a text time column's coarse range
    text_hi: str
    values: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def params(cls, day: dt.date, tz: str) -> Bounds:
        lo, hi = days.start(day, tz), days.start(day + dt.timedelta(days=1), tz)
        values = {"d_lo": lo, "d_hi": hi, "d_lo_utc": lo.replace(tzinfo=None), "d_hi_utc": hi.replace(tzinfo=None),
                  "d_iso": day.isoformat(), "d_compact": day.strftime("%Y%m%d"),
                  "d_text_lo": (day - dt.timedelta(days=1)).isoformat(),
                  "d_text_hi": (day + dt.timedelta(days=2)).isoformat()}
        return cls(lo="%(d_lo)s", hi="%(d_hi)s", lo_utc="%(d_lo_utc)s", hi_utc="%(d_hi_utc)s",
                   epoch_lo=str(int(lo.timestamp())), epoch_hi=str(int(hi.timestamp())), date="%(d_iso)s::date",
                   iso="%(d_iso)s", compact="%(d_compact)s", number=day.strftime("%Y%m%d"),
                   text_lo="%(d_text_lo)s", text_hi="%(d_text_hi)s", values=values)

    @classmethod
    def of_argument(cls, arg: str, tz: str) -> Bounds:
        z = literal(tz)
        lo, hi = f"({arg}::timestamp AT TIME ZONE {z})", f"(({arg} + 1)::timestamp AT TIME ZONE {z})"
        return cls(lo=lo, hi=hi, lo_utc=f"({lo} AT TIME ZONE 'UTC')", hi_utc=f"({hi} AT TIME ZONE 'UTC')",
                   epoch_lo=f"extract(epoch FROM {lo})::bigint", epoch_hi=f"extract(epoch FROM {hi})::bigint",
                   date=arg, iso=f"to_char({arg}, 'YYYY-MM-DD')", compact=f"to_char({arg}, 'YYYYMMDD')",
                   number=f"to_char({arg}, 'YYYYMMDD')::int", text_lo=f"to_char({arg} - 1, 'YYYY-MM-DD')",
                   text_hi=f"to_char({arg} + 2, 'YYYY-MM-DD')")


class Relation:
    """One relation (and the purchase table it may join) as the pass's rows."""

    def __init__(self, settings: Settings):
        self.settings, self.name = settings, settings.source.relation
        self.columns: dict[str, str] = {}  # the relation's columns -> type
        self.purchase_columns: dict[str, str] = {}
        self.regclass = self.purchases_regclass = ""

    # -- the catalog ---------------------------------------------------------------------
    def describe(self, cursor) -> Relation:
        """Read the relation's columns from the catalog; a relation that does not exist, or
        that this role may not read, is a usage error naming it."""
        self.regclass, self.columns = _columns(cursor, self.name, "source.relation")
        if self.settings.source.purchases:
            if not self.settings.columns.row_id:
                raise UsageError("source.purchases is joined on [columns] row_id: name the row id column")
            self.purchases_regclass, self.purchase_columns = _columns(cursor, self.settings.source.purchases,
                                                                      "source.purchases")
        if self.resolve("timestamp") is None and self.resolve("partition_date") is None:
            raise UsageError(f"source.relation {self.name}: no timestamp column "
                             f"({self.settings.columns.feed_name('timestamp') or 'none'!r}) and no "
                             "[columns] partition_date: nothing says which rows are a day's")
        return self

    def resolve(self, contract: str) -> Expr | None:
        """Where a contract column is in the relation: a column of that (mapped) name, one of
        the purchase table's, or a key path inside a json/jsonb column; None if nowhere."""
        feed = self.settings.columns.feed_name(contract)
        if feed is None:
            return None
        for alias, cols in (("r", self.columns), ("p", self.purchase_columns)):
            if feed in cols:
                return Expr(f"{alias}.{quote(feed)}", cols[feed], feed)
        head, _, rest = feed.partition(".")
        for alias, cols in (("r", self.columns), ("p", self.purchase_columns)):
            if rest and _base_type(cols.get(head, "")) in _JSON:
                path = ", ".join(literal(k) for k in rest.split("."))
                return Expr(f"({alias}.{quote(head)} #> ARRAY[{path}]::text[])", cols[head], head)
        return None

    # -- the day's rows ------------------------------------------------------------------
    def _from(self) -> str:
        sql = f"{self.regclass} r"
        if self.purchases_regclass:
            rid = quote(self.settings.columns.row_id)
            sql += f" LEFT JOIN {self.purchases_regclass} p ON p.{rid} = r.{rid}"
        return sql

    def _ts(self) -> tuple[str | None, str | None]:
        """(the event time as timestamptz, as the text a file would carry)."""
        e = self.resolve("timestamp")
        if e is None:
            return None, None
        t = _base_type(e.type)
        if t == "timestamp with time zone":
            return e.sql, e.text
        if t == "timestamp without time zone":  # a naive time is UTC's
            return f"({e.sql} AT TIME ZONE 'UTC')", e.text
        if t in _NUMBER:
            v = e.sql
            return (f"(CASE WHEN abs({v}) >= {_MICROS} THEN timestamptz 'epoch' + {v} * interval '1 microsecond'"
                    f" WHEN abs({v}) >= {_MILLIS} THEN timestamptz 'epoch' + {v} * interval '1 millisecond'"
                    f" ELSE to_timestamp({v}) END)", e.text)
        if t == "date":
            raise UsageError(f"source.relation {self.name}: timestamp column {e.column!r} is a date; name it as "
                             "[columns] partition_date and map timestamp to the event's time")
        return f"events.parse_ts({e.text})", e.text

    def predicate(self, day: dt.date) -> tuple[str, dict]:
        """Which rows are day D's, with D's bounds as parameters (the metrics pass)."""
        return self.predicate_on(Bounds.params(day, self.settings.day.timezone))

    def predicate_on(self, b: Bounds) -> tuple[str, dict]:
        """Which rows are the day's: a date column's equality, else a half-open range on the
        timestamp column as it is typed (no cast of the column: an index on it is used)."""
        part = self.resolve("partition_date")
        if part is not None:
            t = _base_type(part.type)
            if t == "date":
                return f"{part.sql} = {b.date}", b.values
            if t in _NUMBER:
                return f"{part.sql} = {b.number}", b.values
            return f"{part.text} IN ({b.iso}, {b.compact})", b.values
        e = self.resolve("timestamp")
        t = _base_type(e.type)
        if t == "timestamp with time zone":
            return f"{e.sql} >= {b.lo} AND {e.sql} < {b.hi}", b.values
        if t == "timestamp without time zone":
            return f"{e.sql} >= {b.lo_utc} AND {e.sql} < {b.hi_utc}", b.values
        if t in _NUMBER:
            ranges = [f"{e.sql} >= {b.epoch_lo} * {k} AND {e.sql} < {b.epoch_hi} * {k}" for k in (10**6, 10**3, 1)]
            return "(" + " OR ".join(f"({r})" for r in ranges) + ")", b.values
        # ISO text: a range on the text (an index on it serves it), then the exact instant;
        # text that is no time counts on the day its first ten characters name
        ts, text = self._ts()
        return (f"{text} >= {b.text_lo} AND {text} < {b.text_hi} AND ({ts} >= {b.lo} AND {ts} < {b.hi} "
                f"OR {ts} IS NULL AND left({text}, 10) = {b.iso})"), b.values

    def _payload(self) -> tuple[str, str, str]:
        """(the payload as a jsonb object or NULL, whether there is none, its text)."""
        e = self.resolve("event_data")
        if e is None:
            return "NULL::jsonb", "true", "NULL::text"
        t = _base_type(e.type)
        if t == "jsonb":
            return (f"CASE WHEN jsonb_typeof({e.sql}) = 'object' THEN {e.sql} END",
                    f"({e.sql} IS NULL OR jsonb_typeof({e.sql}) = 'null')", f"({e.sql})::text")
        if t == "json":  # valid json may hold what jsonb cannot (\u0000): kept, counted as malformed
            return (f"CASE WHEN json_typeof({e.sql}) = 'object' AND pg_input_is_valid(({e.sql})::text, 'jsonb') "
                    f"THEN ({e.sql})::jsonb END",
                    f"({e.sql} IS NULL OR json_typeof({e.sql}) = 'null')", f"({e.sql})::text")
        v = e.text
        return (f"CASE WHEN {v} IS JSON OBJECT THEN CASE WHEN strpos({v}, '\\u0000') = 0 "
                f"OR pg_input_is_valid({v}, 'jsonb') THEN ({v})::jsonb END END",
                f"({v} IS NULL OR octet_length({v}) < 64 AND btrim({v}) IN ('', 'null'))", v)

    def _row_ref(self) -> str:
        e = self.resolve("row_id")
        return e.text if e is not None else "r.ctid::text"

    def _arrived(self) -> str:
        """When a row arrived ("future" is judged by it): the pipeline's load stamp when the
        mapping names one, else the run's start."""
        e = self.resolve("loaded_at")
        if e is not None and _base_type(e.type) in ("timestamp with time zone", "timestamp without time zone"):
            return e.sql if _base_type(e.type) == "timestamp with time zone" else f"({e.sql} AT TIME ZONE 'UTC')"
        return "statement_timestamp()"

    def _stamp(self) -> str:
        e = self.resolve("loaded_at")
        return f"({e.sql})::text" if e is not None else "NULL::text"

    def day_rows(self, day: dt.date) -> tuple[str, dict]:
        """The SELECT the pass reads the day from, and its parameters: one row per event with
        the columns of the loader's rows (sources/loaded.py)."""
        ts, ts_text = self._ts()
        data, no_payload, payload_text = self._payload()
        event = self.resolve("event_name")
        client = self.resolve("client_id")
        fields = {f: self.resolve(f) for f in FIELD_COLUMNS}
        flat = ", ".join(f"{e.text} AS f_{f}" if e else f"NULL::text AS f_{f}" for f, e in fields.items()
                         if f in PASS_FIELDS)
        identity = ", chr(31), ".join(f"x.f_{f}" for f in PASS_FIELDS)
        where, params = self.predicate(day)
        name = f"nullif(btrim({event.text}), '')" if event else "NULL::text"
        inner = f"""
            SELECT {self._row_ref()} COLLATE "C" AS rk,
                   {f"nullif(btrim({client.text}), '')" if client else 'NULL::text'} COLLATE "C" AS client_id,
                   {ts_text or 'NULL::text'} AS ts_text, {name} AS event_name,
                   coalesce({name} = %(ev_purchase)s, false) AS purchase,
                   {ts or 'NULL::timestamptz'} AS ts, {data} AS data, {no_payload} AS no_payload,
                   {payload_text} AS payload_text, {self._arrived()} AS arrived, {self._stamp()} AS stamp, {flat}
            FROM {self._from()} WHERE {where} OFFSET 0"""
        sql = f"""
            SELECT x.rk, x.client_id, x.ts_text, x.event_name, x.purchase, x.ts, x.no_payload, x.arrived,
                   x.data IS NULL AND NOT x.no_payload AS malformed, false AS bad_bytes, x.stamp,
                   x.data_hash,
                   -- the row as the checks read it, for the day's fingerprint (sources.InPlace)
                   x.data_hash # hashtextextended(concat(x.rk, chr(31), x.client_id, chr(31), x.ts_text, chr(31),
                                                         x.event_name), 11) AS fp,
                   {', '.join(f"coalesce(x.data->>'{f}', x.f_{f}) AS {f}" for f in PASS_FIELDS
                              if f not in ('order_id', 'revenue'))},
                   CASE WHEN x.purchase THEN coalesce(x.data->>'order_id', x.f_order_id) END AS order_id,
                   CASE WHEN x.purchase THEN (
                       SELECT CASE WHEN pg_input_is_valid(v, 'numeric') THEN
                                   CASE WHEN v::numeric BETWEEN -1e15 AND 1e15 THEN v::numeric END END
                       FROM coalesce(x.data->>'revenue', x.f_revenue) AS v) END AS revenue
            FROM (SELECT x.*,
                         -- a row's identity (duplicates): its payload and its mapped fields, hashed
                         -- once (a field's separator never occurs in text; NULL reads as '')
                         coalesce(hashtextextended(x.payload_text, 0), 0)
                             # hashtextextended(concat({identity}), 7) AS data_hash
                  FROM ({inner}) x OFFSET 0) x"""
        return sql, params

    def day_events_sql(self, b: Bounds) -> str:
        """The day's rows as a team's GX suites see them (monitor.day_events; CONTRACT
        section 9): typed columns under the contract's names, a field the payload's key,
        else the mapped column."""
        ts, _ = self._ts()
        data, _, _ = self._payload()
        where, _ = self.predicate_on(b)

        def text(contract: str) -> str:
            e = self.resolve(contract)
            return e.text if e is not None else "NULL::text"

        def field(name: str) -> str:
            return f"coalesce(x.data->>'{name}', x.f_{name})"
        fields = ("session_id", "page_url", "referrer", "user_agent", "utm_source", "utm_medium", "utm_campaign",
                  "device_type", "order_id", "revenue", "currency")  # sources.DAY_EVENTS_COLUMNS' order
        revenue = (f"(SELECT CASE WHEN pg_input_is_valid(v, 'numeric') AND v::numeric BETWEEN -1e15 AND 1e15 "
                   f"THEN v::numeric END FROM {field('revenue')} AS v)")
        return f"""
            SELECT x.row_id, x.client_id, x.ts, x.event_name, x.data,
                   {', '.join(field(f) if f != 'revenue' else revenue for f in fields)}
            FROM (SELECT {self._row_ref()} AS row_id,
                         nullif(btrim({text('client_id')}), '') AS client_id, {ts or 'NULL::timestamptz'} AS ts,
                         nullif(btrim({text('event_name')}), '') AS event_name, {data} AS data,
                         {', '.join(f"{text(f)} AS f_{f}" for f in fields)}
                  FROM {self._from()} WHERE {where} OFFSET 0) x"""  # OFFSET 0: each payload parsed once

    # -- what else a run reads -----------------------------------------------------------
    def agents_sql(self, day: dt.date) -> tuple[str, dict]:
        """The day's user agents (the caller keeps the new ones, classified before the pass,
        as a load does): the agent's column (or path) and the payload's key only."""
        where, params = self.predicate(day)
        ua = self.resolve("user_agent")
        data, _, _ = self._payload()
        mapped = ua.text if ua is not None else "NULL::text"
        agent = f"coalesce(({data})->>'user_agent', {mapped})" if self.resolve("event_data") else mapped
        return (f"SELECT user_agent FROM (SELECT {agent} AS user_agent FROM {self._from()} "
                f"WHERE {where}) d WHERE user_agent IS NOT NULL"), params

    def fingerprint_sql(self, day: dt.date) -> tuple[str, dict]:
        """The day's fingerprint, as the metrics pass computes it from the same rows: the row
        count, a sum of hashes of each row as the checks read it, and the latest load stamp
        when the mapping names one (rows added, changed or removed all change it)."""
        rows, params = self.day_rows(day)
        return f"SELECT {FINGERPRINT} FROM ({rows}) r", params

    def schema_rows(self, previous: set[str] | None) -> list[tuple[str, str, float]]:
        """The day's columns from the catalog, as contract names: ``column`` for each,
        ``missing_column`` for a required column that is nowhere (and not declared absent),
        ``unexpected_column`` for a column the previous day with rows did not have (a
        relation's own extra columns are its normal shape, not news)."""
        present = self._contract_columns()
        absent = self.settings.columns.absent
        # a required column the mapping declares absent ("") is the feed's shape, not a loss:
        # it stands as there, so the required and lost checks never ask for it
        rows = [("loads", "", 1.0)] + [("column", c, 1.0) for c in sorted(present | (absent & set(INPUT_COLUMNS)))]
        rows += [("missing_column", c, 1.0) for c in INPUT_COLUMNS if c not in present and c not in absent]
        if previous:
            rows += [("unexpected_column", c, 1.0) for c in sorted(present - previous)]
        return rows

    def _contract_columns(self) -> set[str]:
        out, used = set(), set()
        for c in (*INPUT_COLUMNS, *FIELD_COLUMNS):
            e = self.resolve(c)
            if e is not None:
                out.add(c)
                if e.sql.endswith(quote(e.column)):  # a whole column, not a key inside one
                    used.add(e.column)
        special = {self.settings.columns.feed_name(c) for c in ("row_id", "loaded_at", "partition_date")}
        out |= {c for c in (*self.columns, *self.purchase_columns) if c not in used and c not in special}
        return out

    def sample_sql(self, day: dt.date, refs: list[str]) -> tuple[str, dict]:
        """The offending rows the pass named by their ``row_id``, with what each sample shows
        (the values as the relation holds them)."""
        where, params = self.predicate(day)
        _, ts_text = self._ts()
        data, _, _ = self._payload()

        def text(contract: str) -> str:
            e = self.resolve(contract)
            return e.text if e is not None else "NULL::text"
        sql = f"""SELECT rk, client_id, ts_text, event_name, payload, revenue, order_id FROM (
                      SELECT {self._row_ref()} COLLATE "C" AS rk, {text('client_id')} AS client_id,
                             {ts_text or 'NULL::text'} AS ts_text, {text('event_name')} AS event_name,
                             {text('event_data')} AS payload, {text('revenue')} AS revenue,
                             coalesce(({data})->>'order_id', {text('order_id')}) AS order_id
                      FROM {self._from()} WHERE {where}) s
                  WHERE rk = ANY (%(refs)s)"""
        return sql, {**params, "refs": refs}


def _columns(cursor, name: str, setting: str) -> tuple[str, dict[str, str]]:
    cursor.execute("SELECT to_regclass(%s)::oid, to_regclass(%s)::text", (name, name))
    oid, regclass = cursor.fetchone()
    if oid is None:
        raise UsageError(f"{setting} {name!r}: no such table or view in this database (or its schema is not "
                         "visible to this role)")
    cursor.execute("SELECT has_table_privilege(%s, 'SELECT')", (oid,))
    if not cursor.fetchone()[0]:
        raise UsageError(f"{setting} {name}: this role has no SELECT on it (GRANT SELECT ON {regclass} TO ...)")
    cursor.execute("""SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
                      WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum""", (oid,))
    return regclass, dict(cursor.fetchall())
