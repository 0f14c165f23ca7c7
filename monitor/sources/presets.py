"""``[source] preset``: the columns and event names of schemas many pipelines write, so a
team monitors its own table with one line (README, "Monitor your own table").

A preset fills ``[source]``, ``[columns]`` and ``[events]`` under what the file says:
any key the file sets itself wins. A nested path (``context.navigator.userAgent``) reads
a key inside a json/jsonb column; ``""`` says the schema has no such column.
"""

from __future__ import annotations

PRESETS: dict[str, dict[str, dict]] = {
    # Snowplow's atomic.events: fields as columns, no single payload
    "snowplow": {
        "source": {"relation": "atomic.events"},
        "columns": {"client_id": "domain_userid", "timestamp": "derived_tstamp", "event_name": "event_name",
                    "event_data": "", "session_id": "domain_sessionid", "page_url": "page_url",
                    "referrer": "page_referrer", "user_agent": "useragent", "utm_source": "mkt_source",
                    "utm_medium": "mkt_medium", "utm_campaign": "mkt_campaign", "order_id": "tr_orderid",
                    "revenue": "tr_total", "currency": "tr_currency", "row_id": "event_id",
                    "loaded_at": "load_tstamp"},
        "events": {"page_view": "page_view", "add_to_cart": "add_to_cart", "checkout": "checkout_step",
                   "purchase": "transaction"},
    },
    # Segment or RudderStack: the tracks table, its purchases' properties in order_completed
    "segment": {
        "source": {"relation": "segment.tracks", "purchases": "segment.order_completed"},
        "columns": {"client_id": "anonymous_id", "timestamp": "timestamp", "event_name": "event",
                    "event_data": "", "page_url": "context_page_url", "referrer": "context_page_referrer",
                    "user_agent": "context_user_agent", "utm_source": "context_campaign_source",
                    "utm_medium": "context_campaign_medium", "utm_campaign": "context_campaign_name",
                    "order_id": "order_id", "revenue": "revenue", "currency": "currency", "row_id": "id",
                    "loaded_at": "uuid_ts"},
        "events": {"page_view": "page_viewed", "add_to_cart": "product_added", "checkout": "checkout_started",
                   "purchase": "order_completed"},
    },
    # a GA4 export flattened into PostgreSQL: event_timestamp in microseconds, event_params
    # as a jsonb object, the export's own day in event_date (YYYYMMDD)
    "ga4": {
        "source": {"relation": "analytics.events"},
        "columns": {"client_id": "user_pseudo_id", "timestamp": "event_timestamp", "event_name": "event_name",
                    "event_data": "event_params", "partition_date": "event_date",
                    "page_url": "event_params.page_location", "referrer": "event_params.page_referrer",
                    "session_id": "event_params.ga_session_id", "utm_source": "event_params.source",
                    "utm_medium": "event_params.medium", "utm_campaign": "event_params.campaign",
                    "device_type": "device_category", "order_id": "ecommerce.transaction_id",
                    "revenue": "ecommerce.purchase_revenue", "currency": "event_params.currency"},
        "events": {"page_view": "page_view", "add_to_cart": "add_to_cart", "checkout": "begin_checkout",
                   "purchase": "purchase"},
    },
    # Shopify's web pixel events, landed by Airbyte or Fivetran: data and context as jsonb
    "shopify": {
        "source": {"relation": "shopify.pixel_events"},
        "columns": {"client_id": "clientId", "timestamp": "timestamp", "event_name": "name", "event_data": "data",
                    "user_agent": "context.navigator.userAgent", "page_url": "context.document.location.href",
                    "referrer": "context.document.referrer", "order_id": "data.checkout.order.id",
                    "revenue": "data.checkout.totalPrice.amount", "currency": "data.checkout.currencyCode",
                    "row_id": "id"},
        "events": {"page_view": "page_viewed", "add_to_cart": "product_added_to_cart",
                   "checkout": "checkout_started", "purchase": "checkout_completed"},
    },
}


def apply(name: str, data: dict) -> dict:
    """The config ``data`` with preset ``name`` under it (an unknown name is left to the model's check)."""
    preset = PRESETS.get(name)
    if preset is None:
        return data
    out = dict(data)
    for section, values in preset.items():
        own = out.get(section) or {}
        if isinstance(own, dict):
            out[section] = {**values, **own}
    return out
