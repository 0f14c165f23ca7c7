"""What intraday runs keep: counts per load and 15-minute slot (monitor.intraday_counts),
the runs and their results, and the incidents that page once (README, "Within the day").
None of it is a day's verdict: the gate reads monitor.runs only."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from monitor.days import SLOTS


def pending_loads(conn: sa.Connection, days: list[dt.date]) -> dict[dt.date, list[int]]:
    """The loads of these days whose rows are not counted yet."""
    rows = conn.execute(sa.text(
        """SELECT d.partition_date, array_agg(d.load_id ORDER BY d.load_id)
           FROM events.load_days d
           WHERE d.partition_date = ANY (:days) AND d.row_count > 0
             AND NOT EXISTS (SELECT 1 FROM monitor.intraday_loads c
                             WHERE c.day = d.partition_date AND c.load_id = d.load_id)
           GROUP BY 1"""), {"days": days}).all()
    return {d: list(ids) for d, ids in rows}


def slot_series(conn: sa.Connection, days: list[dt.date]) -> dict[dt.date, dict[tuple[str, str], list[float]]]:
    """Per day: (metric, dimension) -> the 96 slot values, summed over the day's current loads."""
    out: dict[dt.date, dict[tuple[str, str], list[float]]] = {}
    for day, metric, dim, bucket, value in conn.execute(sa.text(
            """SELECT c.day, c.metric, c.dimension, c.bucket, sum(c.value)
               FROM monitor.intraday_counts c
               JOIN events.load_days d ON d.partition_date = c.day AND d.load_id = c.load_id
               WHERE c.day = ANY (:days)
               GROUP BY 1, 2, 3, 4"""), {"days": days}):
        out.setdefault(day, {}).setdefault((metric, dim), [0.0] * SLOTS)[bucket] = float(value)
    return out


def loads_of(conn: sa.Connection, day: dt.date) -> list[tuple[int, dt.datetime]]:
    """(load id, when it arrived) for the day's loads."""
    return [(r.load_id, r.loaded_at) for r in conn.execute(sa.text(
        """SELECT d.load_id, l.loaded_at FROM events.load_days d JOIN events.loads l USING (load_id)
           WHERE d.partition_date = :d ORDER BY l.loaded_at"""), {"d": day})]


def day_verdict_alerts(conn: sa.Connection, days: list[dt.date]) -> dict[dt.date, set[str]]:
    """The checks that alerted on each day's latest daily verdict (such days are no baseline for them)."""
    out: dict[dt.date, set[str]] = {}
    for day, check in conn.execute(sa.text(
            """SELECT data_date, check_name FROM monitor.latest_results
               WHERE data_date = ANY (:days) AND status IN ('warning', 'critical', 'error')"""), {"days": days}):
        out.setdefault(day, set()).add(check)
    return out


# --- runs and results ----------------------------------------------------------------------------

def store_run(conn: sa.Connection, summary, until: dt.time, asked: dt.time) -> None:
    body = summary.to_json()
    conn.execute(sa.text(
        """INSERT INTO monitor.intraday_runs (run_id, day, until_time, asked_until, run_time, status, checks, passed,
                                              skipped, alerts, summary)
           VALUES (:r, :d, :u, :a, :t, :s, :c, :p, :k, :n, CAST(:j AS jsonb))"""),
        {"r": summary.run_id, "d": summary.date, "u": until, "a": asked, "t": summary.run_time,
         "s": summary.status, "c": body["checks"], "p": body["passed"], "k": body["skipped"],
         "n": len(body["alerts"]), "j": json.dumps(body, default=str)})
    rows = [{"r": summary.run_id, "d": summary.date, "c": r.check, "cat": r.category, "sev": r.severity,
             "st": r.status, "o": None if r.observed is None else json.dumps(r.observed, default=str),
             "e": r.expected, "m": r.message, "x": json.dumps(r.details, default=str)} for r in summary.results]
    if rows:
        conn.execute(sa.text(
            """INSERT INTO monitor.intraday_results (run_id, day, check_name, category, severity, status, observed,
                                                     expected, message, details)
               VALUES (:r, :d, :c, :cat, :sev, :st, :o, :e, :m, CAST(:x AS jsonb))"""), rows)


