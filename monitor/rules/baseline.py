"""Arithmetic the baseline expectations share: which days may serve, what the day should
have looked like, how noisy the metric is, which segment explains a change, wording.

Pure functions over the series ``day_metric.series`` returns, so `backtest`
replays exactly what a run decides.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass

# statuses of a day on which a check alerted (or failed to run): such days are no baseline
ALERTED = ("warning", "critical", "error")

MAD_TO_SD = 1.4826  # a normal distribution's SD is 1.4826 median absolute deviations
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def total(values: dict[str, float]) -> float:
    return float(sum(values.values()))


def _date(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def trailing_mean(history: dict[str, dict[str, float]], dimension: str | None) -> tuple[float | None, int]:
    """Mean over the days that have data; returns (mean, number of days). Context for fixed checks."""
    per_day = [total(v) if dimension is None else v[dimension]
               for v in history.values() if (dimension is None or dimension in v)]
    if not per_day:
        return None, 0
    return sum(per_day) / len(per_day), len(per_day)


def day_values(history: dict[str, dict[str, float]], dimension: str | None) -> dict[dt.date, float]:
    return {_date(d): (total(v) if dimension is None else v[dimension])
            for d, v in history.items() if dimension is None or dimension in v}


# --- which earlier days may serve as this check's baseline --------------------------------------

def alert_days(series: dict) -> dict[dt.date, int]:
    """Days on which this check alerted, with the direction of the change (+1 up, -1 down, 0 unknown)."""
    return {_date(d): v.get("direction") or 0 for d, v in series.get("verdicts", {}).items()
            if v.get("status") in ALERTED}


def _runs(alerts: dict[dt.date, int]) -> list[list[dt.date]]:
    """Consecutive calendar days alerting in the same direction."""
    runs: list[list[dt.date]] = []
    for day in sorted(alerts):
        if runs and (day - runs[-1][-1]).days == 1 and alerts[day] == alerts[runs[-1][-1]]:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


@dataclass(frozen=True)
class Usable:
    values: dict[dt.date, float]  # the days that may serve as baseline
    since: dt.date | None  # an accepted new level starts here; older days no longer count
    excluded: int  # alerting days left out
    accepted_by: str | None = None  # who or what accepted the level that starts at ``since``


def usable_days(values: dict[dt.date, float], series: dict, target: dt.date, exclude_alerts: bool,
                accept_after: int) -> Usable:
    """Leave out days on which this check alerted, so an incident never becomes the new
    normal; but a warning-level change that lasted ``accept_after`` days in a row (or a
    day a person accepted) is a new level, and the baseline starts there."""
    alerts = alert_days(series) if exclude_alerts else {}
    # only warning-level shifts become the new level by themselves: a critical (or a check
    # that errored) stays out until a person accepts it (`runner.py accept`)
    warned = {d: v for d, v in alerts.items()
              if series.get("verdicts", {}).get(d.isoformat(), {}).get("status") == "warning"}
    lasting = [run for run in _runs(warned) if len(run) >= accept_after]
    starts = [run[0] for run in lasting]
    accepted = {d for run in lasting for d in run}
    manual = {_date(d) for d in series.get("accepted", []) if _date(d) < target}
    since = max(starts + sorted(manual), default=None)
    by = None
    if since is not None:
        by = (series.get("accepted_by", {}).get(since.isoformat()) if since in manual else
              f"automatically: a warning-level change that lasted {accept_after} days")
    keep = {d: v for d, v in values.items()
            if d < target and (since is None or d >= since) and (d not in alerts or d in accepted | manual)}
    excluded = sum(1 for d in values if d in alerts and d not in keep and (since is None or d >= since))
    return Usable(keep, since, excluded, by)


def level_scaled(values: dict[dt.date, float], since: dt.date | None) -> dict[dt.date, float]:
    """Every day's value, the days before an accepted new level scaled to it: the weekly
    pattern learnt before the change still holds after it (a new level is not a new week)."""
    if since is None:
        return dict(values)
    before = [v for d, v in values.items() if d < since]
    after = [v for d, v in values.items() if d >= since]
    if not before or not after or statistics.median(before) <= 0:
        return {d: v for d, v in values.items() if d >= since}
    scale = statistics.median(after) / statistics.median(before)
    return {d: (v * scale if d < since else v) for d, v in values.items()}


def accepted_today(series: dict) -> bool:
    return series.get("day") in series.get("accepted", [])


def failing_streak(series: dict, target: dt.date, direction: int | None = None) -> int:
    """How many days in a row before ``target`` this check alerted (in ``direction``, when given)."""
    alerts = alert_days(series)
    n = 0
    day = target - dt.timedelta(days=1)
    while day in alerts and (direction is None or alerts[day] in (direction, 0)):
        n += 1
        day -= dt.timedelta(days=1)
    return n


# --- what the day should have looked like ---------------------------------------------------------

@dataclass(frozen=True)
class Prediction:
    value: float
    noise_rel: float  # robust SD of the day-to-day spread, relative to the level
    days: int  # usable days in the recent window
    basis: str  # how it was predicted, in words


def mad_rel(values: list[float]) -> float:
    """Robust SD of the values, relative to their median (0 with fewer than 3)."""
    if len(values) < 3:
        return 0.0
    center = statistics.median(values)
    if center == 0:
        return 0.0
    return MAD_TO_SD * statistics.median(abs(v - center) for v in values) / abs(center)


def weekday_factors(values: dict[dt.date, float], trusted: set[dt.date]) -> dict[int, float]:
    """Each weekday's typical level against all days, learnt from every day with data: with
    three or more of a weekday the median shrugs off a bad one, and a weekday whose every
    day alerted (a strong Sunday against a plain mean) must still become learnable. With
    fewer, the days that did not alert are preferred. 1.0 where the history says nothing."""
    overall = statistics.median(values.values()) if values else 0.0
    factors = {}
    for weekday in range(7):
        same = {d: v for d, v in values.items() if d.weekday() == weekday}
        if len(same) < 3 and any(d in trusted for d in same):
            same = {d: v for d, v in same.items() if d in trusted}
        factors[weekday] = statistics.median(same.values()) / overall if same and overall > 0 else 1.0
    return factors


def predict(values: dict[dt.date, float], target: dt.date, method: str, window: int, history_days: int,
            min_history: int, seasonal: dict[dt.date, float] | None = None) -> Prediction | None:
    """None with fewer than ``min_history`` usable days in the recent window.

    ``values`` are the usable days. ``mean7``: their mean over the recent window
    (the spec's rule). ``weekday``: the recent days' median level, each day
    first divided by its weekday's factor (learnt over ``history_days`` of
    ``seasonal``, every day with data), times the target weekday's factor:
    "a normal Sunday at today's level". Growth cancels out of the factors, and
    medians ignore a promo day that did not alert.
    """
    recent = {d: v for d, v in values.items() if 0 < (target - d).days <= window}
    if len(recent) < min_history:
        return None
    if method == "mean7":
        pool = list(recent.values())
        return Prediction(sum(pool) / len(pool), mad_rel(pool), len(recent), f"{window}-day avg")
    span = {d: v for d, v in (seasonal or values).items() if 0 < (target - d).days <= history_days}
    factors = weekday_factors(span, set(values))
    # a weekday that is usually zero (no purchases on a small shop's Sunday) says nothing
    # about the level: its days are left out of the level and the noise, not divided by 0
    levels = [v / factors[d.weekday()] for d, v in recent.items() if factors[d.weekday()] > 0]
    if not levels:
        return None
    level = statistics.median(levels)
    factor = factors[target.weekday()]
    noise_pool = [v / factors[d.weekday()] for d, v in values.items()
                  if 0 < (target - d).days <= 3 * window and factors[d.weekday()] > 0]
    basis = f"median of the last {window} days"
    if factor != 1.0:
        basis += f" x {WEEKDAYS[target.weekday()]} factor {factor:.2f}"
    return Prediction(level * factor, mad_rel(noise_pool), len(recent), basis)


def noise_band(pred: Prediction, sigma: float, counts: bool, made_of: float | None = None) -> float:
    """How far from the prediction a day may land by chance: ``sigma`` robust SDs of the
    metric's own spread, and for counts at least Poisson's sqrt(n) (a count of 4 that
    drops 30% is noise; a count of 4,000 that does is not). An amount ``made_of`` n events
    (revenue of n orders of unequal size) spreads at least sqrt(2 / n) relative."""
    sd = pred.noise_rel * abs(pred.value)
    if counts:
        sd = max(sd, math.sqrt(max(pred.value, 1.0)))
    if made_of is not None:
        sd = max(sd, abs(pred.value) * math.sqrt(2.0 / max(made_of, 1.0)))
    return sigma * sd


# --- a count of bad rows against the feed's usual rate ------------------------------------------------

@dataclass(frozen=True)
class RateBand:
    rate: float  # the usual share of bad rows
    expected: float  # that share of today's rows
    high: float  # the most that is still noise
    success: bool
    spike: bool  # beyond noise and at least ``spike_factor`` times the usual count


def rate_band(k: float, n: float, rates: list[float], pooled: float, sigma: float, spike_factor: float) -> RateBand:
    """``k`` bad rows out of ``n`` against the usual ``rates`` (one per earlier day or window).
    Noise is binomial (2 empty ids in 3,000 rows is not 20 in 3,000), widened by the
    rate's own spread. A feed where most days have none is judged by its ``pooled`` rate,
    so a rare bad row is no alert, yet any bad row where the history never had one is."""
    p = statistics.median(rates)
    if p == 0:
        p = pooled
    expected = p * n
    sd = max(math.sqrt(max(expected * (1 - p), 1.0)), mad_rel(rates) * expected)
    high = expected + sigma * sd
    spike = k > high and k >= spike_factor * max(expected, 1.0)
    return RateBand(p, expected, high, k <= high and not (p == 0 and k > 0), spike)


# --- which segment explains a change ----------------------------------------------------------------

def _split(segment: str, metric: str) -> tuple[str, str]:
    if "=" in segment:
        dimension, value = segment.split("=", 1)
        return dimension, value
    return ("event_type" if metric == "events" else metric), segment


def _ranked(entries: list[tuple[dict, float]], limit: int = 3, floor: float = 0.2) -> list[dict]:
    """The segments that explain a change: a fifth of it at least, and clearly more than
    their usual share (a segment that is 67% of the traffic and 65% of a rise explains
    nothing: everything rose)."""
    keep = [e for e, usual in entries if e["share_of_change"] >= max(floor, 1.25 * usual)]
    return sorted(keep, key=lambda e: -e["share_of_change"])[:limit]


def explain_additive(segments: dict, metric: str, usable: set[str], scale: float) -> list[dict]:
    """Segments of an additive metric (sessions by device, events by type...). Each segment is
    expected at its usual share of the day; ``scale`` turns today's segment total into the
    predicted one. Returns the segments carrying most of the change, with their share of it."""
    target, history = segments["target"], segments["history"]
    by_dim: dict[str, dict[str, float]] = {}
    for seg, v in target.items():
        by_dim.setdefault(_split(seg, metric)[0], {})[seg] = v
    for day in usable:
        for seg in history.get(day, {}):
            by_dim.setdefault(_split(seg, metric)[0], {}).setdefault(seg, 0.0)
    out = []
    for dim_segments in by_dim.values():
        shares: dict[str, float] = {}
        for day in usable:
            day_segs = {s: v for s, v in history.get(day, {}).items() if s in dim_segments}
            day_total = total(day_segs)
            for seg in dim_segments:
                shares[seg] = shares.get(seg, 0.0) + (day_segs.get(seg, 0.0) / day_total if day_total else 0.0)
        if not usable:
            continue
        expected_total = total(dim_segments) * scale
        expected = {s: expected_total * shares[s] / len(usable) for s in dim_segments}
        change = {s: dim_segments[s] - expected[s] for s in dim_segments}
        overall = sum(change.values())
        if not overall:
            continue
        for seg, c in change.items():
            dimension, value = _split(seg, metric)
            out.append(({"dimension": dimension, "value": value, "observed": dim_segments[seg],
                         "expected": round(expected[seg], 6), "share_of_change": round(c / overall, 4)},
                        shares[seg] / len(usable)))
    return _ranked(out)


def explain_ratio(segments: dict, numerator: str, denominator: str, usable: set[str]) -> list[dict]:
    """Segments of a rate (checkouts per cart...): today's denominator at the segment's usual
    rate gives its expected numerator; the shortfall (or excess) is the segment's part."""
    num, den = segments[numerator], segments[denominator]
    out, changes = [], {}
    for seg, d in den["target"].items():
        base_num = sum(num["history"].get(day, {}).get(seg, 0.0) for day in usable)
        base_den = sum(den["history"].get(day, {}).get(seg, 0.0) for day in usable)
        if not base_den or not d:
            continue
        rate = base_num / base_den
        changes[seg] = (num["target"].get(seg, 0.0) - d * rate, num["target"].get(seg, 0.0) / d, rate)
    by_dim: dict[str, list[str]] = {}
    for seg in changes:
        by_dim.setdefault(_split(seg, numerator)[0], []).append(seg)
    for segs in by_dim.values():  # one dimension at a time: its shares of the change add up to 1
        overall = sum(changes[s][0] for s in segs)
        den_total = sum(den["target"][s] for s in segs)
        if not overall or not den_total:
            continue
        for seg in segs:
            c, observed, expected = changes[seg]
            dimension, value = _split(seg, numerator)
            out.append(({"dimension": dimension, "value": value, "observed": round(observed, 6),
                         "expected": round(expected, 6), "share_of_change": round(c / overall, 4)},
                        den["target"][seg] / den_total))
    return _ranked(out)


