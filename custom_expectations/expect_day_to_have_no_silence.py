"""No stretch of the day may go silent that usually has traffic (a tag or collector down for hours)."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import ClassVar

from monitor import days
from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


def silent_stretches(today: dict[int, float], expected: dict[int, float], per_session: float, min_sessions: float,
                     level: float = 1.0) -> list[tuple[int, int, float]]:
    """(first hour, last hour, usual events) of each run of hours without any event whose
    usual traffic, at today's level (``level`` <= 1) and counted in sessions (events
    cluster in sessions: ``per_session`` events each), is at least ``min_sessions``:
    then an empty stretch is no chance. Quiet hours of a small shop stay below it."""
    out, run = [], []
    for hour in range(25):
        if hour < 24 and not today.get(hour):
            run.append(hour)
            continue
        if run:
            usual = sum(expected.get(h, 0.0) for h in run)
            if usual * level / max(per_session, 1.0) >= min_sessions:
                out.append((run[0], run[-1], usual))
        run = []
    return out


class ExpectDayToHaveNoSilence(DayMetricExpectation):
    """Reads ``events_by_hour`` (events per hour of the day's wall clock in ``timezone``, with a
    valid in-day time) of the day
    and of its usable recent days; each hour is expected at its median over those days,
    and ``rows`` / ``sessions`` (``segment_metrics``) give how many events a session makes."""

    metric: str = "events_by_hour"
    dimension: None = None
    segment_metrics: str = "rows,sessions"
    min_expected_sessions: float = 10.0
    min_history: int = 3
    exclude_alerts: bool = True
    accept_after: int = 3
    timezone: str = "UTC"

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "window_days", "check_name", "segment_metrics",
                                               "min_expected_sessions", "min_history", "exclude_alerts",
                                               "accept_after", "timezone")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        return (f"no run of hours without events whose usual traffic is at least "
                f"{b.fmt(kwargs.get('min_expected_sessions', 10))} sessions")

    def check(self, series: dict) -> dict:
        day = series["day"]
        if day is None or not series["target"]:
            return b.skipped(day, 0, self.min_history, "silence (no events with a valid time on the day)")
        target_day = dt.date.fromisoformat(day)
        today = {int(h): v for h, v in series["target"].items()}
        # an hour the clock skips (02:00 the day it springs forward) is no silence
        today.update({h: 1.0 for h in days.missing_hours(target_day, self.timezone)})
        per_day = {dt.date.fromisoformat(d): {int(h): v for h, v in hours.items()}
                   for d, hours in series["history"].items()}
        usable = b.usable_days({d: sum(h.values()) for d, h in per_day.items()}, series, target_day,
                               self.exclude_alerts, self.accept_after)
        recent = [d for d in usable.values if 0 < (target_day - d).days <= self.window_days]
        if len(recent) < self.min_history:
            return b.skipped(day, len(recent), self.min_history, "silence")
        expected = {h: statistics.median(per_day[d].get(h, 0.0) for d in recent) for h in range(24)}
        seg = series.get("segments", {})
        rows = seg.get("rows", {}).get("history", {})
        sessions = seg.get("sessions", {}).get("history", {})
        ratios = [rows[d.isoformat()][""] / sessions[d.isoformat()][""] for d in recent
                  if rows.get(d.isoformat(), {}).get("") and sessions.get(d.isoformat(), {}).get("")]
        per_session = statistics.median(ratios) if ratios else 1.0
        # today's level where it had traffic: a day down 60% expects less of its empty hours too
        heard = [h for h in range(24) if today.get(h)]
        usual_heard = sum(expected[h] for h in heard)
        level = min(1.0, sum(today.values()) / usual_heard) if usual_heard else 1.0
        found = silent_stretches(today, expected, per_session, self.min_expected_sessions, level)
        hours = sum(last - first + 1 for first, last, _ in found)
        if found:
            words = "; ".join(f"no events {first:02d}:00-{last:02d}:59 {days.label(self.timezone)}; those hours "
                              f"usually have {b.fmt(round(usual))}"
                              for first, last, usual in found)
            message = f"{words} (on {day})" + b.streak_phrase(series, target_day)
        else:
            message = f"no silent stretch on {day}"
        return b.outcome(not found, hours, message, "no silent stretch",
                         self.hint or "a tag, collector or ingestion job stopped for those hours",
                         day=day, stretches=[{"from": f"{f:02d}:00", "to": f"{t:02d}:59", "usual": round(u, 1)}
                                             for f, t, u in found], direction=-1 if found else 0)
