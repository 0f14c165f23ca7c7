"""`load`: rows kept as received, COPY in one transaction, duplicates refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from monitor import database, loader, settings
from monitor.backends import postgres as backend
from monitor.errors import UsageError

DAY = dt.date(2026, 11, 3)


def _rows(sql: str, **params):
    with database.engine().connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def _load(path, day=DAY, force=False):
    return loader.load_file(database.engine(), settings.load(), path, day, force)


def test_csv_keeps_bad_rows_and_extra_columns(db, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "client_id,timestamp,event_name,event_data,debug\n"
        'c1,2026-11-03T10:00:00Z,page_viewed,"{""page_url"":""https://s.example/""}",x\n'
        ',not-a-time,purchase,{broken,\n'
        'c3,2026-11-03T11:00:00+02:00,,"{}",y\n')
    report = _load(path)
    assert report.rows == 3 and report.extra_columns == ("debug",) and report.missing_columns == ()
    rows = _rows('SELECT client_id, "timestamp", event_name, event_data, extra FROM events.raw_events ORDER BY line_no')
    assert tuple(rows[1]) == (None, "not-a-time", "purchase", "{broken", None)  # kept as received
    assert rows[0].extra == {"debug": "x"}
    assert rows[2].event_name is None and rows[2].extra == {"debug": "y"}


def test_jsonl_keeps_lines_that_are_not_json(db, tmp_path):
    path = tmp_path / "e.jsonl"
    lines = [json.dumps({"client_id": "c1", "timestamp": "2026-11-03T10:00:00Z", "event_name": "purchase",
                         "event_data": {"revenue": 10.5}, "shop": "eu"}),
             "{this is not json",
             "",
             json.dumps({"client_id": "c2", "timestamp": "2026-11-03T10:01:00Z", "event_name": "page_viewed",
                         "event_data": "{\"page_url\": \"https://s.example/?a=\\\\b\"}"})]
    path.write_text("\n".join(lines) + "\n")
    report = _load(path)
    assert report.rows == 3 and report.unparsed_lines == 1
    rows = _rows('SELECT client_id, event_data, extra FROM events.raw_events ORDER BY line_no')
    assert json.loads(rows[0].event_data) == {"revenue": 10.5}
    assert rows[0].extra == {"shop": "eu"}
    assert rows[1].client_id is None and rows[1].extra == {"_unparsed_line": "{this is not json"}
    assert json.loads(rows[2].event_data)["page_url"].endswith("a=\\b")


def test_missing_column_still_loads(db, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("client_id,timestamp,event_name\nc1,2026-11-03T10:00:00Z,page_viewed\n")
    report = _load(path)
    assert report.rows == 1 and report.missing_columns == ("event_data",)


def test_same_file_twice_is_refused_unless_forced(db, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("client_id,timestamp,event_name,event_data\nc1,2026-11-03T10:00:00Z,page_viewed,{}\n")
    _load(path)
    with pytest.raises(UsageError, match="already loaded"):
        _load(path)
    assert _load(path, force=True).rows == 1
    assert _rows("SELECT count(*) FROM events.raw_events")[0][0] == 2


@pytest.mark.parametrize("day", [DAY, None], ids=["dated", "undated"])
@pytest.mark.parametrize("tail, message", [
    (b"c2,2026-11-03T10:00:00Z,page_viewed,\x00\x01\x02{}\n", "not a text file"),  # binary, not text
    (b'c2,2026-11-03T10:00:00Z,page_viewed,"{never closed\n', "unreadable CSV"),
], ids=["binary", "unterminated-quote"])
def test_failed_load_leaves_no_partial_day(db, tmp_path, day, tail, message):
    path = tmp_path / "e.csv"
    good = b"c1,2026-11-03T10:00:00Z,page_viewed,{}\n" * 1000
    path.write_bytes(b"client_id,timestamp,event_name,event_data\n" + good + tail)
    with pytest.raises(UsageError, match=message):
        _load(path, day=day)
    assert _rows("SELECT count(*) FROM events.raw_events")[0][0] == 0
    assert _rows("SELECT count(*) FROM events.loads")[0][0] == 0


@pytest.mark.parametrize("day", [DAY, None], ids=["dated", "undated"])
def test_csv_records_not_matching_the_header_are_kept_and_counted(db, tmp_path, day):
    path = tmp_path / "e.csv"
    path.write_text("client_id,timestamp,event_name,event_data\n"
                    "c1,2026-11-03T10:00:00Z,page_viewed,{}\n"
                    "c2,2026-11-03T10:01:00Z,page_viewed,{},EXTRA,FIELDS\n"
                    "c3,2026-11-03T10:02:00Z\n"
                    "\n"
                    'c4,2026-11-03T10:03:00Z,purchase,"{""revenue"":""1""}"\n')
    report = _load(path, day=day)
    assert report.rows == 4 and report.unparsed_lines == 2
    rows = _rows('SELECT client_id, event_name, event_data, extra FROM events.raw_events ORDER BY line_no')
    assert [r.client_id for r in rows] == ["c1", None, None, "c4"]
    assert rows[1].extra == {"_unmatched_fields": ["c2", "2026-11-03T10:01:00Z", "page_viewed", "{}",
                                                   "EXTRA", "FIELDS"]}
    assert rows[2].extra == {"_unmatched_fields": ["c3", "2026-11-03T10:02:00Z"]}
    assert rows[3].event_data == '{"revenue":"1"}' and rows[3].extra is None
    if day:  # the day's checks see the kept records as rows with null fields
        with database.engine().begin() as conn:
            m = backend.compute_day_metrics(conn, DAY, settings.load())
        assert m[("rows", "")] == 4 and m[("null_client_id", "")] == 2


def test_without_date_rows_go_to_their_timestamp_day(db, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("client_id,timestamp,event_name,event_data\n"
                    "c1,2026-11-03T23:30:00-02:00,page_viewed,{}\n"   # 2026-11-04 01:30 UTC
                    "c2,2026-11-03T10:00:00Z,page_viewed,{}\n"
                    "c3,garbage,page_viewed,{}\n")
    report = _load(path, day=None)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert report.days == {"2026-11-03": 1, "2026-11-04": 1, today: 1}


@pytest.mark.parametrize("content, message", [
    ("", "empty file"),
    ("a,a\n1,2\n", "duplicate column"),
], ids=["empty", "duplicate-header"])
def test_bad_files_are_usage_errors(db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        _load(path)


def test_missing_file_is_usage_error(db, tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        _load(tmp_path / "nope.csv")


def test_dated_csv_copied_straight_in_matches_the_staged_path(db, tmp_path):
    """A dated CSV is COPYed into raw_events directly; an undated one goes through the stage.

    Both must store the same rows, numbered by the line each record starts on (a quoted
    newline does not start a record, but it does move the next record's line)."""
    body = ("client_id,timestamp,event_name,event_data\n"
            'c1,2026-11-03T10:00:00Z,page_viewed,"{""page_title"":""two\nlines, ünïcode""}"\n'
            ",2026-11-03T10:01:00Z,,\n"
            'c3,2026-11-03T10:02:00Z,purchase,"{""revenue"":""9.5""}"\n')
    dated, undated = tmp_path / "dated.csv", tmp_path / "undated.csv"
    dated.write_text(body)
    undated.write_text(body + "c4,2026-11-03T10:03:00Z,page_viewed,{}\n")  # other content: not a duplicate
    a, b = _load(dated), _load(undated, day=None)
    assert a.days == {"2026-11-03": 3} and b.days == {"2026-11-03": 4}
    cols = 'partition_date, line_no, client_id, "timestamp", event_name, event_data, extra'
    rows_a = _rows(f"SELECT {cols} FROM events.raw_events WHERE load_id = :l ORDER BY line_no", l=a.load_id)
    rows_b = _rows(f"SELECT {cols} FROM events.raw_events WHERE load_id = :l ORDER BY line_no", l=b.load_id)
    assert rows_a == rows_b[:3] and [r.line_no for r in rows_a] == [1, 3, 4]
    assert rows_a[0].event_data == '{"page_title":"two\nlines, ünïcode"}'  # kept as received


def test_raw_events_load_defaults_fail_outside_a_load(db):
    with pytest.raises(sa.exc.DBAPIError, match="monitor.load_day"):
        with database.engine().begin() as conn:
            conn.execute(sa.text("INSERT INTO events.raw_events (client_id) VALUES ('x')"))


def _pages_another_day_reads() -> int:
    """Heap pages a scan of a day with no rows reads through the day index: an
    unsummarised range matches every day, a summarised one only its own."""
    with database.engine().connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM events.raw_events"
                                    " WHERE partition_date = '2000-01-01'").scalar()
    scans, found = [plan[0]["Plan"]], 0
    while scans:
        node = scans.pop()
        found += node.get("Lossy Heap Blocks", 0) + node.get("Exact Heap Blocks", 0)
        scans += node.get("Plans", [])
    return found


