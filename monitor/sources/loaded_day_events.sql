-- The loader's rows of day $1 as a team's GX suites see them (monitor.day_events;
-- CONTRACT section 9): typed columns under the contract's names. A timestamp that does
-- not parse, a payload that is no JSON object and a revenue that is no number are NULL
-- here (the monitor's own checks count them). A field is the payload's key, else the
-- flattened export's column of that name.
SELECT r.load_id || ':' || r.line_no, nullif(btrim(r.client_id), ''), events.parse_ts(r."timestamp"),
       nullif(btrim(r.event_name), ''), j.data,
       coalesce(j.data->>'session_id', r.extra->>'session_id'), coalesce(j.data->>'page_url', r.extra->>'page_url'),
       coalesce(j.data->>'referrer', r.extra->>'referrer'), coalesce(j.data->>'user_agent', r.extra->>'user_agent'),
       coalesce(j.data->>'utm_source', r.extra->>'utm_source'), coalesce(j.data->>'utm_medium', r.extra->>'utm_medium'),
       coalesce(j.data->>'utm_campaign', r.extra->>'utm_campaign'),
       coalesce(j.data->>'device_type', r.extra->>'device_type'), coalesce(j.data->>'order_id', r.extra->>'order_id'),
       (SELECT CASE WHEN pg_input_is_valid(v, 'numeric') AND v::numeric BETWEEN -1e15 AND 1e15 THEN v::numeric END
        FROM coalesce(j.data->>'revenue', r.extra->>'revenue') AS v),
       coalesce(j.data->>'currency', r.extra->>'currency')
FROM events.raw_events r
CROSS JOIN LATERAL (SELECT CASE WHEN r.event_data IS JSON OBJECT AND pg_input_is_valid(r.event_data, 'jsonb')
                                THEN r.event_data::jsonb END AS data) j
WHERE r.partition_date = $1
