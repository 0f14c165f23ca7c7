-- One row per input row of the day (the view day_rows: the four input columns and the
-- flattened fields f_* as text), parsed once: what the PostgreSQL pass's ev holds, in
-- Spark SQL. A field is the payload's key, else the flattened column: the payload wins.
SELECT *, (coalesce(trim(ts_text), '') <> '' AND ts IS NULL) AS unparseable,
       ts > arrived + make_interval(0, 0, 0, 0, 0, $future_tolerance_minutes, 0) AS future,  -- vs the file's time
       (ts IS NOT NULL AND to_date(from_utc_timestamp(ts, $tz)) <> DATE $day) AS out_of_day,  -- the day's zone
       purchase AND (revenue IS NULL OR revenue <= 0) AS bad_revenue
FROM (
    SELECT nullif(trim(client_id), '') AS client_id, `timestamp` AS ts_text,
           nullif(trim(event_name), '') AS event_name, event_data, purchase, arrived, $flat_fields,
           CASE WHEN `timestamp` LIKE '____-__-__T__:__%' OR `timestamp` LIKE '____-__-__ __:__%'
                THEN try_cast(`timestamp` AS timestamp) END AS ts,
           -- JSON objects only, parsed as strictly as PostgreSQL's IS JSON (no NaN, no
           -- single quotes, nothing after the closing brace)
           -- the escape \u0000 (NUL) is valid JSON that PostgreSQL cannot hold: malformed on both engines
           NOT no_payload AND (j IS NULL OR j._corrupt_record IS NOT NULL
               OR NOT trim(BOTH ' \t\r\n' FROM event_data) LIKE '%}'
               OR event_data RLIKE '(^|[^\\\\])\\\\u0000') AS malformed, no_payload,
           -- invalid bytes decode to U+FFFD, as the loader marks them
           concat_ws('', client_id, `timestamp`, event_name, event_data) LIKE '%\uFFFD%' AS bad_bytes,
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
                                        THEN try_cast(coalesce(j.revenue, f_revenue) AS decimal(38, 9)) END END AS revenue
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
) e
