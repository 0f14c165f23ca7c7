-- One row per input row of the day (the view day_rows: the four input columns as
-- text), parsed once: what the PostgreSQL pass's ev holds, in Spark SQL.
SELECT *, (coalesce(trim(ts_text), '') <> '' AND ts IS NULL) AS unparseable,
       ts > current_timestamp() + make_interval(0, 0, 0, 0, 0, $future_tolerance_minutes, 0) AS future,
       (ts IS NOT NULL AND to_date(ts) <> DATE $day) AS out_of_day
FROM (
    SELECT nullif(trim(client_id), '') AS client_id, `timestamp` AS ts_text,
           nullif(trim(event_name), '') AS event_name, event_data,
           CASE WHEN `timestamp` LIKE '____-__-__T__:__%' OR `timestamp` LIKE '____-__-__ __:__%'
                THEN try_cast(`timestamp` AS timestamp) END AS ts,
           -- JSON objects only, parsed as strictly as PostgreSQL's IS JSON (no NaN, no
           -- single quotes, nothing after the closing brace)
           j IS NULL OR j._corrupt_record IS NOT NULL
               OR NOT trim(BOTH ' \t\r\n' FROM event_data) LIKE '%}' AS malformed,
           -- invalid bytes decode to U+FFFD, as the loader marks them
           concat_ws('', client_id, `timestamp`, event_name, event_data) LIKE '%\uFFFD%' AS bad_bytes,
           j.page_url, j.referrer, j.utm_source, j.utm_medium, j.utm_campaign,
           lower(nullif(j.device_type, '')) AS device_type, j.user_agent,
           nullif(j.session_id, '') AS session_id,
           CASE WHEN nullif(trim(event_name), '') = $ev_purchase THEN try_cast(j.revenue AS decimal(38, 9)) END AS revenue
    FROM (SELECT *, CASE WHEN event_data IS NOT NULL AND ltrim(event_data) LIKE '{%'
                         THEN from_json(event_data, 'page_url string, referrer string, utm_source string, utm_medium string,
                                                     utm_campaign string, device_type string, user_agent string,
                                                     session_id string, revenue string, _corrupt_record string',
                                        map('columnNameOfCorruptRecord', '_corrupt_record',
                                            'allowNonNumericNumbers', 'false', 'allowSingleQuotes', 'false')) END AS j
          FROM day_rows) r
) e
