-- The PostgreSQL engine's day pass (../postgres/day_metrics.sql) in Spark SQL: the
-- same metrics with the same meaning, over the view ev (events.sql: one row per input
-- row, parsed) and cells (sessions.sql: the day's sessions, summed, computed once).
-- Dollar placeholders are filled by the engine with literals, and the landing's
-- inputs, kinds and channel with monitor/channels.py's rules.
WITH field_counts AS (
    SELECT count(*) AS rows,
           count_if(client_id IS NULL) AS null_client_id,
           count_if(coalesce(trim(ts_text), '') = '') AS null_timestamp,
           count_if(event_name IS NULL) AS null_event_name,
           count_if(NOT array_contains($known, event_name)) AS unknown_event_name,
           count_if(unparseable) AS unparseable_timestamp,
           count_if(future) AS future_timestamp,
           count_if(out_of_day) AS out_of_day_timestamp,
           count_if(unparseable OR future OR out_of_day) AS invalid_timestamp,
           count_if(malformed) AS malformed_json,
           count_if(bad_bytes) AS invalid_encoding,
           count_if(no_payload) AS empty_payload,
           count_if(bad_revenue) AS invalid_revenue,
           coalesce(sum(revenue), 0) AS revenue,
           count(DISTINCT client_id) AS distinct_clients
    FROM ev
),
duplicates AS (
    SELECT coalesce(sum(n - 1), 0) AS duplicate_rows
    FROM (SELECT count(*) AS n FROM ev GROUP BY client_id, ts_text, event_name, event_data, $flat_fields
          HAVING count(*) > 1) d
),
orders AS (
    SELECT order_id, count(*) AS n, count(DISTINCT revenue) + max(CASE WHEN revenue IS NULL THEN 1 ELSE 0 END) > 1 AS revenue_differs
    FROM ev WHERE order_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1
),
hours AS (
    SELECT hour(from_utc_timestamp(ts, $tz)) AS hour, count(*) AS n FROM ev WHERE ts IS NOT NULL AND NOT out_of_day GROUP BY 1
),
by_type AS (
    SELECT k.name, coalesce(c.n, 0) AS n
    FROM (SELECT explode($known) AS name) k
    LEFT JOIN (SELECT event_name, count(*) AS n FROM ev GROUP BY 1) c ON c.event_name = k.name
    WHERE (SELECT rows FROM field_counts) > 0
),
human_cells AS (
    SELECT * FROM cells WHERE NOT bot
),
bot_totals AS (
    SELECT coalesce(sum(sessions) FILTER (WHERE bot), 0) AS bot_sessions,
           double(coalesce(sum(sessions) FILTER (WHERE bot), 0)) / nullif(sum(sessions), 0) AS bot_share,
           double(coalesce(sum(hits) FILTER (WHERE bot), 0)) / nullif(sum(hits), 0) AS bot_hit_share
    FROM cells
),
bot_agents AS (
    SELECT bot_label, sum(hits) AS hits FROM cells WHERE bot GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10
),
sess_totals AS (
    SELECT coalesce(sum(sessions), 0) AS sessions,
           sum(duration_s) / nullif(sum(sessions), 0) AS avg_session_duration_s,
           double(sum(pages)) / nullif(sum(sessions), 0) AS page_depth,
           coalesce(sum(carts), 0) AS sessions_with_cart,
           coalesce(sum(checkouts), 0) AS sessions_with_checkout,
           coalesce(sum(purchases), 0) AS sessions_with_purchase
    FROM human_cells
),
segment_totals AS (
    SELECT CASE WHEN grouping(device) = 0 THEN 'device' WHEN grouping(channel) = 0 THEN 'channel'
                WHEN grouping(utm_source) = 0 THEN 'utm_source' ELSE 'utm_campaign' END AS dim,
           coalesce(device, channel, utm_source, utm_campaign) AS val,
           sum(sessions) AS sessions, sum(hits) AS hits, sum(pages) AS pages, sum(carts) AS carts,
           sum(checkouts) AS checkouts, sum(purchases) AS purchases, sum(cart_events) AS cart_events,
           sum(checkout_events) AS checkout_events, sum(duration_s) AS duration_s, sum(revenue) AS revenue
    FROM human_cells
    GROUP BY GROUPING SETS ((device), (channel), (utm_source), (utm_campaign))
),
segment_measures AS (
    SELECT dim || '=' || val AS segment, s.* FROM segment_totals s WHERE dim <> 'utm_campaign'
)
SELECT metric, dimension, value FROM (
    SELECT metric, '' AS dimension, value FROM field_counts CROSS JOIN duplicates LATERAL VIEW stack(19,
        'empty_payload', double(empty_payload), 'invalid_revenue', double(invalid_revenue),
        'rows', double(rows), 'null_client_id', double(null_client_id), 'null_timestamp', double(null_timestamp),
        'null_event_name', double(null_event_name), 'unknown_event_name', double(unknown_event_name),
        'unparseable_timestamp', double(unparseable_timestamp), 'future_timestamp', double(future_timestamp),
        'out_of_day_timestamp', double(out_of_day_timestamp), 'invalid_timestamp', double(invalid_timestamp),
        'malformed_json', double(malformed_json), 'malformed_json_rate', double(malformed_json) / nullif(rows, 0),
        'invalid_encoding', double(invalid_encoding), 'invalid_encoding_rate', double(invalid_encoding) / nullif(rows, 0),
        'distinct_clients', double(distinct_clients), 'revenue', double(revenue),
        'duplicate_rows', double(duplicate_rows), 'duplicate_rate', double(duplicate_rows) / nullif(rows, 0)) s AS metric, value
    UNION ALL SELECT 'events', name, double(n) FROM by_type
    UNION ALL SELECT metric, '', value FROM (SELECT count(*) AS ids, coalesce(sum(n - 1), 0) AS extra_rows,
                                                    count_if(revenue_differs) AS differs FROM orders)
              LATERAL VIEW stack(3, 'duplicate_order_ids', double(ids), 'duplicate_order_rows', double(extra_rows),
                                 'duplicate_order_revenue_differs', double(differs)) s AS metric, value
    UNION ALL SELECT 'events_by_hour', lpad(string(hour), 2, '0'), double(n) FROM hours
    UNION ALL SELECT metric, '', value FROM sess_totals LATERAL VIEW stack(10,
        'sessions', double(sessions), 'avg_session_duration_s', avg_session_duration_s, 'page_depth', page_depth,
        'sessions_with_cart', double(sessions_with_cart), 'sessions_with_checkout', double(sessions_with_checkout),
        'sessions_with_purchase', double(sessions_with_purchase),
        'cart_rate', double(sessions_with_cart) / nullif(sessions, 0),
        'cart_to_checkout_rate', double(sessions_with_checkout) / nullif(sessions_with_cart, 0),
        'checkout_to_purchase_rate', double(sessions_with_purchase) / nullif(sessions_with_checkout, 0),
        'session_conversion_rate', double(sessions_with_purchase) / nullif(sessions, 0)) s AS metric, value
    UNION ALL SELECT dim || '_share', val, double(s.sessions) / t.sessions FROM segment_totals s CROSS JOIN sess_totals t
    UNION ALL SELECT metric, '', value FROM bot_totals LATERAL VIEW stack(3,
        'bot_sessions', double(bot_sessions), 'bot_share', bot_share, 'bot_hit_share', bot_hit_share) s AS metric, value
    UNION ALL SELECT 'bot_hits', bot_label, double(hits) FROM bot_agents
    UNION ALL SELECT metric, segment, value FROM segment_measures LATERAL VIEW stack(10,
        'seg_sessions', double(sessions), 'seg_hits', double(hits), 'seg_pages', double(pages),
        'seg_carts', double(carts), 'seg_checkouts', double(checkouts), 'seg_purchases', double(purchases),
        'seg_cart_events', double(cart_events), 'seg_checkout_events', double(checkout_events),
        'seg_duration_s', duration_s, 'seg_revenue', double(revenue)) s AS metric, value
) m
WHERE value IS NOT NULL
