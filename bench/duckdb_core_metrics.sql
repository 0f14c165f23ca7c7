-- The contract's DuckDB yardstick (README, "Performance"): the core metrics of one day
-- straight from the day's CSV, no load. Core: rows, field health (nulls, unknown names,
-- invalid timestamps, malformed JSON), duplicates, distinct clients, events per type,
-- revenue, and sessions (30-minute gap or explicit session_id) with their funnel,
-- duration and page depth. Not included: channels, devices, bots, segments, samples,
-- which the run also computes. bench/run_bench.py checks the shared values against
-- what the run stored. Placeholders (csv, day, known, the event names) are filled by the bench.
WITH e AS (
    SELECT nullif(trim(client_id), '') AS client_id, "timestamp" AS ts_text,
           nullif(trim(event_name), '') AS event_name, event_data,
           CASE WHEN "timestamp" LIKE '____-__-__T__:__%' OR "timestamp" LIKE '____-__-__ __:__%'
                THEN TRY_CAST("timestamp" AS TIMESTAMPTZ) END AS ts,
           NOT coalesce(json_valid(event_data) AND ltrim(event_data) LIKE '{%', false) AS malformed,
           CASE WHEN json_valid(event_data) THEN nullif(json_extract_string(event_data, '$$.session_id'), '') END
               AS session_id,
           CASE WHEN json_valid(event_data) THEN json_extract_string(event_data, '$$.revenue') END AS revenue_text
    FROM read_csv($csv, header = true, all_varchar = true, quote = '"', escape = '"')
),
raw AS (
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE client_id IS NULL) AS null_client_id,
           count(*) FILTER (WHERE coalesce(trim(ts_text), '') = '') AS null_timestamp,
           count(*) FILTER (WHERE event_name IS NULL) AS null_event_name,
           count(*) FILTER (WHERE NOT list_contains($known, event_name)) AS unknown_event_name,
           count(*) FILTER (WHERE (coalesce(trim(ts_text), '') <> '' AND ts IS NULL)
                              OR ts > now() + INTERVAL 5 MINUTE
                              OR CAST(timezone('UTC', ts) AS DATE) <> DATE $day) AS invalid_timestamp,
           count(*) FILTER (WHERE malformed) AS malformed_json,
           count(DISTINCT client_id) AS distinct_clients,
           coalesce(sum(TRY_CAST(revenue_text AS DECIMAL(38, 9))) FILTER (WHERE event_name = $ev_purchase), 0) AS revenue
    FROM e
),
dup AS (
    SELECT coalesce(sum(n - 1), 0) AS duplicate_rows
    FROM (SELECT count(*) AS n FROM e GROUP BY client_id, ts_text, event_name, event_data HAVING count(*) > 1)
),
by_type AS (
    SELECT event_name, count(*) AS n FROM e WHERE list_contains($known, event_name) GROUP BY 1
),
hits AS (
    SELECT *, sum(CASE WHEN starts THEN 1 ELSE 0 END) OVER (PARTITION BY client_id, session_id ORDER BY ts
                                                           ROWS UNBOUNDED PRECEDING) AS seq
    FROM (SELECT client_id, session_id, ts, event_name,
                 CASE WHEN session_id IS NOT NULL THEN lag(ts) OVER w IS NULL
                      ELSE coalesce(ts - lag(ts) OVER w > INTERVAL 30 MINUTE, true) END AS starts
          FROM e WHERE client_id IS NOT NULL AND ts IS NOT NULL
          WINDOW w AS (PARTITION BY client_id, session_id ORDER BY ts))
),
sessions AS (
    SELECT epoch(max(ts)) - epoch(min(ts)) AS duration_s,
           count(*) FILTER (WHERE event_name = $ev_page_view) AS pages,
           bool_or(event_name = $ev_add_to_cart) AS cart,
           bool_or(event_name = $ev_checkout) AS checkout,
           bool_or(event_name = $ev_purchase) AS purchase
    FROM hits GROUP BY client_id, session_id, seq
),
sess AS (
    SELECT count(*) AS sessions, avg(duration_s) AS avg_session_duration_s, avg(pages) AS page_depth,
           count(*) FILTER (WHERE cart) AS sessions_with_cart,
           count(*) FILTER (WHERE checkout) AS sessions_with_checkout,
           count(*) FILTER (WHERE purchase) AS sessions_with_purchase
    FROM sessions
)
SELECT 'rows' AS metric, '' AS dimension, CAST(rows AS DOUBLE) AS value FROM raw
UNION ALL SELECT 'null_client_id', '', null_client_id FROM raw
UNION ALL SELECT 'null_timestamp', '', null_timestamp FROM raw
UNION ALL SELECT 'null_event_name', '', null_event_name FROM raw
UNION ALL SELECT 'unknown_event_name', '', unknown_event_name FROM raw
UNION ALL SELECT 'invalid_timestamp', '', invalid_timestamp FROM raw
UNION ALL SELECT 'malformed_json', '', malformed_json FROM raw
UNION ALL SELECT 'distinct_clients', '', distinct_clients FROM raw
UNION ALL SELECT 'revenue', '', revenue FROM raw
UNION ALL SELECT 'duplicate_rows', '', duplicate_rows FROM dup
UNION ALL SELECT 'events', event_name, n FROM by_type
UNION ALL SELECT 'sessions_all', '', sessions FROM sess
UNION ALL SELECT 'avg_session_duration_s_all', '', avg_session_duration_s FROM sess
UNION ALL SELECT 'page_depth_all', '', page_depth FROM sess
UNION ALL SELECT 'sessions_with_cart_all', '', sessions_with_cart FROM sess
UNION ALL SELECT 'sessions_with_checkout_all', '', sessions_with_checkout FROM sess
UNION ALL SELECT 'sessions_with_purchase_all', '', sessions_with_purchase FROM sess
