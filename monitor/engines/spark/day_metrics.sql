-- The PostgreSQL engine's day pass (../postgres/day_metrics.sql) in Spark SQL: the
-- same metrics with the same meaning, over the view ev (events.sql: one row per input
-- row, parsed) and cells (cells.sql: the day's sessions, summed, computed once).
-- Dollar placeholders are filled by the engine with literals, and the landing's
-- inputs, kinds and channel with monitor/channels.py's rules.
WITH field_counts AS (
    -- every per-row count in one scan: the field checks, the events per type and per hour
    SELECT count(*) AS rows,
           count_if(client_id IS NULL) AS null_client_id,
           count_if(null_ts) AS null_timestamp,
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
           $type_counts AS type_counts,  -- one per name of $known, in its order
           $hour_counts AS hour_counts   -- one per hour of the day's wall clock (valid in-day times)
    FROM (SELECT *, CASE WHEN ts IS NOT NULL AND NOT out_of_day THEN hour(from_utc_timestamp(ts, $tz)) END AS hr FROM ev) e
),
client_groups AS (
    -- identical rows (by their hashes, events.sql) and distinct clients in one grouping by
    -- client: ev is spread by client, so neither shuffles the day
    SELECT coalesce(sum(IF(n > 1, n - 1, 0)), 0) AS duplicate_rows, count(DISTINCT client_id) AS distinct_clients
    FROM (SELECT client_id, count(*) AS n FROM ev GROUP BY client_id, dup_a, dup_b) g
),
orders AS (
    SELECT order_id, count(*) AS n, count(DISTINCT revenue) + max(CASE WHEN revenue IS NULL THEN 1 ELSE 0 END) > 1 AS revenue_differs
    FROM ev WHERE order_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1
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
    -- the per-row counts' metrics from their one row (field_counts read once): the field
    -- checks, the events per type (a day with rows only: a day without data has no_data)
    -- and per hour of the day's wall clock (hours with events only)
    SELECT m.metric, m.dimension, m.value FROM field_counts CROSS JOIN client_groups LATERAL VIEW inline(concat(
        array(
            named_struct('metric', 'empty_payload', 'dimension', '', 'value', double(empty_payload)),
            named_struct('metric', 'invalid_revenue', 'dimension', '', 'value', double(invalid_revenue)),
            named_struct('metric', 'rows', 'dimension', '', 'value', double(rows)),
            named_struct('metric', 'null_client_id', 'dimension', '', 'value', double(null_client_id)),
            named_struct('metric', 'null_timestamp', 'dimension', '', 'value', double(null_timestamp)),
            named_struct('metric', 'null_event_name', 'dimension', '', 'value', double(null_event_name)),
            named_struct('metric', 'unknown_event_name', 'dimension', '', 'value', double(unknown_event_name)),
            named_struct('metric', 'unparseable_timestamp', 'dimension', '', 'value', double(unparseable_timestamp)),
            named_struct('metric', 'future_timestamp', 'dimension', '', 'value', double(future_timestamp)),
            named_struct('metric', 'out_of_day_timestamp', 'dimension', '', 'value', double(out_of_day_timestamp)),
            named_struct('metric', 'invalid_timestamp', 'dimension', '', 'value', double(invalid_timestamp)),
            named_struct('metric', 'malformed_json', 'dimension', '', 'value', double(malformed_json)),
            named_struct('metric', 'malformed_json_rate', 'dimension', '', 'value', double(malformed_json) / nullif(rows, 0)),
            named_struct('metric', 'invalid_encoding', 'dimension', '', 'value', double(invalid_encoding)),
            named_struct('metric', 'invalid_encoding_rate', 'dimension', '', 'value', double(invalid_encoding) / nullif(rows, 0)),
            named_struct('metric', 'distinct_clients', 'dimension', '', 'value', double(distinct_clients)),
            named_struct('metric', 'revenue', 'dimension', '', 'value', double(revenue)),
            named_struct('metric', 'duplicate_rows', 'dimension', '', 'value', double(duplicate_rows)),
            named_struct('metric', 'duplicate_rate', 'dimension', '', 'value', double(duplicate_rows) / nullif(rows, 0))),
        filter(transform(type_counts, (n, i) -> named_struct('metric', 'events', 'dimension', element_at($known, i + 1),
                                                             'value', double(n))), x -> rows > 0),
        filter(transform(hour_counts, (n, i) -> named_struct('metric', 'events_by_hour', 'dimension',
                                                             lpad(string(i), 2, '0'), 'value', double(n))),
               x -> x.value > 0))) m
    UNION ALL SELECT metric, '', value FROM (SELECT count(*) AS ids, coalesce(sum(n - 1), 0) AS extra_rows,
                                                    count_if(revenue_differs) AS differs FROM orders)
              LATERAL VIEW stack(3, 'duplicate_order_ids', double(ids), 'duplicate_order_rows', double(extra_rows),
                                 'duplicate_order_revenue_differs', double(differs)) s AS metric, value
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
