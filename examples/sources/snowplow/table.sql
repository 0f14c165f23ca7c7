-- A small shop's 2026-09-01 in Snowplow's atomic.events (the columns the preset reads,
-- and a few it does not): 300 visits, each with two page views; some add to cart,
-- start a checkout and buy.
CREATE SCHEMA IF NOT EXISTS atomic;
CREATE TABLE IF NOT EXISTS atomic.events (
    event_id text PRIMARY KEY, app_id text, platform text, collector_tstamp timestamptz,
    derived_tstamp timestamptz, event_name text, domain_userid text, domain_sessionid text,
    page_url text, page_referrer text, useragent text, mkt_source text, mkt_medium text,
    mkt_campaign text, tr_orderid text, tr_total numeric(18, 2), tr_currency text, load_tstamp timestamptz);
CREATE INDEX IF NOT EXISTS events_derived_tstamp ON atomic.events (derived_tstamp);
INSERT INTO atomic.events
SELECT 'e-' || i || '-' || n, 'shop', 'web', t, t, name, 'u' || (i % 240), 's-' || i,
       'https://shop.example.com/p/' || n, CASE WHEN i % 3 = 0 THEN 'https://www.google.com/' END,
       CASE WHEN i % 4 = 0 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'
            ELSE 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36' END,
       CASE WHEN i % 7 = 0 THEN 'google' END, CASE WHEN i % 7 = 0 THEN 'cpc' END, CASE WHEN i % 7 = 0 THEN 'autumn' END,
       CASE WHEN name = 'transaction' THEN 'o-' || i END, CASE WHEN name = 'transaction' THEN 20 + i % 50 END,
       CASE WHEN name = 'transaction' THEN 'EUR' END, t + interval '5 minutes'
FROM (SELECT i, s.n, s.name, timestamptz '2026-09-01 06:00Z' + i * interval '150 seconds' + s.n * interval '40 seconds' AS t
      FROM generate_series(1, 300) i
      CROSS JOIN LATERAL (VALUES (1, 'page_view'), (2, 'page_view'),
                                 (3, CASE WHEN i % 5 = 0 THEN 'add_to_cart' END),
                                 (4, CASE WHEN i % 10 = 0 THEN 'checkout_step' END),
                                 (5, CASE WHEN i % 20 = 0 THEN 'transaction' END)) s(n, name)
      WHERE s.name IS NOT NULL) v
ON CONFLICT DO NOTHING;
