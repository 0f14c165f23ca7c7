"""`load FILE [--date D] [--replace]`: COPY a CSV or JSON Lines file into events.raw_events.

Everything happens in one transaction, so a failed load leaves no partial day
and a replacing load is seen whole or not at all. Rows are stored as received;
a row with broken fields or bytes that are not UTF-8 is kept (and later counted
by the checks). Unknown columns go to the ``extra`` jsonb column. A load
only stores: its readers summarise the new BRIN ranges, and the day's first run
classifies its new user agents (monitor.sources).

No text from the file ever becomes SQL: the stage's columns are positional
(``_c1``, ``_c2``...), header names travel as parameters, and the only
identifiers written into statements are the fixed input column names.
"""

from __future__ import annotations

import concurrent.futures
import csv
import datetime as dt
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg2
from psycopg2 import sql

from monitor import days as days_
from monitor.errors import UsageError
from monitor.settings import FIELD_COLUMNS, INPUT_COLUMNS, Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)

# SQLSTATE of COPY's "extra data after last expected column" / "missing data for column",
# and of "invalid byte sequence for encoding UTF8".
_BAD_COPY_FORMAT = "22P04"
_BAD_ENCODING = "22021"
# Key in ``extra`` marking a row whose bytes were not UTF-8 (kept, decoded with U+FFFD).
INVALID_ENCODING_KEY = "_invalid_encoding"
_SNIFF_BYTES = 1 << 16
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
    invalid_encoding_rows: int = 0
    replaced_loads: tuple[int, ...] = ()


class _CountingReader:
    """The file as COPY reads it, its lines counted on the way: a CSV whose records are one
    line each (nearly every export) needs no second read to number them."""

    def __init__(self, fh):
        self.fh = fh
        self.newlines = 0
        self.last = b""

    def _seen(self, block: bytes) -> bytes:
        if block:
            self.newlines += block.count(b"\n")
            self.last = block[-1:]
        return block

    def read(self, size: int = -1) -> bytes:
        return self._seen(self.fh.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._seen(self.fh.readline(size))

    @property
    def lines(self) -> int:
        return self.newlines + (1 if self.last not in (b"", b"\n") else 0)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy(cur, sql: str, path: Path) -> tuple[str, int]:
    """COPY the whole file; return its sha256 and its number of lines. The file is hashed
    by a thread of its own meanwhile (hashlib lets go of the interpreter's lock): on the
    other core, not in the COPY's way."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        sha = pool.submit(_sha256, path)
        with path.open("rb") as fh:
            reader = _CountingReader(fh)
            cur.copy_expert(sql, reader, size=1 << 16)
            reader._seen(fh.read())  # nothing left unless COPY stopped early
        return sha.result(), reader.lines


def _record_lines(path: Path) -> list[int]:
    """Each CSV record's line in the file, counted after the header (the first event is line 1).

    A quoted field may span lines, and blank lines hold no record, so the
    record number and the line an editor shows part ways; samples name the line.
    """
    starts = []
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        header_lines = end = reader.line_num
        for record in reader:
            if record:
                starts.append(end + 1 - header_lines)
            end = reader.line_num
    return starts


def _number_by_line(cur, path: Path, table: str, where: str, records: int, lines: int) -> None:
    """Renumber ``line_no`` (the record number) to the record's line when the two differ."""
    if lines <= records + 1:
        return  # one line a record after a one-line header: the numbers already agree
    moved = [(n, line) for n, line in enumerate(_record_lines(path), 1) if line != n]
    if not moved:
        return
    cur.execute("CREATE TEMP TABLE record_lines (n bigint PRIMARY KEY, line bigint) ON COMMIT DROP")
    batch = io.StringIO("".join(f"{n},{line}\n" for n, line in moved))
    cur.copy_expert("COPY record_lines FROM STDIN WITH (FORMAT csv)", batch)
    cur.execute(f"UPDATE {table} t SET line_no = m.line FROM record_lines m WHERE {where} AND t.line_no = m.n")
    cur.execute("DROP TABLE record_lines")


def _refuse_binary(path: Path) -> None:
    """A NUL byte is never part of a text export (and PostgreSQL text cannot hold one)."""
    with path.open("rb") as fh:
        if b"\x00" in fh.read(_SNIFF_BYTES):
            raise UsageError(f"{path}: not a text file (binary content)")


def _repair(text: str) -> tuple[str, bool]:
    """Undo ``surrogateescape``: invalid bytes become U+FFFD; says whether there were any."""
    try:
        text.encode("utf-8")
        return text, False
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), True


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
    """Header names as given (trimmed, BOM dropped); an empty name becomes ``_column_N``."""
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
        try:
            header = next(csv.reader(fh), None)
        except csv.Error as exc:
            raise UsageError(f"{path}: unreadable CSV header: {exc}") from None
    if not header or not any(h.strip() for h in header):
        raise UsageError(f"{path}: empty file or no CSV header row")
    names = [_repair(h.strip().lstrip("\ufeff"))[0] or f"_column_{i}" for i, h in enumerate(header, 1)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"{path}: duplicate column(s) in header: {', '.join(dupes)}")
    return names


