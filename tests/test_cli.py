"""The CLI as a user meets it: real processes, exit codes, one-line errors, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import settings
from monitor.settings import PROJECT_ROOT
from tests.conftest import load_day


def runner(*args, url: str | None = None, env: dict | None = None):
    full_env = dict(os.environ, **(env or {}))
    if url:
        full_env["DATABASE_URL"] = url
    return subprocess.run([sys.executable, str(PROJECT_ROOT / "runner.py"), *args], capture_output=True,
                          text=True, env=full_env, timeout=300)


def _one_line_error(proc, code: int, fragment: str):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, fragment", [
    (["run", "--date", "2026-13-01"], "bad date '2026-13-01'"),
    (["run", "--date", "yesterday"], "bad date 'yesterday'"),
    (["backfill", "--start", "2026-11-02", "--end", "2026-11-01"], "is before --start"),
    (["backfill", "--start", "2026-11-01"], "required"),
    (["frobnicate"], "invalid choice"),
], ids=["month-13", "word", "reversed-range", "missing-date", "unknown-command"])
def test_usage_errors_exit_2_with_one_line(args, fragment, db):
    _one_line_error(runner(*args, url=db), 2, fragment)


def test_missing_file_exits_2(db, tmp_path):
    _one_line_error(runner("load", str(tmp_path / "missing.csv"), url=db), 2, "no such file")


def test_unreadable_csv_exits_2(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('client_id,timestamp,event_name,event_data\nc1,"unterminated\n')
    _one_line_error(runner("load", str(bad), "--date", "2026-11-01", url=db), 2, "unreadable CSV")


def test_bad_config_exits_2(db, tmp_path):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text("[thresholds]\nno_such_threshold = 3\n")
    _one_line_error(runner("status", url=db, env={"MONITOR_CONFIG": str(cfg)}), 2, "no_such_threshold")


def test_missing_config_file_exits_2(db, tmp_path):
    proc = runner("status", url=db, env={"MONITOR_CONFIG": str(tmp_path / "nope.toml")})
    _one_line_error(proc, 2, "nope.toml: no such file")


def test_embedded_server_prints_no_runtime_dir_warning(db, state_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "DATABASE_URL")}
    env["MONITOR_HOME"] = str(state_dir)  # the tests' own embedded server, reused
    proc = subprocess.run([sys.executable, str(PROJECT_ROOT / "runner.py"), "status"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert "XDG_RUNTIME_DIR" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr


def test_unreachable_database_exits_3_without_password(tmp_path):
    url = "postgresql://monitor:s3cret-pw@127.0.0.1:1/events"
    proc = runner("status", url=url)
    _one_line_error(proc, 3, "database unreachable")
    assert "s3cret-pw" not in proc.stderr + proc.stdout


def test_run_json_gate_and_status(db, tmp_path):
    load_day(tmp_path, __import__("datetime").date(2026, 11, 20), ("zero_purchase",))
    proc = runner("run", "--date", "2026-11-20", "--json", url=db)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    body = json.loads(lines[0])
    assert set(body) == {"date", "status", "alerts", "checks", "passed", "skipped", "run_id"}
    assert body["date"] == "2026-11-20" and body["status"] == "critical"
    zero = [a for a in body["alerts"] if a["check"] == "zero_purchase"][0]
    assert zero == {"check": "zero_purchase", "category": "volume", "severity": "critical",
                    "message": zero["message"], "observed": 0, "expected": ">= 1"}
    assert zero["message"].startswith("purchase events = 0 on 2026-11-20")
    assert body["checks"] == body["passed"] + body["skipped"] + len(body["alerts"])

    status = runner("status", "--date", "2026-11-20", "--json", url=db)
    assert status.returncode == 1  # the latest stored verdict is critical: the gate stays shut
    entry = json.loads(status.stdout)
    assert entry["latest"] == {"status": "critical", "run_id": body["run_id"], "alerts": len(body["alerts"])}
    assert entry["rows"] > 1000 and entry["loads"] == 1

    full = json.loads(runner("status", "--json", url=db).stdout)
    assert [d["date"] for d in full["days"]] == ["2026-11-20"]
    assert full["database"].startswith("postgresql")

    never = runner("status", "--date", "2026-11-21", "--json", url=db)
    assert never.returncode == 1 and json.loads(never.stdout)["latest"] is None


def test_warning_passes_unless_fail_on_warning(db, tmp_path):
    import datetime as dt

    load_day(tmp_path, dt.date(2026, 11, 20), ("unknown_event_name",))
    assert runner("run", "--date", "2026-11-20", url=db).returncode == 0
    assert runner("run", "--date", "2026-11-20", "--fail-on", "warning", url=db).returncode == 1


def test_settings_defaults_are_the_contract():
    t = settings.Settings().thresholds
    assert (t.total_events_warn_pct, t.total_events_critical_drop_pct, t.page_view_drop_warn_pct) == (20, 50, 25)
    assert (t.malformed_json_critical_pct, t.duplicate_spike_critical_pct, t.funnel_drop_warn_pct) == (1, 20, 50)
    assert (t.session_duration_warn_pct, t.page_depth_warn_pct) == (25, 25)
    assert settings.Settings().sessions.inactivity_minutes == 30
    assert settings.Settings().baseline.window_days == 7 and settings.Settings().baseline.min_history_days == 3


def test_concurrent_runs_of_a_day_do_not_interleave(db, tmp_path):
    import datetime as dt

    import sqlalchemy as sa

    from monitor import database

    load_day(tmp_path, dt.date(2026, 11, 20), ("zero_purchase",))
    env = dict(os.environ, DATABASE_URL=db)
    cmd = [sys.executable, str(PROJECT_ROOT / "runner.py"), "run", "--date", "2026-11-20", "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], outs
    with database.engine().connect() as conn:
        runs = conn.execute(sa.text(
            """SELECT r.run_id, r.started_at, r.finished_at, count(m.*) AS checks,
                      min(m.run_time) AS first_result, max(m.run_time) AS last_result
               FROM monitor.runs r JOIN monitor.monitoring_results m USING (run_id)
               GROUP BY 1, 2, 3 ORDER BY r.started_at""")).all()
    from expectations import SUITES

    defined = sum(len(build(settings.load())) for build in SUITES.values())
    assert len(runs) == 2 and all(r.checks == defined for r in runs)
    assert runs[0].finished_at <= runs[1].started_at  # the second waited for the first


def test_a_python_without_the_dependencies_gets_a_hint_not_an_infrastructure_error():
    # -S: no site-packages, as with a system python that never saw `pip install`
    proc = subprocess.run([sys.executable, "-S", str(PROJECT_ROOT / "runner.py"), "status"], capture_output=True,
                          text=True, timeout=60, cwd=PROJECT_ROOT)
    _one_line_error(proc, 2, "missing dependency")
    assert "event-monitor" in proc.stderr


def test_console_script_is_the_same_command_line(db):
    script = Path(sys.executable).with_name("event-monitor")
    proc = subprocess.run([str(script), "status", "--json"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, DATABASE_URL=db))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["days"] == []
    usage = subprocess.run([str(script), "run", "--date", "2026-13-01"], capture_output=True, text=True, timeout=60)
    _one_line_error(usage, 2, "bad date")


@pytest.mark.parametrize("variable, value, fragment", [
    ("MONITOR__THRESHOLDS__SESSIONS_WARN_PCT", "-3", "MONITOR__THRESHOLDS__SESSIONS_WARN_PCT: Input should be greater than 0"),
    ("MONITOR__THRESHOLDS__NO_SUCH_KEY", "1", "MONITOR__THRESHOLDS__NO_SUCH_KEY: Extra inputs are not permitted"),
    ("MONITOR__THRESHOLDS", "1", "expected MONITOR__<SECTION>__<KEY>"),
], ids=["bad-value", "unknown-key", "no-key"])
def test_an_environment_override_is_checked_like_the_file(variable, value, fragment):
    _one_line_error(runner("status", env={variable: value}), 2, fragment)


def test_environment_overrides_any_key_over_the_file(tmp_path, monkeypatch):
    config = tmp_path / "monitor.toml"
    config.write_text("[thresholds]\nsessions_warn_pct = 30.0\n[alerting]\nretries = 5\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    monkeypatch.setenv("MONITOR__THRESHOLDS__SESSIONS_WARN_PCT", "12.5")
    monkeypatch.setenv("MONITOR__SPARK__CONF", '{ "spark.executor.memory" = "8g" }')
    monkeypatch.setenv("MONITOR__EVENTS__PURCHASE", "order_completed")  # not TOML: taken as text
    monkeypatch.setenv("SMTP_PORT", "2525")
    s = settings.load()
    assert s.thresholds.sessions_warn_pct == 12.5 and s.alerting.retries == 5  # the file's other keys stay
    assert s.spark.conf == {"spark.executor.memory": "8g"} and s.events.purchase == "order_completed"
    assert s.secrets.smtp_port == 2525  # secrets: typed fields of the same model, from the environment


def test_secrets_never_come_from_the_file(tmp_path):
    config = tmp_path / "monitor.toml"
    config.write_text('[secrets]\nslack_webhook_url = "https://hooks.example/x"\n')
    _one_line_error(runner("status", env={"MONITOR_CONFIG": str(config)}), 2, "secrets come from the environment")
