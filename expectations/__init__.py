"""Suite definitions, one module per suite, readable in review."""

from . import business_health, raw_events

SUITES = {raw_events.SUITE: raw_events.expectations, business_health.SUITE: business_health.expectations}
