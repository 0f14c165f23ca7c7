"""Suite `raw_events`: schema, field health, duplicates and zero purchases.

Thresholds come from monitor.toml (defaults: README, "Checks").
"""

from __future__ import annotations

from monitor.custom_expectations import ExpectDayColumnsToBeKept as Columns
from monitor.custom_expectations import ExpectDayMetricToBeBetween as Between
from monitor.custom_expectations import ExpectDayRateToMatchBaseline as Rate
from monitor.custom_expectations import ExpectDayMetricToMatchBaseline as Baseline
from monitor.custom_expectations import ExpectDayToHaveRows
from .checks import check
from monitor.settings import INPUT_COLUMNS, Settings

SUITE = "raw_events"


def expectations(s: Settings) -> list:
    t, w, bl = s.thresholds, s.baseline.window_days, s.baseline
    # a feed's own normal rate of these is learnt (README, "Checks"); a spike pages
    learnt = {"window_days": w, "min_history": bl.min_history_days, "exclude_alerts": bl.exclude_alert_days,
              "accept_after": bl.accept_after_days, "noise_sigma": bl.noise_sigma}
    return [
        check("no_data", "volume", "critical", ExpectDayToHaveRows(window_days=w)),
        check("required_columns", "schema", "critical", Columns(mode="required", required=list(INPUT_COLUMNS),
                                                                 window_days=w)),
        check("lost_column", "schema", "warning", Columns(mode="lost", required=list(INPUT_COLUMNS),
                                                          window_days=w)),
        check("unexpected_columns", "schema", "warning",
              Between(metric="unexpected_column", max_value=0, label="unexpected columns")),
        check("null_client_id", "field_health", "critical",
              Rate(metric="null_client_id", label="rows with null/empty client_id", **learnt,
                   hint="consent or cookie capture may have broken")),
        check("null_timestamp", "field_health", "critical",
              Between(metric="null_timestamp", dimension="", max_value=0, label="rows with null/empty timestamp")),
        check("null_event_name", "field_health", "critical",
              Between(metric="null_event_name", dimension="", max_value=0, label="rows with null/empty event_name")),
        check("unknown_event_name", "field_health", "warning",
              Rate(metric="unknown_event_name", label="rows with unknown event_name", **learnt,
                   hint="a release may have renamed events; add expected names under [events] others")),
        check("invalid_timestamp", "field_health", "critical",
              Between(metric="invalid_timestamp", dimension="", max_value=0,
                      label="invalid timestamps (unparseable, future or outside the day)")),
        check("malformed_json", "field_health", "warning",
              Rate(metric="malformed_json", label="rows with malformed event_data JSON", **learnt)),
        check("malformed_json_rate", "field_health", "critical",
              Between(metric="malformed_json_rate", dimension="", max_value=t.malformed_json_critical_pct / 100,
                      label="share of rows with malformed event_data JSON")),
        check("invalid_encoding", "field_health", "warning",
              Rate(metric="invalid_encoding", label="rows with bytes that are not UTF-8 (kept, decoded as U+FFFD)",
                   hint="the export's character encoding is not UTF-8", **learnt)),
        check("invalid_encoding_rate", "field_health", "critical",
              Between(metric="invalid_encoding_rate", dimension="", max_value=t.invalid_encoding_critical_pct / 100,
                      label="share of rows with bytes that are not UTF-8",
                      hint="the export's character encoding is not UTF-8")),
        check("duplicate_spike", "duplicates", "critical",
              Baseline(metric="duplicate_rows", max_rise_pct=t.duplicate_spike_critical_pct,
                       min_abs_change=t.duplicate_spike_min_rows, window_days=w, method="mean7", counts=True,
                       min_history=s.baseline.min_history_days, exclude_alerts=s.baseline.exclude_alert_days,
                       accept_after=s.baseline.accept_after_days, noise_sigma=s.baseline.noise_sigma,
                       label="duplicate rows", hint="the pipeline is sending rows twice")),
        check("duplicate_order_id", "orders", "warning",
              Between(metric="duplicate_order_ids", dimension="", max_value=0, list_samples=5,
                      label="order ids on more than one purchase",
                      hint="the order's revenue is counted more than once (retried confirmation page or pixel)")),
        check("invalid_revenue", "orders", "warning",
              Between(metric="invalid_revenue", dimension="", max_value=0, list_samples=3,
                      label=f"{s.events.purchase} events with missing, zero, negative or non-finite revenue",
                      hint="revenue capture on the order confirmation may be broken")),
        check("zero_purchase", "volume", "critical",
              Between(metric="events", dimension=s.events.purchase, min_value=1, window_days=w,
                      label=f"{s.events.purchase} events",
                      hint="purchase tracking or payment confirmation likely broke")),
    ]
