"""Bot traffic must stay near its usual share: a crawler burst is named, not mistaken for shoppers."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from monitor.rules import baseline as b
from .day_metric_expectation import DayMetricExpectation


class ExpectBotShareToStayNormal(DayMetricExpectation):
    """The day's bot share of sessions (``metric``) and of hits (``hit_metric``) may exceed
    what the usable recent days predict by at most ``warn_points`` percentage points; above
    ``critical_pct`` percent either one is critical, with or without history. The message
    names the bots with the most hits (``segment_metrics``: agent names and fast clients).
    """

    metric: str = "bot_share"
    hit_metric: str = "bot_hit_share"
    segment_metrics: str = "bot_hits,bot_hit_share"
    warn_points: float = 10.0
    critical_pct: float = 50.0
    min_history: int = 3
    method: str = "mean7"
    exclude_alerts: bool = True
    accept_after: int = 3

    success_keys: ClassVar[tuple[str, ...]] = ("metric", "dimension", "window_days", "history_days", "check_name",
                                               "segment_metrics", "warn_points", "critical_pct", "min_history",
                                               "method", "exclude_alerts", "accept_after")

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        return (f"bot sessions and hits must not rise more than {b.fmt(kwargs.get('warn_points', 10))} points above "
                f"their usual share, nor above {b.fmt(kwargs.get('critical_pct', 50))}%")

    def _expected(self, history: dict, series: dict, target: dt.date) -> float | None:
        values = {dt.date.fromisoformat(d): v for d, v in history.items()}
        usable = b.usable_days(values, series, target, self.exclude_alerts, self.accept_after)
        pred = b.predict(usable.values, target, self.method, self.window_days,
                         self.history_days or self.window_days, self.min_history)
        return pred.value if pred else None

    def check(self, series: dict) -> dict:
        day = series["day"]
        if day is None or not series["target"]:
            return b.skipped(day, 0, self.min_history, "bot share (no sessions on the day)")
        target_day = dt.date.fromisoformat(day)
        shares = {"sessions": series["target"].get(self.dimension or "", 0.0),
                  "hits": series["segments"].get(self.hit_metric, {}).get("target", {}).get("", 0.0)}
        history = {"sessions": {d: v.get(self.dimension or "", 0.0) for d, v in series["history"].items()},
                   "hits": {d: v.get("", 0.0) for d, v in
                            series["segments"].get(self.hit_metric, {}).get("history", {}).items()}}
        expected = {k: self._expected(history[k], series, target_day) for k in shares}
        over = {k: shares[k] - expected[k] for k in shares if expected[k] is not None}
        critical = any(v * 100 > self.critical_pct for v in shares.values())
        warned = any(v * 100 > self.warn_points for v in over.values())
        worst = max(shares, key=lambda k: over.get(k, shares[k]))
        exp_txt = f"expected {expected[worst] * 100:.0f}%" if expected[worst] is not None else "no history yet"
        message = f"bot {worst} {shares[worst] * 100:.0f}% on {day} ({exp_txt})"
        agents = sorted(series["segments"].get("bot_hits", {}).get("target", {}).items(), key=lambda kv: -kv[1])
        if agents:
            message += ": top agents " + ", ".join(f"{name} {b.fmt(hits)} hits" for name, hits in agents[:3])
        success = not (critical or warned)
        if not success:
            message += b.streak_phrase(series, target_day)
        return {"success": success,
                "result": {"observed_value": round(shares["sessions"], 4),
                           "details": {"day": day, "message": message, "direction": 1,
                                       "expected": f"<= expected + {b.fmt(self.warn_points)} points and "
                                                   f"<= {b.fmt(self.critical_pct)}%",
                                       "low": None, "high": self.critical_pct / 100,
                                       "baseline": expected["sessions"], "hit_share": round(shares["hits"], 4),
                                       "bot_agents": dict(agents[:10]),
                                       **({"severity": "critical"} if critical else {})}}}
