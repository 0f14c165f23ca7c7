"""A field-health count must stay near the feed's own usual rate (empty client ids, ...)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectDayRateToMatchBaseline(DayMetricExpectation):
    """The day's count of bad rows (``metric``) out of its rows (``count_metric``) may not
    rise beyond noise above the feed's usual rate: the median rate of the usable recent
    days. Noise is binomial (2 empty ids in 3,000 rows is not 20 in 3,000), widened by the
    rate's own day-to-day spread, and ``noise_sigma`` SDs of it are allowed. A rise beyond
    noise that is also at least ``spike_factor`` times the usual count is a spike (the
    check's own severity); a smaller rise beyond noise, or any bad row where the history
    says 0 or is too short to say anything, is a warning.
    """

    count_metric: str = "rows:"
    min_history: int = 3
    exclude_alerts: bool = True
    accept_after: int = 3
    noise_sigma: float = 3.5
    spike_factor: float = 2.0

    success_keys: ClassVar[tuple[str, ...]] = (
        "metric", "dimension", "window_days", "check_name", "count_metric", "min_history", "exclude_alerts",
        "accept_after", "noise_sigma", "spike_factor")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        label = kwargs.get("label") or kwargs["metric"]
        return (f"{label} must not rise above the feed's usual rate, beyond "
                f"{b.fmt(kwargs.get('noise_sigma', 3.5))} SDs of its noise")

    def check(self, series: dict) -> dict:
        label = self.display_name
        day = series["day"]
        if day is None or (self.dimension or "") not in series["target"]:
            return b.skipped(day, 0, self.min_history, f"{label} (no value for the day)")
        target_day = dt.date.fromisoformat(day)
        k = series["target"][self.dimension or ""]
        counts = {dt.date.fromisoformat(d): n for d, n in series.get("counts", {}).items()}
        n = counts.get(target_day, 0.0)
        values = {d: v for d, v in b.day_values(series["history"], self.dimension).items() if counts.get(d)}
        usable = b.usable_days(values, series, target_day, self.exclude_alerts, self.accept_after)
        rates = {d: v / counts[d] for d, v in usable.values.items() if 0 < (target_day - d).days <= self.window_days}
        share = f"{k / n * 100:.2f}% of {b.fmt(n)} rows" if n else "no rows"
        message = f"{label} = {b.fmt(k)} on {day} ({share}"
        samples = series.get("samples") or []
        details = {"day": day, "low": None, "direction": 1 if k else 0}
        if len(rates) < self.min_history:
            success = k == 0
            message += (f"; too little history to know this feed's usual rate: {len(rates)} of "
                        f"{self.min_history} days)")
            expected, high, severity = None, 0.0, "warning"
        else:
            pooled = sum(usable.values[d] for d in rates) / sum(counts[d] for d in rates)
            band = b.rate_band(k, n, list(rates.values()), pooled, self.noise_sigma, self.spike_factor)
            p, expected, high, success, spike = band.rate, band.expected, band.high, band.success, band.spike
            severity = None if spike else "warning"
            message += f"; usual {p * 100:.2f}%, about {b.fmt(round(expected, 1))} rows"
            message += ", a spike)" if spike else ")" if success else ", a rise above the usual rate)"
        if success:
            samples = []
        else:
            message += b.streak_phrase(series, target_day)
            message += b.samples_phrase(samples)
        if severity and not success:
            details["severity"] = severity
        return b.outcome(success, k, message, f"<= {b.fmt(round(high, 1))}", self.hint, baseline=expected,
                         high=high, rate=k / n if n else None, **details, **({"samples": samples} if samples else {}))