def test_the_days_run_summarises_the_ranges_its_loads_filled(db, tmp_path, login_role):
    """An unsummarised BRIN range matches every day: the first reader summarises it, so other
    days' scans skip these pages; a role that does not own the table still runs the day."""
    path = tmp_path / "e.csv"
    path.write_text("client_id,timestamp,event_name,event_data\n"
                    + "c1,2026-11-03T10:00:00Z,page_viewed,{}\n" * 20_000)
    _load(path)
    assert _pages_another_day_reads() > 100  # a load only stores its rows
    # rows, not maintenance (ALL includes MAINTAIN since PostgreSQL 17)
    runner_url = login_role("runner", *(grant for schema in ("monitor", "events") for grant in (
        f"GRANT ALL ON SCHEMA {schema} TO {{role}}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {{role}}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {{role}}")))
    owner_url = database.database_url()
    database.use(runner_url)
    assert _metrics()[("rows", "")] == 20_000  # not the indexes' owner: left to autovacuum
    database.use(owner_url)
    assert _pages_another_day_reads() > 100
    assert _metrics()[("rows", "")] == 20_000
    assert _pages_another_day_reads() == 0


def _metrics(day=DAY):
    with database.engine().begin() as conn:
        return backend.compute_day_metrics(conn, day, settings.load())


