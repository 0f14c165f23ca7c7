"""Custom GX checkpoint actions: store results, then alert on Slack and by email.

Secrets (webhook URL, SMTP password) are read from the environment at send
time, so the stored checkpoint config never contains one.
"""

from __future__ import annotations

import logging
from typing import Literal

from great_expectations.checkpoint.actions import DataDocsAction, ValidationAction
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from monitor import settings
from monitor.store import database
from monitor.delivery import notify
from monitor.store import results as results_store
from monitor.verdict.summary import lake_results, summarize

log = logging.getLogger(__name__)


class StoreMonitoringResultsAction(ValidationAction):
    """First action: every check of the run into monitor.monitoring_results."""

    type: Literal["store_monitoring_results"] = "store_monitoring_results"

    def run(self, checkpoint_result, action_context=None) -> dict:
        # GX skips every later action when one raises: a failed store must not silence the alerts.
        # The pipeline stores again after the checkpoint when this did not.
        try:
            summary = summarize(checkpoint_result)
            with database.engine().begin() as conn:
                results_store.store(conn, summary)
        except Exception as exc:
            log.error("storing results failed: %s", exc)
            return {"status": "error"}
        return {"stored": len(summary.results)}


class _AlertAction(ValidationAction):
    channel: str = ""

    def run(self, checkpoint_result, action_context=None) -> dict:
        try:
            return self._notify(checkpoint_result)
        except Exception as exc:  # an alert channel must never abort the run or lose results
            log.error("%s notification failed: %s", self.channel, exc)
            return {"status": "error"}

    def _notify(self, checkpoint_result) -> dict:
        options = notify.run_options.get()
        if not options.send:
            return {"status": "off"}
        resolved = settings.load()
        secrets = resolved.secrets
        if not notify.configured(self.channel, secrets):
            return {"status": "not configured"}
        alerting = resolved.alerting
        summary = summarize(checkpoint_result)
        eng = database.engine()
        if summary.status != "critical":
            self._all_clear(eng, summary, secrets, alerting)
        if not summary.alerts:
            return {"status": "nothing to send"}
        fp = notify.fingerprint(summary)
        with eng.connect() as conn:
            if not options.renotify and notify.already_sent(conn, summary.date, self.channel, fp):
                log.info("%s: same failures already notified for %s", self.channel, summary.date)
                return {"status": "duplicate"}
        if alerting.warnings == "digest" and summary.status == "warning":
            with eng.begin() as conn:  # `runner.py digest` sends these later, in one message
                notify.record(conn, summary, self.channel, "deferred", fp, 0, None)
            return {"status": "deferred"}
        alerts = summary.alerts
        ok, attempts, error = notify.deliver(
            lambda: notify.send(self.channel, summary, alerts, secrets, alerting, options.docs_links or {}), alerting)
        with eng.begin() as conn:
            notify.record(conn, summary, self.channel, "sent" if ok else "failed", fp, attempts, error)
        if not ok:
            log.error("%s notification for %s failed after %d attempts: %s", self.channel, summary.date, attempts, error)
        return {"status": "sent" if ok else "failed", "attempts": attempts}


    def _all_clear(self, eng, summary, secrets, alerting) -> None:
        """One "resolved" message when a day whose critical alert went out is critical no more."""
        with eng.connect() as conn:
            incident = notify.open_incident(conn, summary.date, self.channel)
            if incident is None:
                return
            was_failing = [a for a in results_store.stored_alerts(conn, [incident]) if a.gate_severity == "critical"]
        ok, attempts, error = notify.deliver(
            lambda: notify.send_resolved(self.channel, summary, was_failing, incident, secrets, alerting), alerting)
        with eng.begin() as conn:
            notify.record(conn, summary, self.channel, "resolved" if ok else "resolved failed",
                          f"resolves {incident}", attempts, error)


class SlackAlertAction(_AlertAction):
    """Block Kit message listing each failed check with observed and expected values."""

    type: Literal["monitor_slack_alert"] = "monitor_slack_alert"
    channel: str = "slack"



class EmailAlertAction(_AlertAction):
    """The same content as plain text and HTML, over SMTP."""

    type: Literal["monitor_email_alert"] = "monitor_email_alert"
    channel: str = "email"



class UpdateRunDataDocsAction(DataDocsAction):
    """Data Docs pages of this run's validations and the index, in one site build.

    GX's UpdateDataDocsAction builds the site once per validation (template
    compilation and index included each time); one build halves the cost. A
    failure here is logged: results are already stored and alerts sent.
    """

    type: Literal["update_run_data_docs"] = "update_run_data_docs"

    def run(self, checkpoint_result, action_context=None) -> dict:
        ids = list(checkpoint_result.run_results) + [i for i, _ in lake_results.get()]
        try:
            self._for_review(checkpoint_result)
            self._build_data_docs(resource_identifiers=ids)
        except Exception as exc:
            log.error("Data Docs update failed: %s", exc)
            return {"status": "error"}
        return {"status": "built", "pages": len(ids)}

    def _for_review(self, checkpoint_result) -> None:
        """A reviewer sees what failed on the first screen, and which database a run read:
        GX renders results in stored order, so the stored result is rewritten with failures
        first (critical, then warning) and the database (password masked) among its batch
        markers ("Show more info")."""
        store = self._resolve_context().context.validation_results_store
        where = database.masked(database.database_url())
        for identifier, result in [*checkpoint_result.run_results.items(), *lake_results.get()]:
            result.results = sorted(result.results, key=_review_rank)
            result.meta["batch_markers"] = {**(result.meta.get("batch_markers") or {}), "database": where}
            store.set(identifier, result)


def _review_rank(result) -> int:
    if result.success:
        return 2
    severity = getattr(result.expectation_config, "severity", None)
    return 0 if str(getattr(severity, "value", severity)).lower() == "critical" else 1


def build_suite_docs(context, suite_names) -> None:
    """Suite pages change only when the suites do (after `init` writes them)."""
    context.build_data_docs(resource_identifiers=[ExpectationSuiteIdentifier(name=n) for n in suite_names])
