"""Checkouts started but no purchase at all: the funnel's last step broke."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectPurchasesAfterCheckouts(DayMetricExpectation):
    """If checkouts (``checkout_event``) > 0 on the day, purchases (``purchase_event``) must be > 0 too."""

    metric: str = "events"
    checkout_event: str = "checkout_started"
    purchase_event: str = "purchase"

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "window_days", "checkout_event",
                                               "purchase_event", "check_name")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        return "when checkouts are started, at least one purchase must follow"

    def check(self, series: dict) -> dict:
        day, target = series["day"], series["target"]
        checkouts = target.get(self.checkout_event, 0.0)
        purchases = target.get(self.purchase_event, 0.0)
        avg, _ = b.trailing_mean(series["recent"], self.purchase_event)
        success = not (checkouts > 0 and purchases == 0)
        avg_txt = f" ({self.window_days}-day avg {b.fmt(avg)})" if avg is not None else ""
        message = (f"{self.purchase_event} events = {b.fmt(purchases)} on {day}{avg_txt} "
                   f"while {self.checkout_event} = {b.fmt(checkouts)}")
        if not success:
            message += ": purchase tracking or payment confirmation likely broke"
            message += b.streak_phrase(series, dt.date.fromisoformat(day))
        return {"success": success,
                "result": {"observed_value": purchases,
                           "details": {"day": day, "message": message, "expected": ">= 1 when checkouts > 0",
                                       "low": 1.0, "high": None, "baseline": avg, "checkouts": checkouts}}}
