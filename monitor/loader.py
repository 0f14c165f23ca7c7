"""`load FILE [--date D]`: COPY a CSV or JSON Lines file into events.raw_events.

Everything happens in one transaction, so a failed load leaves no partial day.
Rows are stored as received; a row with broken fields is kept (and later
counted by the checks). Unknown columns go to the ``extra`` jsonb column.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import sqlalchemy as sa

from monitor.backends import postgres as backend
from monitor.errors import UsageError
from monitor.settings import Settings

log = logging.getLogger(__name__)

# SQLSTATE of COPY's "extra data after last expected column" / "missing data for column".
_BAD_COPY_FORMAT = "22P04"
# Records per COPY when the loader itself parses a CSV.
_RECORD_BATCH = 50_000
# Quote and delimiter bytes that never occur in text: COPY then hands us each line whole.
_RAW_LINE_COPY = "COPY stage (line) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


@dataclass(frozen=True)
class LoadReport:
    load_id: int
    rows: int
    days: dict[str, int]
    columns: tuple[str, ...]
    missing_columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    unparsed_lines: int  # JSON Lines: lines not a JSON object; CSV: records not matching the header
    file_format: str


class _HashingReader:
    """The file as COPY reads it, hashed on the way: no separate pass over the file."""

    def __init__(self, fh):
        self.fh = fh
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.fh.read(size)
        self.digest.update(block)
        return block

    def readline(self, size: int = -1) -> bytes:
        line = self.fh.readline(size)
        self.digest.update(line)
        return line


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy(cur, sql: str, path: Path) -> str:
    """COPY the whole file; return its sha256."""
    with path.open("rb") as fh:
        reader = _HashingReader(fh)
        cur.copy_expert(sql, reader, size=1 << 16)
        reader.digest.update(fh.read())  # nothing left unless COPY stopped early
    return reader.digest.hexdigest()


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    if not header or not any(h.strip() for h in header):
        raise UsageError(f"{path}: empty file or no CSV header row")
    names = [h.strip().lstrip("\ufeff") for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"{path}: duplicate column(s) in header: {', '.join(dupes)}")
    return names


def _partition_expr(requested: dt.date | None, has_timestamp: bool) -> str:
    if requested:
        return "%(requested)s"
    today = "(now() AT TIME ZONE 'UTC')::date"
    if not has_timestamp:
        return today
    # each row to its timestamp's UTC day; rows without a usable one to the load's day
    return f"coalesce((events.parse_ts(s.\"timestamp\") AT TIME ZONE 'UTC')::date, {today})"


def load_file(eng: sa.Engine, settings: Settings, path: Path, requested: dt.date | None,
              force: bool = False) -> LoadReport:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    fmt = detect_format(path)
    required = list(settings.required_columns)
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT 1 FROM pg_advisory_xact_lock(hashtext('monitor.load'))")
        cur.execute("SET LOCAL work_mem = '128MB'")  # distinct user agents hash in memory
        cur.execute("SELECT nextval(pg_get_serial_sequence('events.loads', 'load_id'))")
        load_id = cur.fetchone()[0]
        columns = _csv_header(path) if fmt == "csv" else []
        # a dated CSV of known columns needs no reshaping: COPY it straight into raw_events
        direct = fmt == "csv" and requested is not None and set(columns) <= set(required)
        unparsed = copied = 0
        cur.execute("SAVEPOINT copy_file")
        try:
            if direct:
                sha = _copy_direct(cur, path, columns, load_id, requested)
                copied = cur.rowcount
            elif fmt == "csv":
                sha = _stage_csv(cur, path, columns, required)
            else:
                sha, columns, unparsed = _stage_jsonl(cur, path, required)
        except psycopg2.DataError as exc:  # COPY refused the file: the caller's input, not the database
            if not (fmt == "csv" and exc.pgcode == _BAD_COPY_FORMAT):
                msg = " ".join(line.strip() for line in (exc.pgerror or str(exc)).strip().splitlines() if line.strip())
                raise UsageError(f"{path}: unreadable {fmt.upper()}: {msg}") from None
            # some records do not match the header: read them one by one and keep the odd ones whole
            cur.execute("ROLLBACK TO SAVEPOINT copy_file")
            direct = False
            sha, unparsed = _stage_csv_records(cur, path, columns, required)
        # checked after the COPY, which hashes the file as it streams; a refused duplicate rolls back
        cur.execute("SELECT load_id FROM events.loads WHERE file_sha256 = %s LIMIT 1", (sha,))
        previous = cur.fetchone()
        if previous and not force:
            raise UsageError(f"{path}: already loaded as load {previous[0]} (same content); use --force to load again")
        cur.execute(
            "INSERT INTO events.loads (load_id, source_file, file_sha256, file_format, requested_date, columns)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (load_id, str(path.resolve()), sha, fmt, requested, columns),
        )
        if direct:
            if "event_data" in columns:
                backend.learn_user_agents(cur, "events.raw_events",
                                          cur.mogrify("partition_date = %s AND load_id = %s",
                                                      (requested, load_id)).decode())
            cur.execute(
                "INSERT INTO events.load_days (load_id, partition_date, row_count)"
                " SELECT %(load_id)s, %(day)s, %(rows)s WHERE %(rows)s > 0 RETURNING partition_date, row_count",
                {"load_id": load_id, "day": requested, "rows": copied},
            )
        else:
            if "event_data" in columns:
                backend.learn_user_agents(cur, "stage")
            _insert_staged(cur, columns, required, fmt, requested, load_id)
        days = {str(d): n for d, n in sorted(cur.fetchall())}
        rows = sum(days.values())
        cur.execute("UPDATE events.loads SET row_count = %s WHERE load_id = %s", (rows, load_id))
        # unsummarised BRIN ranges match every day: summarise the new ones before any run reads them
        cur.execute("SELECT brin_summarize_new_values('events.raw_events_day_brin')")
        _refresh_statistics(cur, rows)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    extras = [c for c in columns if c not in required]
    return LoadReport(load_id, rows, days, tuple(columns),
                      tuple(c for c in required if c not in columns), tuple(extras), unparsed, fmt)


def _refresh_statistics(cur, rows: int) -> None:
    """ANALYZE when this load is a large part of the table, so the next metrics pass plans with it.

    Sampling the table costs the same for every load; after a small one the
    statistics still describe a day well (estimates scale with table size).
    """
    cur.execute("SELECT reltuples FROM pg_class WHERE oid = 'events.raw_events'::regclass")
    known = cur.fetchone()[0]
    if known < 0 or rows > 0.2 * known:
        cur.execute("ANALYZE events.raw_events")


def _copy_direct(cur, path: Path, columns: list[str], load_id: int, day: dt.date) -> str:
    """COPY into raw_events; its column defaults take the load's id and day from these settings."""
    cur.execute("SELECT set_config('monitor.load_id', %s, true), set_config('monitor.load_day', %s, true),"
                " setval('events.load_line_no', 1, false)", (str(load_id), day.isoformat()))
    col_list = ", ".join(f'"{c}"' for c in columns)
    return _copy(cur, f"COPY events.raw_events ({col_list}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')",
                 path)


