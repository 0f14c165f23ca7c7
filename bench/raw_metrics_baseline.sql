-- A stricter yardstick than the contract's: one SQL pass computing only the raw
-- metrics of one day (nulls, unknown names, invalid timestamps, malformed JSON,
-- duplicates, counts per type), none of the sessions, channels and devices the
-- run also computes. bench/run_bench.py times `runner.py run` against it.
WITH ev AS MATERIALIZED (
    SELECT client_id, "timestamp" AS ts_text, event_name, event_data,
           events.parse_ts("timestamp") AS ts, event_data IS JSON OBJECT AS json_ok
    FROM events.raw_events WHERE partition_date = %(day)s
)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE coalesce(btrim(client_id), '') = '') AS null_client_id,
       count(*) FILTER (WHERE coalesce(btrim(ts_text), '') = '') AS null_timestamp,
       count(*) FILTER (WHERE coalesce(btrim(event_name), '') = '') AS null_event_name,
       count(*) FILTER (WHERE event_name <> ALL (ARRAY['page_viewed', 'add_to_cart', 'checkout_started', 'purchase'])) AS unknown_event_name,
       count(*) FILTER (WHERE (coalesce(btrim(ts_text), '') <> '' AND ts IS NULL) OR ts > now()
                        OR (ts AT TIME ZONE 'UTC')::date <> %(day)s::date) AS invalid_timestamp,
       count(*) FILTER (WHERE NOT json_ok OR event_data IS NULL) AS malformed_json,
       count(*) FILTER (WHERE event_name = 'page_viewed') AS page_viewed,
       count(*) FILTER (WHERE event_name = 'add_to_cart') AS add_to_cart,
       count(*) FILTER (WHERE event_name = 'checkout_started') AS checkout_started,
       count(*) FILTER (WHERE event_name = 'purchase') AS purchase,
       (SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM ev
         GROUP BY client_id, ts_text, event_name, event_data HAVING count(*) > 1) d) AS duplicate_rows
FROM ev
