"""Suite `business_health`: baselines for volume, funnel, traffic and sessions (README, "Checks")."""

from __future__ import annotations

from monitor.custom_expectations import ExpectBotShareToStayNormal, ExpectDayToHaveNoSilence
from monitor.custom_expectations import ExpectDayMetricToMatchBaseline as Baseline
from monitor.custom_expectations import ExpectDayMixToMatchBaseline as Mix
from monitor.custom_expectations import ExpectPurchasesAfterCheckouts
from .checks import check
from monitor.settings import Settings

SUITE = "business_health"


def expectations(s: Settings) -> list:
    t, ev, bl = s.thresholds, s.events, s.baseline
    common = {"window_days": bl.window_days, "min_history": bl.min_history_days,
              "exclude_alerts": bl.exclude_alert_days, "accept_after": bl.accept_after_days,
              "noise_sigma": bl.noise_sigma}
    learnt = {**common, "method": bl.method, "history_days": bl.history_days}

    def shift(metric, pct, label, dimension="", **kw):
        return Baseline(metric=metric, dimension=dimension, max_drop_pct=pct, max_rise_pct=pct, label=label,
                        **learnt, **kw)

    def drop(metric, pct, label, dimension="", **kw):
        return Baseline(metric=metric, dimension=dimension, max_drop_pct=pct, label=label, **learnt, **kw)

    return [
        check("total_events_shift", "volume", "warning", shift("rows", t.total_events_warn_pct, "total events", counts=True,
                    segment_metrics="events,seg_hits")),
        check("total_events_drop", "volume", "critical",
              drop("rows", t.total_events_critical_drop_pct, "total events", counts=True,
                   segment_metrics="events,seg_hits", hint="tracking or ingestion lost most of the day")),
        check("page_view_drop", "volume", "warning",
              drop("events", t.page_view_drop_warn_pct, "page views", dimension=ev.page_view, counts=True,
                   segment_metrics="seg_pages")),
        check("add_to_cart_drop", "volume", "warning",
              drop("events", t.event_type_drop_warn_pct, f"{ev.add_to_cart} events", dimension=ev.add_to_cart,
                   counts=True, segment_metrics="seg_cart_events")),
        check("checkout_started_drop", "volume", "warning",
              drop("events", t.event_type_drop_warn_pct, f"{ev.checkout} events", dimension=ev.checkout,
                   counts=True, segment_metrics="seg_checkout_events")),
        check("sessions_shift", "volume", "warning", shift("sessions", t.sessions_warn_pct, "sessions", counts=True,
                                                                segment_metrics="seg_sessions")),
        check("silence", "volume", "warning",
              ExpectDayToHaveNoSilence(min_expected_sessions=t.silence_min_expected_sessions, timezone=s.day.timezone,
                                       window_days=bl.window_days, min_history=bl.min_history_days,
                                       exclude_alerts=bl.exclude_alert_days, accept_after=bl.accept_after_days)),
        check("checkout_without_purchase", "funnel", "critical",
              ExpectPurchasesAfterCheckouts(window_days=s.baseline.window_days, checkout_event=ev.checkout,
                                            purchase_event=ev.purchase)),
        check("cart_to_checkout_rate", "funnel", "warning",
              drop("cart_to_checkout_rate", t.funnel_drop_warn_pct, "add-to-cart -> checkout conversion",
                   segment_metrics="seg_checkouts/seg_carts", hint="checkout entry may be broken")),
        check("checkout_to_purchase_rate", "funnel", "warning",
              drop("checkout_to_purchase_rate", t.funnel_drop_warn_pct, "checkout -> purchase conversion",
                   segment_metrics="seg_purchases/seg_checkouts", hint="payment or order confirmation may be failing")),
        check("revenue_drop", "funnel", "warning", drop("revenue", t.revenue_drop_warn_pct, "revenue", segment_metrics="seg_revenue",
                                                    count_metric=f"events:{ev.purchase}")),
        check("channel_mix", "traffic_source", "warning",
              Mix(metric="channel_share", max_distance=t.channel_mix_max_distance, label="channel mix",
                  dimension_label="channel",
                  hint="UTM tagging or referrer capture may be broken", **common)),
        check("utm_source_mix", "traffic_source", "warning",
              Mix(metric="utm_source_share", max_distance=t.utm_source_mix_max_distance, label="utm_source mix",
                  dimension_label="utm_source",
                  hint="campaign links may have lost their UTM parameters", **common)),
        check("avg_session_duration", "session", "warning",
              shift("avg_session_duration_s", t.session_duration_warn_pct, "average session duration (s)",
                    segment_metrics="seg_duration_s/seg_sessions")),
        check("page_depth", "session", "warning",
              shift("page_depth", t.page_depth_warn_pct, "page views per session",
                    segment_metrics="seg_pages/seg_sessions")),
        check("bot_share", "session", "warning",
              ExpectBotShareToStayNormal(warn_points=t.bot_share_warn_points, critical_pct=t.bot_share_critical_pct,
                                         window_days=bl.window_days, history_days=bl.history_days,
                                         min_history=bl.min_history_days, exclude_alerts=bl.exclude_alert_days,
                                         accept_after=bl.accept_after_days)),
        check("device_mix", "session", "warning",
              Mix(metric="device_share", max_distance=t.device_mix_max_distance, label="device mix",
                  dimension_label="device",
                  hint="a device class may have stopped sending events", **common)),
    ]
