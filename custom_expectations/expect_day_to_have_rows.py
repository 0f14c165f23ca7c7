"""The day must have rows at all: an export that never arrived is its own alert."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectDayToHaveRows(DayMetricExpectation):
    """``rows`` > 0 for the day. Without rows every other count is empty, so this
    check, not "zero purchases", is what says the data never came."""

    metric: str = "rows"

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "window_days", "check_name")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        return "the day must have at least one loaded row"

    def check(self, series: dict) -> dict:
        day = series["day"]
        rows = b.total(series["target"])
        avg, _ = b.trailing_mean(series["recent"], None)
        if rows > 0:
            message = f"{b.fmt(rows)} rows loaded for {day}"
        else:
            message = f"no rows loaded for {day}: the export or ingestion did not run"
            if avg:
                message += f" ({self.window_days}-day avg {b.fmt(avg)} rows)"
            message += b.streak_phrase(series, dt.date.fromisoformat(day))
        return {"success": rows > 0,
                "result": {"observed_value": rows,
                           "details": {"day": day, "message": message, "expected": ">= 1",
                                       "low": 1.0, "high": None, "baseline": avg}}}
