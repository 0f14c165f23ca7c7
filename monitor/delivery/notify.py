"""Slack (incoming webhook, Block Kit) and email (SMTP) alerts.

Delivery is retried with backoff; every attempt's outcome is recorded in
monitor.notifications. Nothing here raises: a dead webhook must never change
the data's verdict or lose results.
"""

from __future__ import annotations

import contextvars
import hashlib
import html
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa

from monitor.delivery import stories
from monitor.settings import Alerting, Secrets
from monitor.verdict.summary import DaySummary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    renotify: bool = False
    send: bool = True  # False: nothing goes out (demo, backfill without --notify, run --no-notify)
    docs_links: dict | None = None  # suite -> URL of this run's Data Docs page


run_options: contextvars.ContextVar[RunOptions] = contextvars.ContextVar("run_options", default=RunOptions())


class DeliveryError(Exception):
    """One failed attempt. ``transient`` failures (timeout, refused connection, 5xx,
    429, SMTP 4xx) are worth retrying; the others (4xx, refused login or recipient)
    would fail the same way again."""

    def __init__(self, message: str, transient: bool = True):
        super().__init__(message)
        self.transient = transient


def fingerprint(summary: DaySummary) -> str:
    """Identity of the failures: a rerun with the same failures has the same one."""
    keys = sorted((a.check, a.status, json.dumps(a.observed, default=str)) for a in summary.alerts)
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]




def already_sent(conn: sa.Connection, day: str, channel: str, fp: str) -> bool:
    """These failures of this day went out on this channel already (since its last all-clear),
    or wait in (or went with) a digest."""
    return bool(conn.execute(sa.text(
        """SELECT 1 FROM monitor.notifications n WHERE data_date = :d AND channel = :c AND fingerprint = :f
           AND status IN ('sent', 'deferred', 'digested')
           AND NOT EXISTS (SELECT 1 FROM monitor.notifications r  -- a resolved incident that comes back is news
                           WHERE r.data_date = n.data_date AND r.channel = n.channel AND r.status = 'resolved'
                             AND r.sent_at >= n.sent_at)
           LIMIT 1"""), {"d": day, "c": channel, "f": fp}).scalar())


def record(conn: sa.Connection, summary: DaySummary, channel: str, status: str, fp: str, attempts: int,
           error: str | None) -> None:
    conn.execute(sa.text(
        """INSERT INTO monitor.notifications (run_id, data_date, channel, status, fingerprint, attempts, error,
                                              verdict)
           VALUES (:r, :d, :c, :s, :f, :a, :e, :v)"""),
        {"r": summary.run_id, "d": summary.date, "c": channel, "s": status, "f": fp, "a": attempts, "e": error,
         "v": summary.status})


def open_incident(conn: sa.Connection, day: str, channel: str) -> str | None:
    """The run whose critical alert went out on this channel for this day and has not
    been followed by a "resolved" message yet; None when there is none."""
    return conn.execute(sa.text(
        """SELECT n.run_id FROM monitor.notifications n
           WHERE n.data_date = :d AND n.channel = :c AND n.status = 'sent' AND n.verdict = 'critical'
             AND NOT EXISTS (SELECT 1 FROM monitor.notifications r
                             WHERE r.data_date = n.data_date AND r.channel = n.channel AND r.status = 'resolved'
                               AND r.sent_at >= n.sent_at)
           ORDER BY n.sent_at DESC LIMIT 1"""), {"d": day, "c": channel}).scalar()


def resolved_text(summary: DaySummary, was_failing: list, incident_run: str) -> tuple[str, str]:
    """Subject line and body of the all-clear."""
    names = ", ".join(sorted({a.check for a in was_failing})) or "critical checks"
    subject = f"[RESOLVED] event data {summary.date}: now {summary.status}"
    body = (f"Event data {summary.date} is no longer critical: {names} (alerted by run {incident_run}) "
            f"cleared in run {summary.run_id}, verdict {summary.status}.")
    return subject, body


