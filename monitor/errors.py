"""One exception root; the CLI turns each subclass into one line and an exit code."""

from __future__ import annotations

from monitor.outcome import Outcome


class MonitorError(Exception):
    """Root of every error the monitor reports to a user."""

    outcome = Outcome.INFRASTRUCTURE


class UsageError(MonitorError):
    """Bad command line, bad date, unreadable file, bad config: the caller can fix it."""

    outcome = Outcome.USAGE


class InfrastructureError(MonitorError):
    """Database unreachable, server failed to start: the environment must be fixed."""

    outcome = Outcome.INFRASTRUCTURE


class SuiteIntegrityError(InfrastructureError):
    """A stored suite lost expectations (e.g. custom ones dropped by GX on load)."""
