"""A day's metric must stay near its trailing average (volume, funnel rates, sessions)."""

from __future__ import annotations

from typing import ClassVar, Optional

from custom_expectations import baseline as b
from custom_expectations.day_metric_expectation import DayMetricExpectation


class ExpectDayMetricToMatchBaseline(DayMetricExpectation):
    """Fails when the day's value drops more than ``max_drop_pct`` or rises more than
    ``max_rise_pct`` against the mean of the trailing window, and the absolute change
    is at least ``min_abs_change`` (so 1 -> 2 duplicates pages nobody). With fewer
    than ``min_history`` baseline days the check is skipped, never passed.
    """

    dimension: Optional[str] = ""
    max_drop_pct: Optional[float] = None
    max_rise_pct: Optional[float] = None
    min_abs_change: float = 0.0
    min_history: int = 3

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "max_drop_pct", "max_rise_pct",
                                               "min_abs_change", "window_days", "min_history")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        label = kwargs.get("label") or kwargs["metric"]
        limits = [f"drop more than {b.fmt(kwargs['max_drop_pct'])}%" if kwargs.get("max_drop_pct") is not None else "",
                  f"rise more than {b.fmt(kwargs['max_rise_pct'])}%" if kwargs.get("max_rise_pct") is not None else ""]
        text = f"{label} must not " + " or ".join(x for x in limits if x)
        text += f" against its {kwargs.get('window_days', 7)}-day average"
        if kwargs.get("min_abs_change"):
            text += f" (changes under {b.fmt(kwargs['min_abs_change'])} ignored)"
        return text

    def check(self, series: dict) -> dict:
        label = self.display_name
        day = series["day"]
        avg, have = b.trailing_mean(series["history"], self.dimension)
        if have < self.min_history or avg is None:
            return b.skipped(day, have, self.min_history, label)
        target = series["target"]
        if self.dimension is not None and self.dimension not in target:
            return b.skipped(day, have, self.min_history, f"{label} (no value for the day)")
        observed = target[self.dimension] if self.dimension is not None else b.total(target)
        low = avg * (1 - self.max_drop_pct / 100) if self.max_drop_pct is not None else None
        high = avg * (1 + self.max_rise_pct / 100) if self.max_rise_pct is not None else None
        outside = (low is not None and observed < low) or (high is not None and observed > high)
        success = not (outside and abs(observed - avg) >= self.min_abs_change)
        change = (observed - avg) / avg * 100 if avg else None
        message = f"{label} = {b.fmt(observed)} on {day} ({self.window_days}-day avg {b.fmt(avg)}"
        message += f", {'up' if change >= 0 else 'down'} {abs(change):.0f}%)" if change is not None else ")"
        return b.outcome(success, observed, message, b.expected_range(low, high), self.hint,
                         day=day, low=low, high=high, baseline=avg, change_pct=change, history_days=have)
