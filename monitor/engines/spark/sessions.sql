-- The day's sessions, summed into cells (one row per bot flag, device, channel,
-- utm_source and campaign): what several of day_metrics.sql's outputs read. The engine
-- computes it once and keeps it (Spark would otherwise inline the whole session
-- pipeline at every reference). Over the views ev and agents, as day_metrics.sql.
WITH hits AS (
    SELECT *, sum(CASE WHEN starts THEN 1 ELSE 0 END) OVER (PARTITION BY client_id, session_id ORDER BY ts, event_name NULLS LAST
                                                           ROWS UNBOUNDED PRECEDING) AS seq
    FROM (SELECT client_id, ts, event_name, session_id, revenue,
                 CASE WHEN session_id IS NOT NULL THEN lag(ts) OVER w IS NULL
                      ELSE coalesce(unix_micros(ts) - unix_micros(lag(ts) OVER w) > $gap_micros, true) END AS starts,
                 named_struct('page_url', page_url, 'referrer', referrer, 'utm_source', utm_source,
                              'utm_medium', utm_medium, 'utm_campaign', utm_campaign,
                              'device_type', device_type, 'user_agent', user_agent) AS landing
          FROM ev WHERE client_id IS NOT NULL AND ts IS NOT NULL AND NOT out_of_day AND NOT coalesce(future, false)
          WINDOW w AS (PARTITION BY client_id, session_id ORDER BY ts, event_name NULLS LAST)) h
),
sessions AS (
    SELECT client_id, double(unix_micros(max(ts)) - unix_micros(min(ts))) / 1000000 AS duration_s,
           count_if(event_name = $ev_page_view) AS pages,
           bool_or(event_name = $ev_add_to_cart) AS cart,
           bool_or(event_name = $ev_checkout) AS checkout,
           bool_or(event_name = $ev_purchase) AS purchase,
           count(*) AS hits,
           count_if(event_name = $ev_add_to_cart) AS cart_events,
           count_if(event_name = $ev_checkout) AS checkout_events,
           coalesce(sum(revenue), 0) AS revenue,
           max(CASE WHEN starts THEN landing END) AS l
    FROM hits GROUP BY client_id, session_id, seq
),
fast_clients AS (
    SELECT client_id FROM (
        SELECT client_id, date_trunc('MINUTE', ts) AS minute FROM ev
        WHERE client_id IN (SELECT client_id FROM ev WHERE ts IS NOT NULL GROUP BY 1
                            HAVING count(*) > $bot_hits_per_minute * $bot_minutes)
          AND ts IS NOT NULL
        GROUP BY 1, 2 HAVING count(*) > $bot_hits_per_minute) m
    GROUP BY 1 HAVING count(*) >= $bot_minutes
),
landing_inputs AS (
    -- the session's landing, classified in three steps (each step's columns computed once)
    SELECT s.*, $src AS src, $med AS med, $campaign AS campaign, $ref_host AS ref_host, $page_host AS page_host
    FROM (SELECT s.*, coalesce(l.page_url, '') AS page_url, coalesce(l.referrer, '') AS referrer,
                 coalesce(l.utm_source, '') AS l_source, coalesce(l.utm_medium, '') AS l_medium,
                 coalesce(l.utm_campaign, '') AS l_campaign
          FROM sessions s) s
),
landing_kinds AS (
    SELECT *, $src_kind AS src_kind, $ref_kind AS ref_kind FROM landing_inputs
),
landed AS (
    SELECT *, $channel AS channel, coalesce(src, '(none)') AS utm_source,
           coalesce(campaign, '(none)') AS utm_campaign
    FROM landing_kinds
),
classified_sessions AS (
    SELECT s.*, (coalesce(a.device_type = 'bot', false) OR f.client_id IS NOT NULL) AS bot,
           coalesce(a.bot_name, CASE WHEN f.client_id IS NOT NULL THEN 'fast client ' || left(s.client_id, 13) END)
               AS bot_label,
           coalesce(s.l.device_type, a.device_type, 'unknown') AS device
    FROM landed s
    LEFT JOIN agents a ON a.user_agent = s.l.user_agent
    LEFT JOIN fast_clients f ON f.client_id = s.client_id
)
SELECT bot, bot_label, device, channel, utm_source, utm_campaign,
       count(*) AS sessions, sum(hits) AS hits, sum(pages) AS pages,
       count_if(cart) AS carts, count_if(checkout) AS checkouts, count_if(purchase) AS purchases,
       sum(cart_events) AS cart_events, sum(checkout_events) AS checkout_events,
       sum(duration_s) AS duration_s, sum(revenue) AS revenue
FROM classified_sessions GROUP BY 1, 2, 3, 4, 5, 6