def _partition_expr(requested: dt.date | None) -> str:
    if requested:
        return "%(requested)s"
    # each row to its timestamp's day in day.timezone; rows without a usable one to the load's day
    return "coalesce((events.parse_ts(s.\"timestamp\") AT TIME ZONE %(tz)s)::date, %(today)s)"


def load_file(eng: sa.Engine, settings: Settings, path: Path, requested: dt.date | None,
              force: bool = False, replace: bool = False) -> LoadReport:
    """``eng``: an Engine, or anything with its ``raw_connection()`` (database.Libpq)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if replace and requested is None:
        raise UsageError("--replace needs --date: it replaces what earlier loads of this file put in that day")
    _refuse_binary(path)
    fmt = detect_format(path)
    required = list(INPUT_COLUMNS)
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT 1 FROM pg_advisory_xact_lock(hashtext('monitor.load'))")
        cur.execute("SELECT nextval(pg_get_serial_sequence('events.loads', 'load_id'))")
        load_id = cur.fetchone()[0]
        # the feed's own names ([columns]) become the contract's: every later step reads those
        columns = settings.columns.rename(_csv_header(path)) if fmt == "csv" else []
        # a dated CSV of known columns needs no reshaping: COPY it straight into raw_events
        direct = fmt == "csv" and requested is not None and set(columns) <= set(required)
        unparsed = bad_bytes = copied = 0
        cur.execute("SAVEPOINT copy_file")
        try:
            if direct:
                sha, lines = _copy_direct(cur, path, columns, load_id, requested)
                copied = cur.rowcount
                _number_by_line(cur, path, "events.raw_events",
                                cur.mogrify("t.partition_date = %s AND t.load_id = %s",
                                            (requested, load_id)).decode(), copied, lines)
            elif fmt == "csv":
                sha = _stage_csv(cur, path, columns, required)
            else:
                sha, columns, unparsed, bad_bytes = _stage_jsonl(cur, path, required, settings.columns.mapping)
        except psycopg2.DataError as exc:  # COPY refused the file: the caller's input, not the database
            recoverable = exc.pgcode == _BAD_ENCODING or (fmt == "csv" and exc.pgcode == _BAD_COPY_FORMAT)
            if not recoverable:
                msg = " ".join(line.strip() for line in (exc.pgerror or str(exc)).strip().splitlines() if line.strip())
                raise UsageError(f"{path}: unreadable {fmt.upper()}: {msg}") from None
            # odd records or bytes that are not UTF-8: read the file here, keep and mark every row
            cur.execute("ROLLBACK TO SAVEPOINT copy_file")
            direct = False
            if fmt == "csv":
                sha, unparsed, bad_bytes = _stage_csv_records(cur, path, columns, required)
            else:
                sha, columns, unparsed, bad_bytes = _stage_jsonl(cur, path, required, settings.columns.mapping,
                                                                 decode_here=True)
        replaced = _replaced_loads(cur, path, requested) if replace else []
        # checked after the COPY, which hashes the file as it streams; a refused duplicate rolls back
        cur.execute("SELECT load_id FROM events.loads WHERE file_sha256 = %s AND replaced_by IS NULL"
                    " AND NOT load_id = ANY(%s) LIMIT 1", (sha, replaced))
        previous = cur.fetchone()
        if previous and not force:
            raise UsageError(f"{path}: already loaded as load {previous[0]} (same content); use --force to load "
                             "again, or --replace --date D to replace it")
        cur.execute(
            "INSERT INTO events.loads (load_id, source_file, file_sha256, file_format, requested_date, columns)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (load_id, str(path.resolve()), sha, fmt, requested, columns),
        )
        if replaced:
            _drop_replaced(cur, replaced, requested, load_id)
        if direct:
            cur.execute(
                "INSERT INTO events.load_days (load_id, partition_date, row_count)"
                " VALUES (%s, %s, %s) RETURNING partition_date, row_count", (load_id, requested, copied))
            days = dict(cur.fetchall())
        else:
            days = _insert_staged(cur, requested, load_id, settings.day.timezone)
        rows = sum(days.values())
        cur.execute("UPDATE events.loads SET row_count = %s, invalid_encoding_rows = %s WHERE load_id = %s",
                    (rows, bad_bytes, load_id))
        # no ANALYZE here (a quarter of a young table's load time): the day's run samples
        # the table when the planner's estimate of its day is far off (engines.postgres)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    extras = [c for c in columns if c not in required and c not in FIELD_COLUMNS]
    return LoadReport(load_id, rows, {str(d): n for d, n in sorted(days.items())}, tuple(columns),
                      tuple(c for c in required if c not in columns), tuple(extras), unparsed, fmt,
                      bad_bytes, tuple(replaced))


def _replaced_loads(cur, path: Path, day: dt.date) -> list[int]:
    """Loads of a file with this base name that put rows in ``day`` (what --replace removes)."""
    cur.execute(
        """SELECT l.load_id FROM events.loads l JOIN events.load_days d USING (load_id)
           WHERE d.partition_date = %s AND regexp_replace(l.source_file, '^.*/', '') = %s
           ORDER BY 1""", (day, path.name))
    return [r[0] for r in cur.fetchall()]


def _drop_replaced(cur, replaced: list[int], day: dt.date, load_id: int) -> None:
    """In the replacing load's transaction: readers see the old rows or the new, never both or neither."""
    cur.execute("DELETE FROM events.raw_events WHERE partition_date = %s AND load_id = ANY(%s)", (day, replaced))
    cur.execute("DELETE FROM events.load_days WHERE partition_date = %s AND load_id = ANY(%s)", (day, replaced))
    cur.execute("UPDATE events.loads SET replaced_by = %s WHERE load_id = ANY(%s)"
                " AND NOT EXISTS (SELECT 1 FROM events.load_days d WHERE d.load_id = loads.load_id)",
                (load_id, replaced))
    log.info("replacing load(s) %s in %s", ", ".join(map(str, replaced)), day)


