"""Intraday paging: a critical finding goes out once per incident, and one all-clear when
it clears ("[RESOLVED] ..."), on the daily run's channels with the same retries.

An incident opens with the first run that finds a check critical and closes with the
first later run that finds it passing (or only a warning); runs in between stay
silent. A message that failed is tried again by the next run; one that went out is
never sent twice. Nothing here raises: a dead peer never loses a stored result.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

import sqlalchemy as sa

from monitor.delivery import notify
from monitor.settings import Settings
from monitor.store import intraday as store

log = logging.getLogger(__name__)

CHANNELS = ("slack", "email")


def deliver(eng: sa.Engine, result, settings: Settings, send: bool) -> None:
    """Open and close the day's incidents from this run's results, then send what is due.
    With ``send`` False incidents are still tracked; a later run sends what is still open."""
    summary = result.summary
    try:
        _track(eng, summary)
    except Exception as exc:  # the run's results are stored already
        log.error("intraday incidents could not be updated: %s: %s", type(exc).__name__, exc)
        return
    if not send:
        return
    for channel in CHANNELS:
        if not notify.configured(channel, settings.secrets):
            continue
        try:
            _send_due(eng, channel, result, settings)
        except Exception as exc:
            log.error("intraday %s notification failed: %s: %s", channel, type(exc).__name__, exc)


def _track(eng: sa.Engine, summary) -> None:
    critical = {r.check: r for r in summary.results if r.status == "critical"}
    cleared = {r.check for r in summary.results if r.status in ("pass", "warning")}
    with eng.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('monitor.intraday_incidents'), hashtext(:d))"),
                     {"d": summary.date})
        open_now = store.open_incidents(conn, summary.date)
        for check, r in critical.items():
            if check not in open_now:
                store.open_incident(conn, summary.date, check, summary.run_id, r.message)
        for check, incident in open_now.items():
            if check in cleared:  # a check that could not tell (skipped) leaves its incident open
                store.close_incident(conn, incident["id"], summary.run_id)


def _send_due(eng: sa.Engine, channel: str, result, settings: Settings) -> None:
    summary = result.summary
    with eng.connect() as conn:
        resolved = store.unsent(conn, summary.date, channel, "resolved")
        alerts = store.unsent(conn, summary.date, channel, "alert")
    current = {r.check: r for r in summary.results}
    for kind, incidents in (("resolved", resolved), ("alert", alerts)):
        if not incidents:
            continue
        subject, lines = (resolved_text if kind == "resolved" else alert_text)(result, incidents, current)
        ok, attempts, error = notify.deliver(
            lambda: _send(channel, subject, lines, kind, settings), settings.alerting)
        with eng.begin() as conn:
            store.record_notification(conn, [i["incident_id"] for i in incidents], summary.run_id, channel, kind,
                                      ok, attempts, error)
        if not ok:
            log.error("intraday %s %s for %s failed after %d attempts: %s", channel, kind, summary.date, attempts,
                      error)


def alert_text(result, incidents: list[dict], current: dict) -> tuple[str, list[str]]:
    summary = result.summary
    names = ", ".join(i["check_name"] for i in incidents)
    subject = f"[CRITICAL] event data {summary.date} so far (until {result.until} {result.zone}): {names}"
    lines = [f"Event data {summary.date}, 00:00-{result.until} {result.zone}: CRITICAL within the day (run {summary.run_id})."]
    for i in incidents:
        now = current.get(i["check_name"])
        message = now.message if now is not None and now.status == "critical" else i["message"]
        category = now.category if now is not None else ""
        lines.append(f"- {i['check_name']} (critical{', ' + category if category else ''}): {message}")
    others = [r for r in summary.alerts if r.check not in {i["check_name"] for i in incidents}]
    lines += [f"  also: {r.check} ({r.gate_severity}): {r.message}" for r in others[:5]]
    lines.append("This is an intraday finding: the day's gate is decided by its daily run.")
    return subject, lines


def resolved_text(result, incidents: list[dict], current: dict) -> tuple[str, list[str]]:
    """Worded like the daily all-clear."""
    summary = result.summary
    names = ", ".join(i["check_name"] for i in incidents)
    subject = f"[RESOLVED] event data {summary.date} so far (until {result.until} {result.zone}): now {summary.status}"
    alerted_by = ", ".join(sorted({i["opened_run"] for i in incidents}))
    lines = [f"Event data {summary.date} is no longer critical within the day: {names} (alerted by run "
             f"{alerted_by}) cleared in run {summary.run_id} (00:00-{result.until} {result.zone}), verdict {summary.status}."]
    for i in incidents:
        now = current.get(i["check_name"])
        if now is not None:
            lines.append(f"- {i['check_name']}: {now.message}")
    return subject, lines


def _send(channel: str, subject: str, lines: list[str], kind: str, settings: Settings) -> None:
    secrets, alerting = settings.secrets, settings.alerting
    if channel == "slack":
        icon = ":white_check_mark:" if kind == "resolved" else ":red_circle:"
        notify.post_json(secrets.slack_webhook_url.get_secret_value(), {
            "text": subject,
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
                       {"type": "section", "text": {"type": "mrkdwn", "text": (icon + " " + "\n".join(lines))[:2900]}}]},
            alerting.timeout_seconds)
        return
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, secrets.email_from, ", ".join(secrets.email_to)
    msg.set_content("\n".join(lines))
    notify.send_email(secrets, alerting, msg)
