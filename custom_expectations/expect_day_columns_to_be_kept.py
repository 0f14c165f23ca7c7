"""The day's loads must carry the columns they should: the required ones, and the ones the
recent loads had (a column renamed or dropped by an export change)."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import ClassVar, List

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation

# What a lost field does to the checks that read it: said in the alert.
CONSEQUENCES = {
    "client_id": "sessions, funnel and null checks lose their visitor",
    "timestamp": "no event can be placed in time",
    "event_name": "no event can be counted by type",
    "event_data": "payload fields (revenue, order ids, URLs) are gone",
    "referrer": "referral and search traffic will count as direct",
    "page_url": "UTM campaigns and landing pages are gone: paid traffic will count as direct",
    "user_agent": "devices and bots can no longer be told",
    "utm_source": "campaign sources are gone", "utm_medium": "campaign mediums are gone",
    "order_id": "duplicate orders can no longer be seen", "revenue": "revenue will read as missing",
    "session_id": "sessions fall back to 30-minute gaps",
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def likely_rename(column: str, candidates: list[str]) -> str | None:
    """The new column whose name is nearly the lost one (``clientId`` for ``client_id``)."""
    best, score = None, 0.0
    for c in candidates:
        ratio = 1.0 if _norm(c) == _norm(column) else difflib.SequenceMatcher(None, _norm(c), _norm(column)).ratio()
        if ratio > score:
            best, score = c, ratio
    return best if score >= 0.75 else None


class ExpectDayColumnsToBeKept(DayMetricExpectation):
    """Reads ``column`` (loads of the day that had each column) and ``loads``.

    ``mode = "required"``: every column in ``required`` is in every load of the day.
    ``mode = "lost"``: every column the recent days' loads all had (the latest day with
    loads, and at least half of the recent ones) is in today's loads; a lost required
    column is critical, another a warning. Either way a new column of nearly the same
    name is named as a likely rename.
    """

    metric: str = "column"
    dimension: None = None
    count_metric: str = "loads:"
    mode: str = "required"
    required: List[str] = []

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "window_days", "check_name", "count_metric", "mode",
                                               "required")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        if kwargs.get("mode") == "lost":
            return "no column the recent loads had may be missing from the day's loads"
        return "required columns " + ", ".join(kwargs.get("required") or []) + " must be in every load of the day"

    def check(self, series: dict) -> dict:
        day = series["day"]
        if day is None:
            return b.skipped(day, 0, 1, "columns (no loads)")
        target_day = dt.date.fromisoformat(day)
        loads = series.get("counts", {}).get(day, 0.0)
        today = series["target"]
        earlier = {d: cols for d, cols in series["recent"].items() if series.get("counts", {}).get(d)}
        if not loads:
            return b.outcome(True, 0, f"no loads on {day}", "no column missing", day=day)
        lacking = lambda c: today.get(c, 0.0) < loads  # noqa: E731
        if self.mode == "lost":
            if not earlier:
                return b.skipped(day, 0, 1, "columns the recent loads had (no earlier loads)")
            # in every load of at least half the recent days with loads
            whole = {d: {c for c, n in cols.items() if n >= series["counts"][d]} for d, cols in earlier.items()}
            had = {c for cols in whole.values() for c in cols
                   if 2 * sum(1 for w in whole.values() if c in w) >= len(whole)}
            missing = sorted(c for c in had if lacking(c))
        else:
            missing = [c for c in self.required if lacking(c)]

        def fresh(column: str) -> list[str]:
            """Today's columns the days that still had ``column`` did not have: its new name?"""
            before = {c for cols in series["history"].values() if cols.get(column) for c in cols}
            return sorted(c for c in today if c not in before and c not in self.required)
        renamed = {c: likely_rename(c, fresh(c)) for c in missing}
        parts = []
        for c in missing:
            text = f"`{c}` missing from {b.fmt(loads - today.get(c, 0.0))} of {b.fmt(loads)} load(s)"
            rename = renamed[c]
            if rename:
                since = min((d for d, cols in series["history"].items() if cols.get(rename)), default=None)
                text += f"; `{rename}` appeared {'on ' + since if since else 'the same day'}: renamed?"
            if self.mode == "lost" and c in CONSEQUENCES:
                text += f" ({CONSEQUENCES[c]})"
            parts.append(text)
        success = not missing
        if success:
            message = f"no column lost on {day}" if self.mode == "lost" else f"all required columns present on {day}"
        else:
            what = "columns the recent loads had" if self.mode == "lost" else "required columns"
            message = f"{what} missing on {day}: " + "; ".join(parts) + b.streak_phrase(series, target_day)
        details = {"day": day, "columns": missing, "renamed": {c: r for c, r in renamed.items() if r}}
        if self.mode == "lost" and missing and any(c in self.required for c in missing):
            details["severity"] = "critical"
        hint = self.hint or ("fix the export (or map the new name under [columns] in monitor.toml) before loading"
                             if missing else "")
        return b.outcome(success, len(missing), message, "no column missing", hint, **details)