def _idents(names) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _copy_direct(cur, path: Path, columns: list[str], load_id: int, day: dt.date) -> tuple[str, int]:
    """COPY into raw_events; its column defaults take the load's id and day from these settings."""
    cur.execute("SELECT set_config('monitor.load_id', %s, true), set_config('monitor.load_day', %s, true),"
                " setval('events.load_line_no', 1, false)", (str(load_id), day.isoformat()))
    copy = sql.SQL("COPY events.raw_events ({}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')")
    return _copy(cur, copy.format(_idents(columns)).as_string(cur), path)


def _insert_staged(cur, requested: dt.date | None, load_id: int, tz: str) -> dict:
    """Move the reshaped stage into raw_events; rows per day. A load of no rows still
    counts for its day (or the load's day), so the day's schema checks see its columns."""
    cur.execute(
        f"""WITH ins AS (
              INSERT INTO events.raw_events
                (partition_date, load_id, line_no, client_id, "timestamp", event_name, event_data, extra)
              SELECT {_partition_expr(requested)}, %(load_id)s, s.line_no,
                     s.client_id, s."timestamp", s.event_name, s.event_data, s.extra
              FROM stage s
              RETURNING partition_date)
            INSERT INTO events.load_days (load_id, partition_date, row_count)
            SELECT %(load_id)s, partition_date, count(*) FROM ins GROUP BY 2
            RETURNING partition_date, row_count""",
        {"requested": requested, "load_id": load_id, "today": days_.today(tz), "tz": tz},
    )
    days = dict(cur.fetchall())
    if not days:
        day = requested or days_.today(tz)
        cur.execute("INSERT INTO events.load_days (load_id, partition_date, row_count) VALUES (%s, %s, 0)",
                    (load_id, day))
        days = {day: 0}
    return days


