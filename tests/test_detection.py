"""Detection quality (issue: alerts people keep reading): weekday-aware, incident-proof
baselines, noise floors, "which segment", one story per day, backtest.

The timeline test runs the real pipeline (embedded PostgreSQL, GX) over 12 weeks
of a growing shop with a weekly rhythm, a promo day and the incidents of
generator.TIMELINE_INCIDENTS. The others test the pure baseline arithmetic the
expectations run, on series shaped like the provider's.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from custom_expectations import ExpectDayMetricToMatchBaseline, ExpectDayMixToMatchBaseline
from custom_expectations import baseline as b
from monitor import backtest, database, generator, loader, pipeline, settings, stories
from monitor.summary import CheckResult

MONDAY = dt.date(2026, 6, 1)
LEARNING_DAYS = 14  # no monitor knows a weekday before it has seen it: the first two weeks only learn


@pytest.fixture(scope="module")
def timeline_run(server_url, state_dir, gx_root):
    """The 12-week timeline loaded and run day by day, once for the module."""
    from tests.conftest import create_database, drop_database

    name = create_database(server_url)
    url = database.with_database(server_url, name)
    database.use(url)
    s = settings.load()
    pipeline.init(s)
    gen = generator.Generator(seed=21, sessions_per_day=1000, weekly=generator.WEEKLY_SHOP)
    days = {}
    for day, incidents, scale in generator.timeline(MONDAY):
        path = generator.write_csv(state_dir / "timeline" / f"events_{day}.csv", gen.day_rows(day, incidents, scale),
                                   incidents)
        loader.load_file(database.engine(), s, path, day)
        days[day] = (incidents, pipeline.run_day(day, s, send=False))
    yield url, days
    database._engine(url).dispose()
    database.use(None)
    drop_database(server_url, name)


def test_timeline_catches_every_incident_without_crying_wolf(timeline_run):
    _, days = timeline_run
    missed, false_critical, noisy_clean = {}, {}, {}
    for day, (incidents, summary) in days.items():
        expected = {(e.check, e.severity) for i in incidents if i in generator.CATALOG
                    for e in generator.CATALOG[i].expect}
        found = {(a.check, a.gate_severity) for a in summary.alerts}
        if expected - found:
            missed[day] = (incidents, sorted(expected - found))
        if summary.status == "critical" and not any(sev == "critical" for _, sev in expected):
            false_critical[day] = [a.message for a in summary.alerts]
        clean = not any(i in generator.CATALOG for i in incidents)
        if clean and summary.alerts and (day - MONDAY).days >= LEARNING_DAYS:
            noisy_clean[day] = [a.message for a in summary.alerts]
    assert missed == {}
    assert false_critical == {}
    assert len(noisy_clean) <= 1, noisy_clean
    assert sum(1 for inc, _ in days.values() if any(i in generator.CATALOG for i in inc)) == len(
        generator.TIMELINE_INCIDENTS)


def test_lost_mobile_is_told_as_one_story_with_its_segment(timeline_run):
    _, days = timeline_run
    day = next(d for d, (inc, _) in days.items() if inc == ("lost_mobile_tracking",))
    summary = days[day][1]
    drop = next(a for a in summary.alerts if a.check == "total_events_drop")
    top = drop.alert()["segments"][0]
    assert (top["dimension"], top["value"]) == ("device", "mobile") and top["share_of_change"] > 0.8
    assert "mobile (device) -100%" in drop.message and "of the drop" in drop.message
    groups = stories.group(summary.alerts)
    root, explained = groups[0]
    assert root.check == "total_events_drop"
    assert {"sessions_shift", "device_mix"} <= {a.check for a in explained}


def test_backtest_gives_the_verdicts_run_gave_and_stores_nothing(timeline_run):
    url, days = timeline_run
    start, end = MONDAY + dt.timedelta(days=21), MONDAY + dt.timedelta(days=48)
    with database.engine().connect() as conn:
        before = conn.execute(sa.text("SELECT (SELECT count(*) FROM monitor.runs),"
                                      " (SELECT count(*) FROM monitor.monitoring_results)")).one()
        replayed = backtest.replay(conn, [start + dt.timedelta(days=i) for i in range((end - start).days + 1)],
                                   settings.load())
        conn.rollback()
        after = conn.execute(sa.text("SELECT (SELECT count(*) FROM monitor.runs),"
                                     " (SELECT count(*) FROM monitor.monitoring_results)")).one()
    assert before == after
    assert len(replayed) == 28
    for summary in replayed:
        ran = days[dt.date.fromisoformat(summary.date)][1]
        assert {r.check: r.status for r in summary.results} == {r.check: r.status for r in ran.results}, summary.date


def test_backtest_cli(timeline_run):
    import json

    from tests.test_cli import runner

    url, _ = timeline_run
    (week, weekday), = [k for k, v in generator.TIMELINE_INCIDENTS.items() if v == "volume_drop"]
    drop_day = MONDAY + dt.timedelta(days=7 * week + weekday)
    proc = runner("backtest", "--start", str(drop_day - dt.timedelta(days=6)), "--end",
                  str(drop_day + dt.timedelta(days=7)), "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["replayed"] == 14
    assert body["checks"]["total_events_drop"] == [str(drop_day)]


# --- the arithmetic, on provider-shaped series --------------------------------------------------------

def _series(values: dict[dt.date, float], target: dt.date, observed: float, verdicts=None, accepted=()):
    return {"day": target.isoformat(), "target": {"": observed},
            "history": {d.isoformat(): {"": v} for d, v in values.items()},
            "recent": {}, "verdicts": {d.isoformat(): v for d, v in (verdicts or {}).items()},
            "accepted": [d.isoformat() for d in accepted], "segments": {}, "counts": {}}


def _weekly(weeks: int, level: float, sunday: float = 1.22, end: dt.date = dt.date(2026, 8, 30)):
    """Clean days before ``end`` (a Sunday) with a strong Sunday."""
    return {end - dt.timedelta(days=i): level * (sunday if (end - dt.timedelta(days=i)).weekday() == 6 else 1.0)
            for i in range(1, weeks * 7 + 1)}


def _check(**kw):
    defaults = dict(metric="sessions", max_drop_pct=20, max_rise_pct=20, counts=True, check_name="sessions_shift")
    return ExpectDayMetricToMatchBaseline(**{**defaults, **kw})


@pytest.mark.parametrize("method, alerts", [("weekday", False), ("mean7", True)], ids=["weekday", "mean7"])
def test_a_normal_sunday_passes_the_weekday_method_only(method, alerts):
    sunday = dt.date(2026, 8, 30)
    result = _check(method=method, history_days=42).check(_series(_weekly(6, 1000, sunday=1.3), sunday, 1300))
    assert result["success"] is not alerts, result["result"]["details"]["message"]


@pytest.mark.parametrize("target, observed", [(dt.date(2026, 8, 31), 6.0), (dt.date(2026, 8, 30), 0.0)],
                         ids=["monday", "zero-sunday"])
def test_a_weekday_that_is_usually_zero_is_no_division_by_zero(target, observed):
    """A small shop sells nothing on most Sundays: that weekday's factor is 0, and the
    weekday method must still predict the other days (it raised ZeroDivisionError)."""
    values = {target - dt.timedelta(days=i): 0.0 if (target - dt.timedelta(days=i)).weekday() == 6 else 6.0
              for i in range(1, 43)}
    result = _check(metric="purchases", method="weekday", history_days=42).check(_series(values, target, observed))
    details = result["result"]["details"]
    assert result["success"], details.get("message")
    assert details["baseline"] == (0.0 if target.weekday() == 6 else 6.0)


def test_mean7_is_the_specs_plain_average():
    day = dt.date(2026, 8, 30)
    values = {day - dt.timedelta(days=i): v for i, v in enumerate([100, 110, 90, 100, 120, 80, 100], 1)}
    details = _check(method="mean7", noise_sigma=0).check(_series(values, day, 79))["result"]["details"]
    assert details["baseline"] == 100 and details["low"] == 80


def test_an_alerting_day_is_left_out_of_its_checks_baseline():
    day = dt.date(2026, 8, 30)
    values = {day - dt.timedelta(days=i): 1000.0 for i in range(1, 8)}
    values[day - dt.timedelta(days=1)] = 300.0  # yesterday's outage, which alerted
    verdicts = {day - dt.timedelta(days=1): {"status": "critical", "direction": -1}}
    kept = _check(method="mean7").check(_series(values, day, 1000, verdicts))["result"]["details"]
    polluted = _check(method="mean7", exclude_alerts=False).check(_series(values, day, 1000, verdicts))
    assert kept["baseline"] == 1000 and kept["excluded_days"] == 1 and kept["history_days"] == 6
    assert polluted["result"]["details"]["baseline"] == 900


def test_a_lasting_change_becomes_the_new_normal_after_three_days():
    monday = dt.date(2026, 8, 31)
    values = {monday - dt.timedelta(days=i): 1000.0 for i in range(4, 30)}
    verdicts = {}
    for k in range(3):  # three days in a row at the new level, each alerting "up"
        day = monday - dt.timedelta(days=3 - k)
        result = _check(history_days=42).check(_series(values, day, 1500, verdicts))
        assert not result["success"]
        assert f"day {k + 1} of 3" in result["result"]["details"]["message"]
        values[day] = 1500.0
        verdicts[day] = {"status": "warning", "direction": 1}
    fourth = _check(history_days=42).check(_series(values, monday, 1500, verdicts))
    assert fourth["success"], fourth["result"]["details"]["message"]
    assert fourth["result"]["details"]["baseline_since"] == str(monday - dt.timedelta(days=3))


def test_a_person_can_accept_a_day_at_once():
    monday = dt.date(2026, 8, 31)
    values = {monday - dt.timedelta(days=i): 1000.0 for i in range(2, 30)}
    values[monday - dt.timedelta(days=1)] = 1500.0
    verdicts = {monday - dt.timedelta(days=1): {"status": "warning", "direction": 1}}
    series = _series(values, monday, 1500, verdicts, accepted=[monday - dt.timedelta(days=1)])
    result = _check(min_history=1).check(series)
    assert result["success"] and result["result"]["details"]["baseline_since"] == str(monday - dt.timedelta(days=1))


@pytest.mark.parametrize("level, alerts", [(4, False), (4000, True)], ids=["count-4", "count-4000"])
def test_noise_floor_for_counts(level, alerts):
    day = dt.date(2026, 8, 30)
    values = {day - dt.timedelta(days=i): float(level) for i in range(1, 29)}
    result = _check(max_drop_pct=25, max_rise_pct=None).check(_series(values, day, level * 0.7))
    assert result["success"] is not alerts


def test_noise_floor_from_the_metrics_own_spread():
    day = dt.date(2026, 8, 30)
    swing = [1.0, 0.65, 1.35, 0.8, 1.25, 0.7, 1.15]
    wobbly = {day - dt.timedelta(days=i): 100.0 * swing[i % 7] for i in range(1, 29)}
    steady = {day - dt.timedelta(days=i): 100.0 for i in range(1, 29)}
    check = _check(max_drop_pct=30, max_rise_pct=None, counts=False, method="mean7")
    assert check.check(_series(wobbly, day, 60))["success"]  # it swings like that every other day
    assert not check.check(_series(steady, day, 60))["success"]


def test_revenue_of_few_orders_is_noisy():
    day = dt.date(2026, 8, 30)
    values = {day - dt.timedelta(days=i): 1000.0 for i in range(1, 29)}
    check = _check(metric="revenue", max_drop_pct=50, max_rise_pct=None, counts=False,
                   count_metric="events:purchase")
    few = dict(_series(values, day, 450), counts={d.isoformat(): 12.0 for d in values})
    many = dict(_series(values, day, 450), counts={d.isoformat(): 900.0 for d in values})
    assert check.check(few)["success"] and not check.check(many)["success"]


def test_segments_rank_the_one_that_explains_the_drop():
    segments = {"target": {"device=mobile": 40.0, "device=desktop": 600.0, "device=tablet": 60.0},
                "history": {f"2026-08-{d:02d}": {"device=mobile": 900.0, "device=desktop": 600.0,
                                                  "device=tablet": 60.0} for d in range(20, 27)}}
    usable = set(segments["history"])
    ranked = b.explain_additive(segments, "seg_sessions", usable, scale=1560 / 700)
    assert ranked[0]["dimension"] == "device" and ranked[0]["value"] == "mobile"
    assert ranked[0]["share_of_change"] == pytest.approx(860 / 860, abs=0.01)
    assert b.segments_in_words(ranked, -1).startswith("mobile (device) -96% (100% of the drop)")


def test_a_uniform_change_names_no_segment():
    segments = {"target": {"device=mobile": 1300.0, "device=desktop": 700.0},
                "history": {f"2026-08-{d:02d}": {"device=mobile": 1000.0, "device=desktop": 500.0}
                            for d in range(20, 27)}}
    assert b.explain_additive(segments, "seg_sessions", set(segments["history"]), scale=1500 / 2000) == []


def test_mix_alert_names_its_segment():
    day = dt.date(2026, 8, 30)
    history = {(day - dt.timedelta(days=i)).isoformat(): {"mobile": 0.6, "desktop": 0.35, "tablet": 0.05}
               for i in range(1, 8)}
    series = {"day": day.isoformat(), "target": {"mobile": 0.05, "desktop": 0.85, "tablet": 0.1},
              "history": history, "verdicts": {}, "accepted": []}
    result = ExpectDayMixToMatchBaseline(metric="device_share", max_distance=0.15, dimension_label="device").check(series)
    assert not result["success"]
    assert result["result"]["details"]["segments"][0]["value"] == "mobile"


def _alert(check, category, severity="warning", segment=None):
    details = {"segments": [{"dimension": segment[0], "value": segment[1], "observed": 0, "expected": 1,
                             "share_of_change": 0.9}]} if segment else {}
    return CheckResult(suite="s", check=check, category=category, severity=severity, status=severity,
                       observed=0, expected="", message=check, details=details)


def test_one_story_per_day():
    alerts = [_alert("device_mix", "session", segment=("device", "mobile")),
              _alert("null_client_id", "field_health", "critical"),
              _alert("checkout_to_purchase_rate", "funnel"),
              _alert("total_events_drop", "volume", "critical", segment=("device", "mobile")),
              _alert("sessions_shift", "volume", segment=("device", "mobile"))]
    groups = stories.group(alerts)
    assert [(r.check, [a.check for a in e]) for r, e in groups] == [
        ("total_events_drop", ["sessions_shift", "checkout_to_purchase_rate", "device_mix"]),
        ("null_client_id", [])]


def test_accept_is_stored_and_shown_in_status(db, tmp_path):
    import json

    from tests.conftest import load_day
    from tests.test_cli import runner

    day = dt.date(2026, 9, 3)
    load_day(tmp_path, day, sessions=300)
    assert runner("accept", "--date", str(day), "--check", "sessions_shift", url=db).returncode == 0
    bad = runner("accept", "--date", str(day), "--check", "no_such_check", url=db)
    assert bad.returncode == 2 and "unknown check" in bad.stderr
    entry = json.loads(runner("status", "--date", str(day), "--json", url=db).stdout)
    assert entry["accepted"] == ["sessions_shift"]
    with database.engine().connect() as conn:
        assert conn.execute(sa.text("SELECT check_name FROM monitor.accepted_days")).scalar() == "sessions_shift"


def test_report_shows_the_timeline_offline(timeline_run, tmp_path):
    import re

    from monitor.report import chart_data
    from tests.browser import rendered_dom, screenshot
    from tests.test_cli import runner

    url, days = timeline_run
    out = tmp_path / "report.html"
    proc = runner("report", "--start", str(MONDAY), "--end", str(MONDAY + dt.timedelta(days=83)), "--out", str(out),
                  url=url)
    assert proc.returncode == 0 and str(out) in proc.stdout, proc.stderr
    text = out.read_text()
    # nothing to fetch: no script, no src, no stylesheet link, no CSS url(), no absolute URL at all
    assert not re.search(r"<script|\bsrc\s*=|<link\b|url\(|https?://", text, re.I)

    def day_of(incident):
        return next(d for d, (inc, _) in days.items() if inc == (incident,))

    index = {d: i for i, d in enumerate(sorted(days))}
    charts = chart_data(text)
    events, sessions = charts["total_events"]["events"], charts["sessions"]["sessions"]
    drop, mobile = index[day_of("volume_drop")], index[day_of("lost_mobile_tracking")]
    assert events[drop] < 0.6 * sorted(events)[len(events) // 2]
    assert sessions[mobile] < 0.6 * sorted(sessions)[len(sessions) // 2]
    assert charts["device_share"]["mobile"][mobile] == 0 and charts["device_share"]["mobile"][mobile - 1] > 0.4
    assert charts["funnel"]["checkout -> purchase"][index[day_of("zero_purchase")]] == 0
    assert f'data-day="{day_of("volume_drop")}" data-status="critical"' in text
    assert "total_events_drop" in text and "zero_purchase" in text
    dom = rendered_dom(out)  # opened offline, as a person would
    assert dom.count('class="chart"') >= 6
    png = screenshot(out, tmp_path / "report.png", height=1600)
    assert png.stat().st_size > 30_000  # a blank page compresses to a few KB
