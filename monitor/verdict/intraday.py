"""An intraday run (README, "Within the day"): the day so far, judged against the same
hours of its usual days, stored apart from the daily verdicts and paged once per incident.

The cost of a run follows the rows it has not seen: each load's rows are counted once,
per 15-minute slot (the PostgreSQL engine's ``count_slots``); a run then reads those
small counts for the day and its usual days. The gate of a day is never touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

import sqlalchemy as sa

from monitor import days
from monitor.delivery import intraday_alerts
from monitor.engines import postgres as postgres_engine
from monitor.errors import UsageError
from monitor.rules import intraday as rules
from monitor.settings import Settings
from monitor.store import database
from monitor.store import intraday as store
from monitor.verdict.day_run import DayLock
from monitor.verdict.summary import CheckResult, DaySummary

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class IntradaySummary:
    """The daily summary of the day so far, and how far it reaches (``until``, HH:MM)."""

    summary: DaySummary
    until: str
    asked: str
    zone: str = "UTC"  # day.timezone, whose wall clock ``until`` is

    def to_json(self) -> dict:
        return {**self.summary.to_json(), "until": self.until}

    @property
    def status(self) -> str:
        return self.summary.status


def parse_until(text: str) -> int:
    """``HH:MM`` as minutes of the day; 24:00 is the end of the day."""
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        value = int(hours) * 60 + int(minutes)
        if not (0 <= int(minutes) < 60 and 0 <= value <= 24 * 60):
            raise ValueError
    except ValueError:
        raise UsageError(f"bad --until {text!r}: expected HH:MM between 00:00 and 24:00") from None
    return value


def default_until(day: dt.date, now: dt.datetime, zone: str = "UTC") -> int:
    """Today: the last complete 15 minutes of its wall clock; an earlier day: all of it."""
    local = now.astimezone(days.zone(zone))
    if day > local.date():
        raise UsageError(f"--date {day} has not begun yet (today is {local.date()} in {zone})")
    if day < local.date():
        return 24 * 60
    minutes = local.hour * 60 + local.minute
    return minutes - minutes % rules.SLOT_MINUTES


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def run_intraday(day: dt.date, until_minutes: int | None, settings: Settings, send: bool = True) -> IntradaySummary:
    eng = database.engine()
    now = dt.datetime.now(dt.timezone.utc)
    zone = settings.day.timezone
    asked = default_until(day, now, zone) if until_minutes is None else until_minutes
    lock = _IntradayLock(eng, day)
    lock.acquire()
    try:
        history = [day - dt.timedelta(days=i) for i in range(1, settings.intraday.history_days + 1)]
        _count_new_loads(eng, [day, *history], settings)
        with eng.connect() as conn:
            series = store.slot_series(conn, [day, *history])
            alerted = store.day_verdict_alerts(conn, history)
            loads = store.loads_of(conn, day)
        today = series.get(day, {})
        end, data_end = _judged_end(today, asked // rules.SLOT_MINUTES, loads, day, zone)
        skip = frozenset(slot for hour in days.missing_hours(day, zone)
                         for slot in range(hour * rules.HOUR, (hour + 1) * rules.HOUR))
        so_far = rules.DaySoFar(day, end, today, {d: v for d, v in series.items() if d != day}, alerted,
                                days.label(zone), skip)
        findings = rules.judge(so_far, settings)
        latest_load = loads[-1][1] if loads else None
        findings.append(rules.freshness(days.start(day, zone), days.at(day, asked, zone), data_end,
                                        latest_load, settings))
        run_id = f"{day.isoformat()}@{_clock(asked).replace(':', '')}-{uuid.uuid4().hex[:8]}"
        summary = DaySummary(date=day.isoformat(), run_id=run_id, run_time=now,
                             results=tuple(_result(f) for f in findings))
        result = IntradaySummary(summary, _clock(end * rules.SLOT_MINUTES), _clock(asked), days.label(zone))
        with eng.begin() as conn:
            store.store_run(conn, summary, result.until, result.asked)
        intraday_alerts.deliver(eng, result, settings, send)
        return result
    finally:
        lock.release()


class _IntradayLock(DayLock):
    """Intraday runs of a day wait for each other (not for the daily run of the day)."""

    key = "monitor.intraday"


def _count_new_loads(eng: sa.Engine, dates: list[dt.date], settings: Settings) -> None:
    """Count the loads of these days no run has counted yet, a day's loads per transaction
    (work done stays done; a load that feeds several days is counted for all of them at once)."""
    with eng.connect() as conn:
        pending = store.pending_loads(conn, dates)
    done: set[int] = set()
    for d in sorted(pending, reverse=True):  # the watched day first
        loads = [i for i in pending[d] if i not in done]
        if loads:
            with eng.begin() as conn:
                postgres_engine.count_slots(conn, loads, settings)
            done.update(loads)
            log.info("intraday: counted %d load(s) of %s", len(loads), d)


def _judged_end(today: dict, asked_slot: int, loads: list, day: dt.date, zone: str
                ) -> tuple[int, dt.datetime | None]:
    """How far the day can be judged: up to what was asked, except the slots after the
    last rows when no load has arrived since they began (the next file is late, or
    still on its way: not yet a silence). Returns (end slot, where the rows end)."""
    rows = today.get(("rows", ""), [0.0] * days.SLOTS)
    last = max((i for i in range(asked_slot) if rows[i] > 0), default=-1)
    data_end = days.at(day, (last + 1) * rules.SLOT_MINUTES, zone) if last >= 0 else None
    if not loads:
        return 0, None
    latest = loads[-1][1]
    reached = data_end or days.start(day, zone)
    if latest < reached + dt.timedelta(minutes=rules.SLOT_MINUTES):
        return min(asked_slot, last + 1), data_end
    return asked_slot, data_end


def _result(f: rules.Finding) -> CheckResult:
    d = f.details or {}
    # a failed check's severity is the one it failed with (a purchases drop is a warning)
    severity = f.status if f.status in ("warning", "critical") else f.severity
    return CheckResult(suite="intraday", check=f.check, category=f.category, severity=severity, status=f.status,
                       observed=f.observed, expected=f.expected, message=f.message,
                       low=d.get("low"), high=d.get("high"), baseline=d.get("baseline"), details=d)
