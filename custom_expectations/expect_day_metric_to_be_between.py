"""A day's metric must lie within fixed bounds (null counts = 0, purchases >= 1, ...)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Optional

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectDayMetricToBeBetween(DayMetricExpectation):
    """Fixed-threshold check on one metric of the target day.

    With ``dimension`` None the metric is summed over its dimensions, and the
    message names the dimensions that contributed (e.g. which columns are missing).
    """

    min_value: Optional[float] = None
    max_value: Optional[float] = None
    list_samples: int = 0  # name this many offending rows in the message (order ids, revenue values)

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "min_value", "max_value", "window_days",
                                               "check_name", "list_samples")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        label = kwargs.get("label") or kwargs["metric"]
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if low is not None and high is not None:
            return f"{label} must be between {b.fmt(low)} and {b.fmt(high)}"
        return f"{label} must be at most {b.fmt(high)}" if high is not None else f"{label} must be at least {b.fmt(low)}"

    def check(self, series: dict) -> dict:
        label = self.display_name
        day = series["day"]
        target = series["target"]
        if self.dimension is not None and self.dimension not in target:
            return b.skipped(day, 0, 1, f"{label} (no value for the day)")
        observed = target[self.dimension] if self.dimension is not None else b.total(target)
        avg, _ = b.trailing_mean(series["recent"], self.dimension)  # context only: fixed bounds decide
        low, high = self.min_value, self.max_value
        success = (low is None or observed >= low) and (high is None or observed <= high)
        message = f"{label} = {b.fmt(observed)} on {day}"
        if avg is not None:
            message += f" ({self.window_days}-day avg {b.fmt(avg)})"
        elif not series.get("verdicts") and not series.get("history"):
            message += " (no earlier days)"  # fixed bounds decide; with earlier days and no value, say nothing
        contributors = {k: v for k, v in target.items() if k and v}
        if self.dimension is None and contributors and not success:
            message += ": " + ", ".join(f"{k} ({b.fmt(v)})" for k, v in sorted(contributors.items()))
        samples = series.get("samples") or [] if not success else []
        if not success and self.list_samples:
            message += b.samples_phrase(samples, self.list_samples)
        if not success:
            message += b.streak_phrase(series, dt.date.fromisoformat(day))
            message += "" if self.list_samples else b.samples_phrase(samples)
        return b.outcome(success, observed, message, b.expected_range(low, high), self.hint,
                         day=day, low=low, high=high, baseline=avg, dimensions=contributors,
                         **({"samples": samples} if samples else {}))