@pytest.mark.parametrize("day", [DAY, None], ids=["dated", "undated"])
def test_bytes_that_are_not_utf8_keep_the_row_and_are_counted(db, tmp_path, day):
    """101 rows, one with a Latin-1 byte: all 101 are kept, that one decoded with U+FFFD and counted."""
    path = tmp_path / "e.csv"
    good = b"c1,2026-11-03T10:00:00Z,page_viewed,{}\n"
    path.write_bytes(b"client_id,timestamp,event_name,event_data\n" + good * 50
                     + b'c9,2026-11-03T10:00:00Z,page_viewed,"{""page_title"":""Caf\xe9""}"\n' + good * 50)
    report = _load(path, day=day)
    assert report.rows == 101 and report.invalid_encoding_rows == 1
    bad = _rows("SELECT line_no, event_data, extra FROM events.raw_events WHERE client_id = 'c9'")
    assert bad[0].event_data == '{"page_title":"Caf\ufffd"}' and bad[0].extra == {"_invalid_encoding": True}
    assert bad[0].line_no == 51
    m = _metrics()
    assert m[("rows", "")] == 101 and m[("invalid_encoding", "")] == 1
    assert m[("invalid_encoding_rate", "")] == pytest.approx(1 / 101)


def test_jsonl_bytes_that_are_not_utf8_keep_the_line(db, tmp_path):
    path = tmp_path / "e.jsonl"
    line = b'{"client_id":"c1","timestamp":"2026-11-03T10:00:00Z","event_name":"page_viewed","event_data":"{}"}\n'
    path.write_bytes(line + line.replace(b"c1", b"caf\xe9") + line)
    report = _load(path)
    assert report.rows == 3 and report.invalid_encoding_rows == 1
    rows = _rows("SELECT line_no, client_id, extra FROM events.raw_events ORDER BY line_no")
    assert [(r.line_no, r.client_id, r.extra) for r in rows] == [
        (1, "c1", None), (2, "caf\ufffd", {"_invalid_encoding": True}), (3, "c1", None)]


