"""Every incident of the generator's catalog, injected after 14 clean days, is reported
with its contract check, category and severity (real PostgreSQL, real GX run)."""

from __future__ import annotations

import pytest

from monitor import generator, pipeline, settings
from tests.conftest import INCIDENT_DAY, load_day


def test_history_days_are_clean(history_template):
    _, verdicts = history_template
    assert verdicts and all(v != "critical" for v in verdicts.values()), verdicts


@pytest.mark.parametrize("incident", sorted(generator.CATALOG), ids=str)
def test_incident_is_reported(incident, with_history, tmp_path):
    load_day(tmp_path, INCIDENT_DAY, (incident,))
    summary = pipeline.run_day(INCIDENT_DAY, settings.load())
    found = {(a.check, a.category, a.severity) for a in summary.alerts}
    for exp in generator.CATALOG[incident].expect:
        assert (exp.check, exp.category, exp.severity) in found, (incident, sorted(found))
    if any(e.severity == "critical" for e in generator.CATALOG[incident].expect):
        assert summary.status == "critical"
    else:
        assert summary.status == "warning", [a.message for a in summary.alerts]


def test_clean_day_after_history_raises_nothing(with_history, tmp_path):
    load_day(tmp_path, INCIDENT_DAY)
    summary = pipeline.run_day(INCIDENT_DAY, settings.load())
    assert summary.status == "pass", [a.message for a in summary.alerts]
    body = summary.to_json()
    assert body["skipped"] == 0 and body["passed"] == body["checks"]
