-- The lake day's rows as a team's GX suites see them (CONTRACT section 9), the Spark twin
-- of monitor.day_events: typed columns under the contract's names; a time that does not
-- parse, a payload that is no JSON object and a revenue that is no number are NULL. A
-- field is the payload's key, else the flattened column. event_data stays JSON text.
SELECT concat(file, ':', row) AS row_id, nullif(trim(client_id), '') AS client_id,
       CASE WHEN `timestamp` LIKE '____-__-__T__:__%' OR `timestamp` LIKE '____-__-__ __:__%'
            THEN try_cast(`timestamp` AS timestamp) END AS `timestamp`,
       nullif(trim(event_name), '') AS event_name,
       CASE WHEN j IS NOT NULL AND j._corrupt_record IS NULL THEN event_data END AS event_data,
       coalesce(j.session_id, f_session_id) AS session_id, coalesce(j.page_url, f_page_url) AS page_url,
       coalesce(j.referrer, f_referrer) AS referrer, coalesce(j.user_agent, f_user_agent) AS user_agent,
       coalesce(j.utm_source, f_utm_source) AS utm_source, coalesce(j.utm_medium, f_utm_medium) AS utm_medium,
       coalesce(j.utm_campaign, f_utm_campaign) AS utm_campaign, coalesce(j.device_type, f_device_type) AS device_type,
       coalesce(j.order_id, f_order_id) AS order_id,
       CASE WHEN try_cast(coalesce(j.revenue, f_revenue) AS decimal(38, 9)) BETWEEN -1e15 AND 1e15
            THEN try_cast(coalesce(j.revenue, f_revenue) AS decimal(38, 9)) END AS revenue,
       coalesce(j.currency, f_currency) AS currency
FROM (SELECT *, CASE WHEN event_data IS NOT NULL AND ltrim(event_data) LIKE '{%'
                     THEN from_json(event_data, 'page_url string, referrer string, utm_source string, utm_medium string,
                                                 utm_campaign string, device_type string, user_agent string,
                                                 session_id string, revenue string, order_id string, currency string,
                                                 _corrupt_record string',
                                    map('columnNameOfCorruptRecord', '_corrupt_record')) END AS j
      FROM day_rows_numbered) r