def send_resolved(channel: str, summary: DaySummary, was_failing: list, incident_run: str, secrets: Secrets,
                  alerting: Alerting) -> None:
    subject, body = resolved_text(summary, was_failing, incident_run)
    if channel == "slack":
        post_json(secrets.slack_webhook_url.get_secret_value(),
                  {"text": subject, "blocks": [
                      {"type": "header", "text": {"type": "plain_text", "text": subject}},
                      {"type": "section", "text": {"type": "mrkdwn", "text": ":white_check_mark: " + body}}]},
                  alerting.timeout_seconds)
    else:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, secrets.email_from, ", ".join(secrets.email_to)
        msg.set_content(body)
        send_email(secrets, alerting, msg)


def deliver(send, alerting: Alerting) -> tuple[bool, int, str | None]:
    """Call ``send`` until it succeeds, fails for good, or retries run out.
    Returns (ok, attempts, last error). Only transient failures are retried."""
    for attempt in range(1, alerting.retries + 2):
        try:
            send()
            return True, attempt, None
        except Exception as exc:  # nothing here may raise: a dead peer never changes the verdict
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("notification attempt %d failed: %s", attempt, error)
            if not (isinstance(exc, DeliveryError) and exc.transient) or attempt > alerting.retries:
                return False, attempt, error
            time.sleep(alerting.backoff_seconds * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


# --- Slack -----------------------------------------------------------------------------------

def slack_blocks(summary: DaySummary, alerts: list, docs_links: dict) -> dict:
    icon = {"critical": ":red_circle:", "warning": ":large_yellow_circle:"}.get(summary.status, ":white_check_mark:")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Event data {summary.date}: {summary.status.upper()}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"{icon} *{len(alerts)} failed check(s)* on {summary.date} "
            f"(run `{summary.run_id}`, {len(summary.results)} checks)")}},
    ]
    for root, explained in stories.group(alerts)[:45]:
        text = (f"*{root.check}* ({root.gate_severity}, {root.category})\n{root.message}\n"
                f"observed: `{root.observed}` expected: `{root.expected}`"
                + (f" baseline: `{root.baseline:.4g}`" if root.baseline is not None else ""))
        text += "".join(f"\n`{_place(x)}` {str(x['value'])[:120]}"
                        for x in (root.details or {}).get("samples", [])[:3])
        if explained:
            text += "\n" + "\n".join(f"> _same story:_ *{a.check}* ({a.gate_severity}): {a.message}" for a in explained)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    if docs_links:
        links = " | ".join(f"<{url}|{suite}>" for suite, url in docs_links.items())
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Data Docs for {summary.date}: {links}"}]})
    text = f"Event data {summary.date}: {summary.status} ({len(alerts)} failed checks)"
    return {"text": text, "blocks": blocks}


def post_json(url: str, payload: dict, timeout: float) -> None:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered HTTP {exc.code}", transient=exc.code >= 500 or exc.code == 429) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"webhook unreachable: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from None


# --- email -----------------------------------------------------------------------------------

def email_message(summary: DaySummary, alerts: list, docs_links: dict, sender: str,
                  recipients: tuple[str, ...]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[{summary.status.upper()}] event data {summary.date}: {len(alerts)} failed check(s)"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    lines = [f"Event data {summary.date}: {summary.status.upper()} (run {summary.run_id})", ""]
    groups = stories.group(alerts)
    for root, explained in groups:
        lines += [f"- {root.check} ({root.gate_severity}, {root.category}): {root.message}",
                  f"  observed: {root.observed}  expected: {root.expected}"]
        lines += [f"  row {_place(x, full=True)}: {str(x['value'])[:200]}"
                  for x in (root.details or {}).get("samples", [])[:3]]
        lines += [f"    same story: {a.check} ({a.gate_severity}, {a.category}): {a.message}" for a in explained]
    if docs_links:
        lines += [""] + [f"Data Docs ({suite}): {url}" for suite, url in docs_links.items()]
    msg.set_content("\n".join(lines))
    rows = "".join(
        f"<tr><td>{'&#8627; ' if a is not root else ''}{html.escape(a.check)}</td><td>{a.gate_severity}</td>"
        f"<td>{a.category}</td><td>{html.escape(a.message)}</td><td>{html.escape(str(a.observed))}</td>"
        f"<td>{html.escape(a.expected)}</td></tr>"
        for root, explained in groups for a in [root, *explained])
    link = "".join(f'<p><a href="{html.escape(url)}">Data Docs: {suite}</a></p>'
                   for suite, url in (docs_links or {}).items())
    msg.add_alternative(
        f"<h2>Event data {summary.date}: {summary.status.upper()}</h2>"
        f"<table border='1' cellpadding='4'><tr><th>check</th><th>severity</th><th>category</th><th>message</th>"
        f"<th>observed</th><th>expected</th></tr>{rows}</table>{link}", subtype="html")
    return msg


def send_email(secrets: Secrets, alerting: Alerting, msg: EmailMessage) -> None:
    try:
        with smtplib.SMTP(secrets.smtp_host, secrets.smtp_port, timeout=alerting.timeout_seconds) as smtp:
            if alerting.smtp_starttls:
                smtp.starttls()
            if secrets.smtp_user:
                smtp.login(secrets.smtp_user, secrets.smtp_password.get_secret_value() if secrets.smtp_password else "")
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {secrets.smtp_host}:{secrets.smtp_port} failed: {type(exc).__name__}",
                            transient=_smtp_transient(exc)) from None


