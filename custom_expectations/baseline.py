"""Arithmetic the baseline expectations share: trailing means, mix distance, wording."""

from __future__ import annotations

import math


def total(values: dict[str, float]) -> float:
    return float(sum(values.values()))


def trailing_mean(history: dict[str, dict[str, float]], dimension: str | None) -> tuple[float | None, int]:
    """Mean over the days that have data; returns (mean, number of days)."""
    per_day = [total(v) if dimension is None else v[dimension]
               for v in history.values() if (dimension is None or dimension in v)]
    if not per_day:
        return None, 0
    return sum(per_day) / len(per_day), len(per_day)


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


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"


def expected_range(low: float | None, high: float | None) -> str:
    return " and ".join(x for x in (low is not None and f">= {fmt(low)}", high is not None and f"<= {fmt(high)}") if x)


def outcome(success: bool, observed, message: str, expected: str, hint: str = "", **details) -> dict:
    """The GX result: a failing message names what was expected and what likely broke."""
    if not success:
        message += f", expected {expected}" + (f": {hint}" if hint else "")
    return {"success": success,
            "result": {"observed_value": observed,
                       "details": {"message": message, "expected": expected, **details}}}


def skipped(day: str | None, have: int, need: int, label: str) -> dict:
    message = f"{label}: skipped, insufficient history ({have} of {need} baseline days)"
    return {"success": True,
            "result": {"observed_value": "skipped",
                       "details": {"skipped": True, "day": day, "message": message,
                                   "history_days": have, "min_history_days": need}}}
