-- The day's sessions summed into cells (one row per bot flag, device, channel, utm_source
-- and campaign): what several of day_metrics.sql's outputs read. Over the views
-- sessions (sessions.sql), ev (by_client.sql) and agents (the day's user agents,
-- classified by the store's table). The small sides are broadcast: the day's rows never
-- shuffle by landing.
WITH fast_clients AS (
    -- more hits a minute than a person makes, minute after minute. Only a client with that
    -- many hits in the day can qualify: minutes are counted for those.
    SELECT client_id FROM (
        SELECT /*+ BROADCAST(b) */ e.client_id, date_trunc('MINUTE', e.ts) AS minute
        FROM ev e LEFT SEMI JOIN (SELECT client_id FROM sessions GROUP BY 1
                                  HAVING sum(hits) > $bot_hits_per_minute * $bot_minutes) b ON b.client_id = e.client_id
        WHERE e.ts IS NOT NULL
        GROUP BY 1, 2 HAVING count(*) > $bot_hits_per_minute) m
    GROUP BY 1 HAVING count(*) >= $bot_minutes
),
landings AS (
    -- each distinct landing of a session start, classified once (not per session), in three
    -- steps (each step's columns computed once)
    SELECT landing, device_type, $channel AS channel, coalesce(src, '(none)') AS utm_source,
           coalesce(campaign, '(none)') AS utm_campaign
    FROM (SELECT *, $src_kind AS src_kind, $ref_kind AS ref_kind
          FROM (SELECT landing, device_type, $src AS src, $med AS med, $campaign AS campaign, $ref_host AS ref_host,
                       $page_host AS page_host
                FROM (SELECT landing, coalesce(min(page_url), '') AS page_url, coalesce(min(referrer), '') AS referrer,
                             coalesce(min(utm_source), '') AS l_source, coalesce(min(utm_medium), '') AS l_medium,
                             coalesce(min(utm_campaign), '') AS l_campaign, min(device_type) AS device_type
                      -- a landing's inputs are its hash's: DISTINCT (a hash aggregate) finds them, and a
                      -- NULL and an empty text (one hash) are told apart by min over the few left
                      FROM (SELECT /*+ BROADCAST(b) */ DISTINCT e.landing, e.page_url, e.referrer, e.utm_source,
                                   e.utm_medium, e.utm_campaign, e.device_type
                            FROM ev e LEFT SEMI JOIN (SELECT DISTINCT landing FROM sessions) b ON b.landing = e.landing) v
                      GROUP BY landing) d) x) k
),
classified_sessions AS (
    SELECT /*+ BROADCAST(l, a, f) */ s.*, l.channel, l.utm_source, l.utm_campaign,
           (coalesce(a.device_type = 'bot', false) OR f.client_id IS NOT NULL) AS bot,
           coalesce(a.bot_name, CASE WHEN f.client_id IS NOT NULL THEN 'fast client ' || left(s.client_id, 13) END)
               AS bot_label,
           coalesce(l.device_type, a.device_type, 'unknown') AS device
    FROM sessions s
    JOIN landings l ON l.landing = s.landing
    LEFT JOIN (SELECT xxhash64(user_agent) AS ua_hash, min(device_type) AS device_type, min(bot_name) AS bot_name
               FROM agents GROUP BY 1) a ON a.ua_hash = s.ua_hash
    LEFT JOIN fast_clients f ON f.client_id = s.client_id
)
SELECT bot, bot_label, device, channel, utm_source, utm_campaign,
       count(*) AS sessions, sum(hits) AS hits, sum(pages) AS pages,
       count_if(cart) AS carts, count_if(checkout) AS checkouts, count_if(purchase) AS purchases,
       sum(cart_events) AS cart_events, sum(checkout_events) AS checkout_events,
       sum(duration_s) AS duration_s, sum(revenue) AS revenue
FROM classified_sessions GROUP BY 1, 2, 3, 4, 5, 6
