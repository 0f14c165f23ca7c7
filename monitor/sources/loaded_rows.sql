-- The loader's rows of day %(day)s (events.raw_events, text as received), as the PostgreSQL
-- pass reads a day from any source: one row per event with rk (the row's key: load and
-- line packed into one bigint), client_id, ts_text, event_name, purchase, data_hash, ts,
-- malformed, no_payload, bad_bytes, arrived, the flattened fields the pass reads, and fp and
-- stamp (a relation's fingerprint; the loads say whether a loaded day changed).
-- The inner query (OFFSET 0: not merged) parses the JSON and the timestamp once per row,
-- in parallel workers. A field is the payload's key, else the flattened export's column
-- of that name (kept in ``extra``): the payload wins.
SELECT r.*, r.data IS NULL AND NOT r.no_payload AS malformed, 0::bigint AS fp, NULL::text AS stamp,
       coalesce(r.data->>'page_url', r.x->>'page_url') AS page_url,
       coalesce(r.data->>'referrer', r.x->>'referrer') AS referrer,
       coalesce(r.data->>'utm_source', r.x->>'utm_source') AS utm_source,
       coalesce(r.data->>'utm_medium', r.x->>'utm_medium') AS utm_medium,
       coalesce(r.data->>'utm_campaign', r.x->>'utm_campaign') AS utm_campaign,
       coalesce(r.data->>'device_type', r.x->>'device_type') AS device_type,
       coalesce(r.data->>'user_agent', r.x->>'user_agent') AS user_agent,
       coalesce(r.data->>'session_id', r.x->>'session_id') AS session_id,
       CASE WHEN r.purchase THEN coalesce(r.data->>'order_id', r.x->>'order_id') END AS order_id,
       -- a purchase's revenue: a number, finite and of a size an order can have;
       -- anything else (missing, NaN, Infinity, 1e400, text) is invalid_revenue
       CASE WHEN r.purchase THEN (
           SELECT CASE WHEN pg_input_is_valid(v, 'numeric') THEN
                       CASE WHEN v::numeric BETWEEN -1e15 AND 1e15 THEN v::numeric END END
           FROM coalesce(r.data->>'revenue', r.x->>'revenue') AS v) END AS revenue
FROM (SELECT (r.load_id << 32) | r.line_no AS rk,
             nullif(btrim(r.client_id), '') COLLATE "C" AS client_id,  -- byte order: sessions sort faster
             r."timestamp" AS ts_text,
             nullif(btrim(r.event_name), '') AS event_name,
             nullif(btrim(r.event_name), '') = %(ev_purchase)s AS purchase,
             -- a row's identity (duplicates): its payload, and the flattened fields it carries
             CASE WHEN r.extra IS NULL THEN hashtextextended(r.event_data, 0)
                  ELSE coalesce(hashtextextended(r.event_data, 0), 0)
                       # hashtextextended(array[%(flat_fields)s]::text, 7) END AS data_hash,
             events.parse_ts(r."timestamp") AS ts,
             -- valid JSON may hold what jsonb cannot (the escape \u0000, NUL): such a
             -- payload is kept and counted as malformed, never the end of the day's pass
             CASE WHEN r.event_data IS JSON OBJECT THEN
                  CASE WHEN strpos(r.event_data, '\u0000') = 0 OR pg_input_is_valid(r.event_data, 'jsonb')
                       THEN r.event_data::jsonb END END AS data,
             -- no payload is not a broken payload: empty, blank or JSON null
             (r.event_data IS NULL OR octet_length(r.event_data) < 64
                                      AND btrim(r.event_data) IN ('', 'null')) AS no_payload,
             r.extra AS x,
             coalesce(r.extra ? '_invalid_encoding', false) AS bad_bytes, l.loaded_at AS arrived
      FROM events.raw_events r JOIN events.loads l ON l.load_id = r.load_id
      WHERE r.partition_date = %(day)s OFFSET 0) r