def _insert_staged(cur, columns: list[str], required: list[str], fmt: str, requested: dt.date | None,
                   load_id: int) -> None:
    """Move the reshaped stage into raw_events and count rows per day (fetched by the caller)."""
    present = [c for c in required if c in columns]
    select_cols = ", ".join(f's."{c}"' if c in present else "NULL" for c in required)
    part = _partition_expr(requested, "timestamp" in present)
    cur.execute(
        f"""WITH ins AS (
              INSERT INTO events.raw_events
                (partition_date, load_id, line_no, client_id, "timestamp", event_name, event_data, extra)
              SELECT {part}, %(load_id)s, s.line_no, {select_cols}, s.extra
              FROM stage s
              RETURNING partition_date)
            INSERT INTO events.load_days (load_id, partition_date, row_count)
            SELECT %(load_id)s, partition_date, count(*) FROM ins GROUP BY 2
            RETURNING partition_date, row_count""",
        {"requested": requested, "load_id": load_id},
    )


def _stage_csv(cur, path: Path, columns: list[str], required: list[str]) -> str:
    cols_sql = ", ".join(f'"{c}" text' for c in columns)
    cur.execute(f"CREATE TEMP TABLE stage (line_no bigint GENERATED ALWAYS AS IDENTITY, {cols_sql}) ON COMMIT DROP")
    col_list = ", ".join(f'"{c}"' for c in columns)
    sha = _copy(cur, f"COPY stage ({col_list}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')", path)
    _fold_extra_columns(cur, columns, required)
    return sha


