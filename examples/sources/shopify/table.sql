-- A small shop's 2026-09-01 of Shopify web-pixel events as a connector lands them: the
-- event's id, clientId, name and ISO timestamp, its data and context as jsonb.
CREATE SCHEMA IF NOT EXISTS shopify;
CREATE TABLE IF NOT EXISTS shopify.pixel_events (
    id text PRIMARY KEY, "clientId" text, name text, "timestamp" text, data jsonb, context jsonb,
    _airbyte_extracted_at timestamptz);
INSERT INTO shopify.pixel_events
SELECT 'sh_' || i || '_' || n, 'c' || (i % 240), name, to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       CASE WHEN name = 'checkout_completed' THEN jsonb_build_object('checkout', jsonb_build_object(
                'order', jsonb_build_object('id', 'gid://shopify/Order/' || i),
                'totalPrice', jsonb_build_object('amount', 25 + i % 60), 'currencyCode', 'CAD'))
            WHEN name = 'product_added_to_cart' THEN jsonb_build_object('cartLine', jsonb_build_object('quantity', 1))
            ELSE '{}'::jsonb END,
       jsonb_build_object('navigator', jsonb_build_object('userAgent',
                CASE WHEN i % 4 = 0 THEN 'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'
                     ELSE 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/121.0 Safari/537.36' END),
            'document', jsonb_build_object('location', jsonb_build_object('href', 'https://shop.example.ca/p/' || n),
                                           'referrer', CASE WHEN i % 3 = 0 THEN 'https://duckduckgo.com/' ELSE '' END)),
       t + interval '10 minutes'
FROM (SELECT i, s.n, s.name, timestamptz '2026-09-01 08:00Z' + i * interval '130 seconds' + s.n * interval '45 seconds' AS t
      FROM generate_series(1, 300) i
      CROSS JOIN LATERAL (VALUES (1, 'page_viewed'), (2, 'page_viewed'),
                                 (3, CASE WHEN i % 5 = 0 THEN 'product_added_to_cart' END),
                                 (4, CASE WHEN i % 10 = 0 THEN 'checkout_started' END),
                                 (5, CASE WHEN i % 20 = 0 THEN 'checkout_completed' END)) s(n, name)
      WHERE s.name IS NOT NULL) v
ON CONFLICT DO NOTHING;