def _smtp_transient(exc: Exception) -> bool:
    """Connection trouble and 4xx replies pass; a refused login, sender or recipient stays refused."""
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                        smtplib.SMTPRecipientsRefused)):
        return False
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPConnectError):
        return 400 <= exc.smtp_code < 500
    return True


# --- channels ----------------------------------------------------------------------------------

def send(channel: str, summary, alerts, secrets, alerting, docs_links) -> None:
    """One message on one channel (used by the actions and by the digest)."""
    if channel == "slack":
        post_json(secrets.slack_webhook_url.get_secret_value(), slack_blocks(summary, alerts, docs_links),
                  alerting.timeout_seconds)
    else:
        send_email(secrets, alerting, email_message(summary, alerts, docs_links, secrets.email_from, secrets.email_to))


def configured(channel: str, secrets) -> bool:
    if channel == "slack":
        return secrets.slack_webhook_url is not None
    return bool(secrets.smtp_host and secrets.email_from and secrets.email_to)


def send_digest(conn: sa.Connection, channel: str, secrets: Secrets, alerting: Alerting) -> int:
    """One message with the warnings of every deferred day; returns how many days it covered."""
    from monitor.store import results as results_store

    deferred = conn.execute(sa.text(
        """SELECT DISTINCT ON (data_date) data_date, run_id FROM monitor.notifications
           WHERE channel = :c AND status = 'deferred' ORDER BY data_date, sent_at DESC"""), {"c": channel}).all()
    if not deferred:
        return 0
    alerts = results_store.stored_alerts(conn, [r.run_id for r in deferred])
    days = [str(r.data_date) for r in deferred]
    span = days[0] if len(days) == 1 else f"{days[0]} .. {days[-1]}"
    digest = DaySummary(date=span, run_id=f"digest of {len(days)} day(s)", run_time=None, results=tuple(alerts))
    fp = hashlib.sha256(json.dumps(days).encode()).hexdigest()[:16]
    ok, attempts, error = deliver(lambda: send(channel, digest, alerts, secrets, alerting, {}), alerting)
    status = "sent" if ok else "failed"
    conn.execute(sa.text(
        """INSERT INTO monitor.notifications (run_id, data_date, channel, status, fingerprint, attempts, error)
           VALUES (:r, :d, :c, :s, :f, :a, :e)"""),
        {"r": "digest", "d": days[-1], "c": channel, "s": f"digest {status}", "f": fp, "a": attempts, "e": error})
    if ok:
        conn.execute(sa.text("UPDATE monitor.notifications SET status = 'digested' "
                             "WHERE channel = :c AND status = 'deferred' AND data_date = ANY(:d)"),
                     {"c": channel, "d": [r.data_date for r in deferred]})
    return len(days) if ok else 0


def _place(sample: dict, full: bool = False) -> str:
    """A sample's row: ``file:line`` of a loaded file (the whole path in email), ``row_id=X`` in place."""
    if sample.get("row_id") is not None:
        return f"row_id={sample['row_id']}"
    name = str(sample["file"]) if full else str(sample["file"]).rsplit("/", 1)[-1]
    return f"{name}:{sample['line']}"
