"""The catalogue of metrics: each metric the checks read, declared once.

Every engine computes these into the metrics store (monitor.daily_metrics: day,
metric, dimension, value); the expectations name them; the engine parity test
iterates this list, so a metric one engine forgets fails by name.

- grain: ``day`` (one value, dimension ``''``) or ``day x <what>`` (one value per
  dimension value: an event name, a column, a segment, ...);
- kind: ``count`` (additive), ``rate`` (a fraction of rows or sessions), ``share``
  (of sessions or hits), ``mean``, ``sum`` (money, seconds);
- unit: what one unit of the value is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    grain: str
    kind: str
    unit: str
    doc: str
    # emitted for every day with rows (else only when non-zero, or only with such rows)
    always: bool = True


def _m(name, grain, kind, unit, doc, always=True) -> Metric:
    return Metric(name, grain, kind, unit, doc, always)


_DAY = "day"
METRICS: tuple[Metric, ...] = (
    # volume and loads
    _m("rows", _DAY, "count", "rows", "rows of the day, as received"),
    _m("loads", _DAY, "count", "loads", "loads (files) that fed the day"),
    _m("events", "day x event name", "count", "rows", "rows per known event name (0 when absent)"),
    _m("events_by_hour", "day x hour (00-23)", "count", "rows", "rows per UTC hour with a valid in-day timestamp",
       always=False),
    _m("distinct_clients", _DAY, "count", "clients", "distinct client ids"),
    # field health
    _m("null_client_id", _DAY, "count", "rows", "rows without a client id"),
    _m("null_timestamp", _DAY, "count", "rows", "rows without a timestamp"),
    _m("null_event_name", _DAY, "count", "rows", "rows without an event name"),
    _m("unknown_event_name", _DAY, "count", "rows", "rows whose event name is not a known one"),
    _m("unparseable_timestamp", _DAY, "count", "rows", "timestamps that are not ISO-8601"),
    _m("future_timestamp", _DAY, "count", "rows", "timestamps later than the row's arrival (plus tolerance)"),
    _m("out_of_day_timestamp", _DAY, "count", "rows", "timestamps outside the partition's UTC day"),
    _m("invalid_timestamp", _DAY, "count", "rows", "unparseable, future or out-of-day timestamps"),
    _m("malformed_json", _DAY, "count", "rows", "payloads that are not a JSON object"),
    _m("malformed_json_rate", _DAY, "rate", "fraction of rows", "malformed_json / rows"),
    _m("invalid_encoding", _DAY, "count", "rows", "rows whose bytes were not UTF-8"),
    _m("invalid_encoding_rate", _DAY, "rate", "fraction of rows", "invalid_encoding / rows"),
    _m("empty_payload", _DAY, "count", "rows", "rows with no payload (empty, null)"),
    _m("duplicate_rows", _DAY, "count", "rows", "rows beyond the first of identical rows"),
    _m("duplicate_rate", _DAY, "rate", "fraction of rows", "duplicate_rows / rows"),
    # schema
    _m("column", "day x column", "count", "loads", "loads of the day that had each column"),
    _m("missing_column", "day x column", "count", "loads", "loads lacking a required column", always=False),
    _m("unexpected_column", "day x column", "count", "loads", "loads with a column the contract does not know",
       always=False),
    # orders
    _m("revenue", _DAY, "sum", "currency", "revenue of the day's valid purchases"),
    _m("invalid_revenue", _DAY, "count", "purchases", "purchases with a missing, zero, negative or non-finite revenue"),
    _m("duplicate_order_ids", _DAY, "count", "orders", "order ids on more than one purchase"),
    _m("duplicate_order_rows", _DAY, "count", "purchases", "purchases beyond the first of a repeated order id"),
    _m("duplicate_order_revenue_differs", _DAY, "count", "orders", "repeated order ids whose revenues differ"),
    # sessions and funnel (people: bots left out)
    _m("sessions", _DAY, "count", "sessions", "sessions of people (30-minute inactivity)"),
    _m("avg_session_duration_s", _DAY, "mean", "seconds", "mean session duration", always=False),
    _m("page_depth", _DAY, "mean", "page views per session", "mean page views per session", always=False),
    _m("sessions_with_cart", _DAY, "count", "sessions", "sessions with an add-to-cart"),
    _m("sessions_with_checkout", _DAY, "count", "sessions", "sessions with a checkout"),
    _m("sessions_with_purchase", _DAY, "count", "sessions", "sessions with a purchase"),
    _m("cart_rate", _DAY, "rate", "fraction of sessions", "sessions_with_cart / sessions", always=False),
    _m("cart_to_checkout_rate", _DAY, "rate", "fraction of sessions", "sessions_with_checkout / sessions_with_cart",
       always=False),
    _m("checkout_to_purchase_rate", _DAY, "rate", "fraction of sessions",
       "sessions_with_purchase / sessions_with_checkout", always=False),
    _m("session_conversion_rate", _DAY, "rate", "fraction of sessions", "sessions_with_purchase / sessions",
       always=False),
    # traffic mix
    _m("channel_share", "day x channel", "share", "fraction of sessions", "sessions per channel / sessions",
       always=False),
    _m("utm_source_share", "day x utm_source", "share", "fraction of sessions", "sessions per utm_source / sessions",
       always=False),
    _m("utm_campaign_share", "day x utm_campaign", "share", "fraction of sessions",
       "sessions per utm_campaign / sessions", always=False),
    _m("device_share", "day x device", "share", "fraction of sessions", "sessions per device / sessions",
       always=False),
    # bots
    _m("bot_sessions", _DAY, "count", "sessions", "sessions of bots (by user agent or behaviour)"),
    _m("bot_share", _DAY, "share", "fraction of sessions", "bot_sessions / all sessions", always=False),
    _m("bot_hit_share", _DAY, "share", "fraction of hits", "hits of bots / all hits", always=False),
    _m("bot_hits", "day x bot", "count", "hits", "hits of the ten busiest bots", always=False),
    # per-segment measures (dimension: device=mobile, channel=paid_search, utm_source=...)
    *(_m(f"seg_{what}", "day x segment", kind, unit, f"{what} of people's sessions per segment", always=False)
      for what, kind, unit in (("sessions", "count", "sessions"), ("hits", "count", "hits"),
                               ("pages", "count", "page views"), ("carts", "count", "sessions"),
                               ("checkouts", "count", "sessions"), ("purchases", "count", "sessions"),
                               ("cart_events", "count", "events"), ("checkout_events", "count", "events"),
                               ("duration_s", "sum", "seconds"), ("revenue", "sum", "currency"))),
)

CATALOGUE: dict[str, Metric] = {m.name: m for m in METRICS}
assert len(CATALOGUE) == len(METRICS), "a metric is declared twice"


def metric(name: str) -> Metric:
    """The declared metric; a name the catalogue does not hold is a programming error."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"metric {name!r} is not in monitor.rules.catalogue") from None
