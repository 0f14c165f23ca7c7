"""Channel classification (SQL on the real server) and device parsing (ua-parser rules)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from monitor import database, devices

SITE = "https://shop.example.com/products/linen-shirt"

CHANNELS = [
    ("direct", None, None, "", SITE, "Direct"),
    ("internal", None, None, "https://www.shop.example.com/collections/sale", SITE, "Internal"),
    ("google-organic", None, None, "https://www.google.com/", SITE, "Organic Search"),
    ("bing-organic", None, None, "https://www.bing.com/search?q=shirt", SITE, "Organic Search"),
    ("duckduckgo", None, None, "https://duckduckgo.com/", SITE, "Organic Search"),
    ("google-cpc", "google", "cpc", "https://www.google.com/", SITE, "Paid Search"),
    ("bing-ppc", "bing", "ppc", "", SITE, "Paid Search"),
    ("facebook-paid", "facebook", "paid_social", "https://m.facebook.com/", SITE, "Paid Social"),
    ("instagram-cpc", "instagram", "cpc", "", SITE, "Paid Social"),
    ("facebook-organic", None, None, "https://l.facebook.com/l.php?u=x", SITE, "Organic Social"),
    ("tco", None, None, "https://t.co/abc", SITE, "Organic Social"),
    ("utm-social", "linkedin", "social", "", SITE, "Organic Social"),
    ("newsletter", "newsletter", "email", "", SITE, "Email"),
    ("gmail-web", None, None, "https://mail.google.com/", SITE, "Email"),
    ("klaviyo", "klaviyo", "flow", "", SITE, "Email"),
    ("trustpilot", None, None, "https://www.trustpilot.com/review/shop.example.com", SITE, "Referral"),
    ("utm-referral", "partnerblog", "referral", "", SITE, "Referral"),
    ("utm-organic", "ecosia", "organic", "", SITE, "Organic Search"),
    ("utm-unknown", "partner", "banner", "", SITE, "Unassigned"),
    ("display-cpm", "criteo", "cpm", "", SITE, "Paid Other"),
    ("explicit-direct", "(direct)", "(none)", "", SITE, "Direct"),
]


@pytest.mark.parametrize("source, medium, referrer, page, expected", [c[1:] for c in CHANNELS],
                         ids=[c[0] for c in CHANNELS])
def test_channel_of(db, source, medium, referrer, page, expected):
    with database.engine().connect() as conn:
        got = conn.execute(sa.text("SELECT monitor.channel_of(:s, :m, :r, :p)"),
                           {"s": source, "m": medium, "r": referrer, "p": page}).scalar()
    assert got == expected


@pytest.mark.parametrize("url, name, expected", [
    ("https://s.example/?utm_source=google&utm_medium=cpc", "utm_source", "google"),
    ("https://s.example/p?x=1&utm_medium=paid+social#top", "utm_medium", "paid social"),
    ("https://s.example/p?utm_source=", "utm_source", None),
    ("https://s.example/p", "utm_source", None),
], ids=["first", "plus-and-fragment", "empty", "absent"])
def test_url_param(db, url, name, expected):
    with database.engine().connect() as conn:
        assert conn.execute(sa.text("SELECT monitor.url_param(:u, :n)"), {"u": url, "n": name}).scalar() == expected


UAS = [
    ("iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "mobile"),
    ("pixel", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36", "mobile"),
    ("ipad", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "tablet"),
    ("galaxy-tab", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Safari/537.36", "tablet"),
    ("windows-chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "desktop"),
    ("mac-safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "desktop"),
    ("googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
    ("empty", "", "other"),
]


@pytest.mark.parametrize("ua, expected", [u[1:] for u in UAS], ids=[u[0] for u in UAS])
def test_device_type(ua, expected):
    assert devices.device_type(ua) == expected