def explain_mix(target: dict[str, float], base: dict[str, float], dimension: str) -> list[dict]:
    moves = {k: target.get(k, 0.0) - base.get(k, 0.0) for k in set(target) | set(base)}
    overall = sum(abs(m) for m in moves.values())
    if not overall:
        return []
    return _ranked([({"dimension": dimension, "value": k, "observed": round(target.get(k, 0.0), 6),
                      "expected": round(base.get(k, 0.0), 6), "share_of_change": round(abs(m) / overall, 4)}, 0.0)
                    for k, m in moves.items()])


def segments_in_words(segments: list[dict], direction: int) -> str:
    """"mobile -96% (91% of the drop)" for the segment that explains most of a change, if one does."""
    if not segments or segments[0]["share_of_change"] < 0.5:
        return ""
    top = segments[0]
    what = "drop" if direction < 0 else "rise"
    if top["expected"]:
        change = f"{(top['observed'] / top['expected'] - 1) * 100:+.0f}%"
    else:
        change = f"{fmt(top['observed'])} (none expected)"
    return f"{top['value']} ({top['dimension']}) {change} ({top['share_of_change'] * 100:.0f}% of the {what})"


# --- mixes --------------------------------------------------------------------------------------------

def mean_mix(history: dict[str, dict[str, float]]) -> dict[str, float]:
    keys = {k for day in history.values() for k in day}
    n = len(history)
    return {k: sum(day.get(k, 0.0) for day in history.values()) / n for k in keys}


