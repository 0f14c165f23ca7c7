-- A small shop's 2026-09-01 from a GA4 export flattened into PostgreSQL: event_date as
-- YYYYMMDD, event_timestamp in microseconds, event_params as one jsonb object.
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE TABLE IF NOT EXISTS analytics.events (
    event_date text, event_timestamp bigint, event_name text, user_pseudo_id text, event_params jsonb,
    device_category text, ecommerce jsonb, stream_id text);
CREATE INDEX IF NOT EXISTS events_event_date ON analytics.events (event_date);
INSERT INTO analytics.events
SELECT '20260901', (extract(epoch FROM t) * 1000000)::bigint, name, 'p' || (i % 240) || '.1725170000',
       jsonb_strip_nulls(jsonb_build_object('page_location', 'https://shop.example.com/p/' || n,
           'page_referrer', CASE WHEN i % 3 = 0 THEN 'https://www.google.com/' END,
           'ga_session_id', (1725170000 + i)::text, 'source', CASE WHEN i % 8 = 0 THEN 'google' END,
           'medium', CASE WHEN i % 8 = 0 THEN 'cpc' END, 'currency', CASE WHEN name = 'purchase' THEN 'EUR' END)),
       CASE WHEN i % 4 = 0 THEN 'mobile' ELSE 'desktop' END,
       CASE WHEN name = 'purchase' THEN jsonb_build_object('transaction_id', 'T' || i, 'purchase_revenue', 30 + i % 40) END,
       '1234567'
FROM (SELECT i, s.n, s.name, timestamptz '2026-09-01 06:30Z' + i * interval '150 seconds' + s.n * interval '35 seconds' AS t
      FROM generate_series(1, 300) i
      CROSS JOIN LATERAL (VALUES (1, 'page_view'), (2, 'page_view'),
                                 (3, CASE WHEN i % 5 = 0 THEN 'add_to_cart' END),
                                 (4, CASE WHEN i % 10 = 0 THEN 'begin_checkout' END),
                                 (5, CASE WHEN i % 20 = 0 THEN 'purchase' END)) s(n, name)
      WHERE s.name IS NOT NULL) v;
