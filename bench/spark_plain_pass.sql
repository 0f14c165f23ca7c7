-- The Spark engine's yardstick (issue 26; README, "Performance"): what a Spark user would
-- write by hand for a day's core metrics, one Spark SQL statement straight over the day's
-- Parquet files. Core: rows, nulls, unknown names, bad timestamps, malformed JSON,
-- duplicates, distinct clients, events per type, and 30-minute sessions (or the payload's
-- session_id) with duration, page depth, funnel flags and the first hit's source. Not
-- included: channels, devices, bots, segments, hours, orders, revenue checks, schema,
-- which the engine also computes. bench/spark_bench.py checks the shared values against
-- the engine's. Placeholders ($path, $day, $known, the event names) are filled by the bench.
CACHE TABLE e AS
    SELECT nullif(trim(client_id), '') AS client_id, `timestamp` AS ts_text,
           nullif(trim(event_name), '') AS event_name, event_data,
           try_cast(`timestamp` AS timestamp) AS ts,
           from_json(event_data, 'session_id string, utm_source string, referrer string, _corrupt_record string',
                     map('columnNameOfCorruptRecord', '_corrupt_record')) AS j
    FROM parquet.`$path`;
WITH raw AS (
    SELECT count(*) AS rows,
           count_if(client_id IS NULL) AS null_client_id,
           count_if(coalesce(trim(ts_text), '') = '') AS null_timestamp,
           count_if(event_name IS NULL) AS null_event_name,
           count_if(NOT array_contains($known, event_name)) AS unknown_event_name,
           count_if((coalesce(trim(ts_text), '') <> '' AND ts IS NULL) OR to_date(ts) <> DATE $day) AS invalid_timestamp,
           count_if(j IS NULL OR j._corrupt_record IS NOT NULL) AS malformed_json,
           count(DISTINCT client_id) AS distinct_clients
    FROM e
),
dup AS (
    SELECT coalesce(sum(n - 1), 0) AS duplicate_rows
    FROM (SELECT count(*) AS n FROM e GROUP BY client_id, ts_text, event_name, event_data HAVING count(*) > 1)
),
by_type AS (
    SELECT event_name, count(*) AS n FROM e WHERE array_contains($known, event_name) GROUP BY 1
),
hits AS (
    SELECT *, sum(CASE WHEN starts THEN 1 ELSE 0 END) OVER (PARTITION BY client_id, session_id ORDER BY ts
                                                           ROWS UNBOUNDED PRECEDING) AS seq
    FROM (SELECT client_id, j.session_id AS session_id, ts, event_name,
                 coalesce(j.utm_source, j.referrer, '(direct)') AS source,
                 CASE WHEN j.session_id IS NOT NULL THEN lag(ts) OVER w IS NULL
                      ELSE coalesce(unix_seconds(ts) - unix_seconds(lag(ts) OVER w) > 1800, true) END AS starts
          FROM e WHERE client_id IS NOT NULL AND ts IS NOT NULL
          WINDOW w AS (PARTITION BY client_id, j.session_id ORDER BY ts))
),
sessions AS (
    SELECT double(unix_micros(max(ts)) - unix_micros(min(ts))) / 1000000 AS duration_s,
           count_if(event_name = $ev_page_view) AS pages,
           bool_or(event_name = $ev_add_to_cart) AS cart,
           bool_or(event_name = $ev_checkout) AS checkout,
           bool_or(event_name = $ev_purchase) AS purchase,
           min_by(source, ts) AS source
    FROM hits GROUP BY client_id, session_id, seq
),
sess AS (
    SELECT count(*) AS sessions, avg(duration_s) AS avg_session_duration_s, avg(pages) AS page_depth,
           count_if(cart) AS sessions_with_cart, count_if(checkout) AS sessions_with_checkout,
           count_if(purchase) AS sessions_with_purchase
    FROM sessions
),
by_source AS (
    SELECT source, count(*) AS n FROM sessions GROUP BY 1
)
SELECT metric, '' AS dimension, double(value) AS value FROM raw CROSS JOIN dup CROSS JOIN sess
    LATERAL VIEW stack(15, 'rows', double(rows), 'null_client_id', double(null_client_id),
        'null_timestamp', double(null_timestamp), 'null_event_name', double(null_event_name),
        'unknown_event_name', double(unknown_event_name), 'invalid_timestamp', double(invalid_timestamp),
        'malformed_json', double(malformed_json), 'distinct_clients', double(distinct_clients),
        'duplicate_rows', double(duplicate_rows), 'sessions_all', double(sessions),
        'avg_session_duration_s_all', avg_session_duration_s, 'page_depth_all', page_depth,
        'sessions_with_cart_all', double(sessions_with_cart), 'sessions_with_checkout_all', double(sessions_with_checkout),
        'sessions_with_purchase_all', double(sessions_with_purchase)) s AS metric, value
UNION ALL SELECT 'events', event_name, double(n) FROM by_type
UNION ALL SELECT 'first_hit_source', source, double(n) FROM by_source
