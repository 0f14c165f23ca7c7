-- The hand-written reference of the contract's 1M-event target: one SQL pass
-- computing the same metrics as monitor/backends/postgres/day_metrics.sql,
-- written the direct way (fields carried through the sessions sort, URLs parsed
-- per session). bench/run_bench.py checks that both give the same values
-- (the schema metrics, two lookups in the loads table, aside).
-- Parameters: day, known (text[]), the event names ev_*, gap_seconds,
-- future_tolerance_minutes.
WITH e AS MATERIALIZED (
    SELECT nullif(btrim(client_id), '') AS client_id, "timestamp" AS ts_text,
           nullif(btrim(event_name), '') AS event_name, event_data,
           events.parse_ts("timestamp") AS ts, coalesce(extra ? '_invalid_encoding', false) AS bad_bytes, f.*
    FROM events.raw_events
    LEFT JOIN LATERAL (
        SELECT j IS NULL AND coalesce(btrim(event_data), '') NOT IN ('', 'null') AS malformed,
               coalesce(btrim(event_data), '') IN ('', 'null') AS no_payload,
               j->>'order_id' AS order_id, j->>'page_url' AS page_url, j->>'referrer' AS referrer,
               j->>'user_agent' AS user_agent, j->>'utm_source' AS utm_source, j->>'utm_medium' AS utm_medium,
               j->>'utm_campaign' AS utm_campaign, nullif(j->>'device_type', '') AS device_type,
               nullif(j->>'session_id', '') AS session_id, j->>'revenue' AS revenue
        FROM (SELECT CASE WHEN event_data IS JSON OBJECT THEN event_data::jsonb END AS j OFFSET 0) p) f ON true
    WHERE partition_date = %(day)s
),
raw AS (
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE client_id IS NULL) AS null_client_id,
           count(*) FILTER (WHERE coalesce(btrim(ts_text), '') = '') AS null_timestamp,
           count(*) FILTER (WHERE event_name IS NULL) AS null_event_name,
           count(*) FILTER (WHERE event_name <> ALL (%(known)s::text[])) AS unknown_event_name,
           count(*) FILTER (WHERE coalesce(btrim(ts_text), '') <> '' AND ts IS NULL) AS unparseable,
           count(*) FILTER (WHERE ts > now() + make_interval(mins => %(future_tolerance_minutes)s)) AS future,
           count(*) FILTER (WHERE (ts AT TIME ZONE 'UTC')::date <> %(day)s::date) AS out_of_day,
           count(*) FILTER (WHERE (coalesce(btrim(ts_text), '') <> '' AND ts IS NULL)
                              OR ts > now() + make_interval(mins => %(future_tolerance_minutes)s)
                              OR (ts AT TIME ZONE 'UTC')::date <> %(day)s::date) AS invalid,
           count(*) FILTER (WHERE malformed) AS malformed_json,
           count(*) FILTER (WHERE bad_bytes) AS invalid_encoding,
           count(*) FILTER (WHERE no_payload) AS empty_payload,
           count(*) FILTER (WHERE event_name = %(ev_purchase)s AND NOT coalesce(
               pg_input_is_valid(revenue, 'numeric') AND revenue::numeric > 0 AND revenue::numeric <= 1e15, false))
               AS invalid_revenue,
           count(DISTINCT client_id) AS distinct_clients,
           coalesce(sum(revenue::numeric) FILTER (WHERE event_name = %(ev_purchase)s
                                                  AND pg_input_is_valid(revenue, 'numeric')), 0) AS revenue
    FROM e
),
orders AS (
    SELECT btrim(order_id) AS order_id, count(*) AS n, count(DISTINCT revenue::numeric) > 1 AS differs
    FROM e WHERE event_name = %(ev_purchase)s AND nullif(btrim(order_id), '') IS NOT NULL
    GROUP BY 1 HAVING count(*) > 1
),
dup AS (
    SELECT coalesce(sum(n - 1), 0) AS duplicate_rows
    FROM (SELECT count(*) AS n FROM e GROUP BY client_id, ts_text, event_name, event_data HAVING count(*) > 1) d
),
hits AS (
    SELECT *, CASE WHEN session_id IS NOT NULL THEN lag(ts) OVER w IS NULL
                   ELSE coalesce(ts - lag(ts) OVER w > make_interval(secs => %(gap_seconds)s), true) END AS starts
    FROM e WHERE client_id IS NOT NULL AND ts IS NOT NULL AND (ts AT TIME ZONE 'UTC')::date = %(day)s::date
      AND NOT ts > now() + make_interval(mins => %(future_tolerance_minutes)s)
    WINDOW w AS (PARTITION BY client_id, session_id ORDER BY ts, event_name COLLATE "C")
),
numbered AS (
    SELECT *, count(*) FILTER (WHERE starts) OVER (PARTITION BY client_id, session_id
                                                  ORDER BY ts, event_name COLLATE "C" ROWS UNBOUNDED PRECEDING) AS seq
    FROM hits
),
fast AS (
    SELECT client_id FROM (SELECT client_id FROM e WHERE client_id IS NOT NULL AND ts IS NOT NULL
                           GROUP BY client_id, date_trunc('minute', ts) HAVING count(*) > %(bot_hits_per_minute)s) m
    GROUP BY 1 HAVING count(*) >= %(bot_minutes)s
),
sessions AS (
    SELECT client_id, extract(epoch FROM max(ts) - min(ts)) AS duration_s,
           count(*) FILTER (WHERE event_name = %(ev_page_view)s) AS pages,
           bool_or(event_name = %(ev_add_to_cart)s) AS cart,
           bool_or(event_name = %(ev_checkout)s) AS checkout,
           bool_or(event_name = %(ev_purchase)s) AS purchase,
           count(*) AS hits, count(*) FILTER (WHERE event_name = %(ev_add_to_cart)s) AS cart_events,
           count(*) FILTER (WHERE event_name = %(ev_checkout)s) AS checkout_events,
           coalesce(sum(revenue::numeric) FILTER (WHERE event_name = %(ev_purchase)s
                                                  AND pg_input_is_valid(revenue, 'numeric')), 0) AS revenue,
           min(page_url) FILTER (WHERE starts) AS page_url, min(referrer) FILTER (WHERE starts) AS referrer,
           min(nullif(utm_source, '')) FILTER (WHERE starts) AS utm_source,
           min(nullif(utm_medium, '')) FILTER (WHERE starts) AS utm_medium,
           min(nullif(utm_campaign, '')) FILTER (WHERE starts) AS utm_campaign,
           min(lower(device_type)) FILTER (WHERE starts) AS device_type,
           min(user_agent) FILTER (WHERE starts) AS user_agent
    FROM numbered
    GROUP BY client_id, session_id, seq
),
everyone AS (
    SELECT s.*, coalesce(ua.device_type = 'bot', false) OR s.client_id IN (SELECT client_id FROM fast) AS bot,
           coalesce(ua.bot_name, CASE WHEN s.client_id IN (SELECT client_id FROM fast)
                                      THEN 'fast client ' || left(s.client_id, 13) END) AS bot_label,
           monitor.channel_from(x.src, x.med, monitor.url_host(s.referrer), monitor.url_host(s.page_url)) AS channel,
           coalesce(x.src, '(none)') AS source, coalesce(x.campaign, '(none)') AS campaign,
           coalesce(s.device_type, ua.device_type, 'unknown') AS device
    FROM sessions s
    CROSS JOIN LATERAL (
        SELECT lower(coalesce(s.utm_source, monitor.url_param(s.page_url, 'utm_source'))) AS src,
               lower(coalesce(s.utm_medium, monitor.url_param(s.page_url, 'utm_medium'))) AS med,
               lower(coalesce(s.utm_campaign, monitor.url_param(s.page_url, 'utm_campaign'))) AS campaign) x
    LEFT JOIN monitor.user_agents ua ON ua.user_agent = s.user_agent
),
sess AS (SELECT * FROM everyone WHERE NOT bot),
bots AS (
    SELECT count(*) FILTER (WHERE bot) AS n, count(*) FILTER (WHERE bot) / nullif(count(*), 0)::numeric AS share,
           coalesce(sum(hits) FILTER (WHERE bot), 0) / nullif(sum(hits), 0)::numeric AS hit_share
    FROM everyone
),
st AS (
    SELECT count(*) AS sessions, avg(duration_s) AS duration, avg(pages) AS depth,
           count(*) FILTER (WHERE cart) AS cart, count(*) FILTER (WHERE checkout) AS checkout,
           count(*) FILTER (WHERE purchase) AS purchase
    FROM sess
),
seg AS (
    SELECT 'device=' || device AS segment, * FROM sess
    UNION ALL SELECT 'channel=' || channel, * FROM sess
    UNION ALL SELECT 'utm_source=' || source, * FROM sess
),
segs AS (
    SELECT segment, count(*) AS sessions, sum(hits) AS hits, sum(pages) AS pages,
           count(*) FILTER (WHERE cart) AS carts, count(*) FILTER (WHERE checkout) AS checkouts,
           count(*) FILTER (WHERE purchase) AS purchases, sum(cart_events) AS cart_events,
           sum(checkout_events) AS checkout_events, sum(duration_s) AS duration_s, sum(revenue) AS revenue
    FROM seg GROUP BY segment
),
mix AS (
    SELECT 'channel_share' AS metric, channel AS dimension, count(*) AS n FROM sess GROUP BY channel
    UNION ALL SELECT 'utm_source_share', source, count(*) FROM sess GROUP BY source
    UNION ALL SELECT 'utm_campaign_share', campaign, count(*) FROM sess GROUP BY campaign
    UNION ALL SELECT 'device_share', device, count(*) FROM sess GROUP BY device
)
SELECT metric, dimension, value::double precision FROM (
    SELECT m.metric, m.dimension, m.value
    FROM raw, dup, st, LATERAL (VALUES
        ('rows', '', rows::numeric), ('null_client_id', '', null_client_id), ('null_timestamp', '', null_timestamp),
        ('null_event_name', '', null_event_name), ('unknown_event_name', '', unknown_event_name),
        ('unparseable_timestamp', '', unparseable), ('future_timestamp', '', future),
        ('out_of_day_timestamp', '', out_of_day), ('invalid_timestamp', '', invalid),
        ('malformed_json', '', malformed_json), ('malformed_json_rate', '', malformed_json / nullif(rows, 0)::numeric),
        ('invalid_encoding', '', invalid_encoding), ('empty_payload', '', empty_payload),
        ('invalid_revenue', '', invalid_revenue),
        ('invalid_encoding_rate', '', invalid_encoding / nullif(rows, 0)::numeric),
        ('distinct_clients', '', distinct_clients), ('revenue', '', revenue),
        ('duplicate_rows', '', duplicate_rows), ('duplicate_rate', '', duplicate_rows / nullif(rows, 0)::numeric),
        ('sessions', '', sessions), ('avg_session_duration_s', '', duration), ('page_depth', '', depth),
        ('sessions_with_cart', '', cart), ('sessions_with_checkout', '', checkout),
        ('sessions_with_purchase', '', purchase), ('cart_rate', '', cart / nullif(sessions, 0)::numeric),
        ('cart_to_checkout_rate', '', checkout / nullif(cart, 0)::numeric),
        ('checkout_to_purchase_rate', '', purchase / nullif(checkout, 0)::numeric),
        ('session_conversion_rate', '', purchase / nullif(sessions, 0)::numeric)) AS m(metric, dimension, value)
    UNION ALL
    SELECT 'events', k.name, count(e.event_name) FROM unnest(%(known)s::text[]) AS k(name)
    LEFT JOIN e ON e.event_name = k.name WHERE (SELECT rows FROM raw) > 0 GROUP BY k.name
    UNION ALL
    SELECT 'seg_' || m.measure, s.segment, m.value FROM segs s, LATERAL (VALUES
        ('sessions', s.sessions::numeric), ('hits', s.hits), ('pages', s.pages), ('carts', s.carts),
        ('checkouts', s.checkouts), ('purchases', s.purchases), ('cart_events', s.cart_events),
        ('checkout_events', s.checkout_events), ('duration_s', s.duration_s), ('revenue', s.revenue)) AS m(measure, value)
    UNION ALL
    SELECT metric, dimension, n / sum(n) OVER (PARTITION BY metric) FROM mix
    UNION ALL SELECT 'bot_sessions', '', n FROM bots
    UNION ALL SELECT 'bot_share', '', share FROM bots
    UNION ALL SELECT 'bot_hit_share', '', hit_share FROM bots
    UNION ALL (SELECT 'bot_hits', bot_label, sum(hits) FROM everyone WHERE bot GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT 10)
    UNION ALL SELECT 'duplicate_order_ids', '', count(*) FROM orders
    UNION ALL SELECT 'duplicate_order_rows', '', coalesce(sum(n - 1), 0) FROM orders
    UNION ALL SELECT 'duplicate_order_revenue_differs', '', count(*) FILTER (WHERE differs) FROM orders
    UNION ALL SELECT 'events_by_hour', to_char(ts AT TIME ZONE 'UTC', 'HH24'), count(*) FROM e
              WHERE (ts AT TIME ZONE 'UTC')::date = %(day)s::date GROUP BY 2
    UNION ALL
    SELECT 'loads', '', count(*) FROM events.load_days WHERE partition_date = %(day)s
) v
WHERE value IS NOT NULL
