"""Typed tables as teams' pipelines write them, built inside a test from rows the loader
holds (the generator's days and incidents): a Snowplow-style ``atomic.events`` and a
GA4 export flattened into PostgreSQL. Each row keeps its load and line as its id, so a
sample can be traced back."""

from __future__ import annotations

# the generator's event names -> Snowplow's and GA4's (the presets' [events])
SNOWPLOW_NAMES = {"page_viewed": "page_view", "add_to_cart": "add_to_cart", "checkout_started": "checkout_step",
                  "purchase": "transaction"}
GA4_NAMES = {"page_viewed": "page_view", "add_to_cart": "add_to_cart", "checkout_started": "begin_checkout",
             "purchase": "purchase"}


def _renamed(names: dict[str, str]) -> str:
    cases = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in names.items())
    return f"CASE r.event_name {cases} ELSE r.event_name END"


# the loaded rows with their payload parsed once (a payload that is no JSON object: none)
_ROWS = """(SELECT r.*, CASE WHEN r.event_data IS JSON OBJECT AND pg_input_is_valid(r.event_data, 'jsonb')
                        THEN r.event_data::jsonb END AS d, l.loaded_at
           FROM events.raw_events r JOIN events.loads l USING (load_id)) r"""


def build_snowplow(conn) -> None:
    """atomic.events: typed columns, fields as columns, no payload; an index on the event time."""
    conn.exec_driver_sql("""
        CREATE SCHEMA IF NOT EXISTS atomic;
        CREATE TABLE atomic.events (
            event_id text PRIMARY KEY, app_id text, platform text, domain_userid text,
            derived_tstamp timestamptz, event_name text, domain_sessionid text, page_url text,
            page_referrer text, useragent text, mkt_source text, mkt_medium text, mkt_campaign text,
            tr_orderid text, tr_total numeric, tr_currency text, load_tstamp timestamptz);
        CREATE INDEX events_derived_tstamp ON atomic.events (derived_tstamp);""")
    conn.exec_driver_sql(f"""
        INSERT INTO atomic.events
        SELECT r.load_id || '-' || r.line_no, 'shop', 'web', nullif(btrim(r.client_id), ''),
               events.parse_ts(r."timestamp"), {_renamed(SNOWPLOW_NAMES)}, r.d->>'session_id', r.d->>'page_url',
               r.d->>'referrer', r.d->>'user_agent', r.d->>'utm_source', r.d->>'utm_medium', r.d->>'utm_campaign',
               r.d->>'order_id', CASE WHEN pg_input_is_valid(r.d->>'revenue', 'numeric')
                                      THEN (r.d->>'revenue')::numeric END,
               r.d->>'currency', r.loaded_at
        FROM {_ROWS}""")


def build_ga4(conn) -> None:
    """analytics.events: GA4's export flattened: event_date (YYYYMMDD, the export's day),
    event_timestamp in microseconds, event_params as a jsonb object of GA4's names,
    ecommerce as jsonb, the device category."""
    conn.exec_driver_sql("""
        CREATE SCHEMA IF NOT EXISTS analytics;
        CREATE TABLE analytics.events (
            event_date text, event_timestamp bigint, event_name text, user_pseudo_id text,
            event_params jsonb, device_category text, ecommerce jsonb, stream_id text);
        CREATE INDEX events_event_date ON analytics.events (event_date);""")
    conn.exec_driver_sql(f"""
        INSERT INTO analytics.events
        SELECT to_char(r.partition_date, 'YYYYMMDD'),
               (extract(epoch FROM events.parse_ts(r."timestamp")) * 1000000)::bigint,
               {_renamed(GA4_NAMES)}, nullif(btrim(r.client_id), ''),
               jsonb_strip_nulls(jsonb_build_object(
                   'page_location', r.d->>'page_url', 'page_referrer', r.d->>'referrer',
                   'source', r.d->>'utm_source', 'medium', r.d->>'utm_medium', 'campaign', r.d->>'utm_campaign',
                   'ga_session_id', r.d->>'session_id', 'currency', r.d->>'currency')),
               ua.device_type,
               CASE WHEN r.d ? 'order_id' OR r.d ? 'revenue' THEN jsonb_strip_nulls(jsonb_build_object(
                   'transaction_id', r.d->>'order_id', 'purchase_revenue', r.d->'revenue')) END,
               'web'
        FROM {_ROWS}
        LEFT JOIN monitor.user_agents ua ON ua.user_agent = r.d->>'user_agent'""")