@pytest.mark.parametrize("header", [
    "client_id,timestamp,event_name,event_data,",
    'client_id,timestamp,event_name,event_data,"we""ird"", col"',
    "client_id,timestamp,event_name,event_data,x); DROP TABLE events.loads; --",
    "client_id,timestamp,event_name,event_data," + "y" * 80,
], ids=["trailing-comma", "quote-in-name", "sql-in-name", "long-name"])
@pytest.mark.parametrize("day", [DAY, None], ids=["dated", "undated"])
def test_odd_header_names_never_reach_sql(db, tmp_path, header, day):
    path = tmp_path / "e.csv"
    path.write_text(header + "\nc1,2026-11-03T10:00:00Z,page_viewed,{},v\n")
    report = _load(path, day=day)
    assert report.rows == 1 and len(report.extra_columns) == 1
    name = report.extra_columns[0]
    assert name == (header.split(",", 4)[4].strip('"').replace('""', '"') or "_column_5")
    rows = _rows("SELECT client_id, extra FROM events.raw_events")
    assert rows[0].client_id == "c1" and rows[0].extra == {name: "v"}
    assert _rows("SELECT count(*) FROM events.loads")[0][0] == 1  # nothing dropped
    m = _metrics()
    assert m[("unexpected_column", name)] == 1


def test_many_extra_columns(db, tmp_path):
    path = tmp_path / "e.csv"
    extra = [f"x{i}" for i in range(120)]
    path.write_text(",".join(["client_id", "timestamp", "event_name", "event_data"] + extra) + "\n"
                    + ",".join(["c1", "2026-11-03T10:00:00Z", "page_viewed", "{}"] + [str(i) for i in range(120)]) + "\n")
    _load(path)
    assert _rows("SELECT extra FROM events.raw_events")[0].extra == {f"x{i}": str(i) for i in range(120)}


@pytest.mark.parametrize("content", [b"\x8f\xa1garbage;\xfe\xc3(bytes)", b"user,when,what\n"],
                         ids=["random-bytes", "header-only"])
def test_a_file_with_no_rows_still_counts_for_its_day(db, tmp_path, content):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    report = _load(path)
    assert report.rows == 0 and report.days == {str(DAY): 0}
    assert set(report.missing_columns) == {"client_id", "timestamp", "event_name", "event_data"}
    m = _metrics()
    assert m[("rows", "")] == 0 and m[("loads", "")] == 1
    assert m[("missing_column", "client_id")] == 1
    assert ("events", "purchase") not in m  # no rows: no per-type counts, so no "zero purchases"


def test_replace_swaps_a_days_rows_from_the_same_file_name(db, tmp_path):
    first, other = tmp_path / "a" / "events.csv", tmp_path / "other.csv"
    first.parent.mkdir()
    first.write_text("client_id,timestamp,event_name,event_data\n" + "c1,2026-11-03T10:00:00Z,page_viewed,{}\n" * 3)
    other.write_text("client_id,timestamp,event_name,event_data\nc9,2026-11-03T10:00:00Z,purchase,{}\n")
    a = _load(first)
    _load(other)
    with pytest.raises(UsageError, match="already loaded"):  # a plain retry is refused
        _load(first)
    retry = tmp_path / "b" / "events.csv"  # the same base name, other content, from another folder
    retry.parent.mkdir()
    retry.write_text("client_id,timestamp,event_name,event_data\n" + "c2,2026-11-03T11:00:00Z,page_viewed,{}\n" * 5)
    r = loader.load_file(database.engine(), settings.load(), retry, DAY, replace=True)
    assert r.replaced_loads == (a.load_id,) and r.rows == 5
    rows = _rows("SELECT client_id, count(*) AS n FROM events.raw_events GROUP BY 1 ORDER BY 1")
    assert [(x.client_id, x.n) for x in rows] == [("c2", 5), ("c9", 1)]
    assert _rows("SELECT count(*) FROM events.load_days WHERE partition_date = :d", d=DAY)[0][0] == 2
    # replacing with the same content again (a retried task) is allowed and changes nothing
    again = loader.load_file(database.engine(), settings.load(), retry, DAY, replace=True)
    assert again.replaced_loads == (r.load_id,)
    assert _rows("SELECT count(*) FROM events.raw_events")[0][0] == 6


