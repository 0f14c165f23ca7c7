-- The day's sessions, one row each, over the view ev (events.sql). An explicit session_id
-- groups its client's hits whatever the gaps; other hits split on gaps of inactivity.
-- The sort carries hashes of the landing and the agent, not their text; ev is already
-- spread by client, so the windows and the grouping shuffle nothing. The engine keeps
-- the result: cells.sql reads it twice.
SELECT client_id, double(unix_micros(max(ts)) - unix_micros(min(ts))) / 1000000 AS duration_s,
       count_if(event_name = $ev_page_view) AS pages,
       bool_or(event_name = $ev_add_to_cart) AS cart,
       bool_or(event_name = $ev_checkout) AS checkout,
       bool_or(event_name = $ev_purchase) AS purchase,
       count(*) AS hits,
       count_if(event_name = $ev_add_to_cart) AS cart_events,
       count_if(event_name = $ev_checkout) AS checkout_events,
       coalesce(sum(revenue), 0) AS revenue,
       -- the first hit's: one start per session
       max(CASE WHEN starts THEN landing END) AS landing,  -- its device_type too
       max(CASE WHEN starts THEN ua_hash END) AS ua_hash
FROM (
    SELECT *, sum(CASE WHEN starts THEN 1 ELSE 0 END) OVER (PARTITION BY client_id, session_id ORDER BY ts, event_name NULLS LAST
                                                           ROWS UNBOUNDED PRECEDING) AS seq
    FROM (SELECT client_id, ts, event_name, session_id, revenue, landing, ua_hash,
                 CASE WHEN session_id IS NOT NULL THEN lag(ts) OVER w IS NULL
                      ELSE coalesce(unix_micros(ts) - unix_micros(lag(ts) OVER w) > $gap_micros, true) END AS starts
          -- a valid in-day time only: a late hit from the day before makes no 24-hour session
          FROM ev WHERE client_id IS NOT NULL AND ts IS NOT NULL AND NOT out_of_day AND NOT coalesce(future, false)
          -- hits at the same instant are ordered by event name, as on every engine
          WINDOW w AS (PARTITION BY client_id, session_id ORDER BY ts, event_name NULLS LAST)) h
) numbered
GROUP BY client_id, session_id, seq
