"""Suite `business_health`: rolling 7-day baselines for volume, funnel, traffic and sessions."""

from __future__ import annotations

from custom_expectations import ExpectDayMetricToMatchBaseline as Baseline
from custom_expectations import ExpectDayMixToMatchBaseline as Mix
from custom_expectations import ExpectPurchasesAfterCheckouts
from expectations.checks import check
from monitor.settings import Settings

SUITE = "business_health"


def expectations(s: Settings) -> list:
    t, ev = s.thresholds, s.events
    common = {"window_days": s.baseline.window_days, "min_history": s.baseline.min_history_days}

    def shift(metric, pct, label, dimension="", **kw):
        return Baseline(metric=metric, dimension=dimension, max_drop_pct=pct, max_rise_pct=pct, label=label,
                        **common, **kw)

    def drop(metric, pct, label, dimension="", **kw):
        return Baseline(metric=metric, dimension=dimension, max_drop_pct=pct, label=label, **common, **kw)

    return [
        check("total_events_shift", "volume", "warning", shift("rows", t.total_events_warn_pct, "total events")),
        check("total_events_drop", "volume", "critical",
              drop("rows", t.total_events_critical_drop_pct, "total events",
                   hint="tracking or ingestion lost most of the day")),
        check("page_view_drop", "volume", "warning",
              drop("events", t.page_view_drop_warn_pct, "page views", dimension=ev.page_view)),
        check("add_to_cart_drop", "volume", "warning",
              drop("events", t.event_type_drop_warn_pct, f"{ev.add_to_cart} events", dimension=ev.add_to_cart)),
        check("checkout_started_drop", "volume", "warning",
              drop("events", t.event_type_drop_warn_pct, f"{ev.checkout} events", dimension=ev.checkout)),
        check("sessions_shift", "volume", "warning", shift("sessions", t.sessions_warn_pct, "sessions")),
        check("checkout_without_purchase", "funnel", "critical",
              ExpectPurchasesAfterCheckouts(window_days=s.baseline.window_days, checkout_event=ev.checkout,
                                            purchase_event=ev.purchase)),
        check("cart_to_checkout_rate", "funnel", "warning",
              drop("cart_to_checkout_rate", t.funnel_drop_warn_pct, "add-to-cart -> checkout conversion",
                   hint="checkout entry may be broken")),
        check("checkout_to_purchase_rate", "funnel", "warning",
              drop("checkout_to_purchase_rate", t.funnel_drop_warn_pct, "checkout -> purchase conversion",
                   hint="payment or order confirmation may be failing")),
        check("revenue_drop", "funnel", "warning", drop("revenue", t.revenue_drop_warn_pct, "revenue")),
        check("channel_mix", "traffic_source", "warning",
              Mix(metric="channel_share", max_distance=t.channel_mix_max_distance, label="channel mix",
                  hint="UTM tagging or referrer capture may be broken", **common)),
        check("utm_source_mix", "traffic_source", "warning",
              Mix(metric="utm_source_share", max_distance=t.utm_source_mix_max_distance, label="utm_source mix",
                  hint="campaign links may have lost their UTM parameters", **common)),
        check("avg_session_duration", "session", "warning",
              shift("avg_session_duration_s", t.session_duration_warn_pct, "average session duration (s)")),
        check("page_depth", "session", "warning",
              shift("page_depth", t.page_depth_warn_pct, "page views per session")),
        check("device_mix", "session", "warning",
              Mix(metric="device_share", max_distance=t.device_mix_max_distance, label="device mix",
                  hint="a device class may have stopped sending events", **common)),
    ]