def test_replace_after_a_failed_load(db, tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"client_id,timestamp,event_name,event_data\nc1,2026-11-03T10:00:00Z,page_viewed,\"{\n")
    with pytest.raises(UsageError):
        loader.load_file(database.engine(), settings.load(), path, DAY, replace=True)
    path.write_text("client_id,timestamp,event_name,event_data\nc1,2026-11-03T10:00:00Z,page_viewed,{}\n")
    r = loader.load_file(database.engine(), settings.load(), path, DAY, replace=True)
    assert r.rows == 1 and r.replaced_loads == ()


def test_replace_needs_a_date(db, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("client_id,timestamp,event_name,event_data\n")
    with pytest.raises(UsageError, match="--replace needs --date"):
        loader.load_file(database.engine(), settings.load(), path, None, replace=True)


@pytest.mark.parametrize("url", [
    "postgresql+psycopg2://postgres@/monitor?host=/tmp/sock-dir",
    "postgresql+psycopg2://u%40team:p%3Aw%2Fd@db.example.com:6543/shop?sslmode=require&application_name=gate",
    "postgresql+psycopg2://reader@10.0.0.5/events",
], ids=["unix-socket", "escaped-credentials-and-query", "host-only"])
def test_loads_connection_takes_what_sqlalchemy_would_hand_psycopg2(url):
    """`load` connects without SQLAlchemy (database.Libpq): the same libpq keywords it would pass."""
    from sqlalchemy.dialects.postgresql import psycopg2 as dialect

    _, expected = dialect.dialect().create_connect_args(sa.engine.make_url(url))
    assert database.Libpq(url).params == {**expected, "options": database.UTC_OPTIONS}


def test_a_load_process_imports_no_sqlalchemy(db, tmp_path):
    """Importing SQLAlchemy is a quarter of a 100k-row load (README, "The day-cost targets")."""
    import os
    import subprocess
    import sys

    path = tmp_path / "e.csv"
    path.write_text('client_id,timestamp,event_name,event_data\nc1,2026-11-03T10:00:00Z,page_viewed,"{}"\n')
    proc = subprocess.run([sys.executable, "-X", "importtime", str(settings.PROJECT_ROOT / "runner.py"), "load",
                           str(path), "--date", str(DAY)], env=dict(os.environ, DATABASE_URL=db),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "loaded 1 rows" in proc.stdout, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "psycopg2" in imported and not {m for m in imported if m.split(".")[0] == "sqlalchemy"}
    assert _rows("SELECT count(*) FROM events.raw_events")[0][0] == 1


def test_one_connection_loads_json_lines_again(db, tmp_path):
    """A connection loads one JSON Lines file after another: nothing a load made outlives it."""
    eng = sa.create_engine(db, pool_size=1, max_overflow=0)  # every load gets the same session
    try:
        for n in range(2):
            path = tmp_path / f"e{n}.jsonl"
            path.write_text(json.dumps({"client_id": f"c{n}", "timestamp": "2026-11-03T10:00:00Z",
                                        "event_name": "page_viewed", "event_data": {}}) + "\n")
            assert loader.load_file(eng, settings.load(), path, DAY).rows == 1
    finally:
        eng.dispose()
    assert _rows("SELECT string_agg(client_id, ',' ORDER BY load_id) FROM events.raw_events")[0][0] == "c0,c1"
