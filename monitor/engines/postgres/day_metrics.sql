-- One set-based pass over one day's rows: every metric the checks read.
-- day_rows (below, FROM) is the source's SELECT of the day (monitor.sources: the loader's rows, or
-- a team's relation read in place), one row per event with the same columns whatever
-- the source. Parameters: day, known (text[]), the funnel's event names (ev_page_view,
-- ev_add_to_cart, ev_checkout, ev_purchase), gap_seconds, future_tolerance_minutes,
-- tz (day.timezone), and the source's own. The day's columns (schema checks) come from
-- the source, not from this pass.
-- Output: (metric, dimension, value) rows; NULL values (e.g. a rate with no
-- denominator) are left out.
WITH ev AS MATERIALIZED (
    -- only the fields the metrics read, so the materialised day stays narrow
    SELECT r.client_id, r.ts_text, r.event_name, r.data_hash, r.ts, r.rk, r.fp, r.stamp,
           r.malformed, r.no_payload, r.bad_bytes,
           r.page_url, r.referrer, r.utm_source, r.utm_medium, r.utm_campaign,
           -- the sessions sort carries this 8-byte key of the landing inputs, not the
           -- inputs (one seed per field, so equal values in other fields differ; NULL = '')
           hashtextextended(coalesce(r.page_url, ''), 1) # hashtextextended(coalesce(r.referrer, ''), 2)
               # hashtextextended(coalesce(r.utm_source, ''), 3)
               # hashtextextended(coalesce(r.utm_medium, ''), 4)
               # hashtextextended(coalesce(r.utm_campaign, ''), 5) AS landing,
           -- and this key of the user agent, not the agent
           lower(nullif(r.device_type, '')) AS device_type,
           hashtextextended(r.user_agent, 0) AS ua_hash,
           nullif(r.session_id, '') COLLATE "C" AS session_id,
           r.revenue, r.purchase AND (r.revenue IS NULL OR r.revenue <= 0) AS bad_revenue,
           CASE WHEN r.purchase THEN nullif(btrim(r.order_id), '') END AS order_id,
           (coalesce(btrim(r.ts_text), '') <> '' AND r.ts IS NULL) AS unparseable,
           -- "future" is judged against when the row arrived (its load's time), not the run's clock:
           -- a rerun of an old day gives the same counts, and a clock running fast is caught
           (r.ts > r.arrived + make_interval(mins => %(future_tolerance_minutes)s)) AS future,
           (r.ts IS NOT NULL AND (r.ts AT TIME ZONE %(tz)s)::date <> %(day)s::date) AS out_of_day
    FROM (%(day_rows)s) r
),
field_counts AS (
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE client_id IS NULL) AS null_client_id,
           count(*) FILTER (WHERE coalesce(btrim(ts_text), '') = '') AS null_timestamp,
           count(*) FILTER (WHERE event_name IS NULL) AS null_event_name,
           count(*) FILTER (WHERE event_name <> ALL (%(known)s::text[])) AS unknown_event_name,
           count(*) FILTER (WHERE unparseable) AS unparseable_timestamp,
           count(*) FILTER (WHERE future) AS future_timestamp,
           count(*) FILTER (WHERE out_of_day) AS out_of_day_timestamp,
           count(*) FILTER (WHERE unparseable OR future OR out_of_day) AS invalid_timestamp,
           count(*) FILTER (WHERE malformed) AS malformed_json,
           count(*) FILTER (WHERE no_payload) AS empty_payload,
           count(*) FILTER (WHERE bad_revenue) AS invalid_revenue,
           count(*) FILTER (WHERE bad_bytes) AS invalid_encoding,
           sum(revenue) AS revenue
    FROM ev
),
bad_rows AS (
    -- up to 20 rows per field-health check, by their key (rk): the pass names them, the
    -- source reads their values on days that have any (monitor.sources)
    SELECT c.check_name, f.rk,
           row_number() OVER (PARTITION BY c.check_name ORDER BY f.rk) AS n
    FROM ev f
    CROSS JOIN LATERAL (VALUES ('null_client_id', f.client_id IS NULL),
                               ('null_timestamp', coalesce(btrim(f.ts_text), '') = ''),
                               ('null_event_name', f.event_name IS NULL),
                               ('unknown_event_name', f.event_name <> ALL (%(known)s::text[])),
                               ('invalid_timestamp', f.unparseable OR coalesce(f.future, false) OR f.out_of_day),
                               ('malformed_json', f.malformed),
                               ('invalid_encoding', f.bad_bytes),
                               ('invalid_revenue', f.bad_revenue)) AS c(check_name, bad)
    WHERE c.bad
      AND (f.client_id IS NULL OR f.event_name IS NULL OR f.malformed OR f.bad_bytes OR f.ts IS NULL
           OR f.future OR f.out_of_day OR f.event_name <> ALL (%(known)s::text[]) OR f.bad_revenue)
),
dup_groups AS (
    -- identical rows; ``first`` is the key of a group's first copy
    SELECT count(*) AS n, min(rk) AS first FROM ev
    GROUP BY client_id, ts_text, event_name, data_hash HAVING count(*) > 1
),
orders AS (
    -- the same order id on more than one purchase (revenue counted twice)
    SELECT order_id, count(*) AS n, min(rk) AS first,
           count(DISTINCT revenue) + max(CASE WHEN revenue IS NULL THEN 1 ELSE 0 END) > 1 AS revenue_differs
    FROM ev WHERE order_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1
),
hours AS (
    -- events per hour of the day's wall clock (rows with a valid in-day time): what the silence check reads
    SELECT extract(hour FROM ts AT TIME ZONE %(tz)s)::int AS hour, count(*) AS n
    FROM ev WHERE ts IS NOT NULL AND NOT out_of_day GROUP BY 1
),
duplicates AS (
    SELECT coalesce(sum(n - 1), 0) AS duplicate_rows FROM dup_groups
),
clients AS (
    SELECT count(*) AS distinct_clients FROM (SELECT DISTINCT client_id FROM ev WHERE client_id IS NOT NULL) c
),
by_type AS (
    -- per-type counts exist only for a day with rows: a day without data has
    -- no_data, not "zero purchases"
    SELECT k.name, coalesce(c.n, 0) AS n
    FROM unnest(%(known)s::text[]) AS k(name)
    LEFT JOIN (SELECT event_name, count(*) AS n FROM ev GROUP BY 1) c ON c.event_name = k.name
    WHERE (SELECT rows FROM field_counts) > 0
),
hits AS (
    -- sessions: an explicit session_id groups its client's hits whatever the gaps;
    -- other hits split on gaps of inactivity. Either way a session's first hit is
    -- its start, where its landing inputs (channel, source, device) come from.
    SELECT client_id, ts, event_name, landing, device_type, ua_hash, session_id, revenue,
           CASE WHEN session_id IS NOT NULL THEN lag(ts) OVER w IS NULL
                ELSE coalesce(ts - lag(ts) OVER w > make_interval(secs => %(gap_seconds)s), true) END AS starts
    FROM ev  -- a valid in-day time only: a late hit from the day before makes no 24-hour session
    WHERE client_id IS NOT NULL AND ts IS NOT NULL AND NOT out_of_day AND NOT future
    -- hits at the same instant are ordered by event name (byte order), as on every engine
    WINDOW w AS (PARTITION BY client_id, session_id ORDER BY ts, event_name COLLATE "C")
),
numbered AS (
    SELECT *, count(*) FILTER (WHERE starts) OVER (PARTITION BY client_id, session_id
                                                  ORDER BY ts, event_name COLLATE "C" ROWS UNBOUNDED PRECEDING) AS seq
    FROM hits
),
sessions AS (
    SELECT client_id, extract(epoch FROM max(ts) - min(ts)) AS duration_s,
           count(*) FILTER (WHERE event_name = %(ev_page_view)s) AS pages,
           bool_or(event_name = %(ev_add_to_cart)s) AS cart,
           bool_or(event_name = %(ev_checkout)s) AS checkout,
           bool_or(event_name = %(ev_purchase)s) AS purchase,
           count(*) AS hits,
           count(*) FILTER (WHERE event_name = %(ev_add_to_cart)s) AS cart_events,
           count(*) FILTER (WHERE event_name = %(ev_checkout)s) AS checkout_events,
           coalesce(sum(revenue), 0) AS revenue,
           min(landing) FILTER (WHERE starts) AS landing,
           min(device_type) FILTER (WHERE starts) AS device_type,
           min(ua_hash) FILTER (WHERE starts) AS ua_hash
    FROM numbered
    GROUP BY client_id, session_id, seq
),
fast_clients AS (
    -- behaviour no user-agent list sees: more hits a minute than a person makes, minute after
    -- minute. Only a client with that many hits in the day can qualify: count minutes for those.
    SELECT client_id FROM (
        SELECT client_id, date_trunc('minute', ts) FROM ev
        WHERE client_id IN (SELECT client_id FROM sessions GROUP BY 1
                            HAVING sum(hits) > %(bot_hits_per_minute)s * %(bot_minutes)s)
          AND ts IS NOT NULL
        GROUP BY 1, 2 HAVING count(*) > %(bot_hits_per_minute)s) m
    GROUP BY 1 HAVING count(*) >= %(bot_minutes)s
),
landings AS MATERIALIZED (
    -- parse and classify each distinct landing once, not each session
    SELECT d.*, monitor.channel_from(x.src, x.med, x.ref_host, x.page_host) AS channel,
           coalesce(x.src, '(none)') AS source, x.campaign
    FROM (SELECT landing, coalesce(min(page_url), '') AS page_url, coalesce(min(referrer), '') AS referrer,
                 coalesce(min(utm_source), '') AS utm_source, coalesce(min(utm_medium), '') AS utm_medium,
                 coalesce(min(utm_campaign), '') AS utm_campaign
          FROM ev WHERE landing IN (SELECT landing FROM sessions) GROUP BY landing) d
    CROSS JOIN LATERAL (
        SELECT lower(coalesce(nullif(d.utm_source, ''), monitor.url_param(d.page_url, 'utm_source'))) AS src,
               lower(coalesce(nullif(d.utm_medium, ''), monitor.url_param(d.page_url, 'utm_medium'))) AS med,
               lower(coalesce(nullif(d.utm_campaign, ''), monitor.url_param(d.page_url, 'utm_campaign'))) AS campaign,
               monitor.url_host(d.referrer) AS ref_host, monitor.url_host(d.page_url) AS page_host) x
),
classified_sessions AS (
    SELECT s.duration_s, s.pages, s.cart, s.checkout, s.purchase, s.hits, s.cart_events, s.checkout_events,
           s.revenue, l.channel, l.source AS utm_source,
           (coalesce(ua.device_type = 'bot', false) OR f.client_id IS NOT NULL) AS bot,
           coalesce(ua.bot_name, CASE WHEN f.client_id IS NOT NULL THEN 'fast client ' || left(s.client_id, 13) END)
               AS bot_label,
           coalesce(l.campaign, '(none)') AS utm_campaign, coalesce(s.device_type, ua.device_type, 'unknown') AS device
    FROM sessions s
    JOIN landings l USING (landing)
    LEFT JOIN (SELECT ua_hash, min(device_type) AS device_type, min(bot_name) AS bot_name
               FROM monitor.user_agents WHERE ua_hash IN (SELECT ua_hash FROM sessions)  -- the day's agents only
               GROUP BY 1) ua USING (ua_hash)
    LEFT JOIN fast_clients f ON f.client_id = s.client_id
),
cells AS (
    -- sessions summed per combination of what the metrics split by (a few hundred cells
    -- on a busy day): every session metric below reads these, not the sessions again
    SELECT bot, bot_label, device, channel, utm_source, utm_campaign,
           count(*) AS sessions, sum(hits) AS hits, sum(pages) AS pages,
           count(*) FILTER (WHERE cart) AS carts, count(*) FILTER (WHERE checkout) AS checkouts,
           count(*) FILTER (WHERE purchase) AS purchases, sum(cart_events) AS cart_events,
           sum(checkout_events) AS checkout_events, sum(duration_s) AS duration_s, sum(revenue) AS revenue
    FROM classified_sessions GROUP BY 1, 2, 3, 4, 5, 6
),
human_cells AS (
    -- sessions, funnel, device and channel metrics describe people: bots stay out
    SELECT * FROM cells WHERE NOT bot
),
bot_totals AS (
    SELECT coalesce(sum(sessions) FILTER (WHERE bot), 0) AS bot_sessions,
           coalesce(sum(sessions) FILTER (WHERE bot), 0) / nullif(sum(sessions), 0) AS bot_share,
           coalesce(sum(hits) FILTER (WHERE bot), 0) / nullif(sum(hits), 0) AS bot_hit_share
    FROM cells
),
bot_agents AS (
    SELECT bot_label, sum(hits) AS hits FROM cells WHERE bot GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10
),
sess_totals AS (
    SELECT coalesce(sum(sessions), 0) AS sessions,
           sum(duration_s) / nullif(sum(sessions), 0) AS avg_session_duration_s,
           sum(pages) / nullif(sum(sessions), 0) AS page_depth,
           coalesce(sum(carts), 0) AS sessions_with_cart,
           coalesce(sum(checkouts), 0) AS sessions_with_checkout,
           coalesce(sum(purchases), 0) AS sessions_with_purchase
    FROM human_cells
),
segment_totals AS (
    -- the same session measures per segment: what "which segment" in an alert reads,
    -- and each segment's share of sessions
    SELECT CASE WHEN grouping(device) = 0 THEN 'device' WHEN grouping(channel) = 0 THEN 'channel'
                WHEN grouping(utm_source) = 0 THEN 'utm_source' ELSE 'utm_campaign' END AS dim,
           coalesce(device, channel, utm_source, utm_campaign) AS val,
           sum(sessions) AS sessions, sum(hits) AS hits, sum(pages) AS pages, sum(carts) AS carts,
           sum(checkouts) AS checkouts, sum(purchases) AS purchases, sum(cart_events) AS cart_events,
           sum(checkout_events) AS checkout_events, sum(duration_s) AS duration_s, sum(revenue) AS revenue
    FROM human_cells
    GROUP BY GROUPING SETS ((device), (channel), (utm_source), (utm_campaign))
),
segment_measures AS (
    SELECT dim || '=' || val AS segment, s.* FROM segment_totals s WHERE dim <> 'utm_campaign'
)
SELECT metric, dimension, value::double precision FROM (
    SELECT 'rows' AS metric, '' AS dimension, rows::numeric AS value FROM field_counts
    UNION ALL SELECT 'null_client_id', '', null_client_id FROM field_counts
    UNION ALL SELECT 'null_timestamp', '', null_timestamp FROM field_counts
    UNION ALL SELECT 'null_event_name', '', null_event_name FROM field_counts
    UNION ALL SELECT 'unknown_event_name', '', unknown_event_name FROM field_counts
    UNION ALL SELECT 'unparseable_timestamp', '', unparseable_timestamp FROM field_counts
    UNION ALL SELECT 'future_timestamp', '', future_timestamp FROM field_counts
    UNION ALL SELECT 'out_of_day_timestamp', '', out_of_day_timestamp FROM field_counts
    UNION ALL SELECT 'invalid_timestamp', '', invalid_timestamp FROM field_counts
    UNION ALL SELECT 'malformed_json', '', malformed_json FROM field_counts
    UNION ALL SELECT 'malformed_json_rate', '', malformed_json / nullif(rows, 0)::numeric FROM field_counts
    UNION ALL SELECT 'invalid_encoding', '', invalid_encoding FROM field_counts
    UNION ALL SELECT 'invalid_encoding_rate', '', invalid_encoding / nullif(rows, 0)::numeric FROM field_counts
    UNION ALL SELECT 'distinct_clients', '', distinct_clients FROM clients
    UNION ALL SELECT 'revenue', '', coalesce(revenue, 0) FROM field_counts
    UNION ALL SELECT 'duplicate_rows', '', duplicate_rows FROM duplicates
    UNION ALL SELECT 'duplicate_rate', '', duplicate_rows / nullif(rows, 0)::numeric FROM duplicates, field_counts
    UNION ALL SELECT 'events', name, n FROM by_type
    UNION ALL SELECT 'sessions', '', sessions FROM sess_totals
    UNION ALL SELECT 'avg_session_duration_s', '', avg_session_duration_s FROM sess_totals
    UNION ALL SELECT 'page_depth', '', page_depth FROM sess_totals
    UNION ALL SELECT 'sessions_with_cart', '', sessions_with_cart FROM sess_totals
    UNION ALL SELECT 'sessions_with_checkout', '', sessions_with_checkout FROM sess_totals
    UNION ALL SELECT 'sessions_with_purchase', '', sessions_with_purchase FROM sess_totals
    UNION ALL SELECT 'cart_rate', '', sessions_with_cart / nullif(sessions, 0)::numeric FROM sess_totals
    UNION ALL SELECT 'cart_to_checkout_rate', '', sessions_with_checkout / nullif(sessions_with_cart, 0)::numeric FROM sess_totals
    UNION ALL SELECT 'checkout_to_purchase_rate', '', sessions_with_purchase / nullif(sessions_with_checkout, 0)::numeric FROM sess_totals
    UNION ALL SELECT 'session_conversion_rate', '', sessions_with_purchase / nullif(sessions, 0)::numeric FROM sess_totals
    UNION ALL SELECT dim || '_share', val, s.sessions / t.sessions::numeric FROM segment_totals s, sess_totals t
    UNION ALL SELECT 'bot_sessions', '', bot_sessions FROM bot_totals
    UNION ALL SELECT 'bot_share', '', bot_share FROM bot_totals
    UNION ALL SELECT 'bot_hit_share', '', bot_hit_share FROM bot_totals
    UNION ALL SELECT 'bot_hits', bot_label, hits FROM bot_agents
    UNION ALL SELECT 'seg_sessions', segment, sessions FROM segment_measures
    UNION ALL SELECT 'seg_hits', segment, hits FROM segment_measures
    UNION ALL SELECT 'seg_pages', segment, pages FROM segment_measures
    UNION ALL SELECT 'seg_carts', segment, carts FROM segment_measures
    UNION ALL SELECT 'seg_checkouts', segment, checkouts FROM segment_measures
    UNION ALL SELECT 'seg_purchases', segment, purchases FROM segment_measures
    UNION ALL SELECT 'seg_cart_events', segment, cart_events FROM segment_measures
    UNION ALL SELECT 'seg_checkout_events', segment, checkout_events FROM segment_measures
    UNION ALL SELECT 'seg_duration_s', segment, duration_s FROM segment_measures
    UNION ALL SELECT 'seg_revenue', segment, revenue FROM segment_measures
    -- samples: (sample:check, the row's key, how many copies)
    UNION ALL SELECT 'sample:' || check_name, rk::text, 1 FROM bad_rows WHERE n <= 20
    UNION ALL (SELECT 'sample:duplicate_spike', first::text, n FROM dup_groups ORDER BY n DESC, first LIMIT 20)
    UNION ALL SELECT 'empty_payload', '', empty_payload FROM field_counts
    UNION ALL SELECT 'invalid_revenue', '', invalid_revenue FROM field_counts
    UNION ALL SELECT 'duplicate_order_ids', '', count(*) FROM orders
    UNION ALL SELECT 'duplicate_order_rows', '', coalesce(sum(n - 1), 0) FROM orders
    UNION ALL SELECT 'duplicate_order_revenue_differs', '', count(*) FILTER (WHERE revenue_differs) FROM orders
    UNION ALL (SELECT 'sample:duplicate_order_id', first::text, n FROM orders ORDER BY n DESC, first LIMIT 20)
    UNION ALL SELECT 'events_by_hour', lpad(hour::text, 2, '0'), n FROM hours
    -- the rows' fingerprint (sources.relation.FINGERPRINT), kept apart from the metrics
    UNION ALL SELECT 'fingerprint', __FINGERPRINT__, 0 FROM ev
) m
WHERE value IS NOT NULL
