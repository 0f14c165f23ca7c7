"""A day's metric must stay near what its history predicts (volume, funnel rates, sessions)."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import ClassVar, Optional

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectDayMetricToMatchBaseline(DayMetricExpectation):
    """Fails when the day's value drops more than ``max_drop_pct`` or rises more than
    ``max_rise_pct`` against its prediction (``method``, see baseline.predict), the change
    is also beyond ``noise_sigma`` robust SDs of the metric's day-to-day spread (Poisson's
    for ``counts``), and the absolute change is at least ``min_abs_change``. Days on which
    this check alerted are left out of its baseline until the change has lasted
    ``accept_after`` days. With fewer than ``min_history`` usable days the check is
    skipped, never passed. ``segment_metrics`` name the per-segment metrics whose
    shares of the change the alert reports.
    """

    dimension: Optional[str] = ""
    max_drop_pct: Optional[float] = None
    max_rise_pct: Optional[float] = None
    min_abs_change: float = 0.0
    min_history: int = 3
    method: str = "weekday"
    exclude_alerts: bool = True
    accept_after: int = 3
    noise_sigma: float = 3.5
    counts: bool = False
    count_metric: str = ""  # "metric:dimension" an amount is made of (revenue: "events:purchase")

    success_keys: ClassVar[tuple[str, ...]] = (
        "metric", "dimension", "max_drop_pct", "max_rise_pct", "min_abs_change", "window_days", "history_days",
        "min_history", "method", "exclude_alerts", "accept_after", "noise_sigma", "counts", "check_name",
        "segment_metrics", "count_metric")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        label = kwargs.get("label") or kwargs["metric"]
        limits = [f"drop more than {b.fmt(kwargs['max_drop_pct'])}%" if kwargs.get("max_drop_pct") is not None else "",
                  f"rise more than {b.fmt(kwargs['max_rise_pct'])}%" if kwargs.get("max_rise_pct") is not None else ""]
        text = f"{label} must not " + " or ".join(x for x in limits if x)
        if kwargs.get("method", "weekday") == "mean7":
            text += f" against its {kwargs.get('window_days', 7)}-day average"
        else:
            text += " against a normal day of that weekday at the recent level"
        if kwargs.get("noise_sigma"):
            text += f", beyond {b.fmt(kwargs['noise_sigma'])} SDs of its day-to-day noise"
        if kwargs.get("min_abs_change"):
            text += f" (changes under {b.fmt(kwargs['min_abs_change'])} ignored)"
        return text

    def check(self, series: dict) -> dict:
        label = self.display_name
        day = series["day"]
        if day is None:
            return b.skipped(day, 0, self.min_history, label)
        target_day = dt.date.fromisoformat(day)
        target = series["target"]
        if self.dimension is not None and self.dimension not in target:
            return b.skipped(day, 0, self.min_history, f"{label} (no value for the day)")
        observed = target[self.dimension] if self.dimension is not None else b.total(target)
        values = b.day_values(series["history"], self.dimension)
        usable = b.usable_days(values, series, target_day, self.exclude_alerts, self.accept_after)
        seasonal = b.level_scaled(values, usable.since)
        pred = b.predict(usable.values, target_day, self.method, self.window_days,
                         self.history_days or self.window_days, self.min_history, seasonal)
        if pred is None:
            recent = sum(1 for d in usable.values if (target_day - d).days <= self.window_days)
            return b.skipped(day, recent, self.min_history, label)
        expected = pred.value
        made_of = None
        if self.count_metric:
            recent = [n for d, n in series.get("counts", {}).items()
                      if dt.date.fromisoformat(d) in usable.values
                      and (target_day - dt.date.fromisoformat(d)).days <= self.window_days]
            made_of = statistics.median(recent) if recent else None
        band = b.noise_band(pred, self.noise_sigma, self.counts, made_of)
        low = min(expected * (1 - self.max_drop_pct / 100), expected - band) if self.max_drop_pct is not None else None
        high = max(expected * (1 + self.max_rise_pct / 100), expected + band) if self.max_rise_pct is not None else None
        outside = (low is not None and observed < low) or (high is not None and observed > high)
        success = not (outside and abs(observed - expected) >= self.min_abs_change) or b.accepted_today(series)
        change = (observed - expected) / expected * 100 if expected else None
        direction = (observed > expected) - (observed < expected)
        message = f"{label} = {b.fmt(observed)} on {day} (expected {b.fmt(expected)}: {pred.basis}"
        message += f", {'up' if change >= 0 else 'down'} {abs(change):.0f}%)" if change is not None else ")"
        segments, samples = [], []
        if not success:
            samples = series.get("samples") or []
            segments = self._segments(series, usable, observed, expected)
            words = b.segments_in_words(segments, direction)
            if words:
                message += f": {words}"
            streak = b.failing_streak(series, target_day, direction)
            if self.declared_critical:  # never the new normal by itself
                message += b.streak_words(streak) + (
                    f"; stays critical until this level is accepted: runner.py accept --date {day}"
                    + (f" --check {self.check_name}" if self.check_name else ""))
            else:
                message += (f"; day {streak + 1} of {self.accept_after} before this level becomes the baseline"
                            if self.exclude_alerts and streak + 1 < self.accept_after else
                            f"; day {streak + 1} of {self.accept_after}: from the next day this level is the baseline"
                            if self.exclude_alerts else b.streak_words(streak))
        elif b.accepted_today(series) and outside:
            message += ": accepted as the new normal"
        if usable.since is not None and usable.accepted_by and (not success or (target_day - usable.since).days
                                                                <= self.accept_after + 1):
            message += f"; baseline since {usable.since} (accepted {usable.accepted_by})"
        return b.outcome(success, observed, message, b.expected_range(low, high), self.hint,
                         day=day, low=low, high=high, baseline=expected, change_pct=change, direction=direction,
                         history_days=pred.days, excluded_days=usable.excluded,
                         baseline_since=usable.since.isoformat() if usable.since else None,
                         accepted_by=usable.accepted_by,
                         **({"segments": segments} if segments else {}), **({"samples": samples} if samples else {}))

    def _segments(self, series: dict, usable: b.Usable, observed: float, expected: float) -> list[dict]:
        days = {d.isoformat() for d in usable.values}
        spec = self.segment_metrics
        if not spec or not series.get("segments"):
            return []
        if "/" in spec:
            numerator, denominator = spec.split("/")
            return b.explain_ratio(series["segments"], numerator, denominator, days)
        out = []
        for name in spec.split(","):
            seg_total = b.total(series["segments"][name]["target"])
            # the segment metric may cover fewer rows than the metric: predict it at the same ratio
            scale = expected / observed if observed else 0.0
            out += b.explain_additive(series["segments"][name], name, days, scale if seg_total else 0.0)
        return sorted(out, key=lambda e: -e["share_of_change"])[:3]
