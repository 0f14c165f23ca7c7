"""Custom GX checkpoint actions: store results, then alert on Slack and by email.

Secrets (webhook URL, SMTP password) are read from the environment at send
time, so the stored checkpoint config never contains one.
"""

from __future__ import annotations

import logging
from typing import Literal

from great_expectations.checkpoint.actions import ValidationAction

from monitor import database, notify, results_store, settings
from monitor.summary import summarize

log = logging.getLogger(__name__)


class StoreMonitoringResultsAction(ValidationAction):
    """First action: every check of the run into monitor.monitoring_results."""

    type: Literal["store_monitoring_results"] = "store_monitoring_results"

    def run(self, checkpoint_result, action_context=None) -> dict:
        summary = summarize(checkpoint_result)
        with database.engine().begin() as conn:
            results_store.store(conn, summary)
        return {"stored": len(summary.results)}


class _AlertAction(ValidationAction):
    channel: str = ""

    def _configured(self, secrets) -> bool:
        raise NotImplementedError

    def _send(self, summary, alerts, secrets, alerting, docs_url) -> None:
        raise NotImplementedError

    def run(self, checkpoint_result, action_context=None) -> dict:
        try:
            return self._notify(checkpoint_result)
        except Exception as exc:  # an alert channel must never abort the run or lose results
            log.error("%s notification failed: %s", self.channel, exc)
            return {"status": "error"}

    def _notify(self, checkpoint_result) -> dict:
        secrets = settings.secrets_from_env()
        if not self._configured(secrets):
            return {"status": "not configured"}
        alerting = settings.load().alerting
        summary = summarize(checkpoint_result)
        alerts = notify.alerts_to_send(summary, alerting)
        if not alerts:
            return {"status": "nothing to send"}
        options = notify.run_options.get()
        fp = notify.fingerprint(summary)
        eng = database.engine()
        with eng.connect() as conn:
            if not options.renotify and notify.already_sent(conn, summary.date, self.channel, fp):
                log.info("%s: same failures already notified for %s", self.channel, summary.date)
                return {"status": "duplicate"}
        ok, attempts, error = notify.deliver(
            lambda: self._send(summary, alerts, secrets, alerting, options.docs_url), alerting)
        with eng.begin() as conn:
            notify.record(conn, summary, self.channel, "sent" if ok else "failed", fp, attempts, error)
        if not ok:
            log.error("%s notification for %s failed after %d attempts: %s", self.channel, summary.date, attempts, error)
        return {"status": "sent" if ok else "failed", "attempts": attempts}


class SlackAlertAction(_AlertAction):
    """Block Kit message listing each failed check with observed and expected values."""

    type: Literal["monitor_slack_alert"] = "monitor_slack_alert"
    channel: str = "slack"

    def _configured(self, secrets) -> bool:
        return secrets.slack_webhook_url is not None

    def _send(self, summary, alerts, secrets, alerting, docs_url) -> None:
        notify.post_json(secrets.slack_webhook_url.get_secret_value(),
                         notify.slack_blocks(summary, alerts, docs_url), alerting.timeout_seconds)


class EmailAlertAction(_AlertAction):
    """The same content as plain text and HTML, over SMTP."""

    type: Literal["monitor_email_alert"] = "monitor_email_alert"
    channel: str = "email"

    def _configured(self, secrets) -> bool:
        return bool(secrets.smtp_host and secrets.email_from and secrets.email_to)

    def _send(self, summary, alerts, secrets, alerting, docs_url) -> None:
        notify.send_email(secrets, alerting, notify.email_message(summary, alerts, docs_url, secrets.email_from,
                                                                  secrets.email_to))