def _positional(columns: list[str]) -> list[str]:
    return [f"_c{i}" for i in range(1, len(columns) + 1)]


def _create_stage(cur, columns: list[str], flags: bool = False) -> sql.Composable:
    """The stage table: one text column per file column, by position; returns its column list."""
    cols = _positional(columns) + (["flags"] if flags else [])
    defs = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL("jsonb" if c == "flags" else "text"))
                              for c in cols)
    # the loader that reads records itself writes their lines; COPY numbers them as it goes
    line_no = "line_no bigint" if flags else "line_no bigint GENERATED BY DEFAULT AS IDENTITY"
    cur.execute(sql.SQL("CREATE TEMP TABLE stage ({}, {}) ON COMMIT DROP").format(sql.SQL(line_no), defs))
    return _idents((["line_no"] if flags else []) + cols)


def _stage_csv(cur, path: Path, columns: list[str], required: list[str]) -> str:
    cols = _create_stage(cur, columns)
    copy = sql.SQL("COPY stage ({}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')").format(cols)
    sha, lines = _copy(cur, copy.as_string(cur), path)
    _number_by_line(cur, path, "stage", "true", cur.rowcount, lines)
    _name_stage_columns(cur, columns, required)
    return sha


def _name_stage_columns(cur, columns: list[str], required: list[str]) -> None:
    """Give the input columns their names, add the missing ones as NULL, fold the rest into ``extra``."""
    for name in required:
        if name in columns:
            cur.execute(sql.SQL("ALTER TABLE stage RENAME COLUMN {} TO {}").format(
                sql.Identifier(f"_c{columns.index(name) + 1}"), sql.Identifier(name)))
        else:
            cur.execute(sql.SQL("ALTER TABLE stage ADD COLUMN {} text").format(sql.Identifier(name)))
    cur.execute("ALTER TABLE stage ADD COLUMN extra jsonb")
    extras = [(f"_c{i}", name) for i, name in enumerate(columns, 1) if name not in required]
    # jsonb_build_object takes at most 100 arguments: 40 columns per call
    parts, params = [], []
    for start in range(0, len(extras), 40):
        chunk = extras[start:start + 40]
        parts.append(sql.SQL("jsonb_build_object({})").format(
            sql.SQL(", ").join(sql.SQL("%s::text, {}").format(sql.Identifier(col)) for col, _ in chunk)))
        params += [name for _, name in chunk]
    if parts:
        cur.execute(sql.SQL("UPDATE stage SET extra = nullif(jsonb_strip_nulls({}), '{{}}'::jsonb)").format(
            sql.SQL(" || ").join(parts)), params)


