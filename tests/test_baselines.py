"""Baseline semantics: skipped without history, critical days left out, a healthy month is quiet."""

from __future__ import annotations

import datetime as dt

from monitor import pipeline, settings
from tests.conftest import INCIDENT_DAY, load_day

BASELINE_CHECKS = {"total_events_shift", "total_events_drop", "page_view_drop", "sessions_shift", "duplicate_spike",
                   "cart_to_checkout_rate", "channel_mix", "device_mix", "page_depth", "avg_session_duration"}


def test_fewer_days_than_minimum_are_skipped_not_passed(db, tmp_path):
    s = settings.load()
    start = dt.date(2026, 9, 1)
    for i in range(3):
        load_day(tmp_path, start + dt.timedelta(days=i), seed=i)
    summaries = [pipeline.run_day(start + dt.timedelta(days=i), s) for i in range(3)]
    third = {r.check: r for r in summaries[2].results}
    for name in BASELINE_CHECKS:
        assert third[name].status == "skipped", (name, third[name].status)
        assert "insufficient history (2 of 3" in third[name].message
    body = summaries[2].to_json()
    assert body["skipped"] >= len(BASELINE_CHECKS)
    assert body["passed"] + body["skipped"] + len(body["alerts"]) == body["checks"]
    assert all(a["check"] not in BASELINE_CHECKS for a in body["alerts"])


def test_critical_day_is_left_out_of_later_baselines(with_history, tmp_path):
    s = settings.load()
    outage = pipeline.run_day(_load(tmp_path, INCIDENT_DAY, ("volume_drop",)), s)
    assert outage.status == "critical"
    next_day = INCIDENT_DAY + dt.timedelta(days=1)
    summary = pipeline.run_day(_load(tmp_path, next_day, ()), s)
    shift = {r.check: r for r in summary.results}["total_events_shift"]
    assert shift.details["history_days"] == 6  # 7-day window minus the outage
    assert summary.status == "pass", [a.message for a in summary.alerts]


def _load(tmp_path, day, incidents):
    load_day(tmp_path, day, incidents, seed=day.toordinal())
    return day


def test_healthy_month_raises_no_critical(db, tmp_path):
    s = settings.load()
    start = dt.date(2026, 6, 1)
    statuses = {}
    for i in range(28):
        day = start + dt.timedelta(days=i)
        load_day(tmp_path, day, seed=1000 + i)
        statuses[day] = pipeline.run_day(day, s)
    critical = {d: [a.message for a in r.alerts] for d, r in statuses.items() if r.status == "critical"}
    assert critical == {}
    assert statuses[start + dt.timedelta(days=27)].to_json()["skipped"] == 0
