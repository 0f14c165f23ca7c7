"""Deterministic sample shop traffic, with an incident catalog to inject on chosen days.

Shape follows public e-commerce benchmarks: ~7% of sessions add to cart, ~60% of
carts start checkout, ~47% of checkouts complete. Channels arrive as a real pixel
sees them: UTM query strings on the landing URL, and referrer URLs.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

SITE = "https://shop.example.com"

USER_AGENTS = {
    "mobile": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    ],
    "desktop": [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    ],
    "tablet": [
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Safari/537.36",
    ],
}
BOT_UAS = [
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
]
DEVICE_WEIGHTS = {"mobile": 0.58, "desktop": 0.36, "tablet": 0.06}

# channel -> (weight, landing query string, referrer)
CHANNELS = {
    "direct": (0.24, "", ""),
    "organic_search": (0.30, "", "https://www.google.com/"),
    "paid_search": (0.14, "utm_source=google&utm_medium=cpc&utm_campaign=brand", "https://www.google.com/"),
    "paid_social": (0.10, "utm_source=facebook&utm_medium=paid_social&utm_campaign=autumn_sale", "https://m.facebook.com/"),
    "email": (0.09, "utm_source=newsletter&utm_medium=email&utm_campaign=weekly", ""),
    "referral": (0.08, "", "https://www.trustpilot.com/review/shop.example.com"),
    "organic_social": (0.05, "", "https://www.instagram.com/"),
}
PAGES = ["/", "/collections/new", "/collections/sale", "/products/linen-shirt", "/products/wool-scarf",
         "/products/canvas-tote", "/products/leather-belt", "/search?q=shirt", "/pages/about"]
PRODUCTS = {"linen-shirt": 59.0, "wool-scarf": 35.0, "canvas-tote": 24.0, "leather-belt": 45.0}
HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4.2, 4.5, 4.3, 4, 4, 4.2, 4.6, 5, 5.5, 5.6, 5, 3.5, 2]
DOW_FACTOR = (1.0, 0.97, 0.98, 1.0, 1.05, 1.12, 1.08)  # Mon..Sun
# a shop with a stronger week: Sundays about +22% (the 12-week timeline)
WEEKLY_SHOP = (0.95, 0.93, 0.95, 0.97, 1.02, 1.1, 1.22)

RATE_CART, RATE_CHECKOUT, RATE_PURCHASE = 0.07, 0.60, 0.47


@dataclass(frozen=True)
class Expected:
    check: str
    category: str
    severity: str


@dataclass(frozen=True)
class Incident:
    name: str
    description: str
    expect: tuple[Expected, ...]


def _e(check: str, category: str, severity: str) -> Expected:
    return Expected(check, category, severity)


CATALOG: dict[str, Incident] = {i.name: i for i in [
    Incident("zero_purchase", "purchase events stop while checkouts go on",
             (_e("zero_purchase", "volume", "critical"), _e("checkout_without_purchase", "funnel", "critical"))),
    Incident("null_client_id", "2% of rows lose client_id", (_e("null_client_id", "field_health", "critical"),)),
    Incident("null_timestamp", "1% of rows lose timestamp", (_e("null_timestamp", "field_health", "critical"),)),
    Incident("null_event_name", "1% of rows lose event_name", (_e("null_event_name", "field_health", "critical"),)),
    Incident("unknown_event_name", "a release renames some events", (_e("unknown_event_name", "field_health", "warning"),)),
    Incident("invalid_timestamp", "1% of timestamps unparseable", (_e("invalid_timestamp", "field_health", "critical"),)),
    Incident("late_timestamp", "2% of rows carry the previous day's time", (_e("invalid_timestamp", "field_health", "critical"),)),
    Incident("future_timestamp", "0.5% of rows stamped years ahead", (_e("invalid_timestamp", "field_health", "critical"),)),
    Incident("malformed_json_light", "0.5% of event_data truncated", (_e("malformed_json", "field_health", "warning"),)),
    Incident("malformed_json_heavy", "5% of event_data truncated",
             (_e("malformed_json", "field_health", "warning"), _e("malformed_json_rate", "field_health", "critical"))),
    Incident("missing_column", "the file arrives without event_data", (_e("required_columns", "schema", "critical"),)),
    Incident("unexpected_column", "the file gains a debug column", (_e("unexpected_columns", "schema", "warning"),)),
    Incident("duplicate_spike", "12% of rows sent twice", (_e("duplicate_spike", "duplicates", "critical"),)),
    Incident("volume_drop", "60% of sessions lost", (_e("total_events_drop", "volume", "critical"),)),
    Incident("traffic_spike", "40% more sessions than usual", (_e("total_events_shift", "volume", "warning"),)),
    Incident("page_view_drop", "35% of page views not tracked", (_e("page_view_drop", "volume", "warning"),)),
    Incident("checkout_drop", "checkout starts fall by 80%", (_e("cart_to_checkout_rate", "funnel", "warning"),)),
    Incident("bot_burst", "crawlers that keep no cookie flood page views",
             (_e("bot_share", "session", "warning"), _e("total_events_shift", "volume", "warning"))),
    Incident("fast_scraper", "one client with a browser's agent fetches 45 pages a minute for 20 minutes",
             (_e("bot_share", "session", "warning"),)),
    Incident("broken_utm", "UTM parameters stripped from paid links", (_e("channel_mix", "traffic_source", "warning"),)),
    Incident("lost_mobile_tracking", "mobile devices stop sending events",
             (_e("device_mix", "session", "warning"), _e("total_events_drop", "volume", "critical"))),
    Incident("fragmented_sessions", "the cookie is reset on every page", (_e("sessions_shift", "volume", "warning"),
                                                                         _e("page_depth", "session", "warning"))),
]}


@dataclass
class _Visitor:
    client_id: str
    device: str
    user_agent: str


@dataclass
class DayPlan:
    day: dt.date
    incidents: tuple[str, ...] = ()


@dataclass
class Generator:
    seed: int = 7
    sessions_per_day: int = 1500
    weekly: tuple[float, ...] = DOW_FACTOR  # traffic by weekday, Mon..Sun
    rng: random.Random = field(init=False)
    visitors: list[_Visitor] = field(init=False, default_factory=list)

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def _client_id(self) -> str:
        return "%08x-%04x-4%03x-%04x-%012x" % (
            self.rng.getrandbits(32), self.rng.getrandbits(16), self.rng.getrandbits(12),
            self.rng.getrandbits(16) | 0x8000 & 0xBFFF, self.rng.getrandbits(48))

    def _visitor(self) -> _Visitor:
        rng = self.rng
        if self.visitors and rng.random() < 0.28:  # returning visitor
            return rng.choice(self.visitors)
        device = rng.choices(list(DEVICE_WEIGHTS), weights=list(DEVICE_WEIGHTS.values()))[0]
        v = _Visitor(self._client_id(), device, rng.choice(USER_AGENTS[device]))
        self.visitors.append(v)
        if len(self.visitors) > 50_000:
            self.visitors = self.visitors[-25_000:]
        return v

    def day_rows(self, day: dt.date, incidents: tuple[str, ...] = (), scale: float = 1.0) -> list[list[str]]:
        """All rows of one day, as [client_id, timestamp, event_name, event_data].

        ``scale`` multiplies the day's traffic (growth); the pseudo-incident
        ``promo`` is a legitimate busy day: +10% sessions, and more of them buy.
        """
        rng = self.rng
        inc = set(incidents)
        n = int(self.sessions_per_day * scale * self.weekly[day.weekday()] * rng.uniform(0.96, 1.04))
        if "promo" in inc:
            n = int(n * 1.1)
        if "volume_drop" in inc:
            n = int(n * 0.4)
        if "traffic_spike" in inc:
            n = int(n * 1.4)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        rows: list[list] = []
        channels = list(CHANNELS)
        ch_weights = [CHANNELS[c][0] for c in channels]
        for _ in range(n):
            v = self._visitor()
            if "lost_mobile_tracking" in inc and v.device == "mobile":
                continue
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            t = start + dt.timedelta(hours=hour, seconds=rng.uniform(0, 3600))
            channel = rng.choices(channels, weights=ch_weights)[0]
            _, query, referrer = CHANNELS[channel]
            if "broken_utm" in inc and query:
                query = ""
            rows.extend(self._session_rows(v, t, query, referrer, inc, day))
        if "bot_burst" in inc:  # crawlers keep no cookie: every visit is a new client
            for _ in range(n // 2):
                cid, ua = self._client_id(), rng.choice(BOT_UAS)
                ts = start + dt.timedelta(seconds=rng.uniform(0, 86_000))
                for i in range(rng.randint(1, 3)):
                    rows.append([cid, ts + dt.timedelta(seconds=i), "page_viewed",
                                 {"page_url": SITE + rng.choice(PAGES), "user_agent": ua, "referrer": ""}])
        if "fast_scraper" in inc:  # a browser's agent, but no person reads 45 pages a minute
            cid, ua = self._client_id(), USER_AGENTS["desktop"][0]
            for i in range(45 * 20):
                rows.append([cid, start + dt.timedelta(hours=4, seconds=i * 60 / 45), "page_viewed",
                             {"page_url": SITE + rng.choice(PAGES), "user_agent": ua, "referrer": ""}])
        rows.sort(key=lambda r: r[1])
        return [self._finish(r, inc, day) for r in rows]

    def _session_rows(self, v: _Visitor, t: dt.datetime, query: str, referrer: str, inc: set, day: dt.date):
        rng = self.rng
        depth = 1
        while depth < 25 and rng.random() < 0.68:
            depth += 1
        client = v.client_id
        out = []
        base = {"user_agent": v.user_agent}
        for i in range(depth):
            if "fragmented_sessions" in inc:
                client = self._client_id()
            page = SITE + rng.choice(PAGES)
            data = dict(base, page_url=page + ("?" + query if i == 0 and query else ""),
                        referrer=referrer if i == 0 else SITE + "/", page_title="Shop")
            if "page_view_drop" not in inc or rng.random() > 0.35:
                out.append([client, t, "page_viewed", data])
            t += dt.timedelta(seconds=rng.expovariate(1 / 50))
        if rng.random() < RATE_CART:
            product, price = rng.choice(list(PRODUCTS.items()))
            qty = rng.choice([1, 1, 1, 2])
            out.append([client, t, "add_to_cart", dict(base, page_url=f"{SITE}/products/{product}", product_id=product,
                                                       price=price, quantity=qty, currency="EUR")])
            checkout_rate = RATE_CHECKOUT * (0.2 if "checkout_drop" in inc else 1)
            if rng.random() < checkout_rate:
                t += dt.timedelta(seconds=rng.uniform(20, 200))
                token = "%016x" % rng.getrandbits(64)
                value = round(price * qty, 2)
                out.append([client, t, "checkout_started", dict(base, page_url=f"{SITE}/checkouts/{token}",
                                                                checkout_token=token, cart_value=value,
                                                                item_count=qty, currency="EUR")])
                rate = RATE_PURCHASE * (1.25 if "promo" in inc else 1)
                if rng.random() < rate and "zero_purchase" not in inc:
                    t += dt.timedelta(seconds=rng.uniform(30, 300))
                    out.append([client, t, "purchase", dict(base, page_url=f"{SITE}/checkouts/{token}/thank_you",
                                                            order_id=str(rng.getrandbits(40)), checkout_token=token,
                                                            revenue=value, currency="EUR", item_count=qty)])
        return out

    def _finish(self, row, inc: set, day: dt.date) -> list[str]:
        rng = self.rng
        client, t, name, data = row
        if t.date() != day:  # sessions that run past midnight stay in their day
            t = dt.datetime(day.year, day.month, day.day, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        payload = json.dumps(data, separators=(",", ":"))
        if "null_client_id" in inc and rng.random() < 0.02:
            client = ""
        if "null_timestamp" in inc and rng.random() < 0.01:
            ts = ""
        if "null_event_name" in inc and rng.random() < 0.01:
            name = ""
        if "unknown_event_name" in inc and name == "page_viewed" and rng.random() < 0.03:
            name = "page_view"
        if "invalid_timestamp" in inc and rng.random() < 0.01:
            ts = rng.choice(["27/11/2026 10:15", "not-a-time", "2026-13-45T99:00:00Z"])
        if "late_timestamp" in inc and rng.random() < 0.02:
            ts = (t - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "future_timestamp" in inc and rng.random() < 0.005:
            ts = t.replace(year=t.year + 5).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        malformed = 0.005 if "malformed_json_light" in inc else 0.05 if "malformed_json_heavy" in inc else 0
        if malformed and rng.random() < malformed:
            payload = payload[: len(payload) // 2]
        return [client, ts, name, payload]


def write_csv(path: Path, rows: list[list[str]], incidents: tuple[str, ...] = ()) -> Path:
    header = ["client_id", "timestamp", "event_name", "event_data"]
    drop = "event_data" if "missing_column" in incidents else None
    extra = "debug_flag" if "unexpected_column" in incidents else None
    dupes = "duplicate_spike" in incidents
    rng = random.Random(len(rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([h for h in header if h != drop] + ([extra] if extra else []))
        for r in rows:
            out = [v for h, v in zip(header, r) if h != drop] + (["1"] if extra else [])
            w.writerow(out)
            if dupes and rng.random() < 0.12:
                w.writerow(out)
    return path


def write_dataset(folder: Path, start: dt.date, days: int, incidents: dict[dt.date, tuple[str, ...]] | None = None,
                  seed: int = 7, sessions_per_day: int = 1500) -> list[tuple[dt.date, Path]]:
    """One CSV per day: ``events_YYYY-MM-DD.csv``. Returns (day, path) pairs."""
    gen = Generator(seed=seed, sessions_per_day=sessions_per_day)
    out = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        inc = tuple((incidents or {}).get(day, ()))
        out.append((day, write_csv(folder / f"events_{day}.csv", gen.day_rows(day, inc), inc)))
    return out


def demo_incidents(start: dt.date, days: int) -> dict[dt.date, tuple[str, ...]]:
    """The spec's dataset: normal traffic, carts and checkouts, and no purchase at all."""
    return {start + dt.timedelta(days=i): ("zero_purchase",) for i in range(days)}