def _stage_csv_records(cur, path: Path, columns: list[str], required: list[str]) -> tuple[str, int, int]:
    """Stage a CSV that COPY refused: some records do not match the header, or hold bytes
    that are not UTF-8.

    Python's csv module reads it record by record. A record with another
    number of fields is kept with empty columns and its fields in
    ``extra._unmatched_fields``; a record with invalid bytes is kept with
    them decoded as U+FFFD and marked ``extra._invalid_encoding``. The checks
    count both instead of the whole file failing. Returns the file's sha256
    and the two counts.
    """
    cols = _create_stage(cur, columns, flags=True)
    copy_sql = sql.SQL("COPY stage ({}) FROM STDIN WITH (FORMAT csv)").format(cols).as_string(cur)
    unmatched = bad_bytes = 0
    batch = io.StringIO()
    writer = csv.writer(batch, lineterminator="\n")
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as fh:
        reader = csv.reader(fh, strict=True)
        next(reader)
        header_lines = end = reader.line_num
        try:
            for n, record in enumerate(reader, 1):
                line, end = end + 1 - header_lines, reader.line_num
                if not record:
                    continue  # a blank line holds no event
                flags = {}
                repaired = [_repair(f) for f in record]
                if any(bad for _, bad in repaired):
                    bad_bytes += 1
                    flags[INVALID_ENCODING_KEY] = True
                    record = [f for f, _ in repaired]
                if len(record) == len(columns):
                    out = record
                else:
                    unmatched += 1
                    flags["_unmatched_fields"] = record
                    out = [""] * len(columns)
                writer.writerow([line] + out + [json.dumps(flags) if flags else ""])
                if n % _RECORD_BATCH == 0:
                    _copy_batch(cur, copy_sql, batch)
        except csv.Error as exc:
            raise UsageError(f"{path}: unreadable CSV near line {reader.line_num}: {exc}") from None
    _copy_batch(cur, copy_sql, batch)
    _name_stage_columns(cur, columns, required)
    cur.execute("UPDATE stage SET extra = coalesce(extra, '{}'::jsonb) || flags WHERE flags IS NOT NULL")
    if unmatched:
        log.warning("%s: %d record(s) do not match the header; kept with empty fields", path, unmatched)
    if bad_bytes:
        log.warning("%s: %d record(s) hold bytes that are not UTF-8; kept, decoded as U+FFFD", path, bad_bytes)
    return _sha256(path), unmatched, bad_bytes


def _copy_batch(cur, copy_sql: str, batch: io.StringIO) -> None:
    batch.seek(0)
    cur.copy_expert(copy_sql, batch)
    batch.seek(0)
    batch.truncate()


