"""The metrics pass on hand-made rows: sessions, funnel, UTM and device derivation."""

from __future__ import annotations

import datetime as dt
import json

from monitor import database, loader, settings
from monitor.verdict import pipeline
from monitor.backends import postgres as backend

DAY = dt.date(2026, 11, 5)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


def _row(client, hhmm, name, **data):
    return json.dumps({"client_id": client, "timestamp": f"2026-11-05T{hhmm}:00Z", "event_name": name,
                       "event_data": data})


def test_sessions_funnel_and_sources(db, tmp_path):
    rows = [
        # client a: paid search landing, cart, checkout, purchase; then a new session 40 minutes later
        _row("a", "10:00", "page_viewed", page_url="https://s.example/?utm_source=google&utm_medium=cpc&utm_campaign=Brand",
             referrer="https://www.google.com/", user_agent=IPHONE),
        _row("a", "10:05", "add_to_cart", user_agent=IPHONE),
        _row("a", "10:06", "checkout_started", user_agent=IPHONE),
        _row("a", "10:08", "purchase", revenue=59.5, user_agent=IPHONE),
        _row("a", "10:48", "page_viewed", page_url="https://s.example/p", referrer="https://s.example/", user_agent=IPHONE),
        # client b: direct, explicit device and utm keys win
        _row("b", "11:00", "page_viewed", page_url="https://s.example/?utm_source=google", user_agent=DESKTOP,
             utm_source="newsletter", utm_medium="email", device_type="Tablet"),
        _row("b", "11:10", "page_viewed", page_url="https://s.example/p", user_agent=DESKTOP),
        _row("b", "11:10", "page_viewed", page_url="https://s.example/p", user_agent=DESKTOP),  # duplicate
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(rows) + "\n")
    loader.load_file(database.engine(), settings.load(), path, DAY)
    with database.engine().begin() as conn:
        m = backend.compute_day_metrics(conn, DAY, settings.load())
    assert m[("rows", "")] == 8 and m[("duplicate_rows", "")] == 1
    assert m[("sessions", "")] == 3 and m[("distinct_clients", "")] == 2
    assert m[("sessions_with_cart", "")] == 1 and m[("sessions_with_purchase", "")] == 1
    assert m[("checkout_to_purchase_rate", "")] == 1.0 and m[("revenue", "")] == 59.5
    assert m[("channel_share", "Paid Search")] == m[("channel_share", "Internal")] == m[("channel_share", "Email")]
    assert m[("utm_campaign_share", "brand")] > 0 and m[("utm_source_share", "newsletter")] > 0
    assert m[("device_share", "mobile")] * 3 == 2 and m[("device_share", "tablet")] * 3 == 1
    assert round(m[("page_depth", "")] * 3) == 5  # (1 + 1 + 3) / 3
    assert m[("avg_session_duration_s", "")] == (480 + 0 + 600) / 3
    assert m[("events", "purchase")] == 1 and m[("events", "checkout_started")] == 1


