-- The parsed rows (events.sql) spread by client once (DISTRIBUTE BY) and kept, as the view
-- ev of sessions.sql, cells.sql and day_metrics.sql: sessions, fast clients, distinct
-- clients and duplicates all group by client, and read it without another shuffle. The
-- landings' text and the agent go along (one shuffle, read once for the few session
-- starts' landings), so the day is parsed once; the sorts carry their hashes only.
SELECT client_id, event_name, ts, session_id, order_id, revenue, null_ts, unparseable, future, out_of_day,
       malformed, no_payload, bad_bytes, bad_revenue, dup_a, dup_b, landing, ua_hash,
       page_url, referrer, utm_source, utm_medium, utm_campaign, device_type, user_agent
FROM parsed
DISTRIBUTE BY client_id
