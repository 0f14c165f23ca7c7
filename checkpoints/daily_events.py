"""Checkpoint `daily_events`: both suites on one day's metric window, then the actions.

Action order matters (GX stops at the first action that raises): results are
stored first, notifications never raise, Data Docs come last.
"""

from __future__ import annotations

from .actions import (EmailAlertAction, SlackAlertAction, StoreMonitoringResultsAction,
                                 UpdateRunDataDocsAction)

NAME = "daily_events"


def actions() -> list:
    return [
        StoreMonitoringResultsAction(name="store_monitoring_results"),
        SlackAlertAction(name="slack_alert"),
        EmailAlertAction(name="email_alert"),
        UpdateRunDataDocsAction(name="update_data_docs"),
    ]
