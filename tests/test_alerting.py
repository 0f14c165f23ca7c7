"""Alerts to real peers on loopback: Slack webhook, SMTP; failures, reruns, secrets."""

from __future__ import annotations

import email
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import database, gx_project, pipeline, settings
from tests.conftest import INCIDENT_DAY, load_day
from tests.peers import Mailbox, Webhook, closed_port_url, free_port, mail_env

SMTP_PASSWORD = "smtp-pa55-word"
DB_PASSWORD = "db-pa55-word"


@pytest.fixture
def fast_alerting(tmp_path, monkeypatch):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text("[alerting]\nretries = 2\nbackoff_seconds = 0.05\ntimeout_seconds = 0.5\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    return settings.load()


@pytest.fixture
def zero_purchase_day(with_history, tmp_path):
    load_day(tmp_path, INCIDENT_DAY, ("zero_purchase",))
    return INCIDENT_DAY


def _defined_checks() -> int:
    from expectations import SUITES

    return sum(len(build(settings.load())) for build in SUITES.values())


def _rows(sql: str):
    with database.engine().connect() as conn:
        return conn.execute(sa.text(sql)).all()



def test_zero_purchase_day_notifies_once_with_numbers(zero_purchase_day, fast_alerting, monkeypatch):
    with Webhook() as hook, Mailbox() as mail:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        mail_env(monkeypatch, mail.port)
        summary = pipeline.run_day(zero_purchase_day, fast_alerting)
        assert summary.status == "critical"
        assert len(hook.posts) == 1 and len(mail.messages) == 1

        post = hook.posts[0]
        text = str(post["blocks"])
        assert post["blocks"][0]["type"] == "header" and str(zero_purchase_day) in post["blocks"][0]["text"]["text"]
        zero = [b for b in post["blocks"] if "*zero_purchase*" in b.get("text", {}).get("text", "")]
        assert len(zero) == 1
        line = zero[0]["text"]["text"]
        assert "observed: `0`" in line and "expected: `>= 1`" in line and "baseline: `" in line
        assert "7-day avg" in line and "CRITICAL" in text.upper() and "Data Docs" in text

        msg = email.message_from_bytes(mail.messages[0].content)
        assert "CRITICAL" in msg["Subject"] and str(zero_purchase_day) in msg["Subject"]
        parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
        assert "zero_purchase" in parts["text/plain"] and "zero_purchase" in parts["text/html"]
        assert sorted(mail.messages[0].rcpt_tos) == ["data-team@shop.example", "oncall@shop.example"]

        # every check of the run is stored
        stored = _rows(f"SELECT count(*) FROM monitor.monitoring_results WHERE run_id = '{summary.run_id}'")[0][0]
        assert stored == len(summary.results) == _defined_checks()

        # a rerun with the same failures sends nothing new ...
        pipeline.run_day(zero_purchase_day, fast_alerting)
        assert len(hook.posts) == 1 and len(mail.messages) == 1
        # ... unless asked to
        pipeline.run_day(zero_purchase_day, fast_alerting, renotify=True)
        assert len(hook.posts) == 2 and len(mail.messages) == 2
    sent = _rows("SELECT channel, status FROM monitor.notifications ORDER BY sent_at")
    assert sent == [("slack", "sent"), ("email", "sent"), ("slack", "sent"), ("email", "sent")]


@pytest.mark.parametrize("peer", ["http-500", "hangs", "closed-port"])
def test_dead_webhook_keeps_verdict_and_results(peer, zero_purchase_day, fast_alerting, monkeypatch):
    hook = Webhook(status=500) if peer == "http-500" else Webhook(delay=2.0) if peer == "hangs" else None
    if hook:
        hook.__enter__()
    try:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url if hook else closed_port_url())
        summary = pipeline.run_day(zero_purchase_day, fast_alerting)
    finally:
        if hook:
            hook.__exit__(None, None, None)
    assert summary.status == "critical"
    if hook:
        assert hook.attempts == 3  # first try + 2 retries
    stored = _rows(f"SELECT count(*) FROM monitor.monitoring_results WHERE run_id = '{summary.run_id}'")[0][0]
    assert stored == len(summary.results)
    status, attempts, error = _rows("SELECT status, attempts, error FROM monitor.notifications")[0]
    assert (status, attempts) == ("failed", 3)
    expected = {"http-500": "HTTP 500", "hangs": "unreachable", "closed-port": "unreachable"}[peer]
    assert expected in error
    # Data Docs still built after the failed notification (later actions ran)
    assert gx_project.docs_index().exists()


def test_bad_smtp_address_is_recorded_not_raised(zero_purchase_day, fast_alerting, monkeypatch):
    mail_env(monkeypatch, free_port())
    summary = pipeline.run_day(zero_purchase_day, fast_alerting)
    assert summary.status == "critical"
    assert _rows("SELECT channel, status, attempts FROM monitor.notifications") == [("email", "failed", 3)]


def test_secrets_never_written(zero_purchase_day, fast_alerting, monkeypatch, caplog):
    from sqlalchemy.engine import make_url

    caplog.set_level(logging.DEBUG)
    # the embedded server trusts local connections, so a password in the URL is carried but unused
    database.use(make_url(database.database_url()).set(password=DB_PASSWORD).render_as_string(hide_password=False))
    with Webhook(status=500) as hook, Mailbox() as mail:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        mail_env(monkeypatch, mail.port)
        monkeypatch.setenv("SMTP_USER", "monitor")
        monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
        pipeline.run_day(zero_purchase_day, fast_alerting)
    secrets = ["s3cretToken", SMTP_PASSWORD, DB_PASSWORD]
    haystacks = {"log": caplog.text}
    for path in (gx_project.project_root() / "gx").rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_text(errors="ignore")
    haystacks["results"] = str(_rows("SELECT * FROM monitor.monitoring_results"))
    haystacks["notifications"] = str(_rows("SELECT * FROM monitor.notifications"))
    haystacks["mail"] = "".join(m.content.decode(errors="ignore") for m in mail.messages)
    leaks = [(where, s) for where, text in haystacks.items() for s in secrets if s in text]
    assert leaks == []
    assert len(haystacks) > 5  # gx files, docs pages and validations were searched


