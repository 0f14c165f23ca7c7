"""Intraday runs on a generated shop that loads a file per hour: incidents caught within
the hour, paged once, cleared once; clean days stay quiet; small shops are caught later,
never falsely; the daily gate is left alone; each load's rows are counted once."""

from __future__ import annotations

import datetime as dt
import email
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import database, generator, loader, pipeline, settings
from monitor.cli import main
from monitor.store import intraday as store
from monitor.verdict.intraday import _count_new_loads, run_intraday
from tests.conftest import create_database, drop_database
from tests.peers import Mailbox, Webhook, mail_env

HISTORY_START = dt.date(2026, 8, 3)  # a Monday
HISTORY_DAYS = 21  # three weeks
DAY = HISTORY_START + dt.timedelta(days=HISTORY_DAYS)  # the day watched within the day


def _history(server_url, state_dir, sessions: int, seed: int) -> str:
    """A database holding three weeks of a shop's days, loaded and counted once."""
    name = create_database(server_url)
    url = database.with_database(server_url, name)
    database.use(url)
    try:
        s = settings.load()
        pipeline.init(s)
        gen = generator.Generator(seed=seed, sessions_per_day=sessions)
        folder = state_dir / f"intraday-{sessions}-{seed}"
        for i in range(HISTORY_DAYS):
            day = HISTORY_START + dt.timedelta(days=i)
            path = generator.write_csv(folder / f"events_{day}.csv", gen.day_rows(day))
            loader.load_file(database.engine(), s, path, day)
        _count_new_loads(database.engine(), [HISTORY_START + dt.timedelta(days=i) for i in range(HISTORY_DAYS)], s)
    finally:
        database._engine(url).dispose()
        database.use(None)
    return name


@pytest.fixture(scope="module")
def shop(server_url, state_dir):
    """~6,000 sessions a day."""
    name = _history(server_url, state_dir, 6000, seed=31)
    yield name
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def small_shop(server_url, state_dir):
    """~300 sessions a day: about six purchases."""
    name = _history(server_url, state_dir, 300, seed=32)
    yield name
    drop_database(server_url, name)