def js_distance(p: dict[str, float], q: dict[str, float]) -> float:
    """Jensen-Shannon distance (base 2): 0 identical, 1 disjoint."""
    keys = set(p) | set(q)
    sp, sq = sum(p.values()) or 1.0, sum(q.values()) or 1.0
    pn = {k: p.get(k, 0.0) / sp for k in keys}
    qn = {k: q.get(k, 0.0) / sq for k in keys}
    div = 0.0
    for k in keys:
        m = (pn[k] + qn[k]) / 2
        for x in (pn[k], qn[k]):
            if x > 0:
                div += 0.5 * x * math.log2(x / m)
    return math.sqrt(max(div, 0.0))


# --- wording ------------------------------------------------------------------------------------------

def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"


def expected_range(low: float | None, high: float | None) -> str:
    return " and ".join(x for x in (low is not None and f">= {fmt(low)}", high is not None and f"<= {fmt(high)}") if x)


def streak_words(streak: int, at_least: bool = False) -> str:
    return f"; failing {'at least ' if at_least else ''}{streak + 1} days in a row" if streak else ""


def streak_phrase(series: dict, target: dt.date) -> str:
    """How long this check has failed, as far back as the series reaches."""
    streak = failing_streak(series, target)
    since = series.get("since")
    return streak_words(streak, bool(since) and target - dt.timedelta(days=streak) <= dt.date.fromisoformat(since))


