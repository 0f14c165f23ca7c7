"""One story per day: alerts that share a cause are told together, under their root.

Two alerts share a cause when the same segment explains most of both changes
(mobile lost -> total events, sessions and device mix), or when a volume
alert explains the funnel, traffic and session alerts of the day.
"""

from __future__ import annotations

from monitor.summary import CheckResult

# the alerts that can explain the others: the day's volume
VOLUME_ROOTS = ("no_data", "total_events_drop", "total_events_shift", "sessions_shift")
EXPLAINED_BY_VOLUME = ("funnel", "traffic_source", "session")
_CATEGORY_ORDER = ("volume", "schema", "field_health", "duplicates", "funnel", "session", "traffic_source")


def top_segment(alert: CheckResult) -> tuple[str, str] | None:
    """The (dimension, value) that carries most of the change, when one does."""
    segments = (alert.details or {}).get("segments") or []
    if segments and segments[0]["share_of_change"] >= 0.5:
        return segments[0]["dimension"], segments[0]["value"]
    return None


def _rank(alert: CheckResult) -> tuple:
    category = _CATEGORY_ORDER.index(alert.category) if alert.category in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
    root = VOLUME_ROOTS.index(alert.check) if alert.check in VOLUME_ROOTS else len(VOLUME_ROOTS)
    return (alert.gate_severity != "critical", category, root)


def group(alerts: list[CheckResult]) -> list[tuple[CheckResult, list[CheckResult]]]:
    """[(root, [the alerts it explains])], most severe first; every alert appears once."""
    groups: list[tuple[CheckResult, list[CheckResult]]] = []
    for alert in sorted(alerts, key=_rank):
        key = top_segment(alert)
        home = next((g for g in groups if key is not None and top_segment(g[0]) == key), None)
        if home is None and alert.category in EXPLAINED_BY_VOLUME:
            home = next((g for g in groups if g[0].check in VOLUME_ROOTS), None)
        if home is None:
            groups.append((alert, []))
        else:
            home[1].append(alert)
    return groups
