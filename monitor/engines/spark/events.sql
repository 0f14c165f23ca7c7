-- One row per input row of the day (the view day_rows: the four input columns and the
-- flattened fields f_* as text), parsed once: what the PostgreSQL pass's ev holds, in
-- Spark SQL. A field is the payload's key, else the flattened column: the payload wins.
-- What the metrics compare goes on as 8-byte hashes (dup_a/dup_b for identical rows,
-- landing for the landing's inputs and device, ua_hash for the agent); the payload and
-- the row's text stay behind. The view parsed, not kept: by_client.sql keeps it, spread
-- by client.
SELECT client_id, event_name, ts, session_id, purchase, order_id, revenue, null_ts, unparseable, future, out_of_day,
       malformed, no_payload, bad_bytes, purchase AND (revenue IS NULL OR revenue <= 0) AS bad_revenue,
       dup_a, dup_b, page_url, referrer, utm_source, utm_medium, utm_campaign, device_type, user_agent,
       xxhash64(coalesce(page_url, ''), coalesce(referrer, ''), coalesce(utm_source, ''), coalesce(utm_medium, ''),
                coalesce(utm_campaign, ''), coalesce(device_type, '')) AS landing,
       CASE WHEN user_agent IS NOT NULL THEN xxhash64(user_agent) END AS ua_hash
FROM (
    SELECT *, coalesce(trim(ts_text), '') = '' AS null_ts,
           (coalesce(trim(ts_text), '') <> '' AND ts IS NULL) AS unparseable,
           ts > arrived + make_interval(0, 0, 0, 0, 0, $future_tolerance_minutes, 0) AS future,  -- vs the file's time
           (ts IS NOT NULL AND to_date(from_utc_timestamp(ts, $tz)) <> DATE $day) AS out_of_day  -- the day's zone
    FROM (
        SELECT nullif(trim(client_id), '') AS client_id, `timestamp` AS ts_text,
               nullif(trim(event_name), '') AS event_name, purchase, arrived,
               CASE WHEN `timestamp` LIKE '____-__-__T__:__%' OR `timestamp` LIKE '____-__-__ __:__%'
                    THEN try_cast(`timestamp` AS timestamp) END AS ts,
               -- identical rows (the PostgreSQL pass groups by the same columns): two hashes of
               -- the row as read, with which of its fields are NULL, 96 bits in all
               xxhash64($null_mask, $dup_columns) AS dup_a, hash($null_mask, $dup_columns) AS dup_b,
               -- JSON objects only, parsed as strictly as PostgreSQL's IS JSON (no NaN, no
               -- single quotes, nothing after the closing brace)
               -- the escape \u0000 (NUL) is valid JSON that PostgreSQL cannot hold: malformed on both engines
               NOT no_payload AND (j IS NULL OR j._corrupt_record IS NOT NULL
                   -- (the cheap tests first: endswith and contains before the trim and the regex)
                   OR NOT (endswith(rtrim(event_data), '}') OR trim(BOTH ' \t\r\n' FROM event_data) LIKE '%}')
                   OR contains(event_data, '\\u0000') AND event_data RLIKE '(^|[^\\\\])\\\\u0000') AS malformed,
               no_payload,
               -- invalid bytes decode to U+FFFD, as the loader marks them
               coalesce(contains(client_id, '\uFFFD') OR contains(`timestamp`, '\uFFFD')
                        OR contains(event_name, '\uFFFD') OR contains(event_data, '\uFFFD'), false) AS bad_bytes,
               coalesce(j.page_url, f_page_url) AS page_url, coalesce(j.referrer, f_referrer) AS referrer,
               coalesce(j.utm_source, f_utm_source) AS utm_source, coalesce(j.utm_medium, f_utm_medium) AS utm_medium,
               coalesce(j.utm_campaign, f_utm_campaign) AS utm_campaign,
               lower(nullif(coalesce(j.device_type, f_device_type), '')) AS device_type,
               coalesce(j.user_agent, f_user_agent) AS user_agent,
               nullif(coalesce(j.session_id, f_session_id), '') AS session_id,
               CASE WHEN purchase THEN nullif(trim(coalesce(j.order_id, f_order_id)), '') END AS order_id,
               -- finite and of a size an order can have; anything else is invalid_revenue
               CASE WHEN purchase THEN CASE WHEN try_cast(coalesce(j.revenue, f_revenue) AS decimal(38, 9))
                                                 BETWEEN -1e15 AND 1e15
                                            THEN try_cast(coalesce(j.revenue, f_revenue) AS decimal(38, 9)) END END
                   AS revenue
        FROM (SELECT *, nullif(trim(event_name), '') = $ev_purchase AS purchase,
                     event_data IS NULL OR octet_length(event_data) < 64 AND trim(event_data) IN ('', 'null') AS no_payload,
                     CASE WHEN event_data IS NOT NULL AND ltrim(event_data) LIKE '{%'
                             THEN from_json(event_data, 'page_url string, referrer string, utm_source string, utm_medium string,
                                                         utm_campaign string, device_type string, user_agent string,
                                                         session_id string, revenue string, order_id string,
                                                         _corrupt_record string',
                                            map('columnNameOfCorruptRecord', '_corrupt_record',
                                                'allowNonNumericNumbers', 'false', 'allowSingleQuotes', 'false')) END AS j
              FROM day_rows) r
    ) p
) e