def row_place(sample: dict) -> str:
    """Where an offending row is: ``file line N`` for a loaded file, ``row_id X`` in place."""
    if sample.get("row_id") is not None:
        return f"row_id {sample['row_id']}"
    return f"{str(sample['file']).rsplit('/', 1)[-1]} line {sample['line']}"


def samples_phrase(samples: list[dict], listed: int = 0) -> str:
    """How a message names its offending rows: the first one with where it is, or the
    values of the first ``listed`` (order ids, revenue values), each with where it is."""
    if not samples:
        return ""
    if listed:
        shown = [f"{x['value']} ({_short_place(x)})" for x in samples[:listed]]
        more = len(samples) - len(shown)
        return ": " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    first = samples[0]
    return f"; first at {row_place(first)}: {first['value']!r}"


def _colon_place(sample: dict) -> str:
    if sample.get("row_id") is not None:
        return f"row_id={sample['row_id']}"
    return f"{str(sample['file']).rsplit('/', 1)[-1]}:{sample['line']}"


def _short_place(sample: dict) -> str:
    return f"row_id {sample['row_id']}" if sample.get("row_id") is not None else f"line {sample['line']}"


def outcome(success: bool, observed, message: str, expected: str, hint: str = "", **details) -> dict:
    """The GX result: a failing message names what was expected and what likely broke."""
    if not success:
        message += f", expected {expected}" + (f": {hint}" if hint else "")
    result = {"observed_value": observed, "details": {"message": message, "expected": expected, **details}}
    if details.get("samples"):  # how GX shows offending values, so Data Docs read like any validation
        result["partial_unexpected_list"] = [f"{_colon_place(x)} {x['value']!r}" for x in details["samples"]]
        result["unexpected_count"] = None  # GX's renderers read it; the count is the observed value
    return {"success": success, "result": result}


def skipped(day: str | None, have: int, need: int, label: str) -> dict:
    message = f"{label}: skipped, insufficient history ({have} of {need} baseline days)"
    return {"success": True,
            "result": {"observed_value": "skipped",
                       "details": {"skipped": True, "day": day, "message": message,
                                   "history_days": have, "min_history_days": need}}}
