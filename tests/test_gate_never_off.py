"""A critical outage never reopens the gate by itself (issue 20, item 3): only warning-level
shifts become the new level after ``accept_after_days``; a critical stays critical until
`runner.py accept`, and says so; an accepted level keeps the learnt weekly pattern."""

from __future__ import annotations

import datetime as dt

from custom_expectations import ExpectDayMetricToMatchBaseline
from tests.test_detection import _series, _weekly


def _drop_check(severity: str):
    check = ExpectDayMetricToMatchBaseline(metric="rows", max_drop_pct=50 if severity == "critical" else 20,
                                           counts=True, check_name="total_events_drop", history_days=42)
    check.severity = severity
    return check


def _outage(severity: str, days: int = 4):
    """Ten clean days, then ``days`` at 40% of the traffic, each judged with the verdicts before it."""
    monday = dt.date(2026, 8, 31)
    values = {monday - dt.timedelta(days=i): 1000.0 for i in range(1, 11)}
    verdicts, results = {}, []
    for k in range(days):
        day = monday + dt.timedelta(days=k)
        result = _drop_check(severity).check(_series(values, day, 400, verdicts))
        results.append(result)
        values[day] = 400.0
        verdicts[day] = {"status": severity if not result["success"] else "pass", "direction": -1}
    return results


def test_a_critical_outage_stays_critical_until_accepted():
    results = _outage("critical")
    assert [r["success"] for r in results] == [False] * 4
    message = results[3]["result"]["details"]["message"]
    assert "stays critical until this level is accepted: runner.py accept --date 2026-09-03" in message
    assert "becomes the baseline" not in message


def test_a_warning_level_shift_becomes_the_new_level_after_three_days():
    results = _outage("warning")
    assert [r["success"] for r in results] == [False, False, False, True]


def test_an_accepted_critical_level_is_the_baseline():
    monday = dt.date(2026, 8, 31)
    values = {monday - dt.timedelta(days=i): 1000.0 for i in range(4, 14)}
    verdicts = {}
    for k in (3, 2, 1):
        values[monday - dt.timedelta(days=k)] = 400.0
        verdicts[monday - dt.timedelta(days=k)] = {"status": "critical", "direction": -1}
    accepted = [monday - dt.timedelta(days=3)]
    result = _drop_check("critical").check(_series(values, monday, 400, verdicts, accepted=accepted))
    assert result["success"], result["result"]["details"]["message"]


def test_an_errored_day_never_counts_toward_a_new_level():
    monday = dt.date(2026, 8, 31)
    values = {monday - dt.timedelta(days=i): 1000.0 for i in range(4, 14)}
    verdicts = {}
    for k, status in ((3, "warning"), (2, "error"), (1, "warning")):
        values[monday - dt.timedelta(days=k)] = 1300.0
        verdicts[monday - dt.timedelta(days=k)] = {"status": status, "direction": 1}
    check = ExpectDayMetricToMatchBaseline(metric="rows", max_rise_pct=20, counts=True, check_name="total_events_shift")
    check.severity = "warning"
    assert not check.check(_series(values, monday, 1300, verdicts))["success"]


def test_an_accepted_level_keeps_the_weekly_pattern():
    """Six weeks with a strong Sunday, then a lasting +30% (accepted): the first Sunday after
    the accept is a normal Sunday at the new level, not a warning."""
    sunday = dt.date(2026, 8, 30)
    values = _weekly(6, 1000, sunday=1.3, end=sunday)
    verdicts = {}
    for k in (3, 2, 1):  # Thursday..Saturday at the new level, each warned
        day = sunday - dt.timedelta(days=k)
        values[day] = 1300.0
        verdicts[day] = {"status": "warning", "direction": 1}
    check = ExpectDayMetricToMatchBaseline(metric="rows", max_drop_pct=20, max_rise_pct=20, counts=True,
                                           check_name="total_events_shift", history_days=42)
    check.severity = "warning"
    result = check.check(_series(values, sunday, 1300 * 1.3, verdicts))
    details = result["result"]["details"]
    assert result["success"], details["message"]
    assert details["baseline_since"] == str(sunday - dt.timedelta(days=3))


def test_housekeeping_after_the_verdict_never_changes_the_exit_code(db, tmp_path, gx_root):
    """Data Docs pruning and page rewriting run after the verdict is stored: when they fail
    (here a stylesheet that cannot be read), the run still exits with its verdict."""
    import json
    import shutil

    from monitor import gx_project
    from tests.conftest import INCIDENT_DAY, load_day
    from tests.test_cli import runner

    load_day(tmp_path, INCIDENT_DAY, sessions=200)
    broken = gx_project.docs_site() / "static" / "styles" / "broken.css"
    broken.mkdir(parents=True, exist_ok=True)  # a "stylesheet" that is a folder: reading it fails
    try:
        run = runner("run", "--date", str(INCIDENT_DAY), "--json", "--no-notify", url=db)
    finally:
        shutil.rmtree(broken, ignore_errors=True)
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["date"] == str(INCIDENT_DAY)
    assert "housekeeping failed" in run.stderr
    gate = runner("status", "--date", str(INCIDENT_DAY), "--json", url=db)
    assert gate.returncode == run.returncode, gate.stdout


