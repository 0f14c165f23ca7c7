"""A day's mix (channels, utm sources, devices) must stay near its trailing mix."""

from __future__ import annotations

from typing import ClassVar

from custom_expectations import baseline as b
from custom_expectations.day_metric_expectation import DayMetricExpectation


class ExpectDayMixToMatchBaseline(DayMetricExpectation):
    """Jensen-Shannon distance between the day's shares and the trailing mean mix
    must stay at most ``max_distance``. The message names the shares that moved most.
    """

    max_distance: float
    min_history: int = 3

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "max_distance", "window_days", "min_history")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        label = kwargs.get("label") or kwargs["metric"]
        return (f"{label} must stay within Jensen-Shannon distance {kwargs['max_distance']:g} "
                f"of its {kwargs.get('window_days', 7)}-day mix")

    def check(self, series: dict) -> dict:
        label = self.display_name
        day, history, target = series["day"], series["history"], series["target"]
        if len(history) < self.min_history:
            return b.skipped(day, len(history), self.min_history, label)
        if not target:
            return b.skipped(day, len(history), self.min_history, f"{label} (no sessions on the day)")
        base = b.mean_mix(history)
        distance = b.js_distance(target, base)
        moves = sorted(((target.get(k, 0.0) - base.get(k, 0.0)) * 100, k) for k in set(target) | set(base))
        moves.sort(key=lambda m: -abs(m[0]))
        moved = ", ".join(f"{k} {base.get(k, 0) * 100:.0f}% -> {target.get(k, 0) * 100:.0f}%"
                          for d, k in moves[:3] if abs(d) >= 1)
        success = distance <= self.max_distance
        message = f"{label} shift {distance:.3f} on {day} (limit {self.max_distance:g})"
        if moved:
            message += f": {moved}"
        if not success and self.hint:
            message += f"; {self.hint}"
        return {"success": success,
                "result": {"observed_value": round(distance, 4),
                           "details": {"day": day, "message": message, "expected": f"<= {self.max_distance:g}",
                                       "low": None, "high": self.max_distance, "baseline": 0.0,
                                       "mix": target, "baseline_mix": base, "history_days": len(history)}}}
