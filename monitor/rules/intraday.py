"""The rules of an intraday run: the day so far, in 15-minute slots, against the same
slots of its usual days (README, "Within the day").

Each count is predicted the way the daily baselines predict a day (``baseline.predict``:
weekday-aware, medians, incident days left out), for a window of slots instead of a
day. A window starts as the last hour and widens hour by hour until enough is expected
in it to tell a drop from chance, and says so. Noise is a count's own: Poisson, plus
the extra spread the usual days show. Rises are left to the daily run, and so is
whatever only a whole day shows (totals, mixes, sessions, duplicates).

Pure functions over slot series (``monitor.store.intraday.slot_series``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from monitor import days
from monitor.days import SLOT_MINUTES, SLOTS
from monitor.rules import baseline as b
from monitor.settings import Settings

HOUR = 60 // SLOT_MINUTES

Key = tuple[str, str]  # (metric, dimension) of monitor.intraday_counts

# daily checks whose alert on an earlier day leaves that day out of a rule's baseline
VOLUME_CHECKS = frozenset({
    "no_data", "total_events_drop", "total_events_shift", "page_view_drop", "add_to_cart_drop",
    "checkout_started_drop", "sessions_shift", "silence", "zero_purchase", "checkout_without_purchase",
    "checkout_to_purchase_rate", "cart_to_checkout_rate"})


@dataclass(frozen=True)
class Finding:
    check: str
    category: str
    severity: str  # the check's severity when it fails
    status: str  # pass, warning, critical, skipped
    observed: object
    expected: str
    message: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DaySoFar:
    day: dt.date
    end: int  # slots [0, end) are judged
    today: dict[Key, list[float]]
    history: dict[dt.date, dict[Key, list[float]]]  # earlier days that have counts
    alerted: dict[dt.date, set[str]] = field(default_factory=dict)  # daily checks that alerted per day
    zone: str = "UTC"  # day.timezone: slots are its wall clock
    skip: frozenset[int] = frozenset()  # slots the wall clock skips today (02:00 the day it springs forward)

    def _sum(self, series: list[float] | None, start: int, end: int) -> float:
        if not series:
            return 0.0
        return float(sum(v for i, v in enumerate(series[start:end], start) if i not in self.skip))

    def total(self, key: Key, start: int = 0, end: int | None = None) -> float:
        return self._sum(self.today.get(key), start, self.end if end is None else end)

    def usual(self, key: Key, start: int, end: int, leave_out: frozenset[str], min_days: int) -> dict[dt.date, float]:
        """Each earlier day's sum over the same slots (but those today skips), without the days
        whose daily verdict alerted on ``leave_out`` (unless that leaves fewer than ``min_days``)."""
        every = {d: self._sum(series.get(key), start, end) for d, series in self.history.items()}
        kept = {d: v for d, v in every.items() if not (self.alerted.get(d, set()) & leave_out)}
        return kept if len(kept) >= min_days else every


def clock(slot: int) -> str:
    minutes = slot * SLOT_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def span(start: int, end: int) -> str:
    """Slots [start, end) as a person reads them: "09:00-10:59"."""
    last = end * SLOT_MINUTES - 1
    return f"{clock(start)}-{last // 60:02d}:{last % 60:02d}"


def _predict(day: DaySoFar, values: dict[dt.date, float], s: Settings) -> b.Prediction | None:
    return b.predict(values, day.day, s.baseline.method, s.baseline.window_days, s.intraday.history_days,
                     s.baseline.min_history_days)


def expect(day: DaySoFar, key: Key, start: int, end: int, s: Settings,
           leave_out: frozenset[str] = VOLUME_CHECKS) -> b.Prediction | None:
    """What slots [start, end) should hold today: the day's total predicted as the daily
    checks predict it (weekday-aware), times the share of a day these slots hold on the
    usual days (the same weekday's when there are three, else all). Whole days are
    steady where single hours are not, so the prediction stays steady too. Its
    ``noise_rel`` is the spread of that share from day to day."""
    min_days = s.baseline.min_history_days
    totals = {d: v for d, v in day.usual(key, 0, SLOTS, leave_out, min_days).items()}
    pred = _predict(day, totals, s)
    if pred is None:
        return None
    parts = day.usual(key, start, end, leave_out, min_days)
    every = [d for d, v in totals.items() if v > 0 and d in parts]
    same = [d for d in every if d.weekday() == day.day.weekday()]
    pool = same if len(same) >= 3 else every
    if not pool:
        return b.Prediction(0.0, 0.0, pred.days, pred.basis)
    share = sum(parts[d] for d in pool) / sum(totals[d] for d in pool)
    spread = b.mad_rel([parts[d] / totals[d] for d in every])  # three same weekdays are too few for a spread
    basis = f"{share * 100:.1f}% of the day ({'same weekday' if pool is same else 'usual days'}) x day {pred.basis}"
    return b.Prediction(pred.value * share, spread, pred.days, basis)


def overdispersion(pred: b.Prediction) -> float:
    """The share of a count's relative spread that Poisson noise does not explain (phi^2)."""
    return max(0.0, pred.noise_rel ** 2 - 1.0 / max(pred.value, 1.0))


def count_sd(pred: b.Prediction) -> float:
    lam = max(pred.value, 1.0)
    return math.sqrt(lam + overdispersion(pred) * lam * lam)


def chance_of_none(lam: float, phi2: float) -> float:
    """P(0) for a count expected at ``lam`` with extra spread ``phi2`` (negative binomial)."""
    if lam <= 0:
        return 1.0
    if phi2 < 1e-9:
        return math.exp(-lam)
    return (1.0 + lam * phi2) ** (-1.0 / phi2)


@dataclass(frozen=True)
class Window:
    start: int
    pred: b.Prediction
    enough: bool  # the prediction reached ``min_expected``


def trailing_window(day: DaySoFar, key: Key, s: Settings, min_expected: float,
                    leave_out: frozenset[str] = VOLUME_CHECKS) -> Window | None:
    """The last hour, widened hour by hour until ``min_expected`` are expected in it (or
    it holds the whole day so far). None without enough history."""
    start = day.end
    while True:
        start = max(0, start - HOUR)
        pred = expect(day, key, start, day.end, s, leave_out)
        if pred is None:
            return None
        if pred.value >= min_expected or start == 0:
            return Window(start, pred, pred.value >= min_expected)


def _widened(w: Window, day: DaySoFar) -> str:
    hours = (day.end - w.start) / HOUR
    return f" (widened to {b.fmt(hours)} h: too few expected in the last hour)" if day.end - w.start > HOUR else ""


def _skipped(check: str, category: str, severity: str, label: str, why: str) -> Finding:
    return Finding(check, category, severity, "skipped", "skipped", "", f"{label}: skipped, {why}",
                   {"skipped": True})


def drop(day: DaySoFar, s: Settings, check: str, category: str, key: Key, label: str, warn_pct: float,
         critical_pct: float | None = None) -> Finding:
    """A count of the last hour (widened until it can tell) far below the usual: a warning
    beyond ``warn_pct`` and noise, critical beyond ``critical_pct``."""
    severity = "critical" if critical_pct is not None else "warning"
    if day.end == 0:
        return _skipped(check, category, severity, label, "nothing of the day to judge yet")
    w = trailing_window(day, key, s, s.intraday.min_expected)
    if w is None:
        return _skipped(check, category, severity, label, "insufficient history of the same hours")
    obs, expected = day.total(key, w.start), w.pred.value
    where = f"{label} {span(w.start, day.end)} {day.zone}: {b.fmt(obs)}"
    details = {"baseline": round(expected, 3), "window": span(w.start, day.end), "basis": w.pred.basis}
    if not w.enough:
        return Finding(check, category, severity, "pass", obs, "", f"{where}; {b.fmt(round(expected, 1))} expected "
                       f"by {clock(day.end)}: too few to tell yet (the day so far)", details)
    change = obs / expected - 1 if expected else 0.0
    # a count's own noise, clustered by sessions, and 5% for the prediction itself
    sd = math.hypot(max(count_sd(w.pred), _clustered_sd(day, key, w, s)), 0.05 * expected)
    noise = expected - s.baseline.noise_sigma * sd
    low = max(0.0, min(noise, expected * (1 - warn_pct / 100)))  # below both: a drop
    # nothing at all: the normal band is too wide at the bottom of a skewed count
    silent = obs == 0 and chance_of_none(expected, overdispersion(w.pred)) < 1e-4
    status = "pass"
    if obs < low or silent:
        status = "warning"
        if critical_pct is not None and (silent or obs < min(noise, expected * (1 - critical_pct / 100))):
            status = "critical"
    message = f"{where}, expected ~{b.fmt(round(expected, 1))} ({change * 100:+.0f}%){_widened(w, day)}"
    return Finding(check, category, severity, status, obs, f">= {b.fmt(round(low, 1))}", message,
                   {**details, "low": low})


def _clustered_sd(day: DaySoFar, key: Key, w: Window, s: Settings) -> float:
    """Events come in sessions: a client's page views rise and fall together, so a count of
    events spreads like sqrt(expected x events per client), not sqrt(expected). The
    events per active client of the usual days' same window say how clustered they are."""
    clients = sum(day.usual(("active_clients", ""), w.start, day.end, VOLUME_CHECKS,
                            s.baseline.min_history_days).values())
    events = sum(day.usual(key, w.start, day.end, VOLUME_CHECKS, s.baseline.min_history_days).values())
    per_client = events / clients if clients else 1.0
    return math.sqrt(max(w.pred.value, 1.0) * max(1.0, per_client))


def _last_nonzero(series: list[float] | None, end: int) -> int:
    for slot in range(end - 1, -1, -1):
        if series and series[slot] > 0:
            return slot
    return -1


def purchases(day: DaySoFar, s: Settings) -> Finding:
    """Purchases stopped while checkouts go on (critical), or purchases far below the usual (warning).

    "Stopped" needs two kinds of evidence, each less likely by chance than
    ``intraday.stop_probability``: no purchase since the last one although the usual
    days had this many in the same slots (at today's traffic, when it is lower), and
    none from today's checkouts since then at the shop's usual share of checkouts that
    end in a purchase. A small shop is caught later, when both can tell; never on one.
    """
    ev = s.events
    label = f"{ev.purchase} events"
    key, ck_key = ("events", ev.purchase), ("events", ev.checkout)
    if day.end == 0:
        return _skipped("purchases", "volume", "critical", label, "nothing of the day to judge yet")
    last = _last_nonzero(day.today.get(key), day.end)
    since = last + 1
    gap_pred = expect(day, key, since, day.end, s) if since < day.end else None
    if since < day.end and gap_pred is None:
        return _skipped("purchases", "volume", "critical", label, "insufficient history of the same hours")
    if gap_pred is not None:
        lam = gap_pred.value * _traffic_level(day, s)
        checkouts = day.total(ck_key, since)
        rate = _conversion(day, s)
        by_traffic = chance_of_none(lam, overdispersion(gap_pred))
        by_checkouts = (1.0 - rate) ** checkouts if rate is not None else 1.0
        stopped = (f"{label} stopped at {clock(since)} {day.zone}" if last >= 0
                   else f"no {label} today since 00:00 {day.zone}")
        said = (f"{stopped}: 0 since, {b.fmt(round(lam, 1))} expected by {clock(day.end)} "
                f"({b.fmt(checkouts)} {ev.checkout})")
        details = {"since": clock(since), "baseline": round(lam, 3), "checkouts": checkouts,
                   "chance_by_traffic": by_traffic, "chance_by_checkouts": by_checkouts,
                   "conversion": rate, "window": span(since, day.end)}
        # Every purchase starts a new gap, and every run looks at the latest one: a day of
        # n purchases has n chances of a long gap by chance, so each is held to 1/n of the
        # day's false-alarm budget. Today's checkouts are the sharper evidence; the usual
        # traffic of these slots only has to agree that purchases were due.
        alpha = s.intraday.stop_probability / max(1.0, _usual_per_day(day, key, s))
        details["alpha"] = alpha
        if by_checkouts < alpha and by_traffic < math.sqrt(alpha):
            return Finding("purchases", "volume", "critical", "critical", 0, f">= 1 since {clock(since)}",
                           said + ": purchase tracking or payment confirmation likely broke", details)
        if day.end - since >= HOUR and lam >= 1:
            watch = f"{said}: too few yet to tell, watching {span(since, day.end)}"
            part = drop(day, s, "purchases", "volume", key, label, s.thresholds.funnel_drop_warn_pct)
            if part.status != "pass":
                return Finding(part.check, part.category, "critical", part.status, part.observed, part.expected,
                               f"{part.message}; {watch}", {**part.details, **details})
            return Finding("purchases", "volume", "critical", "pass", 0, "", watch, details)
    part = drop(day, s, "purchases", "volume", key, label, s.thresholds.funnel_drop_warn_pct)
    return Finding(part.check, part.category, "critical", part.status, part.observed, part.expected, part.message,
                   part.details)


def _traffic_level(day: DaySoFar, s: Settings) -> float:
    """Today's traffic so far against the usual, at most 1: a quiet day expects fewer purchases."""
    pred = expect(day, ("rows", ""), 0, day.end, s)
    if pred is None or pred.value <= 0:
        return 1.0
    return min(1.0, day.total(("rows", "")) / pred.value)


def _usual_per_day(day: DaySoFar, key: Key, s: Settings) -> float:
    pred = expect(day, key, 0, SLOTS, s)
    return pred.value if pred else 1.0


def _conversion(day: DaySoFar, s: Settings) -> float | None:
    """The share of checkouts that end in a purchase on the usual days (pooled), at the low
    end of what those days say (two standard errors below): the evidence a gap needs
    grows when the history is short."""
    ev = s.events
    days = day.usual(("events", ev.checkout), 0, SLOTS, VOLUME_CHECKS, s.baseline.min_history_days)
    checkouts = sum(days.values())
    bought = sum(sum(day.history[d].get(("events", ev.purchase), [0.0])) for d in days)
    if checkouts < 10:
        return None
    p = min(0.99, bought / checkouts)
    return max(0.0, p - 2 * math.sqrt(p * (1 - p) / checkouts))


def silence(day: DaySoFar, s: Settings) -> Finding:
    """A stretch of an hour or more without any event where the usual days had many
    active clients: a tracking outage that totals may hide."""
    label = "events"
    rows = day.today.get(("rows", ""), [0.0] * SLOTS)
    stretches, start = [], None
    for slot in range(day.end + 1):
        empty = slot < day.end and rows[slot] == 0 and slot not in day.skip
        if empty and start is None:
            start = slot
        elif not empty and start is not None:
            if slot - start >= HOUR:
                stretches.append((start, slot))
            start = None
    found = []
    for a, z in stretches:
        pred = expect(day, ("active_clients", ""), a, z, s)
        if pred is not None and pred.value >= s.thresholds.silence_min_expected_sessions:
            found.append((a, z, pred.value))
    if not found:
        if not day.history:
            return _skipped("silence", "volume", "warning", "silence", "insufficient history of the same hours")
        return Finding("silence", "volume", "warning", "pass", 0, "", "no silent stretch so far")
    words = ", ".join(f"no events {span(a, z)} {day.zone} (usually ~{b.fmt(round(v))} active clients)"
                      for a, z, v in found)
    return Finding("silence", "volume", "warning", "warning", len(found), "no silent stretch", words,
                   {"stretches": [span(a, z) for a, z, _ in found]})


def none_so_far(day: DaySoFar, s: Settings, check: str, category: str, severity: str, label: str) -> Finding:
    """A count that must stay 0 all day (the daily rule's): the first bad row decides the day."""
    n = day.total((check, ""))
    rows = day.total(("rows", ""))
    first = _first_nonzero(day.today.get((check, "")), day.end)
    if not n:
        return Finding(check, category, severity, "pass", 0, "= 0", f"{label} = 0 so far")
    share = f"{n / rows * 100:.2f}% of {b.fmt(rows)} rows" if rows else "no rows"
    return Finding(check, category, severity, severity, n, "= 0",
                   f"{label} = {b.fmt(n)} so far today ({share}), the first in {span(first, first + 1)} {day.zone}, "
                   "expected 0", {"first": clock(first)})


def _first_nonzero(series: list[float] | None, end: int) -> int:
    for slot in range(end):
        if series and series[slot] > 0:
            return slot
    return 0


def share_so_far(day: DaySoFar, s: Settings, check: str, metric: str, max_share: float, label: str) -> Finding:
    rows, n = day.total(("rows", "")), day.total((metric, ""))
    if rows < s.intraday.min_rows:
        return Finding(check, "field_health", "critical", "pass", n, "", f"{label}: {b.fmt(rows)} rows so far, too "
                       f"few to judge a share (fewer than {s.intraday.min_rows})")
    share = n / rows
    status = "critical" if share > max_share else "pass"
    return Finding(check, "field_health", "critical", status, round(share, 6), f"<= {max_share:g}",
                   f"{label} = {share * 100:.2f}% of {b.fmt(rows)} rows so far (at most {max_share * 100:g}%)")


def rate(day: DaySoFar, s: Settings, check: str, severity: str, label: str) -> Finding:
    """Bad rows of the last hour (widened until it holds ``intraday.min_rows`` rows) against the
    feed's usual rate in the same hours, as the daily rule judges a day: beyond noise a
    rise (warning), at twice the usual a spike (the check's severity)."""
    key, rows_key = (check, ""), ("rows", "")
    if day.end == 0:
        return _skipped(check, "field_health", severity, label, "nothing of the day to judge yet")
    start = day.end
    while True:
        start = max(0, start - HOUR)
        if day.total(rows_key, start) >= s.intraday.min_rows or start == 0:
            break
    k, n = day.total(key, start), day.total(rows_key, start)
    where = f"{label} {span(start, day.end)} {day.zone} = {b.fmt(k)} of {b.fmt(n)} rows"
    leave_out = frozenset({check})
    bad = day.usual(key, start, day.end, leave_out, s.baseline.min_history_days)
    rows = day.usual(rows_key, start, day.end, leave_out, s.baseline.min_history_days)
    recent = [d for d in bad if rows.get(d) and 0 < (day.day - d).days <= s.intraday.history_days]
    details = {"window": span(start, day.end)}
    if n < s.intraday.min_rows and k == 0:
        return Finding(check, "field_health", severity, "pass", k, "", f"{where}: none so far", details)
    if len(recent) < s.baseline.min_history_days:
        status = "pass" if k == 0 else "warning"
        return Finding(check, "field_health", severity, status, k, "= 0",
                       f"{where}; too little history to know this feed's usual rate in these hours", details)
    pooled = sum(bad[d] for d in recent) / sum(rows[d] for d in recent)
    band = b.rate_band(k, n, [bad[d] / rows[d] for d in recent], pooled, s.baseline.noise_sigma, 2.0)
    status = "pass" if band.success else severity if band.spike else "warning"
    words = "a spike" if band.spike else "a rise above the usual rate" if not band.success else "usual"
    message = (f"{where} ({k / n * 100 if n else 0:.2f}%); usual {band.rate * 100:.2f}%, about "
               f"{b.fmt(round(band.expected, 1))} rows: {words}")
    return Finding(check, "field_health", severity, status, k, f"<= {b.fmt(round(band.high, 1))}", message,
                   {**details, "baseline": round(band.expected, 3), "high": band.high})


def freshness(day_start: dt.datetime, until: dt.datetime, data_end: dt.datetime | None,
              latest_load: dt.datetime | None, s: Settings) -> Finding:
    """No new rows for longer than ``intraday.max_lag_minutes``: the feed may have stopped."""
    tz = days.zone(s.day.timezone)
    if latest_load is None:
        lag = (until - day_start).total_seconds() / 60
        status = "warning" if lag > s.intraday.max_lag_minutes else "pass"
        return Finding("freshness", "volume", "warning", status, None, "rows of the day",
                       f"no rows loaded for {day_start.astimezone(tz).date()} so far "
                       f"({b.fmt(round(lag))} min into the day)")
    end = max(data_end or day_start, min(latest_load, until))
    lag = max(0.0, (until - end).total_seconds() / 60)
    status = "warning" if lag > s.intraday.max_lag_minutes else "pass"
    reach = data_end.astimezone(tz).strftime("%H:%M") if data_end else "no time of the day"
    said = (f"the rows reach {reach}, the latest load arrived "
            f"{latest_load.astimezone(tz).strftime('%Y-%m-%d %H:%M')} {days.label(s.day.timezone)}")
    return Finding("freshness", "volume", "warning", status, round(lag), f"<= {s.intraday.max_lag_minutes} min",
                   f"{said}: {b.fmt(round(lag))} min without new rows" if status != "pass" else said)


def judge(day: DaySoFar, s: Settings) -> list[Finding]:
    """Every intraday rule on the day so far, in the order people read them."""
    ev, t = s.events, s.thresholds
    return [
        purchases(day, s),
        drop(day, s, "events_total", "volume", ("rows", ""), "events", t.total_events_warn_pct,
             t.total_events_critical_drop_pct),
        drop(day, s, "events_page_view", "volume", ("events", ev.page_view), f"{ev.page_view} events",
             t.page_view_drop_warn_pct),
        drop(day, s, "events_add_to_cart", "volume", ("events", ev.add_to_cart), f"{ev.add_to_cart} events",
             t.event_type_drop_warn_pct),
        drop(day, s, "events_checkout", "volume", ("events", ev.checkout), f"{ev.checkout} events",
             t.event_type_drop_warn_pct),
        drop(day, s, "sessions", "volume", ("active_clients", ""), "active clients (sessions going on)",
             t.sessions_warn_pct),
        silence(day, s),
        rate(day, s, "null_client_id", "critical", "rows with null/empty client_id"),
        none_so_far(day, s, "null_timestamp", "field_health", "critical", "rows with null/empty timestamp"),
        none_so_far(day, s, "null_event_name", "field_health", "critical", "rows with null/empty event_name"),
        rate(day, s, "unknown_event_name", "warning", "rows with unknown event_name"),
        none_so_far(day, s, "invalid_timestamp", "field_health", "critical",
                    "invalid timestamps (unparseable, future or outside the day)"),
        rate(day, s, "malformed_json", "warning", "rows with malformed event_data JSON"),
        share_so_far(day, s, "malformed_json_rate", "malformed_json", t.malformed_json_critical_pct / 100,
                     "share of rows with malformed event_data JSON"),
        none_so_far(day, s, "invalid_revenue", "orders", "warning",
                    f"{ev.purchase} events with missing, zero, negative or non-finite revenue"),
    ]