def _fold_extra_columns(cur, columns: list[str], required: list[str]) -> None:
    cur.execute("ALTER TABLE stage ADD COLUMN extra jsonb")
    extras = [c for c in columns if c not in required]
    if extras:
        pairs = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', \"{c}\"" for c in extras)
        cur.execute(f"UPDATE stage SET extra = nullif(jsonb_strip_nulls(jsonb_build_object({pairs})), '{{}}'::jsonb)")


def _stage_csv_records(cur, path: Path, columns: list[str], required: list[str]) -> tuple[str, int]:
    """Stage a CSV that COPY refused because some records do not match the header.

    Python's csv module reads it record by record. A record with another
    number of fields is kept with empty columns and its fields in
    ``extra._unmatched_fields``, so the checks count it (as nulls) instead
    of the whole file failing. Returns the file's sha256 and that count.
    """
    cols_sql = ", ".join(f'"{c}" text' for c in columns)
    cur.execute(f"CREATE TEMP TABLE stage (line_no bigint GENERATED ALWAYS AS IDENTITY, {cols_sql},"
                " unmatched jsonb) ON COMMIT DROP")
    col_list = ", ".join(f'"{c}"' for c in columns)
    copy_sql = f"COPY stage ({col_list}, unmatched) FROM STDIN WITH (FORMAT csv)"
    unmatched, batch = 0, io.StringIO()
    writer = csv.writer(batch, lineterminator="\n")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, strict=True)
        next(reader)
        try:
            for n, record in enumerate(reader, 1):
                if not record:
                    continue  # a blank line holds no event
                if len(record) == len(columns):
                    writer.writerow(record + [""])
                else:
                    unmatched += 1
                    writer.writerow([""] * len(columns) + [json.dumps({"_unmatched_fields": record})])
                if n % _RECORD_BATCH == 0:
                    _copy_batch(cur, copy_sql, batch)
        except csv.Error as exc:
            raise UsageError(f"{path}: unreadable CSV near line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
    _copy_batch(cur, copy_sql, batch)
    _fold_extra_columns(cur, columns, required)
    cur.execute("UPDATE stage SET extra = coalesce(extra, '{}'::jsonb) || unmatched WHERE unmatched IS NOT NULL")
    if unmatched:
        log.warning("%s: %d record(s) do not match the header; kept with empty fields", path, unmatched)
    return _sha256(path), unmatched


def _copy_batch(cur, copy_sql: str, batch: io.StringIO) -> None:
    batch.seek(0)
    cur.copy_expert(copy_sql, batch)
    batch.seek(0)
    batch.truncate()


def _stage_jsonl(cur, path: Path, required: list[str]) -> tuple[str, list[str], int]:
    cur.execute("CREATE TEMP TABLE stage_lines (line_no bigint GENERATED ALWAYS AS IDENTITY, line text) ON COMMIT DROP")
    sha = _copy(cur, _RAW_LINE_COPY.replace("stage (line)", "stage_lines (line)"), path)
    cur.execute("DELETE FROM stage_lines WHERE coalesce(btrim(line), '') = ''")
    cur.execute(
        "CREATE TEMP TABLE stage_json ON COMMIT DROP AS SELECT line_no, line,"
        " CASE WHEN line IS JSON OBJECT THEN line::jsonb END AS j FROM stage_lines"
    )
    cur.execute("SELECT DISTINCT k FROM stage_json, jsonb_object_keys(j) k ORDER BY 1")
    keys = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT count(*) FROM stage_json WHERE j IS NULL")
    unparsed = cur.fetchone()[0]
    columns = [c for c in required if c in keys] + [k for k in keys if k not in required]

    def field(name: str) -> str:
        return (f"CASE jsonb_typeof(j->'{name}') WHEN 'string' THEN j->>'{name}'"
                f" WHEN 'null' THEN NULL ELSE (j->'{name}')::text END AS \"{name}\"")

    known = ", ".join(f"'{c}'" for c in required)
    cur.execute(
        "CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT line_no, "
        + ", ".join(field(c) for c in required)
        + f", CASE WHEN j IS NULL THEN jsonb_build_object('_unparsed_line', line)"
          f" WHEN (j - ARRAY[{known}]) = '{{}}'::jsonb THEN NULL ELSE j - ARRAY[{known}] END AS extra"
        " FROM stage_json"
    )
    if unparsed:
        log.warning("%s: %d line(s) are not JSON objects; kept with empty fields", path, unparsed)
    return sha, columns, unparsed