def timeline(conn: sa.Connection, first: dt.date, last: dt.date) -> dict[dt.date, list[dict]]:
    """The intraday runs of these days, oldest first: until, status and the alerts' checks."""
    out: dict[dt.date, list[dict]] = {}
    for r in conn.execute(sa.text(
            """SELECT day, run_id, until_time, run_time, status, alerts, summary
               FROM monitor.intraday_runs WHERE day BETWEEN :a AND :b ORDER BY day, run_time"""),
            {"a": first, "b": last}):
        out.setdefault(r.day, []).append({
            "until": r.until_time.strftime("%H:%M"), "run_id": r.run_id, "status": r.status, "alerts": r.alerts,
            "run_time": r.run_time.isoformat(timespec="seconds"),
            "failed": [{"check": a["check"], "severity": a["severity"], "message": a["message"]}
                       for a in r.summary.get("alerts", [])]})
    return out


# --- incidents -------------------------------------------------------------------------------------

def open_incidents(conn: sa.Connection, day: dt.date) -> dict[str, dict]:
    return {r.check_name: {"id": r.incident_id, "opened_run": r.opened_run, "opened_at": r.opened_at,
                           "message": r.message}
            for r in conn.execute(sa.text(
                """SELECT incident_id, check_name, opened_run, opened_at, message FROM monitor.intraday_incidents
                   WHERE day = :d AND closed_run IS NULL"""), {"d": day})}


def open_incident(conn: sa.Connection, day: dt.date, check: str, run_id: str, message: str) -> int:
    return conn.execute(sa.text(
        """INSERT INTO monitor.intraday_incidents (day, check_name, opened_run, message)
           VALUES (:d, :c, :r, :m) RETURNING incident_id"""),
        {"d": day, "c": check, "r": run_id, "m": message}).scalar_one()


def close_incident(conn: sa.Connection, incident_id: int, run_id: str) -> None:
    conn.execute(sa.text("UPDATE monitor.intraday_incidents SET closed_run = :r, closed_at = now() "
                         "WHERE incident_id = :i"), {"r": run_id, "i": incident_id})


def unsent(conn: sa.Connection, day: dt.date, channel: str, kind: str) -> list[dict]:
    """Incidents of the day whose ``kind`` message ('alert' for open ones, 'resolved' for
    closed ones) has not gone out on ``channel`` yet: a failed send is tried again by
    the next run, and a sent one never twice."""
    closed = "IS NOT NULL" if kind == "resolved" else "IS NULL"
    return [dict(r._mapping) for r in conn.execute(sa.text(
        f"""SELECT i.incident_id, i.check_name, i.opened_run, i.opened_at, i.message, i.closed_run, i.closed_at
            FROM monitor.intraday_incidents i
            WHERE i.day = :d AND i.closed_run {closed}
              AND NOT EXISTS (SELECT 1 FROM monitor.intraday_notifications n
                              WHERE n.incident_id = i.incident_id AND n.channel = :c AND n.kind = :k
                                AND n.status = 'sent')
              AND (:k = 'alert' OR EXISTS (SELECT 1 FROM monitor.intraday_notifications n  -- an all-clear only
                                           WHERE n.incident_id = i.incident_id AND n.channel = :c  -- for a page
                                             AND n.kind = 'alert' AND n.status = 'sent'))
            ORDER BY i.incident_id"""), {"d": day, "c": channel, "k": kind})]


def record_notification(conn: sa.Connection, incident_ids: list[int], run_id: str, channel: str, kind: str,
                        ok: bool, attempts: int, error: str | None) -> None:
    conn.execute(sa.text(
        """INSERT INTO monitor.intraday_notifications (incident_id, run_id, channel, kind, status, attempts, error)
           SELECT unnest(CAST(:ids AS bigint[])), :r, :c, :k, :s, :a, :e"""),
        {"ids": incident_ids, "r": run_id, "c": channel, "k": kind, "s": "sent" if ok else "failed",
         "a": attempts, "e": error})
