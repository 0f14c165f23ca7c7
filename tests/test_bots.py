"""Bots: recognised by maintained lists and by behaviour, kept out of the human metrics,
and alerted on as bot_share (real embedded PostgreSQL, real GX run)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from monitor import database, devices, loader, pipeline, settings
from monitor.backends import postgres as backend
from tests.conftest import INCIDENT_DAY, load_day

# measured on the two data sets below (README, "Bots"): 100% of the crawler
# instances, 0 of the browsers; the thresholds leave room for list updates only
MIN_CRAWLER_RECALL = 0.99
MAX_FALSE_BOT_RATE = 0.001


def _browsers() -> list[str]:
    import fake_useragent

    data = Path(fake_useragent.__file__).parent / "data" / "browsers.jsonl"
    return [json.loads(line)["useragent"] for line in data.read_text().splitlines() if line.strip()]


def _crawlers() -> list[str]:
    import crawleruseragents

    return [i for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for i in entry.get("instances", [])]


def test_classifier_recall_on_real_crawlers_and_false_bots_on_real_browsers():
    browsers, crawlers = _browsers(), _crawlers()
    assert len(browsers) > 5000 and len(crawlers) > 2000
    recall = sum(devices.device_type(u) == "bot" for u in crawlers) / len(crawlers)
    false_bots = sum(devices.device_type(u) == "bot" for u in browsers) / len(browsers)
    assert recall >= MIN_CRAWLER_RECALL and false_bots <= MAX_FALSE_BOT_RATE, (recall, false_bots)
    # and the devices of real browsers stay right
    sample = {json.loads(line)["useragent"]: json.loads(line)["type"] for line in
              (Path(__import__("fake_useragent").__file__).parent / "data" / "browsers.jsonl").read_text().splitlines()}
    right = sum(devices.device_type(u) == t for u, t in sample.items() if t in ("mobile", "tablet", "desktop"))
    assert right / len(sample) > 0.99


def test_bot_names_are_short():
    assert devices.classify("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)") == ("bot", "AhrefsBot")
    assert devices.classify("python-requests/2.31.0") == ("bot", "python-requests")


def _metrics(day):
    with database.engine().begin() as conn:
        return backend.compute_day_metrics(conn, day, settings.load())


def test_crawler_burst_raises_bot_share_and_leaves_human_metrics_quiet(with_history, tmp_path):
    load_day(tmp_path, INCIDENT_DAY, ("bot_burst",))
    summary = pipeline.run_day(INCIDENT_DAY, settings.load())
    alerts = {a.check: a for a in summary.alerts}
    assert "bot_share" in alerts and alerts["bot_share"].gate_severity == "warning"
    assert "AhrefsBot" in alerts["bot_share"].message and "top agents" in alerts["bot_share"].message
    assert not [a.check for a in summary.alerts if a.category in ("session", "funnel") and a.check != "bot_share"]
    assert not [a.check for a in summary.alerts if a.check in ("sessions_shift", "page_view_drop")]
    m = _metrics(INCIDENT_DAY)
    assert m[("bot_sessions", "")] > 100 and m[("bot_share", "")] > 0.2
    assert ("device_share", "bot") not in m  # the device mix describes people


def test_one_fast_scraper_is_caught_by_the_behaviour_rule(with_history, tmp_path):
    load_day(tmp_path, INCIDENT_DAY, ("fast_scraper",))
    summary = pipeline.run_day(INCIDENT_DAY, settings.load())
    alert = next(a for a in summary.alerts if a.check == "bot_share")
    assert "fast client" in alert.message and "900 hits" in alert.message
    assert summary.status == "warning", [a.message for a in summary.alerts]  # page depth stays human


def test_a_bot_majority_is_critical(with_history, tmp_path):
    cfg = tmp_path / "bots.toml"
    cfg.write_text("[thresholds]\nbot_share_critical_pct = 20\n")
    import os

    os.environ["MONITOR_CONFIG"] = str(cfg)
    try:
        s = settings.load()
        pipeline.init(s)
        load_day(tmp_path, INCIDENT_DAY, ("bot_burst",))
        alert = next(a for a in pipeline.run_day(INCIDENT_DAY, s).alerts if a.check == "bot_share")
        assert alert.gate_severity == "critical"
    finally:
        os.environ.pop("MONITOR_CONFIG")
        pipeline.init(settings.load())


def test_init_reclassifies_known_agents(db, tmp_path):
    ahrefs = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
    with database.engine().begin() as conn:  # as an older monitor version stored it
        conn.execute(sa.text("INSERT INTO monitor.user_agents (user_agent, device_type) VALUES (:u, 'other')"),
                     {"u": ahrefs})
    pipeline.init(settings.load())
    with database.engine().connect() as conn:
        row = conn.execute(sa.text("SELECT device_type, bot_name FROM monitor.user_agents WHERE user_agent = :u"),
                           {"u": ahrefs}).one()
    assert tuple(row) == ("bot", "AhrefsBot")


def test_bot_sessions_are_out_of_human_session_metrics(db, tmp_path):
    day = INCIDENT_DAY
    rows = [{"client_id": "person", "timestamp": f"{day}T10:0{i}:00Z", "event_name": "page_viewed",
             "event_data": {"page_url": "https://s.example/", "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"}} for i in range(2)]
    rows += [{"client_id": f"bot{i}", "timestamp": f"{day}T11:00:00Z", "event_name": "page_viewed",
              "event_data": {"page_url": "https://s.example/", "user_agent": "python-requests/2.31.0"}} for i in range(3)]
    path = tmp_path / "bots.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    loader.load_file(database.engine(), settings.load(), path, day)
    m = _metrics(day)
    assert m[("rows", "")] == 5 and m[("events", "page_viewed")] == 5  # raw volume counts every row
    assert m[("sessions", "")] == 1 and m[("page_depth", "")] == 2
    assert m[("bot_sessions", "")] == 3 and m[("bot_share", "")] == 0.75 and m[("bot_hit_share", "")] == 0.6
    assert m[("bot_hits", "python-requests")] == 3 and m[("device_share", "desktop")] == 1