def test_digest_mode_defers_warnings_and_sends_them_once(with_history, tmp_path, monkeypatch):
    import datetime as dt

    from monitor import commands

    cfg = tmp_path / "digest.toml"
    cfg.write_text('[alerting]\nwarnings = "digest"\nretries = 0\ntimeout_seconds = 1.0\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    s = settings.load()
    warn_day, crit_day = INCIDENT_DAY, INCIDENT_DAY + dt.timedelta(days=1)
    load_day(tmp_path, warn_day, ("unknown_event_name",))
    load_day(tmp_path, crit_day, ("null_event_name",), seed=5)
    with Webhook() as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        assert pipeline.run_day(warn_day, s).status == "warning"
        assert hook.posts == []  # deferred
        assert pipeline.run_day(crit_day, s).status == "critical"
        assert len(hook.posts) == 1 and str(crit_day) in hook.posts[0]["blocks"][0]["text"]["text"]
        commands.digest()
        assert len(hook.posts) == 2
        digest = str(hook.posts[1]["blocks"])
        assert "unknown_event_name" in digest and str(warn_day) in digest and "null_event_name" not in digest
        commands.digest()
        assert len(hook.posts) == 2  # nothing left to send
    statuses = sorted(r[0] for r in _rows("SELECT status FROM monitor.notifications"))
    assert statuses == ["digest sent", "digested", "sent"]


def test_slack_links_point_at_the_days_data_docs_pages(zero_purchase_day, fast_alerting, monkeypatch):
    from urllib.parse import unquote, urlparse

    with Webhook() as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        pipeline.run_day(zero_purchase_day, fast_alerting)
    context = [b for b in hook.posts[0]["blocks"] if b["type"] == "context"][0]["elements"][0]["text"]
    urls = [u.split("|")[0] for u in context.split("<")[1:]]
    assert len(urls) == 2
    for url in urls:
        page = Path(unquote(urlparse(url).path))
        assert page.exists() and str(zero_purchase_day) in str(page), page


def test_demo_days_each_notify_once(db, tmp_path, fast_alerting, monkeypatch):
    """The demo's shape: every day has checkouts and no purchase at all."""
    import datetime as dt

    from monitor import generator

    start = dt.date(2026, 8, 1)
    days = [start + dt.timedelta(days=i) for i in range(3)]
    for day in days:
        load_day(tmp_path, day, ("zero_purchase",), seed=day.day)
    with Webhook() as hook, Mailbox() as mail:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        mail_env(monkeypatch, mail.port)
        runs = [pipeline.run_day(day, fast_alerting) for day in days]
        for day in days:  # a rerun of every day sends nothing new
            pipeline.run_day(day, fast_alerting)
    assert len(hook.posts) == len(days) and len(mail.messages) == len(days)
    for day, post, run in zip(days, hook.posts, runs):
        text = str(post["blocks"])
        assert str(day) in post["blocks"][0]["text"]["text"]
        assert "*zero_purchase*" in text and "observed: `0`" in text
        stored = _rows(f"SELECT count(*) FROM monitor.monitoring_results WHERE run_id = '{run.run_id}'")[0][0]
        assert stored == len(run.results) == _defined_checks()
    # from the second day on, the message carries the trailing average (0: no day had a purchase)
    assert "7-day avg 0" in str(hook.posts[1]["blocks"]) and "baseline: `0`" in str(hook.posts[1]["blocks"])
    assert "no earlier days" in str(hook.posts[0]["blocks"])
    assert generator.CATALOG["zero_purchase"].expect[0].check == "zero_purchase"


@pytest.mark.parametrize("status, attempts", [(400, 1), (403, 1), (404, 1), (429, 3), (503, 3)],
                         ids=["bad-request", "forbidden", "gone", "rate-limited", "unavailable"])
def test_only_transient_webhook_failures_are_retried(status, attempts, zero_purchase_day, fast_alerting, monkeypatch):
    with Webhook(status=status) as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        pipeline.run_day(zero_purchase_day, fast_alerting)
    assert hook.attempts == attempts
    assert _rows("SELECT status, attempts FROM monitor.notifications") == [("failed", attempts)]


def test_refused_smtp_login_is_not_retried(zero_purchase_day, fast_alerting, monkeypatch):
    with Mailbox() as mail:  # offers no AUTH: a login can only fail, the same way every time
        mail_env(monkeypatch, mail.port)
        monkeypatch.setenv("SMTP_USER", "monitor")
        monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
        pipeline.run_day(zero_purchase_day, fast_alerting)
    assert _rows("SELECT channel, status, attempts FROM monitor.notifications") == [("email", "failed", 1)]


def test_digest_does_not_send_a_rerun_day_twice(with_history, tmp_path, monkeypatch):
    from monitor import commands

    cfg = tmp_path / "digest.toml"
    cfg.write_text('[alerting]\nwarnings = "digest"\nretries = 0\ntimeout_seconds = 1.0\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    s = settings.load()
    load_day(tmp_path, INCIDENT_DAY, ("unknown_event_name",))
    with Webhook() as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        pipeline.run_day(INCIDENT_DAY, s)
        commands.digest()
        pipeline.run_day(INCIDENT_DAY, s)  # the same warnings again, after the digest went out
        commands.digest()
    assert len(hook.posts) == 1