@pytest.fixture
def quick_config(tmp_path, monkeypatch):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text("[alerting]\nretries = 1\nbackoff_seconds = 0.01\ntimeout_seconds = 2\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    return settings.load()


def _day_rows(sessions: int, seed: int, day: dt.date = DAY, incidents: tuple[str, ...] = ()) -> list[list[str]]:
    gen = generator.Generator(seed=seed, sessions_per_day=sessions)
    return gen.day_rows(day, incidents)


def _by_hour(rows: list[list[str]]) -> dict[int, list[list[str]]]:
    hours: dict[int, list[list[str]]] = {h: [] for h in range(24)}
    for r in rows:
        hours[int(r[1][11:13])].append(r)
    return hours


def _load_hour(folder: Path, day: dt.date, hour: int, rows: list[list[str]]) -> None:
    path = generator.write_csv(folder / f"events_{day}_{hour:02d}.csv", rows)
    loader.load_file(database.engine(), settings.load(), path, day, force=True)  # an empty hour is a file too


def _purchases_stop(rows, start_hour: int, end_hour: int = 24):
    return [r for r in rows if not (r[2] == "purchase" and start_hour <= int(r[1][11:13]) < end_hour)]


def _hourly(tmp_path, rows, s, send=True, hours=range(24), day=DAY):
    """Load the day hour by hour, running intraday after each file; returns the summaries by hour."""
    by_hour = _by_hour(rows)
    out = {}
    for h in hours:
        _load_hour(tmp_path, day, h, by_hour[h])
        out[h + 1] = run_intraday(day, (h + 1) * 60, s, send=send)
    return out


def _check(result, name: str):
    return next(r for r in result.summary.results if r.check == name)



def test_purchases_stopping_at_nine_pages_once_by_eleven_and_clears_once(shop, use_database, quick_config, tmp_path,
                                                                          monkeypatch):
    use_database(shop)
    rows = _purchases_stop(_day_rows(6000, seed=41), 9, 13)  # purchases come back at 13:00
    with Webhook() as hook, Mailbox() as mail:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        mail_env(monkeypatch, mail.port, "data-team@shop.example")
        s = settings.load()
        runs = _hourly(tmp_path, rows, s, hours=range(16))
        slack, mails = list(hook.posts), list(mail.messages)

    assert all(r.status != "critical" for h, r in runs.items() if h <= 9), "critical before purchases stopped"
    caught = [h for h, r in runs.items() if _check(r, "purchases").status == "critical"]
    assert caught and caught[0] in (10, 11), f"purchases stop caught at {caught[:1]}"
    first = _check(runs[caught[0]], "purchases")
    assert first.category == "volume" and first.message.startswith("purchase events stopped at 09:00 UTC: 0 since")
    assert "expected by" in first.message and "checkout_started" in first.message
    assert runs[caught[0]].to_json()["until"] == f"{caught[0]:02d}:00"
    # it stays critical until purchases return; the 14:00 run sees them again
    assert all(_check(runs[h], "purchases").status == "critical" for h in range(caught[0], 14))
    assert _check(runs[14], "purchases").status == "pass"

    # one page, then one all-clear, on each channel; the runs between stay silent
    assert len(slack) == 2 and len(mails) == 2
    assert "purchases" in slack[0]["text"] and "[CRITICAL]" in slack[0]["text"]
    assert "stopped at 09:00 UTC" in json.dumps(slack[0])
    assert slack[1]["text"].startswith(f"[RESOLVED] event data {DAY}")
    subjects = [email.message_from_bytes(m.content)["Subject"] for m in mails]
    assert subjects[0].startswith(f"[CRITICAL] event data {DAY} so far") and subjects[1].startswith("[RESOLVED]")

    with database.engine().connect() as conn:
        incidents = conn.execute(sa.text("SELECT check_name, closed_run IS NOT NULL FROM monitor.intraday_incidents"
                                         " WHERE day = :d AND check_name = 'purchases'"), {"d": DAY}).all()
        gate = conn.execute(sa.text("SELECT reason FROM monitor.day_gate WHERE day = :d"), {"d": DAY}).scalar()
    assert incidents == [("purchases", True)]
    assert gate == "never run", "intraday runs never give the day a verdict"


def test_a_clean_day_run_every_hour_stays_quiet(shop, use_database, quick_config, tmp_path):
    use_database(shop)
    runs = _hourly(tmp_path, _day_rows(6000, seed=42), settings.load(), send=False)
    critical = [(h, a.check, a.message) for h, r in runs.items() for a in r.summary.alerts if a.status == "critical"]
    warnings = [(h, a.check, a.message) for h, r in runs.items() for a in r.summary.alerts if a.status == "warning"]
    assert not critical
    assert len(warnings) <= 1, warnings
    assert runs[24].to_json()["until"] == "24:00"
    # every rule judged the day: none was skipped for want of history
    assert not [r.check for r in runs[24].summary.results if r.status == "skipped"]


def test_a_small_shop_is_caught_later_never_falsely(small_shop, use_database, quick_config, tmp_path):
    use_database(small_shop)
    clean = _hourly(tmp_path / "clean", _day_rows(300, seed=43), settings.load(), send=False)
    assert not [(h, a.check) for h, r in clean.items() for a in r.summary.alerts]

    nxt = DAY + dt.timedelta(days=1)  # the next day, with the stop
    stopped = _hourly(tmp_path / "stop", _purchases_stop(_day_rows(300, seed=44, day=nxt), 9), settings.load(),
                      send=False, day=nxt)
    caught = [h for h, r in stopped.items() if r.status == "critical"]
    # not on one or two purchases' worth of evidence: later in the day if at all
    assert all(h > 11 for h in caught), caught
    assert all(_check(stopped[h], "purchases").status == "critical" for h in caught)
    at_eleven = _check(stopped[11], "purchases")
    assert "too few yet to tell" in at_eleven.message or "too few to tell" in at_eleven.message
    assert "widened" in _check(stopped[11], "events_checkout").message or \
        "too few to tell" in _check(stopped[11], "events_checkout").message
    # the day's own run says it in full the next morning
    assert pipeline.run_day(nxt, settings.load(), send=False).status == "critical"


def test_a_null_spike_from_ten_is_caught_at_eleven(shop, use_database, quick_config, tmp_path):
    use_database(shop)
    rows = _day_rows(6000, seed=45)
    for i, r in enumerate(rows):
        if r[1][11:13] == "10" and i % 5 == 0:
            r[0] = ""
    runs = _hourly(tmp_path, rows, settings.load(), send=False, hours=range(11))
    assert all(_check(runs[h], "null_client_id").status == "pass" for h in range(1, 11))
    spike = _check(runs[11], "null_client_id")
    assert spike.status == "critical" and "10:00-10:59" in spike.message and "a spike" in spike.message


def test_each_load_is_counted_once_and_a_replaced_load_drops_out(shop, use_database, quick_config, tmp_path):
    use_database(shop)
    s = settings.load()
    by_hour = _by_hour(_day_rows(6000, seed=46))
    for h in range(3):
        _load_hour(tmp_path, DAY, h, by_hour[h])
    run_intraday(DAY, 3 * 60, s, send=False)
    with database.engine().connect() as conn:
        first = conn.execute(sa.text("SELECT load_id, counted_at FROM monitor.intraday_loads WHERE day = :d"
                                     " ORDER BY 1"), {"d": DAY}).all()
    _load_hour(tmp_path, DAY, 3, by_hour[3])
    later = run_intraday(DAY, 4 * 60, s, send=False)
    with database.engine().connect() as conn:
        second = conn.execute(sa.text("SELECT load_id, counted_at FROM monitor.intraday_loads WHERE day = :d"
                                      " ORDER BY 1"), {"d": DAY}).all()
        events = store.slot_series(conn, [DAY])[DAY][("rows", "")]
    assert second[:3] == first and len(second) == 4, "counted loads are never counted again"
    assert sum(events) == sum(len(by_hour[h]) for h in range(4))
    assert later.summary.status == "pass"

    # the 03:00 file again, emptied, replacing the first: its rows leave the counts
    path = generator.write_csv(tmp_path / f"events_{DAY}_03.csv", [])
    loader.load_file(database.engine(), s, path, DAY, replace=True)
    again = run_intraday(DAY, 4 * 60, s, send=False)
    with database.engine().connect() as conn:
        events = store.slot_series(conn, [DAY])[DAY][("rows", "")]
    assert sum(events) == sum(len(by_hour[h]) for h in range(3))
    assert _check(again, "events_total").status == "critical", _check(again, "events_total").message
    assert _check(again, "silence").message.startswith("no events 03:00-03:59 UTC")


def test_the_tail_that_has_not_arrived_is_no_silence_until_it_is_late(shop, use_database, quick_config, tmp_path):
    use_database(shop)
    s = settings.load()
    by_hour = _by_hour(_day_rows(6000, seed=47))
    for h in range(9):
        _load_hour(tmp_path, DAY, h, by_hour[h])
    arrived = dt.datetime(DAY.year, DAY.month, DAY.day, 9, 5, tzinfo=dt.timezone.utc)
    with database.engine().begin() as conn:  # the files arrived as they were written: the last at 09:05
        conn.execute(sa.text("UPDATE events.loads SET loaded_at = :t - (SELECT count(*) FROM events.load_days d2"
                             " WHERE d2.partition_date = :d AND d2.load_id > loads.load_id) * interval '1 hour'"
                             " WHERE load_id IN (SELECT load_id FROM events.load_days WHERE partition_date = :d)"),
                     {"t": arrived, "d": DAY})
    at_ten = run_intraday(DAY, 10 * 60, s, send=False)
    assert at_ten.until == "09:00" and at_ten.status == "pass", [a.message for a in at_ten.summary.alerts]
    late = run_intraday(DAY, 12 * 60, s, send=False)
    fresh = _check(late, "freshness")
    assert fresh.status == "warning" and "the rows reach 09:00" in fresh.message
    assert late.until == "09:00" and late.status != "critical"


def test_cli_json_exit_code_and_status_timeline(shop, use_database, quick_config, tmp_path, capsys):
    use_database(shop)
    rows = _purchases_stop(_day_rows(6000, seed=48), 8)
    for h, part in _by_hour(rows).items():
        if h < 12:
            _load_hour(tmp_path, DAY, h, part)
    assert main(["intraday", "--date", str(DAY), "--until", "08:00", "--json", "--no-notify"]) == 0
    assert main(["intraday", "--date", str(DAY), "--until", "12:00", "--json", "--no-notify"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [x["until"] for x in lines] == ["08:00", "12:00"]
    assert set(lines[1]) == {"date", "status", "alerts", "checks", "passed", "skipped", "run_id", "until"}
    assert lines[1]["status"] == "critical" and lines[1]["alerts"][0]["check"] == "purchases"

    assert main(["status", "--date", str(DAY), "--json"]) == 1  # no daily verdict: the gate stays closed
    entry = json.loads(capsys.readouterr().out)
    assert entry["latest"] is None and entry["reason"] == "never run"
    assert [r["until"] for r in entry["intraday"]] == ["08:00", "12:00"]
    assert entry["intraday"][1]["status"] == "critical"

    report = tmp_path / "report.html"
    assert main(["report", "--out", str(report)]) == 0
    text = report.read_text()
    assert f'data-intraday="{DAY}" data-runs="08:00=pass,12:00=critical"' in text
    assert "<td>12:00-12:00</td><td>critical</td><td>purchases</td>" in text

    assert main(["intraday", "--date", str(DAY), "--until", "25:00"]) == 2
    assert "bad --until" in capsys.readouterr().err


def test_a_page_that_failed_goes_out_with_the_next_run_and_only_once(shop, use_database, quick_config, tmp_path,
                                                                      monkeypatch):
    use_database(shop)
    rows = _purchases_stop(_day_rows(6000, seed=49), 8)
    for h, part in _by_hour(rows).items():
        if h < 13:
            _load_hour(tmp_path, DAY, h, part)
    with Webhook(status=500) as down:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", down.url)
        first = run_intraday(DAY, 11 * 60, settings.load())
    assert first.status == "critical" and down.attempts == 2 and not down.posts  # tried, retried, failed
    with Webhook() as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        run_intraday(DAY, 12 * 60, settings.load())
        run_intraday(DAY, 13 * 60, settings.load())
    assert len(hook.posts) == 1 and "purchases" in hook.posts[0]["text"]
    assert "s3cretToken" not in json.dumps(hook.posts)
    with database.engine().connect() as conn:
        sent = conn.execute(sa.text("SELECT status, count(*) FROM monitor.intraday_notifications GROUP BY 1"
                                    " ORDER BY 1")).all()
        stored = conn.execute(sa.text("SELECT count(*) FROM monitor.intraday_runs WHERE day = :d"), {"d": DAY}).scalar()
    assert sent == [("failed", 1), ("sent", 1)] and stored == 3


def _day_estimate(day: dt.date) -> float:
    with database.engine().connect() as conn:
        plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) SELECT 1 FROM events.raw_events WHERE partition_date = :d"),
                            {"d": day}).scalar()
    return plan[0]["Plan"]["Plan Rows"]


def test_a_day_loaded_in_small_files_is_planned_at_its_size(shop, use_database, quick_config, tmp_path):
    """No hourly file is a large part of the table, so no load analyses the day; the daily
    pass must not be planned for a day of a handful of rows (nested loops: minutes)."""
    from monitor.engines import postgres as postgres_engine

    use_database(shop)
    with database.engine().connect() as conn:
        conn.execute(sa.text("ANALYZE events.raw_events"))
        conn.commit()
    rows = _day_rows(6000, seed=50)
    for h, part in _by_hour(rows).items():
        _load_hour(tmp_path, DAY, h, part)
    assert _day_estimate(DAY) < len(rows) / 10  # what the planner believed before the fix
    postgres_engine.prepare(database.engine(), DAY, settings.load())
    assert _day_estimate(DAY) > len(rows) / 2
