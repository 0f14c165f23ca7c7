"""monitor.runs and monitor.monitoring_results: what every run found, kept for good."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from monitor.verdict.summary import CheckResult, DaySummary


def _text(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def open_run(conn: sa.Connection, run_id: str, day: dt.date, started_at: dt.datetime) -> None:
    """Record a run as started. Called under the day's lock, so an unfinished
    earlier run of the day cannot still be going: it died (e.g. kill -9)."""
    conn.execute(sa.text(
        """UPDATE monitor.runs SET finished_at = now(), status = 'crashed',
                  error = 'the run stopped before it finished (process killed?)'
           WHERE day = :d AND finished_at IS NULL"""), {"d": day})
    conn.execute(sa.text("INSERT INTO monitor.runs (run_id, day, started_at) VALUES (:r, :d, :t)"),
                 {"r": run_id, "d": day, "t": started_at})


def record_covered_loads(conn: sa.Connection, run_id: str, day: dt.date) -> None:
    """The loads of the day the run's metrics saw; a different set later means a stale verdict."""
    conn.execute(sa.text(
        """UPDATE monitor.runs SET loads = coalesce((SELECT array_agg(load_id ORDER BY load_id)
                                                     FROM events.load_days WHERE partition_date = :d), '{}')
           WHERE run_id = :r"""), {"r": run_id, "d": day})


def record_fingerprint(conn: sa.Connection, run_id: str, day: dt.date) -> None:
    """In place: the fingerprint of the day's rows the run's metrics saw, as the pass
    computed it (monitor.day_fingerprints; sources.relation.FINGERPRINT)."""
    conn.execute(sa.text("UPDATE monitor.runs SET fingerprint = (SELECT fingerprint FROM monitor.day_fingerprints "
                         "WHERE day = :d) WHERE run_id = :r"), {"r": run_id, "d": day})


def fail_run(eng: sa.Engine, run_id: str, exc: BaseException) -> None:
    """Close a run that raised: it reached no verdict, and says why."""
    reason = f"{type(exc).__name__}: {exc}".strip()[:1000]
    with eng.begin() as conn:
        conn.execute(sa.text(
            """UPDATE monitor.runs SET finished_at = now(), status = 'error', error = :e
               WHERE run_id = :r AND finished_at IS NULL"""), {"r": run_id, "e": reason})


def store(conn: sa.Connection, summary: DaySummary) -> None:
    """Write every check of the run and close the run row. Idempotent per run_id."""
    rows = [{"run_id": summary.run_id, "run_time": summary.run_time, "data_date": summary.date,
             "suite": r.suite, "check_name": r.check, "category": r.category, "severity": r.severity,
             "status": r.status, "observed": _text(r.observed), "expected": r.expected, "low": r.low,
             "high": r.high, "baseline": r.baseline, "message": r.message,
             "details": json.dumps(r.details, default=str)} for r in summary.results]
    if rows:
        conn.execute(sa.text(
            """INSERT INTO monitor.monitoring_results
               (run_id, run_time, data_date, suite, check_name, category, severity, status, observed, expected,
                expected_low, expected_high, baseline, message, details)
               VALUES (:run_id, :run_time, :data_date, :suite, :check_name, :category, :severity, :status,
                       :observed, :expected, :low, :high, :baseline, :message, CAST(:details AS jsonb))
               ON CONFLICT DO NOTHING"""), rows)
    # a lasting warning-level change a check took as its new level: recorded, as `accept` records a person's
    auto = [{"d": r.details["baseline_since"], "c": r.check, "b": r.details["accepted_by"]} for r in summary.results
            if (r.details or {}).get("baseline_since") and str(r.details.get("accepted_by") or "").startswith("auto")]
    if auto:
        conn.execute(sa.text("INSERT INTO monitor.accepted_days (day, check_name, accepted_by) VALUES (:d, :c, :b)"
                             " ON CONFLICT (day, check_name) DO NOTHING"), auto)
    body = summary.to_json()
    conn.execute(sa.text(
        """INSERT INTO monitor.runs (run_id, day, started_at) VALUES (:r, :d, :t) ON CONFLICT (run_id) DO NOTHING"""),
        {"r": summary.run_id, "d": summary.date, "t": summary.run_time})
    conn.execute(sa.text(
        """UPDATE monitor.runs SET finished_at = now(), status = :s, checks = :c, passed = :p, skipped = :k, alerts = :a
           WHERE run_id = :r"""),
        {"s": body["status"], "c": body["checks"], "p": body["passed"], "k": body["skipped"],
         "a": len(body["alerts"]), "r": summary.run_id})


def is_stored(conn: sa.Connection, run_id: str) -> bool:
    return bool(conn.execute(sa.text("SELECT finished_at IS NOT NULL FROM monitor.runs WHERE run_id = :r"),
                             {"r": run_id}).scalar())


def _parse(text):
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def stored_alerts(conn: sa.Connection, run_ids: list[str]) -> list[CheckResult]:
    """Failed checks of stored runs, oldest day first, as CheckResults for messages."""
    rows = conn.execute(sa.text(
        """SELECT suite, check_name, category, severity, status, observed, expected, message,
                  expected_low, expected_high, baseline
           FROM monitor.monitoring_results
           WHERE run_id = ANY(:ids) AND status IN ('warning', 'critical', 'error')
           ORDER BY data_date, suite, check_name"""), {"ids": run_ids}).all()
    return [CheckResult(suite=r.suite, check=r.check_name, category=r.category, severity=r.severity,
                        status=r.status, observed=_parse(r.observed), expected=r.expected or "",
                        message=r.message or "", low=r.expected_low, high=r.expected_high, baseline=r.baseline)
            for r in rows]
