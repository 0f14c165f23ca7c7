"""A day's mix (channels, utm sources, devices) must stay near its recent mix."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import ClassVar

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectDayMixToMatchBaseline(DayMetricExpectation):
    """Jensen-Shannon distance between the day's shares and the mean mix of the recent
    usable days must stay at most ``max_distance``, or within ``noise_sigma`` robust SDs
    of how far those days themselves stray from it (a small shop's mix is noisy). Days on
    which this check alerted are left out until a change lasted ``accept_after`` days.
    The message names the shares that moved most.
    """

    max_distance: float
    min_history: int = 3
    exclude_alerts: bool = True
    accept_after: int = 3
    noise_sigma: float = 3.5
    dimension_label: str = ""

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "max_distance", "window_days", "min_history",
                                               "exclude_alerts", "accept_after", "noise_sigma", "check_name")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        label = kwargs.get("label") or kwargs["metric"]
        return (f"{label} must stay within Jensen-Shannon distance {kwargs['max_distance']:g} "
                f"of its {kwargs.get('window_days', 7)}-day mix")

    def check(self, series: dict) -> dict:
        label = self.display_name
        day, target = series["day"], series["target"]
        if day is None:
            return b.skipped(day, 0, self.min_history, label)
        target_day = dt.date.fromisoformat(day)
        days = {dt.date.fromisoformat(d): d for d in series["history"]}
        usable = b.usable_days({d: 0.0 for d in days}, series, target_day, self.exclude_alerts, self.accept_after)
        history = {days[d]: series["history"][days[d]] for d in usable.values
                   if (target_day - d).days <= self.window_days}
        if len(history) < self.min_history:
            return b.skipped(day, len(history), self.min_history, label)
        if not target:
            return b.skipped(day, len(history), self.min_history, f"{label} (no sessions on the day)")
        base = b.mean_mix(history)
        distance = b.js_distance(target, base)
        # how far a usable day strays from the mix of the others: the mix's own noise
        strays = [b.js_distance(mix, b.mean_mix({d: m for d, m in history.items() if d != iso}))
                  for iso, mix in history.items()] if len(history) > 2 else []
        noise = (statistics.median(strays) + self.noise_sigma * b.MAD_TO_SD *
                 statistics.median(abs(x - statistics.median(strays)) for x in strays)) if strays else 0.0
        limit = max(self.max_distance, noise)
        success = distance <= limit or b.accepted_today(series)
        segments = b.explain_mix(target, base, self.dimension_label or self.metric) if not success else []
        moves = sorted(set(target) | set(base), key=lambda k: -abs(target.get(k, 0.0) - base.get(k, 0.0)))
        moved = ", ".join(f"{k} {base.get(k, 0) * 100:.0f}% -> {target.get(k, 0) * 100:.0f}%"
                          for k in moves[:3] if abs(target.get(k, 0.0) - base.get(k, 0.0)) >= 0.01)
        message = f"{label} shift {distance:.3f} on {day} (limit {limit:.3g})"
        if moved:
            message += f": {moved}"
        if not success:
            message += b.streak_phrase(series, target_day)
            if self.hint:
                message += f"; {self.hint}"
        return {"success": success,
                "result": {"observed_value": round(distance, 4),
                           "details": {"day": day, "message": message, "expected": f"<= {limit:.3g}",
                                       "low": None, "high": limit, "baseline": 0.0, "direction": 1,
                                       "mix": target, "baseline_mix": base, "history_days": len(history),
                                       **({"segments": segments} if segments else {})}}}