# The 12-week timeline: (week, weekday) of each incident, one a day, after four clean weeks.
TIMELINE_INCIDENTS = {
    (4, 1): "fragmented_sessions",  # warning only: a mean baseline would be polluted for a week
    (5, 3): "volume_drop",
    (6, 0): "traffic_spike",
    (6, 5): "broken_utm",
    (7, 2): "lost_mobile_tracking",
    (8, 4): "zero_purchase",
    (9, 1): "checkout_drop",
    (9, 6): "page_view_drop",
    (10, 3): "duplicate_spike",
    (11, 0): "unknown_event_name",
    (11, 4): "null_client_id",
}
TIMELINE_PROMO = (7, 5)  # a busy Saturday that is no incident


def timeline(start: dt.date, weeks: int = 12, growth_per_week: float = 0.01
             ) -> list[tuple[dt.date, tuple[str, ...], float]]:
    """(day, incidents, traffic scale) for a shop that grows slowly, with a weekly rhythm,
    a promo day and the incidents above. ``start`` should be a Monday."""
    out = []
    for i in range(weeks * 7):
        day = start + dt.timedelta(days=i)
        key = (i // 7, day.weekday())
        incidents = (TIMELINE_INCIDENTS[key],) if key in TIMELINE_INCIDENTS else ()
        if key == TIMELINE_PROMO:
            incidents = ("promo",)
        out.append((day, incidents, (1 + growth_per_week) ** (i / 7)))
    return out


# --- exports as real shops deliver them ------------------------------------------------------------------
# Flattened columns (page URL, referrer and user agent top-level), empty payloads on all but
# purchases and sign-ups, the shop's own event names, a usual rate of empty client ids, a share
# of crawlers, and the incidents such feeds have (README, "Input", "Checks").

EXPORT_COLUMNS = ["client_id", "page_url", "referrer", "timestamp", "event_name", "event_data", "user_agent"]
# the Shopify pixel's names for the funnel steps, and one event the monitor does not know by default
EXPORT_NAMES = {"page_viewed": "page_viewed", "add_to_cart": "product_added_to_cart",
                "checkout_started": "checkout_started", "purchase": "checkout_completed"}
EXPORT_OTHER_EVENT = "account_created"
EXPORT_PAYLOAD_KEYS = ("order_id", "checkout_token", "revenue", "currency", "item_count")

EXPORT_CATALOG: dict[str, Incident] = {i.name: i for i in [
    Incident("client_id_spike", "16% of rows lose client_id (the feed's normal is about 1%)",
             (_e("null_client_id", "field_health", "critical"),)),
    Incident("renamed_client_id", "the client_id column arrives as clientId",
             (_e("required_columns", "schema", "critical"), _e("lost_column", "schema", "critical"))),
    Incident("lost_referrer", "the referrer column is gone", (_e("lost_column", "schema", "warning"),)),
    Incident("repeated_order_ids", "four order ids on two purchases each, three with another revenue",
             (_e("duplicate_order_id", "orders", "warning"),)),
    Incident("zero_revenue", "ten purchases with revenue 0", (_e("invalid_revenue", "orders", "warning"),)),
    Incident("silent_hours", "no events at all from 11:00 to 12:59 UTC", (_e("silence", "volume", "warning"),)),
]}


def export_rows(gen: Generator, day: dt.date, incidents: tuple[str, ...] = (), empty_id_rate: float = 0.01,
                bot_share: float = 0.1) -> list[dict]:
    """One day as a flattened export: dicts keyed by EXPORT_COLUMNS (the contract's names;
    ``write_export`` renames and drops columns for the schema incidents)."""
    rng = gen.rng
    inc = set(incidents)
    out = []
    rows = gen.day_rows(day)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    for _ in range(int(len(rows) * bot_share / 2)):  # crawlers: a page or two each, no cookie kept
        ua = rng.choice(BOT_UAS)
        t = start + dt.timedelta(seconds=rng.uniform(0, 86_000))
        for i in range(rng.randint(1, 3)):
            ts = t + dt.timedelta(seconds=i)
            rows.append([gen._client_id(), ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
                         "page_viewed", json.dumps({"page_url": SITE + rng.choice(PAGES), "user_agent": ua})])
    for client, ts, name, payload in sorted(rows, key=lambda r: r[1]):
        data = json.loads(payload)
        if "silent_hours" in inc and ts[11:13] in ("11", "12"):
            continue
        empty = rng.random() < (0.16 if "client_id_spike" in inc else empty_id_rate)
        kept = {k: v for k, v in data.items() if k in EXPORT_PAYLOAD_KEYS} if name == "purchase" else {}
        out.append({"client_id": "" if empty else client, "page_url": data.get("page_url", ""),
                    "referrer": data.get("referrer", ""), "timestamp": ts, "event_name": EXPORT_NAMES[name],
                    "event_data": json.dumps(kept, separators=(",", ":")) if kept else "",
                    "user_agent": data.get("user_agent", "")})
        if name == "purchase" and rng.random() < 0.03:  # a sign-up after some orders: a payload of its own
            out.append(dict(out[-1], event_name=EXPORT_OTHER_EVENT,
                            event_data=json.dumps({"email_opt_in": rng.random() < 0.5}), page_url=SITE + "/account"))
    purchases = [r for r in out if r["event_name"] == EXPORT_NAMES["purchase"]]
    if "repeated_order_ids" in inc:  # a confirmation page sent twice; three of the repeats with another total
        for n, r in enumerate(purchases[:4]):
            data = json.loads(r["event_data"])
            if n < 3:
                data["revenue"] = round(data["revenue"] + 10, 2)
            copy = dict(r, event_data=json.dumps(data, separators=(",", ":")))
            out.insert(out.index(r) + 1, copy)
    if "zero_revenue" in inc:
        for r in purchases[-10:]:
            data = json.loads(r["event_data"])
            r["event_data"] = json.dumps(dict(data, revenue=0), separators=(",", ":"))
    return out


def write_export(path: Path, rows: list[dict], incidents: tuple[str, ...] = ()) -> Path:
    """The flattened export as CSV: ``renamed_client_id`` names the column ``clientId``,
    ``lost_referrer`` drops the referrer column."""
    columns = [c for c in EXPORT_COLUMNS if not (c == "referrer" and "lost_referrer" in incidents)]
    header = ["clientId" if c == "client_id" and "renamed_client_id" in incidents else c for c in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([r[c] for c in columns])
    return path


def export_settings_toml() -> str:
    """The one config a user of such an export writes: its event names."""
    return (f'[events]\nadd_to_cart = "{EXPORT_NAMES["add_to_cart"]}"\npurchase = "{EXPORT_NAMES["purchase"]}"\n'
            f'others = ["{EXPORT_OTHER_EVENT}"]\n')
