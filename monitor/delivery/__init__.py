"""Delivery of a verdict: Slack and email messages, the notification policy (who is paged
when, resends, all-clears) and the warnings digest (``notify``), worded by ``stories``;
intraday pages, once per incident (``intraday_alerts``).

May import: the foundation, ``monitor.store`` and ``monitor.verdict.summary``."""
