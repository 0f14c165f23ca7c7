"""How a suite declares a check: GX expectation plus the contract's name and category."""

from __future__ import annotations

from great_expectations.expectations.expectation import Expectation

CATEGORIES = ("schema", "field_health", "duplicates", "volume", "funnel", "traffic_source", "session", "orders")
# meta["owner"] of the monitor's own expectations: `sync` replaces only these, never a team's
OWNER = "event-monitor"


def check(name: str, category: str, severity: str, expectation: Expectation) -> Expectation:
    """Tag an expectation with its contract check name, category and severity."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    expectation.severity = severity
    expectation.meta = {"check": name, "category": category, "owner": OWNER}
    if hasattr(expectation, "check_name"):
        expectation.check_name = name
    return expectation
