-- A small shop's 2026-09-01 as Segment writes it: one row per track call in
-- segment.tracks, and each order's properties in segment.order_completed (same id).
CREATE SCHEMA IF NOT EXISTS segment;
CREATE TABLE IF NOT EXISTS segment.tracks (
    id text PRIMARY KEY, anonymous_id text, user_id text, event text, event_text text,
    "timestamp" timestamptz, received_at timestamptz, context_page_url text, context_page_referrer text,
    context_user_agent text, context_campaign_source text, context_campaign_medium text,
    context_campaign_name text, uuid_ts timestamptz);
CREATE TABLE IF NOT EXISTS segment.order_completed (
    id text PRIMARY KEY, order_id text, revenue numeric(18, 2), currency text, "timestamp" timestamptz);
CREATE INDEX IF NOT EXISTS tracks_timestamp ON segment.tracks ("timestamp");
INSERT INTO segment.tracks
SELECT 't-' || i || '-' || n, 'a' || (i % 240), NULL, name, initcap(replace(name, '_', ' ')), t, t,
       'https://shop.example.com/p/' || n, CASE WHEN i % 3 = 0 THEN 'https://www.bing.com/' END,
       CASE WHEN i % 4 = 0 THEN 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36'
            ELSE 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15' END,
       CASE WHEN i % 6 = 0 THEN 'newsletter' END, CASE WHEN i % 6 = 0 THEN 'email' END, NULL, t + interval '2 minutes'
FROM (SELECT i, s.n, s.name, timestamptz '2026-09-01 07:00Z' + i * interval '140 seconds' + s.n * interval '30 seconds' AS t
      FROM generate_series(1, 300) i
      CROSS JOIN LATERAL (VALUES (1, 'page_viewed'), (2, 'page_viewed'),
                                 (3, CASE WHEN i % 5 = 0 THEN 'product_added' END),
                                 (4, CASE WHEN i % 10 = 0 THEN 'checkout_started' END),
                                 (5, CASE WHEN i % 20 = 0 THEN 'order_completed' END)) s(n, name)
      WHERE s.name IS NOT NULL) v
ON CONFLICT DO NOTHING;
INSERT INTO segment.order_completed
SELECT id, 'o-' || split_part(id, '-', 2), 15 + length(id), 'USD', "timestamp"
FROM segment.tracks WHERE event = 'order_completed'
ON CONFLICT DO NOTHING;
