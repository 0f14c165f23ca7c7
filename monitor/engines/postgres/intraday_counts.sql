-- Counts of some loads' rows, per day and 15-minute slot of the day: what intraday runs
-- read (monitor.store.intraday), so no run reads a counted load's rows again. A load's
-- rows are found by its id (loads append, so the BRIN index on load_id covers a load in
-- a few page ranges): the day's index would read the whole day so far every run.
-- A row sits in the slot of its own time when that time is usable (in the day, not
-- ahead of its load); else in the slot of the last usable time before it in its file
-- (a null timestamp at 10:20 counts at 10:20), else (rows before the file's first usable
-- time) of when the load arrived, within the day.
-- The field definitions are day_metrics.sql's.
-- Parameters: loads (bigint[]: consecutive ids, lo..hi), known (text[]), ev_purchase,
-- future_tolerance_minutes, tz (day.timezone: slots are its wall clock).
INSERT INTO monitor.intraday_counts (day, load_id, bucket, metric, dimension, value)
WITH r AS (
    SELECT r.partition_date AS day, r.day_start, r.day_end, r.load_id, r.line_no,
           nullif(btrim(r.client_id), '') COLLATE "C" AS client_id,
           nullif(btrim(r.event_name), '') AS event_name,
           coalesce(btrim(r."timestamp"), '') = '' AS null_ts,
           r.ts, r.ts IS NULL AND coalesce(btrim(r."timestamp"), '') <> '' AS unparseable,
           r.ts > r.arrived + make_interval(mins => %(future_tolerance_minutes)s) AS future,
           r.ts IS NOT NULL AND (r.ts AT TIME ZONE %(tz)s)::date <> r.partition_date AS out_of_day,
           r.arrived,
           NOT (r.event_data IS NULL OR octet_length(r.event_data) < 64 AND btrim(r.event_data) IN ('', 'null'))
               AND NOT coalesce(r.event_data IS JSON OBJECT
                                AND (strpos(r.event_data, '\u0000') = 0 OR pg_input_is_valid(r.event_data, 'jsonb')),
                                false) AS malformed,
           CASE WHEN nullif(btrim(r.event_name), '') = %(ev_purchase)s THEN (
               SELECT CASE WHEN pg_input_is_valid(v, 'numeric')
                           THEN NOT (v::numeric BETWEEN -1e15 AND 1e15 AND v::numeric > 0) ELSE true END
               FROM coalesce(CASE WHEN r.event_data IS JSON OBJECT AND pg_input_is_valid(r.event_data, 'jsonb')
                                  THEN r.event_data::jsonb->>'revenue' END, r.extra->>'revenue') AS v)
           ELSE false END AS bad_revenue
    FROM (SELECT r.*, events.parse_ts(r."timestamp") AS ts, l.loaded_at AS arrived,
                 r.partition_date::timestamp AT TIME ZONE %(tz)s AS day_start,
                 (r.partition_date + 1)::timestamp AT TIME ZONE %(tz)s AS day_end
          FROM events.raw_events r JOIN events.loads l ON l.load_id = r.load_id
          WHERE r.load_id BETWEEN %(lo)s AND %(hi)s AND r.load_id = ANY (%(loads)s::bigint[]) OFFSET 0) r
),
placed AS (
    SELECT r.*, coalesce(
               max(CASE WHEN usable THEN ts END) OVER (PARTITION BY load_id, day ORDER BY line_no
                                                       ROWS UNBOUNDED PRECEDING),
               least(greatest(arrived, day_start), day_end - interval '1 second')) AS at
    FROM (SELECT r.*, r.ts IS NOT NULL AND NOT r.out_of_day AND NOT r.future AS usable FROM r) r
),
slotted AS MATERIALIZED (
    -- the slot of the day's wall clock (day.timezone): 02:00-02:59 is slots 8-11 whatever the offset
    SELECT p.*, (extract(hour FROM p.wall) * 4 + floor(extract(minute FROM p.wall) / 15))::smallint AS bucket
    FROM (SELECT p.*, p.at AT TIME ZONE %(tz)s AS wall FROM placed p) p
),
clients AS (
    -- distinct clients per slot, hashed (a sort of every row by client costs more)
    SELECT day, load_id, bucket, count(*) AS active_clients
    FROM (SELECT DISTINCT day, load_id, bucket, client_id FROM slotted WHERE client_id IS NOT NULL) c
    GROUP BY 1, 2, 3
),
per_slot AS (
    SELECT day, load_id, bucket, count(*) AS rows,
           coalesce(min(c.active_clients), 0) AS active_clients,
           count(*) FILTER (WHERE client_id IS NULL) AS null_client_id,
           count(*) FILTER (WHERE null_ts) AS null_timestamp,
           count(*) FILTER (WHERE event_name IS NULL) AS null_event_name,
           count(*) FILTER (WHERE event_name <> ALL (%(known)s::text[])) AS unknown_event_name,
           count(*) FILTER (WHERE unparseable OR future OR out_of_day) AS invalid_timestamp,
           count(*) FILTER (WHERE malformed) AS malformed_json,
           count(*) FILTER (WHERE bad_revenue) AS invalid_revenue
    FROM slotted LEFT JOIN clients c USING (day, load_id, bucket) GROUP BY 1, 2, 3
)
SELECT day, load_id, bucket, m.metric, '', m.value
FROM per_slot
CROSS JOIN LATERAL (VALUES ('rows', rows), ('active_clients', active_clients), ('null_client_id', null_client_id),
                           ('null_timestamp', null_timestamp), ('null_event_name', null_event_name),
                           ('unknown_event_name', unknown_event_name), ('invalid_timestamp', invalid_timestamp),
                           ('malformed_json', malformed_json), ('invalid_revenue', invalid_revenue)) AS m(metric, value)
WHERE m.value > 0 OR m.metric = 'rows'
UNION ALL
SELECT day, load_id, bucket, 'events', event_name, count(*)
FROM slotted WHERE event_name = ANY (%(known)s::text[])
GROUP BY day, load_id, bucket, event_name
ON CONFLICT DO NOTHING;

INSERT INTO monitor.intraday_loads (day, load_id)
SELECT partition_date, load_id FROM events.load_days WHERE load_id = ANY (%(loads)s::bigint[])
ON CONFLICT DO NOTHING;
