"""The gate (`status --date D`, README, "Command line"): a verdict describes exactly the day's rows.

Real processes on the embedded server: stale verdicts after a later load,
crashed and killed runs, a read-only role, no data, replaced loads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from monitor import database, gx_project, loader, pipeline, results_store, settings
from monitor.backends import postgres as backend
from monitor.settings import PROJECT_ROOT
from tests.conftest import INCIDENT_DAY, load_day
from tests.peers import Webhook
from tests.test_cli import runner

DAY = dt.date(2026, 11, 20)


def _status(url: str, day=DAY):
    proc = runner("status", "--date", str(day), "--json", url=url)
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc


def _rows(sql: str, **params):
    with database.engine().connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def _empty_client_ids(tmp_path, n=20):
    """A late load of rows without client id (a warning on a day without history: the feed's
    usual rate is not known yet) and without timestamp (critical at any count)."""
    path = tmp_path / "late.csv"
    path.write_text("client_id,timestamp,event_name,event_data\n" + ",,page_viewed,{}\n" * n)
    return path


def test_a_load_after_the_run_makes_the_verdict_stale(db, tmp_path):
    load_day(tmp_path, DAY)
    assert runner("run", "--date", str(DAY), url=db).returncode == 0
    code, entry, _ = _status(db)
    assert code == 0 and entry["latest"]["status"] == "pass" and entry["stale"] is False
    assert runner("load", str(_empty_client_ids(tmp_path)), "--date", str(DAY), url=db).returncode == 0
    code, entry, proc = _status(db)
    assert code == 1 and entry["stale"] is True and "stale" in entry["reason"]
    assert entry["latest"]["status"] == "pass" and entry["loads"] == 2
    text = runner("status", "--date", str(DAY), url=db)
    assert text.returncode == 1 and "gate closed" in text.stdout and "stale" in text.stdout
    # the next run covers the new rows, and they are what it judges
    run = runner("run", "--date", str(DAY), "--json", url=db)
    assert run.returncode == 1
    assert "null_client_id" in {a["check"] for a in json.loads(run.stdout)["alerts"]}
    code, entry, _ = _status(db)
    assert code == 1 and entry["stale"] is False and entry["latest"]["status"] == "critical"


def test_a_day_that_was_never_run_has_no_verdict(db, tmp_path):
    load_day(tmp_path, DAY)
    code, entry, _ = _status(db)
    assert code == 1 and entry["latest"] is None and entry["reason"] == "never run"


def test_a_run_killed_midway_leaves_the_gate_closed_and_the_next_run_succeeds(db, tmp_path):
    load_day(tmp_path, DAY)
    assert runner("run", "--date", str(DAY), url=db).returncode == 0
    env = dict(os.environ, DATABASE_URL=db)
    proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "runner.py"), "run", "--date", str(DAY)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _rows("SELECT 1 FROM monitor.runs WHERE day = :d AND finished_at IS NULL", d=DAY):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never opened"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    code, entry, _ = _status(db)
    assert code == 1 and entry["latest"] is None and "has not finished" in entry["reason"]
    assert runner("run", "--date", str(DAY), url=db).returncode == 0
    code, entry, _ = _status(db)
    assert code == 0 and entry["latest"]["status"] == "pass"
    statuses = [r.status for r in _rows("SELECT status FROM monitor.runs WHERE day = :d ORDER BY started_at", d=DAY)]
    assert statuses == ["pass", "crashed", "pass"]


def test_a_run_that_raises_is_recorded_and_closes_the_gate(db, tmp_path, monkeypatch):
    load_day(tmp_path, DAY)
    pipeline.run_day(DAY, settings.load())

    def broken(*args, **kwargs):
        raise RuntimeError("validation store unavailable")

    monkeypatch.setattr(gx_project, "run_checkpoint", broken)
    with pytest.raises(Exception, match="validation store unavailable"):
        pipeline.run_day(DAY, settings.load())
    run = _rows("SELECT status, error, finished_at FROM monitor.runs ORDER BY started_at DESC LIMIT 1")[0]
    assert run.status == "error" and "validation store unavailable" in run.error and run.finished_at
    code, entry, _ = _status(db)
    assert code == 1 and entry["latest"] is None and "validation store unavailable" in entry["reason"]


def test_a_check_that_crashes_closes_the_gate_whatever_its_severity(db, tmp_path, monkeypatch):
    from custom_expectations import ExpectDayRateToMatchBaseline

    load_day(tmp_path, DAY)
    original = ExpectDayRateToMatchBaseline.check

    def crash_on_unknown_names(self, series):
        if self.metric == "unknown_event_name":  # a warning check
            raise ValueError("boom in a warning check")
        return original(self, series)

    monkeypatch.setattr(ExpectDayRateToMatchBaseline, "check", crash_on_unknown_names)
    summary = pipeline.run_day(DAY, settings.load())
    errored = [r for r in summary.results if r.status == "error"]
    assert [r.check for r in errored] == ["unknown_event_name"] and errored[0].severity == "warning"
    assert summary.status == "critical"
    alert = [a for a in summary.to_json()["alerts"] if a["check"] == "unknown_event_name"][0]
    assert alert["severity"] == "critical" and "failed to run" in alert["message"]
    stored = _rows("SELECT status FROM monitor.monitoring_results WHERE check_name = 'unknown_event_name'")
    assert [r.status for r in stored] == ["error"]


def test_a_failing_store_action_still_alerts_and_stores(db, tmp_path, monkeypatch):
    load_day(tmp_path, DAY, ("zero_purchase",))
    real_store, calls = results_store.store, []

    def store_fails_once(conn, summary):
        calls.append(summary.run_id)
        if len(calls) == 1:
            raise sa.exc.OperationalError("INSERT", {}, Exception("connection reset"))
        return real_store(conn, summary)

    monkeypatch.setattr(results_store, "store", store_fails_once)
    with Webhook() as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        summary = pipeline.run_day(DAY, settings.load())
    assert summary.status == "critical" and len(hook.posts) == 1  # the alert went out
    assert len(calls) == 2  # the pipeline stored what the action could not
    stored = _rows("SELECT count(*) FROM monitor.monitoring_results WHERE run_id = :r", r=summary.run_id)[0][0]
    assert stored == len(summary.results)
    assert _rows("SELECT status FROM monitor.runs WHERE run_id = :r", r=summary.run_id)[0][0] == "critical"


def test_no_data_is_its_own_critical_check(db):
    summary = pipeline.run_day(DAY, settings.load())
    by_check = {r.check: r for r in summary.results}
    assert by_check["no_data"].status == "critical"
    assert by_check["no_data"].message == f"no rows loaded for {DAY}: the export or ingestion did not run"
    assert by_check["zero_purchase"].status == "skipped"  # no rows is not "zero purchases"
    assert by_check["checkout_without_purchase"].status == "pass"


def test_a_header_only_file_raises_schema_alert_and_no_data(db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\x8f\xa1garbage;\xfe\xc3(bytes)")
    assert runner("load", str(path), "--date", str(DAY), url=db).returncode == 0
    proc = runner("run", "--date", str(DAY), "--json", url=db)
    alerts = {a["check"]: a for a in json.loads(proc.stdout)["alerts"]}
    assert proc.returncode == 1 and {"required_columns", "no_data"} <= set(alerts)
    assert "client_id" in alerts["required_columns"]["message"]


def test_status_runs_under_a_read_only_role(db, tmp_path):
    load_day(tmp_path, DAY)
    assert runner("run", "--date", str(DAY), url=db).returncode == 0
    with database.engine().begin() as conn:
        conn.execute(sa.text("DROP ROLE IF EXISTS gate_reader"))
        conn.execute(sa.text("CREATE ROLE gate_reader LOGIN"))
        for schema in ("events", "monitor"):
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO gate_reader"))
            conn.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO gate_reader"))
    reader_url = make_url(db).set(username="gate_reader").render_as_string(hide_password=False)
    try:
        code, entry, proc = _status(reader_url)
        assert code == 0 and entry["latest"]["status"] == "pass", proc.stderr
        # and it cannot write: the gate needs no DDL or DML rights
        load = runner("load", str(_empty_client_ids(tmp_path)), "--date", str(DAY), url=reader_url)
        assert load.returncode == 3 and "permission denied" in load.stderr
    finally:
        database._engine(reader_url).dispose()
        with database.engine().begin() as conn:
            conn.execute(sa.text("DROP OWNED BY gate_reader"))
            conn.execute(sa.text("DROP ROLE gate_reader"))


def test_commands_other_than_init_refuse_an_old_schema(db):
    with database.engine().begin() as conn:
        conn.execute(sa.text("UPDATE monitor.schema_version SET version = version - 1"))
    for args in (["status"], ["run", "--date", str(DAY)], ["status", "--date", str(DAY)]):
        proc = runner(*args, url=db)
        assert proc.returncode == 2 and "run `runner.py init`" in proc.stderr, (args, proc.stderr)
    assert runner("init", url=db).returncode == 0
    assert runner("status", url=db).returncode == 0


def test_status_never_locks_behind_a_load(db, tmp_path):
    """The gate takes no lock a running load holds (it changed the schema before)."""
    load_day(tmp_path, DAY)
    with database.engine().connect() as conn, conn.begin():
        conn.execute(sa.text("LOCK TABLE events.raw_events IN ROW EXCLUSIVE MODE"))  # what a COPY holds
        proc = runner("status", "--date", str(DAY), url=db)
    assert proc.returncode == 1 and "never run" in proc.stdout


def test_replace_is_atomic_for_a_concurrent_reader(db, tmp_path):
    first = tmp_path / "events.csv"
    first.write_text("client_id,timestamp,event_name,event_data\n"
                     + f"c1,{DAY}T10:00:00Z,page_viewed,{{}}\n" * 40_000)
    loader.load_file(database.engine(), settings.load(), first, DAY)
    first.write_text("client_id,timestamp,event_name,event_data\n"
                     + f"c2,{DAY}T10:00:00Z,page_viewed,{{}}\n" * 60_000)
    seen, stop = set(), threading.Event()
    reader = sa.create_engine(db)

    def read():
        with reader.connect() as conn:
            while not stop.is_set():
                seen.add(tuple(conn.execute(sa.text(
                    "SELECT (SELECT count(*) FROM events.raw_events WHERE partition_date = :d),"
                    " (SELECT sum(row_count) FROM events.load_days WHERE partition_date = :d)"), {"d": DAY}).one()))
                conn.commit()

    thread = threading.Thread(target=read)
    thread.start()
    try:
        time.sleep(0.2)
        loader.load_file(database.engine(), settings.load(), first, DAY, replace=True)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        reader.dispose()
    assert seen == {(40_000, 40_000), (60_000, 60_000)}


def test_rename_of_an_event_follows_the_config(db, tmp_path, monkeypatch):
    """[events] purchase = "order_completed": zero_purchase and the funnel follow the feed's name."""
    from monitor import generator

    gen = generator.Generator(seed=3, sessions_per_day=600)
    rows = [[c, t, "order_completed" if n == "purchase" else n, d] for c, t, n, d in gen.day_rows(DAY)]
    load_path = generator.write_csv(tmp_path / "renamed.csv", rows)
    loader.load_file(database.engine(), settings.load(), load_path, DAY)
    default = {a.check for a in pipeline.run_day(DAY, settings.load()).alerts}
    assert {"zero_purchase", "checkout_without_purchase", "unknown_event_name"} <= default
    cfg = tmp_path / "renamed.toml"
    cfg.write_text('[events]\npurchase = "order_completed"\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    s = settings.load()
    pipeline.init(s)
    summary = pipeline.run_day(DAY, s)
    assert summary.alerts == [], [a.message for a in summary.alerts]
    with database.engine().connect() as conn:
        purchases = conn.execute(sa.text("SELECT value FROM monitor.daily_metrics WHERE metric = 'events'"
                                         " AND dimension = 'order_completed'")).scalar()
    assert purchases and purchases > 0
