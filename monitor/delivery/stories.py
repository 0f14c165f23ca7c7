"""One story per day: alerts that share a cause are told together, under their root.

Two alerts share a cause when the same segment explains most of both changes
(mobile lost -> total events, sessions and device mix), when a volume
alert explains the funnel, traffic and session alerts of the day, or when a lost
or renamed column explains the alerts of the checks that read it (``referrer``
gone -> channel mix).
"""

from __future__ import annotations

from monitor.verdict.summary import CheckResult

# the alerts that can explain the others: the day's volume
VOLUME_ROOTS = ("no_data", "total_events_drop", "total_events_shift", "sessions_shift")
EXPLAINED_BY_VOLUME = ("funnel", "traffic_source", "session")
_CATEGORY_ORDER = ("volume", "schema", "field_health", "duplicates", "orders", "funnel", "session", "traffic_source")
# the alerts a lost column causes: the checks that read it
SCHEMA_ROOTS = ("required_columns", "lost_column")
_SESSION_CHECKS = ("sessions_shift", "avg_session_duration", "page_depth", "device_mix", "channel_mix",
                   "utm_source_mix", "bot_share", "cart_to_checkout_rate", "checkout_to_purchase_rate")
COLUMN_READERS = {
    "client_id": ("null_client_id",) + _SESSION_CHECKS,
    "timestamp": ("null_timestamp", "invalid_timestamp", "silence") + _SESSION_CHECKS,
    "event_name": ("null_event_name", "unknown_event_name", "zero_purchase", "checkout_without_purchase",
                   "page_view_drop", "add_to_cart_drop", "checkout_started_drop", "revenue_drop") + _SESSION_CHECKS,
    "event_data": ("malformed_json", "malformed_json_rate", "invalid_revenue", "duplicate_order_id", "revenue_drop",
                   "channel_mix", "utm_source_mix", "device_mix", "bot_share"),
    "referrer": ("channel_mix", "utm_source_mix"), "page_url": ("channel_mix", "utm_source_mix"),
    "utm_source": ("channel_mix", "utm_source_mix"), "utm_medium": ("channel_mix", "utm_source_mix"),
    "utm_campaign": ("utm_source_mix",), "user_agent": ("device_mix", "bot_share"), "device_type": ("device_mix",),
    "revenue": ("invalid_revenue", "revenue_drop"), "order_id": ("duplicate_order_id",),
    "session_id": _SESSION_CHECKS,
}


def explained_by_columns(root: CheckResult, alert: CheckResult) -> bool:
    """A lost (or renamed) column explains the alerts of the checks that read it, and the
    unexpected column that is its new name."""
    if root.check not in SCHEMA_ROOTS:
        return False
    columns = (root.details or {}).get("columns") or []
    renamed = set(((root.details or {}).get("renamed") or {}).values())
    if alert.check == "unexpected_columns" and renamed & set((alert.details or {}).get("dimensions") or {}):
        return True
    return alert.check in SCHEMA_ROOTS or any(alert.check in COLUMN_READERS.get(c, ()) for c in columns)


def top_segment(alert: CheckResult) -> tuple[str, str] | None:
    """The (dimension, value) that carries most of the change, when one does."""
    segments = (alert.details or {}).get("segments") or []
    if segments and segments[0]["share_of_change"] >= 0.5:
        return segments[0]["dimension"], segments[0]["value"]
    return None


def _rank(alert: CheckResult) -> tuple:
    schema = alert.check in SCHEMA_ROOTS
    category = _CATEGORY_ORDER.index(alert.category) if alert.category in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
    root = VOLUME_ROOTS.index(alert.check) if alert.check in VOLUME_ROOTS else len(VOLUME_ROOTS)
    return (not schema, alert.gate_severity != "critical", category, root)


def group(alerts: list[CheckResult]) -> list[tuple[CheckResult, list[CheckResult]]]:
    """[(root, [the alerts it explains])], most severe first; every alert appears once."""
    groups: list[tuple[CheckResult, list[CheckResult]]] = []
    for alert in sorted(alerts, key=_rank):
        key = top_segment(alert)
        home = next((g for g in groups if explained_by_columns(g[0], alert)), None)
        if home is None:
            home = next((g for g in groups if key is not None and top_segment(g[0]) == key), None)
        if home is None and alert.category in EXPLAINED_BY_VOLUME:
            home = next((g for g in groups if g[0].check in VOLUME_ROOTS), None)
        if home is None:
            groups.append((alert, []))
        else:
            home[1].append(alert)
    return groups
