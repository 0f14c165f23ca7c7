-- The loader's rows of day $1 as a team's GX suites see them (monitor.day_events;
-- CONTRACT section 9): typed columns under the contract's names. A timestamp that does
-- not parse, a payload that is no JSON object and a revenue that is no number are NULL
-- here (the monitor's own checks count them). A field is the payload's key, else the
-- flattened export's column of that name. The inner query (OFFSET 0: not merged into
-- this one) parses each payload once, however many fields read it.
SELECT x.load_id || ':' || x.line_no, nullif(btrim(x.client_id), ''), events.parse_ts(x."timestamp"),
       nullif(btrim(x.event_name), ''), x.data,
       coalesce(x.data->>'session_id', x.extra->>'session_id'), coalesce(x.data->>'page_url', x.extra->>'page_url'),
       coalesce(x.data->>'referrer', x.extra->>'referrer'), coalesce(x.data->>'user_agent', x.extra->>'user_agent'),
       coalesce(x.data->>'utm_source', x.extra->>'utm_source'), coalesce(x.data->>'utm_medium', x.extra->>'utm_medium'),
       coalesce(x.data->>'utm_campaign', x.extra->>'utm_campaign'),
       coalesce(x.data->>'device_type', x.extra->>'device_type'), coalesce(x.data->>'order_id', x.extra->>'order_id'),
       (SELECT CASE WHEN pg_input_is_valid(v, 'numeric') AND v::numeric BETWEEN -1e15 AND 1e15 THEN v::numeric END
        FROM coalesce(x.data->>'revenue', x.extra->>'revenue') AS v),
       coalesce(x.data->>'currency', x.extra->>'currency')
FROM (SELECT r.load_id, r.line_no, r.client_id, r."timestamp", r.event_name, r.extra,
             CASE WHEN r.event_data IS JSON OBJECT AND pg_input_is_valid(r.event_data, 'jsonb')
                  THEN r.event_data::jsonb END AS data
      FROM events.raw_events r WHERE r.partition_date = $1 OFFSET 0) x