def test_debug_works_after_the_command(db):
    from tests.test_cli import runner

    after = runner("run", "--date", "2026-13-01", "--debug", url=db)
    assert after.returncode == 2 and "bad date '2026-13-01'" in after.stderr and "invalid choice" not in after.stderr
    assert "unrecognized arguments" not in after.stderr


def test_future_is_judged_against_when_the_rows_arrived(db, tmp_path):
    """A device clock two hours fast on day D, validated the next morning (issue 20, item 4):
    the rows were two hours ahead of their load, though they are in the past by the time
    of the run. Rerunning the day gives the same counts."""
    import datetime as dt

    import sqlalchemy as sa

    from monitor import database, loader, pipeline, settings

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    loaded_at = now - dt.timedelta(hours=3)  # the load ran three hours ago...
    stamped = loaded_at + dt.timedelta(hours=2)  # ...with rows stamped two hours after it
    day = stamped.date()
    path = tmp_path / "fast_clock.csv"
    good = [f"c{i},{(loaded_at - dt.timedelta(minutes=i)).isoformat()},page_viewed,{{}}" for i in range(1, 30)]
    fast = [f"f{i},{stamped.isoformat()},page_viewed,{{}}" for i in range(3)]
    path.write_text("client_id,timestamp,event_name,event_data\n" + "\n".join(good + fast) + "\n")
    loader.load_file(database.engine(), settings.load(), path, day)
    with database.engine().begin() as conn:
        conn.execute(sa.text("UPDATE events.loads SET loaded_at = :t"), {"t": loaded_at})
    counts = []
    for _ in range(2):
        pipeline.run_day(day, settings.load(), send=False)
        with database.engine().connect() as conn:
            counts.append(conn.execute(sa.text("SELECT value FROM monitor.daily_metrics WHERE day = :d"
                                               " AND metric = 'future_timestamp'"), {"d": day}).scalar())
    assert counts == [3, 3], counts


def test_a_late_hit_from_the_day_before_makes_no_day_long_session(db, tmp_path):
    import datetime as dt

    import sqlalchemy as sa

    from monitor import database, loader, pipeline, settings

    day = dt.date(2026, 10, 7)
    rows = [f'c1,{day}T10:0{i}:00Z,page_viewed,"{{""session_id"":""s1""}}"' for i in range(5)]
    rows.append(f'c1,{day - dt.timedelta(days=1)}T10:00:00Z,page_viewed,"{{""session_id"":""s1""}}"')  # late
    path = tmp_path / "late.csv"
    path.write_text("client_id,timestamp,event_name,event_data\n" + "\n".join(rows) + "\n")
    loader.load_file(database.engine(), settings.load(), path, day)
    pipeline.run_day(day, settings.load(), send=False)
    with database.engine().connect() as conn:
        duration = conn.execute(sa.text("SELECT value FROM monitor.daily_metrics WHERE day = :d"
                                        " AND metric = 'avg_session_duration_s'"), {"d": day}).scalar()
    assert duration == 240  # 10:00 to 10:04, not 24 hours


def test_the_airflow_gate_is_not_retried_on_a_critical_verdict():
    """Exit 1 is an answer, not a failure: a retry would only give it again (issue 20, item 7)."""
    import ast

    from tests.test_examples import EXAMPLES

    tree = ast.parse((EXAMPLES / "airflow_dag.py").read_text())
    gate = next(c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "BashOperator"
                and any(k.arg == "task_id" and k.value.value == "data_quality_gate" for k in c.keywords))
    assert {k.arg: getattr(k.value, "value", None) for k in gate.keywords}.get("retries") == 0


def test_acceptances_are_recorded_with_who_and_when_and_shown(db, tmp_path):
    """A person's `accept` and the automatic acceptance of a lasting warning-level change are
    both recorded (who or what, when), shown by `status`, and named in the check's next alert."""
    import datetime as dt
    import json

    from monitor import pipeline, settings
    from tests.conftest import load_day
    from tests.test_cli import runner

    start = dt.date(2026, 10, 1)
    for i in range(5):
        load_day(tmp_path, start + dt.timedelta(days=i), sessions=300, seed=40 + i)
        pipeline.run_day(start + dt.timedelta(days=i), settings.load(), send=False)
    for i in range(5, 9):  # a lasting 40% more traffic: sessions_shift warns three days, then it is the level
        load_day(tmp_path, start + dt.timedelta(days=i), ("traffic_spike",), sessions=300, seed=40 + i)
        summary = pipeline.run_day(start + dt.timedelta(days=i), settings.load(), send=False)
    fourth = {r.check: r for r in summary.results}["sessions_shift"]
    assert fourth.status == "pass" and "accepted automatically" in fourth.message, fourth.message
    assert runner("accept", "--date", str(start + dt.timedelta(days=8)), "--check", "total_events_drop",
                  url=db).returncode == 0
    status = json.loads(runner("status", "--json", url=db).stdout)
    found = {(d["date"], a["check"]): a for d in status["days"] for a in d.get("acceptances", [])}
    auto = found[(str(start + dt.timedelta(days=5)), "sessions_shift")]
    manual = found[(str(start + dt.timedelta(days=8)), "total_events_drop")]
    assert auto["by"].startswith("automatically") and manual["by"].endswith("(runner.py accept)")
    assert manual["at"] and auto["at"]
