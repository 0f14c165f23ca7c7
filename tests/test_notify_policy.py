"""Who gets paged, and when: demo and backfill stay quiet, an all-clear follows a fixed day.

Real peers on loopback (webhook HTTP server, aiosmtpd), real embedded PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
import email
import json

import pytest
import sqlalchemy as sa

from monitor import commands, database, loader, pipeline, settings
from tests.conftest import load_day
from tests.peers import Mailbox, Webhook
from tests.test_cli import runner

START = dt.date(2026, 9, 1)


@pytest.fixture
def peers(monkeypatch, tmp_path):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text("[alerting]\nretries = 0\ntimeout_seconds = 2.0\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    with Webhook() as hook, Mailbox() as mail:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(mail.port))
        monkeypatch.setenv("ALERT_EMAIL_FROM", "monitor@shop.example")
        monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@shop.example")
        yield hook, mail


def _rows(sql: str):
    with database.engine().connect() as conn:
        return conn.execute(sa.text(sql)).all()


def test_demo_never_notifies(peers, state_dir, gx_root, tmp_path, monkeypatch, capsys):
    hook, mail = peers
    monkeypatch.setenv("MONITOR_HOME", str(state_dir))  # the tests' embedded server (the demo replaces its database)
    (tmp_path / "gx").mkdir()  # the demo replaces the project's Data Docs too: a project of its own
    shutil.copy(gx_root / "gx" / "great_expectations.yml", tmp_path / "gx")
    monkeypatch.setenv("MONITOR_GX_ROOT", str(tmp_path))
    try:
        commands.demo(days=2, seed=3)
    finally:
        database.use(None)
    out = capsys.readouterr().out
    assert "notifications are off in the demo" in out and out.count("CRITICAL") == 2
    assert hook.attempts == 0 and mail.messages == []


def test_backfill_is_quiet_unless_asked(db, tmp_path, peers):
    hook, mail = peers
    days = [START + dt.timedelta(days=i) for i in range(3)]
    for day in days:
        load_day(tmp_path, day, ("zero_purchase",), seed=day.day, sessions=400)
    assert commands.run_days(days, False, "critical", False, send=False) == 1
    assert hook.attempts == 0 and mail.messages == []
    assert _rows("SELECT count(*) FROM monitor.runs WHERE status = 'critical'")[0][0] == 3  # stored all the same
    assert commands.run_days(days, False, "critical", False, send=True) == 1
    assert len(hook.posts) == 3 and len(mail.messages) == 3


def test_a_fixed_day_sends_one_all_clear_per_channel(db, tmp_path, peers):
    hook, mail = peers
    day = START
    gen_file = tmp_path / "events.csv"
    from monitor import generator

    rows = generator.Generator(seed=5, sessions_per_day=500).day_rows(day, ("zero_purchase",))
    generator.write_csv(gen_file, rows)
    loader.load_file(database.engine(), settings.load(), gen_file, day)
    assert pipeline.run_day(day, settings.load()).status == "critical"
    assert len(hook.posts) == 1 and len(mail.messages) == 1
    # the fix: the export is re-sent with purchases, replacing the broken rows
    generator.write_csv(gen_file, generator.Generator(seed=5, sessions_per_day=500).day_rows(day))
    loader.load_file(database.engine(), settings.load(), gen_file, day, replace=True)
    cleared = pipeline.run_day(day, settings.load())
    assert cleared.status == "pass"
    assert len(hook.posts) == 2 and len(mail.messages) == 2
    resolved = hook.posts[1]
    assert resolved["text"].startswith(f"[RESOLVED] event data {day}")
    body = resolved["blocks"][1]["text"]["text"]
    assert "zero_purchase" in body and "checkout_without_purchase" in body and cleared.run_id in body
    msg = email.message_from_bytes(mail.messages[1].content)
    assert msg["Subject"].startswith("[RESOLVED]") and "zero_purchase" in msg.get_payload(decode=True).decode()
    pipeline.run_day(day, settings.load())  # a second passing rerun: no second all-clear
    assert len(hook.posts) == 2 and len(mail.messages) == 2
    assert sorted(r[0] for r in _rows("SELECT status FROM monitor.notifications")) == [
        "resolved", "resolved", "sent", "sent"]


def test_a_day_that_breaks_again_after_its_all_clear_alerts_again(db, tmp_path, peers):
    hook, _ = peers
    day = START
    from monitor import generator

    broken, fixed = tmp_path / "broken" / "events.csv", tmp_path / "fixed" / "events.csv"
    generator.write_csv(broken, generator.Generator(seed=5, sessions_per_day=300).day_rows(day, ("zero_purchase",)))
    generator.write_csv(fixed, generator.Generator(seed=5, sessions_per_day=300).day_rows(day))
    for path in (broken, fixed, broken):
        loader.load_file(database.engine(), settings.load(), path, day, force=True, replace=True)
        pipeline.run_day(day, settings.load())
    kinds = [("RESOLVED" in p["text"]) for p in hook.posts]
    assert kinds == [False, True, False]


def test_no_notify_stores_but_sends_nothing(db, tmp_path, peers):
    hook, mail = peers
    load_day(tmp_path, START, ("zero_purchase",), sessions=300)
    proc = runner("run", "--date", str(START), "--no-notify", "--json", url=db)
    assert proc.returncode == 1 and json.loads(proc.stdout)["status"] == "critical"
    assert hook.attempts == 0 and mail.messages == []


def test_run_without_a_date_validates_yesterday(db, tmp_path):
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    load_day(tmp_path, yesterday, sessions=300)
    proc = runner("run", "--json", url=db)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["date"] == str(yesterday)
    text = runner("run", "--no-notify", url=db)
    assert text.stdout.startswith(str(yesterday))
