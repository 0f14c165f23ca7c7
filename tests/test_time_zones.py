"""A day in the shop's own time zone (``[day] timezone``): undated loads place rows by the
local day, a day covers exactly that day's rows (23 hours when the clocks spring forward,
25 when they fall back), hours and intraday slots are the local wall clock, and an hour
the clock skips is no silence."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from monitor import database, days, generator, loader, pipeline, settings
from monitor.cli import main
from monitor.store import intraday as intraday_store
from monitor.verdict.intraday import run_intraday

NY = "America/New_York"
SPRING = dt.date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
FALL = dt.date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST


@pytest.fixture
def new_york(tmp_path, monkeypatch):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(f'[day]\ntimezone = "{NY}"\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    return settings.load()


def _local_rows(day: dt.date, seed: int, sessions: int = 1500) -> list[list[str]]:
    """A generated day whose times are New York's wall clock (the generator's are UTC's):
    a shop's traffic follows its own clock. A time the clock skips moves an hour on."""
    rows = generator.Generator(seed=seed, sessions_per_day=sessions).day_rows(day)
    zone = ZoneInfo(NY)
    for r in rows:
        wall = dt.datetime.fromisoformat(r[1].replace("Z", "")).replace(tzinfo=zone)
        r[1] = wall.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return rows


def _local_day(ts: str) -> dt.date:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(ZoneInfo(NY)).date()


@pytest.mark.parametrize("day, hours", [(SPRING, 23), (FALL, 25), (dt.date(2026, 6, 10), 24)],
                         ids=["spring-forward", "fall-back", "summer"])
def test_an_undated_load_puts_each_row_in_its_local_day(db, new_york, tmp_path, day, hours):
    assert (days.start(day + dt.timedelta(days=1), NY) - days.start(day, NY)) == dt.timedelta(hours=hours)
    rows = [r for d in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1))
            for r in generator.Generator(seed=d.toordinal() % 50, sessions_per_day=400).day_rows(d)]
    path = generator.write_csv(tmp_path / "events.csv", rows)  # UTC times spanning three UTC days
    report = loader.load_file(database.engine(), new_york, path, None)
    local = sum(1 for r in rows if _local_day(r[1]) == day)
    assert report.days[str(day)] == local

    metrics = _day_metrics(day, new_york)
    assert metrics["rows:"] == local
    assert metrics["out_of_day_timestamp:"] == 0, "every row of the local day is in the day"
    hours_seen = {k.split(":")[1] for k in metrics if k.startswith("events_by_hour:")}
    if day == SPRING:
        assert "02" not in hours_seen, "02:00-02:59 does not happen that day"


def _day_metrics(day: dt.date, s) -> dict[str, float]:
    """The day's metrics pass alone (what the checks read), without the checkpoint."""
    from monitor.engines import postgres as postgres_engine

    with database.engine().begin() as conn:
        postgres_engine.compute_day_metrics(conn, day, s)
        return dict(conn.execute(sa.text(
            "SELECT metric || ':' || dimension, value FROM monitor.daily_metrics WHERE day = :d"), {"d": day}).all())


def test_a_dated_load_judges_rows_outside_the_local_day_as_out_of_day(db, new_york, tmp_path):
    day = dt.date(2026, 6, 10)
    rows = generator.Generator(seed=3, sessions_per_day=400).day_rows(day)  # one UTC day
    path = generator.write_csv(tmp_path / "events.csv", rows)
    loader.load_file(database.engine(), new_york, path, day)
    summary = pipeline.run_day(day, new_york, send=False)
    out = _day_metrics(day, new_york)["out_of_day_timestamp:"]
    # the UTC day's first four hours are the evening before in New York (EDT, UTC-4)
    assert out == sum(1 for r in rows if _local_day(r[1]) != day) > 0
    invalid = next(a for a in summary.alerts if a.check == "invalid_timestamp")
    assert invalid.severity == "critical"


def test_intraday_slots_follow_the_wall_clock_and_a_skipped_hour_is_no_silence(db, new_york, tmp_path):
    for i in range(4, 0, -1):  # usual days, loaded undated: rows go to their local day
        d = SPRING - dt.timedelta(days=i)
        loader.load_file(database.engine(), new_york,
                         generator.write_csv(tmp_path / f"events_{d}.csv", _local_rows(d, seed=i, sessions=3000)), None)
    today = _local_rows(SPRING, seed=20, sessions=3000)
    loader.load_file(database.engine(), new_york, generator.write_csv(tmp_path / "today.csv", today), None)

    result = run_intraday(SPRING, 6 * 60, new_york, send=False)
    with database.engine().connect() as conn:
        rows = intraday_store.slot_series(conn, [SPRING])[SPRING][("rows", "")]
    assert rows[8:12] == [0.0] * 4, "02:00-02:59 does not happen that day"
    assert sum(rows[12:16]) > sum(rows[16:20]), "the skipped hour's traffic came at 03:00"
    silence = next(r for r in result.summary.results if r.check == "silence")
    assert silence.status == "pass", silence.message
    assert result.status != "critical", [a.message for a in result.summary.alerts]
    assert result.until == "06:00" and result.zone == NY


def test_today_and_yesterday_are_the_zones(db, new_york, tmp_path, capsys):
    assert main(["intraday", "--json", "--no-notify"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["date"] == str(days.today(NY))


def test_an_unknown_zone_is_a_usage_error(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[day]\ntimezone = "Mars/Olympus_Mons"\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    settings.load_file.cache_clear()
    assert main(["status"]) == 2
    assert "Mars/Olympus_Mons" in capsys.readouterr().err