def _stage_jsonl(cur, path: Path, required: list[str], mapping: dict[str, str],
                 decode_here: bool = False) -> tuple[str, list[str], int, int]:
    """Stage JSON Lines: one object per line, its input keys as columns, the rest in ``extra``.

    COPY reads the lines whole; when they hold bytes that are not UTF-8
    (``decode_here``), Python decodes them, replacing those bytes with U+FFFD
    and marking the lines. ``mapping`` (contract name -> the feed's key) renames keys first.
    """
    # the identity's sequence goes with the table at commit: the connection may load again
    cur.execute("CREATE TEMP TABLE stage_lines (line_no bigint GENERATED BY DEFAULT AS IDENTITY, line text,"
                " bad boolean) ON COMMIT DROP")
    bad_bytes = 0
    if decode_here:
        bad_bytes = _copy_lines_decoded(cur, path)
        sha = _sha256(path)
    else:
        sha, _ = _copy(cur, _RAW_LINE_COPY.replace("stage (line)", "stage_lines (line)"), path)
    cur.execute("DELETE FROM stage_lines WHERE coalesce(btrim(line), '') = ''")
    cur.execute(
        "CREATE TEMP TABLE stage_json ON COMMIT DROP AS SELECT line_no, line, bad,"
        " CASE WHEN line IS JSON OBJECT AND (strpos(line, '\\u0000') = 0 OR pg_input_is_valid(line, 'jsonb'))"
        " THEN line::jsonb END AS j FROM stage_lines"
    )
    # valid JSON may hold what jsonb cannot (the escape \u0000, NUL): the line is kept, the
    # escape read as U+FFFD and the row marked, as for bytes that are not UTF-8
    cur.execute("UPDATE stage_json SET j = replace(line, '\\u0000', '\\ufffd')::jsonb, bad = true"
                " WHERE j IS NULL AND strpos(line, '\\u0000') > 0 AND line IS JSON OBJECT"
                " AND pg_input_is_valid(replace(line, '\\u0000', '\\ufffd'), 'jsonb')")
    for contract, feed in mapping.items():  # the feed's key takes the contract name; a clashing key is kept aside
        cur.execute("UPDATE stage_json SET j = jsonb_strip_nulls(j - %(feed)s::text - %(contract)s::text"
                    " || jsonb_build_object(%(contract)s::text, j->%(feed)s, '_feed_' || %(contract)s, j->%(contract)s))"
                    " WHERE j ?| array[%(feed)s::text, %(contract)s::text]", {"feed": feed, "contract": contract})
    cur.execute("SELECT DISTINCT k FROM stage_json, jsonb_object_keys(j) k ORDER BY 1")
    keys = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT count(*) FROM stage_json WHERE j IS NULL")
    unparsed = cur.fetchone()[0]
    columns = [c for c in required if c in keys] + [k for k in keys if k not in required]

    fields = sql.SQL(", ").join(
        sql.SQL("CASE jsonb_typeof(j->{k}) WHEN 'string' THEN j->>{k} WHEN 'null' THEN NULL"
                " ELSE (j->{k})::text END AS {name}").format(k=sql.Literal(c), name=sql.Identifier(c))
        for c in required)
    cur.execute(sql.SQL(
        "CREATE TEMP TABLE stage ON COMMIT DROP AS SELECT line_no, {fields},"
        " nullif(CASE WHEN j IS NULL THEN jsonb_build_object('_unparsed_line', line) ELSE j - %(known)s::text[] END"
        "        || CASE WHEN bad THEN jsonb_build_object(%(flag)s::text, true) ELSE '{{}}'::jsonb END,"
        "        '{{}}'::jsonb) AS extra"
        " FROM stage_json").format(fields=fields), {"known": required, "flag": INVALID_ENCODING_KEY})
    if unparsed:
        log.warning("%s: %d line(s) are not JSON objects; kept with empty fields", path, unparsed)
    if bad_bytes:
        log.warning("%s: %d line(s) hold bytes that are not UTF-8; kept, decoded as U+FFFD", path, bad_bytes)
    return sha, columns, unparsed, bad_bytes


def _copy_lines_decoded(cur, path: Path) -> int:
    """Lines decoded here (invalid bytes -> U+FFFD, line marked) into stage_lines; returns how many were bad."""
    copy_sql = "COPY stage_lines (line_no, line, bad) FROM STDIN WITH (FORMAT csv)"
    bad_lines, batch = 0, io.StringIO()
    writer = csv.writer(batch, lineterminator="\n")
    with path.open("rb") as fh:
        for n, raw_line in enumerate(fh, 1):
            try:
                line, bad = raw_line.decode("utf-8"), False
            except UnicodeDecodeError:
                line, bad = raw_line.decode("utf-8", "replace"), True
                bad_lines += 1
            writer.writerow([n, line.rstrip("\r\n"), "t" if bad else "f"])
            if n % _RECORD_BATCH == 0:
                _copy_batch(cur, copy_sql, batch)
    _copy_batch(cur, copy_sql, batch)
    return bad_lines