def test_recomputing_a_day_replaces_it(db, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(_row("a", "10:00", "page_viewed", page_url="https://s.example/") + "\n")
    loader.load_file(database.engine(), settings.load(), path, DAY)
    for _ in range(2):
        with database.engine().begin() as conn:
            backend.compute_day_metrics(conn, DAY, settings.load())
    with database.engine().connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM monitor.daily_metrics WHERE metric = 'rows'").scalar()
    assert n == 1


import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402


@pytest.mark.parametrize("text, expected", [
    ("2026-11-03T10:00:00Z", "2026-11-03 10:00:00+00"),
    ("2026-11-03T10:00:00.123Z", "2026-11-03 10:00:00.123+00"),
    ("2026-11-03 12:00:00+02:00", "2026-11-03 10:00:00+00"),
    ("2026-11-03T10:00", "2026-11-03 10:00:00+00"),
    ("now", None), ("today", None), ("epoch", None), ("infinity", None),
    ("27/11/2026 10:15", None), ("2026-13-45T99:00:00Z", None), ("2026-11-03Tab:cd", None), ("", None),
    ("abcd-ef-ghT10:00", None), ("2026-11-03T10:00 tomorrow", None),
], ids=lambda v: str(v))
def test_parse_ts_accepts_iso_8601_only(db, text, expected):
    with database.engine().connect() as conn:
        got = conn.execute(sa.text("SELECT events.parse_ts(:t)::text"), {"t": text}).scalar()
    assert got == expected


def test_explicit_session_ids_each_make_a_session(db, tmp_path):
    """GA4-style feeds send session_id: a new id is a new session even 5 minutes later,
    and one id stays one session across a long gap."""
    rows = [
        _row("a", "10:00", "page_viewed", session_id="s1", page_url="https://s.example/", referrer="https://www.google.com/"),
        _row("a", "10:05", "purchase", session_id="s2", revenue=10, page_url="https://s.example/thanks"),
        _row("b", "09:00", "page_viewed", session_id="s9", page_url="https://s.example/?utm_source=newsletter&utm_medium=email"),
        _row("b", "12:00", "page_viewed", session_id="s9", page_url="https://s.example/p", referrer="https://s.example/"),
        _row("c", "09:00", "page_viewed", session_id="s1", page_url="https://s.example/"),  # same id, other client
    ]
    path = tmp_path / "sid.jsonl"
    path.write_text("\n".join(rows) + "\n")
    loader.load_file(database.engine(), settings.load(), path, DAY)
    with database.engine().begin() as conn:
        m = backend.compute_day_metrics(conn, DAY, settings.load())
    assert m[("sessions", "")] == 4 and m[("sessions_with_purchase", "")] == 1
    assert m[("session_conversion_rate", "")] == 0.25
    assert m[("channel_share", "Email")] == 0.25 and m[("channel_share", "Organic Search")] == 0.25
    assert m[("avg_session_duration_s", "")] == (0 + 0 + 3 * 3600 + 0) / 4


BOT = "python-requests/2.31.0"
TABLET = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"


def _agents() -> dict[str, tuple[str, str | None]]:
    with database.engine().connect() as conn:
        return {ua: (t, b) for ua, t, b in conn.exec_driver_sql(
            "SELECT user_agent, device_type, bot_name FROM monitor.user_agents")}


def _classified() -> int:
    with database.engine().connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM monitor.classified_loads").scalar()


def test_a_days_agents_are_classified_by_its_first_run_once_per_load(db, tmp_path):
    """`load` only stores rows; the day's first run classifies the agents of its loads
    (payload keys and a flattened export's column alike), and later runs read only new loads."""
    payload = tmp_path / "p.jsonl"
    payload.write_text("\n".join([_row("a", "10:00", "page_viewed", user_agent=IPHONE),
                                  _row("r", "10:00", "page_viewed", user_agent=BOT)]) + "\n")
    flat = tmp_path / "flat.csv"
    flat.write_text("client_id,timestamp,event_name,event_data,user_agent\n"
                    f'd,2026-11-05T11:00:00Z,page_viewed,,"{DESKTOP}"\n')
    s = settings.load()
    for path in (payload, flat):
        loader.load_file(database.engine(), s, path, DAY)
    assert _agents() == {} and _classified() == 0
    with database.engine().begin() as conn:
        m = backend.compute_day_metrics(conn, DAY, s)
    assert _agents() == {IPHONE: ("mobile", None), BOT: ("bot", "python-requests"), DESKTOP: ("desktop", None)}
    assert m[("bot_sessions", "")] == 1 and m[("device_share", "mobile")] == m[("device_share", "desktop")] == 0.5
    assert _classified() == 2

    # a later run reads only the day's new load: an agent forgotten since stays forgotten
    with database.engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM monitor.user_agents WHERE user_agent = %s", (IPHONE,))
    later = tmp_path / "later.jsonl"
    later.write_text(_row("t", "12:00", "page_viewed", user_agent=TABLET) + "\n")
    loader.load_file(database.engine(), s, later, DAY)
    with database.engine().begin() as conn:
        backend.compute_day_metrics(conn, DAY, s)
    assert set(_agents()) == {BOT, DESKTOP, TABLET} and _agents()[TABLET] == ("tablet", None)
    assert _classified() == 3


def test_an_upgrade_counts_the_loads_before_it_as_classified(db, tmp_path):
    """Schema 6 classified agents at load: `init` marks those loads read, so no run scans them again."""
    path = tmp_path / "p.jsonl"
    path.write_text(_row("a", "10:00", "page_viewed", user_agent=IPHONE) + "\n")
    loader.load_file(database.engine(), settings.load(), path, DAY)
    with database.engine().begin() as conn:
        conn.exec_driver_sql("DROP TABLE monitor.classified_loads")
    pipeline.init(settings.load())
    assert _classified() == 1
