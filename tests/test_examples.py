"""The orchestration examples run: each command line they build is executed against the
real runner on the embedded database (no orchestrator needed), and its exit code
routes the way the example says."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from monitor import generator
from monitor.cli import build_parser
from monitor.settings import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples"
COMMANDS = set(build_parser()._subparsers._group_actions[0].choices)
RUNNER = f"{sys.executable} {PROJECT_ROOT / 'runner.py'}"
YESTERDAY = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
BROKEN_DAY = dt.date(2026, 10, 2)


def _shell(command: str, db: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, DATABASE_URL=db, **env))


def _export(folder, day, incidents=()):
    """The day's export where the examples expect it (events_YYYY-MM-DD.csv)."""
    rows = generator.Generator(seed=day.toordinal() % 97, sessions_per_day=300).day_rows(day, incidents)
    return generator.write_csv(folder / f"events_{day}.csv", rows, incidents)


def test_crontab_lines_are_valid_and_use_real_commands():
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert lines
    for line in lines:
        fields = line.split(None, 5)
        assert len(fields) == 6
        for field, (low, high) in zip(fields[:5], [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]):
            assert field == "*" or low <= int(field) <= high, line
        used = re.findall(r"runner\.py (\w+)", fields[5])
        assert used and set(used) <= COMMANDS, used


def _cron_command(tmp_path) -> str:
    line = next(x for x in (EXAMPLES / "crontab").read_text().splitlines() if "runner.py run" in x)
    command = line.split(None, 5)[5].replace("\\%", "%")  # cron's escape for %
    command = command.replace("cd /opt/event-monitor && .venv/bin/python runner.py", RUNNER)
    return command.replace("/var/log/event-monitor", str(tmp_path)).replace("/var/run/event-monitor", str(tmp_path))


@pytest.mark.parametrize("broken", [False, True], ids=["clean-day", "critical-day"])
def test_crontab_gate_touches_the_marker_only_for_a_good_day(db, tmp_path, broken):
    path = _export(tmp_path, YESTERDAY, ("zero_purchase",) if broken else ())
    assert subprocess.run(RUNNER.split() + ["load", str(path), "--date", str(YESTERDAY)],
                          env=dict(os.environ, DATABASE_URL=db), capture_output=True).returncode == 0
    proc = _shell(_cron_command(tmp_path), db)
    assert proc.returncode == (1 if broken else 0), proc.stderr
    summary = json.loads((tmp_path / "runs.jsonl").read_text().splitlines()[-1])
    assert summary["date"] == str(YESTERDAY)
    assert (tmp_path / f"ok-{YESTERDAY}").exists() is (not broken)


def _airflow_commands(dag: str = "airflow_dag.py") -> dict[str, str]:
    """task_id -> bash_command of the DAG's BashOperators, with MONITOR resolved."""
    tree = ast.parse((EXAMPLES / dag).read_text())
    monitor = next(n.value.value for n in ast.walk(tree)
                   if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "MONITOR")
    out = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "BashOperator":
            kw = {k.arg: k.value for k in call.keywords}
            cmd = kw["bash_command"]
            text = (monitor + cmd.right.value) if isinstance(cmd, ast.BinOp) else cmd.value
            out[kw["task_id"].value] = text
    return out


def test_airflow_tasks_load_with_retries_and_gate(db, tmp_path):
    cmds = _airflow_commands()
    assert set(cmds) == {"load_events", "data_quality_gate", "transform"}
    day = BROKEN_DAY

    def render(task):
        return (cmds[task].replace("{{ ds }}", str(day))
                .replace("cd /opt/event-monitor && .venv/bin/python runner.py", RUNNER)
                .replace("/data/exports", str(tmp_path)))

    _export(tmp_path, day, ("zero_purchase",))
    for attempt in range(2):  # a retried task replaces the day's rows, never doubles them
        assert _shell(render("load_events"), db).returncode == 0
    gate = _shell(render("data_quality_gate"), db)
    assert gate.returncode == 1  # BashOperator fails: transform never runs
    assert json.loads(gate.stdout)["status"] == "critical"
    status = json.loads(_shell(f"{RUNNER} status --date {day} --json", db).stdout)
    assert status["loads"] == 1
    _export(tmp_path, day)  # the fixed export, retried
    assert _shell(render("load_events"), db).returncode == 0
    assert _shell(render("data_quality_gate"), db).returncode == 0


def _hour_export(folder, day: dt.date, hour: int, name: str):
    """One hour of a generated day, as the hourly examples expect it."""
    rows = generator.Generator(seed=hour, sessions_per_day=2000).day_rows(day)
    return generator.write_csv(folder / name, [r for r in rows if int(r[1][11:13]) == hour])


def _cron_line(tmp_path, command: str) -> str:
    line = next(x for x in (EXAMPLES / "crontab").read_text().splitlines() if f"runner.py {command}" in x)
    text = line.split(None, 5)[5].replace("\\%", "%")
    text = text.replace("cd /opt/event-monitor && .venv/bin/python runner.py", RUNNER)
    return text.replace("/var/log/event-monitor", str(tmp_path)).replace("/data/exports", str(tmp_path))


def test_crontab_intraday_lines_load_the_last_hour_and_judge_the_day_so_far(db, tmp_path):
    hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    _hour_export(tmp_path, hour_ago.date(), hour_ago.hour, f"events_{hour_ago:%Y-%m-%d_%H}.csv")
    for attempt in range(2):  # a retried load replaces the hour's rows
        load = _shell(_cron_line(tmp_path, "load"), db)
        assert load.returncode == 0, load.stderr
    watch = _shell(_cron_line(tmp_path, "intraday"), db)
    assert watch.returncode == 0, (tmp_path / "errors.log").read_text()
    summary = json.loads((tmp_path / "intraday.jsonl").read_text().splitlines()[-1])
    assert summary["date"] == str(dt.datetime.now(dt.timezone.utc).date()) and "until" in summary
    status = json.loads(_shell(f"{RUNNER} status --date {hour_ago.date()} --json", db).stdout)
    assert status["loads"] == 1


@pytest.mark.parametrize("start, until", [("09:05", "10:00"), ("23:05", "24:00")], ids=["morning", "last-hour"])
def test_airflow_intraday_dag_loads_the_hour_and_judges_up_to_its_end(db, tmp_path, start, until):
    import jinja2

    cmds = _airflow_commands("airflow_intraday_dag.py")
    assert set(cmds) == {"load_hour", "intraday"}
    begin = dt.datetime.combine(BROKEN_DAY, dt.time.fromisoformat(start), dt.timezone.utc)
    env = jinja2.Environment()
    env.filters["ds"] = lambda d: d.strftime("%Y-%m-%d")

    def render(task):
        text = env.from_string(cmds[task]).render(data_interval_start=begin,
                                                  data_interval_end=begin + dt.timedelta(hours=1))
        return text.replace("cd /opt/event-monitor && .venv/bin/python runner.py", RUNNER).replace(
            "/data/exports", str(tmp_path))

    _hour_export(tmp_path, BROKEN_DAY, begin.hour, f"events_{begin:%Y-%m-%d_%H}.csv")
    assert _shell(render("load_hour"), db).returncode == 0
    watch = _shell(render("intraday"), db)
    assert watch.returncode == 0, watch.stderr
    summary = json.loads(watch.stdout)
    assert summary["date"] == str(BROKEN_DAY) and summary["until"] == until


def _pure_functions(path, names: set[str], **overrides) -> dict:
    """The example's command-building functions, run without the orchestrator installed."""
    tree = ast.parse(path.read_text())
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    namespace = {"json": json, "subprocess": subprocess, **overrides}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), namespace)
    return namespace


@pytest.mark.parametrize("partition", [True, False], ids=["partition-key", "no-partition-key"])
def test_dagster_check_gates_on_the_runner(db, tmp_path, partition):
    ns = _pure_functions(EXAMPLES / "dagster_asset_check.py", {"load_command", "gate_command", "gate_result"},
                         MONITOR=RUNNER.split())
    day = YESTERDAY
    load = ns["load_command"](str(day))
    load = [str(tmp_path / f"events_{day}.csv") if a.startswith("/data/exports") else a for a in load]
    _export(tmp_path, day, ("zero_purchase",))
    env = dict(os.environ, DATABASE_URL=db)
    assert subprocess.run(load, env=env, capture_output=True).returncode == 0
    command = ns["gate_command"](str(day) if partition else None)
    assert None not in command
    result = ns["gate_result"](subprocess.run(command, env=env, capture_output=True, text=True))
    assert result["passed"] is False and result["critical"] is True
    assert result["metadata"]["date"] == str(day)
    with pytest.raises(RuntimeError, match="bad date"):
        ns["gate_result"](subprocess.run(ns["gate_command"]("2026-13-01"), env=env, capture_output=True, text=True))


def _dbt_stand_in(tmp_path, db) -> str:
    """Plays `dbt`: run-operation executes the macro's gate query on the real database, build logs itself."""
    macro = (EXAMPLES / "dbt" / "macros" / "event_monitor_gate.sql").read_text()
    gate_sql = macro.split("{% set gate_sql %}")[1].split("{% endset %}")[0]
    script = tmp_path / "dbt"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, re, sqlalchemy as sa
        args = sys.argv[1:]
        if args[0] == "run-operation":
            day = re.search(r"day: '([0-9-]+)'", " ".join(args)).group(1)
            sql = {gate_sql!r}.replace("{{{{ day }}}}", day)
            with sa.create_engine({db!r}).connect() as conn:
                verdict = conn.execute(sa.text(sql)).scalar()
            print("gate:", verdict)
            sys.exit(0 if verdict == "open" else 1)
        open({str(tmp_path / "dbt.log")!r}, "a").write(" ".join(args) + "\\n")
        """))
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("broken", [False, True], ids=["gate-open", "gate-closed"])
def test_dbt_models_build_only_behind_an_open_gate(db, tmp_path, broken):
    day = BROKEN_DAY
    path = _export(tmp_path, day, ("null_event_name",) if broken else ())
    _shell(f"{RUNNER} load {path} --date {day}", db)
    proc = _shell(f"{EXAMPLES / 'dbt' / 'run_after_gate.sh'} {day}", db, MONITOR=RUNNER,
                  DBT=_dbt_stand_in(tmp_path, db))
    built = (tmp_path / "dbt.log").exists()
    assert proc.returncode == (1 if broken else 0), proc.stderr
    assert built is (not broken)


def test_dbt_macro_refuses_a_stale_or_missing_verdict(db, tmp_path):
    day = BROKEN_DAY
    dbt = _dbt_stand_in(tmp_path, db)
    never = _shell(f"{dbt} run-operation event_monitor_gate --args \"{{day: '{day}'}}\"", db)
    assert never.returncode == 1 and "never run" in never.stdout
    path = _export(tmp_path, day)
    _shell(f"{RUNNER} load {path} --date {day}", db)
    assert _shell(f"{RUNNER} run --date {day}", db).returncode == 0
    assert _shell(f"{dbt} run-operation event_monitor_gate --args \"{{day: '{day}'}}\"", db).returncode == 0
    late = tmp_path / "late.csv"
    late.write_text(f"client_id,timestamp,event_name,event_data\nc1,{day}T10:00:00Z,page_viewed,{{}}\n")
    _shell(f"{RUNNER} load {late} --date {day}", db)
    stale = _shell(f"{dbt} run-operation event_monitor_gate --args \"{{day: '{day}'}}\"", db)
    assert stale.returncode == 1 and "stale" in stale.stdout


def _n8n_route(workflow: dict, exit_code: int) -> str:
    """The node the workflow's IF sends an Execute Command result to, by n8n's rules for this condition."""
    gate = next(n for n in workflow["nodes"] if n["type"] == "n8n-nodes-base.if")
    (cond,) = gate["parameters"]["conditions"]["conditions"]
    assert cond["leftValue"] == "={{ $json.exitCode }}" and cond["operator"]["operation"] == "equals"
    branch = 0 if exit_code == cond["rightValue"] else 1
    return workflow["connections"][gate["name"]]["main"][branch][0]["node"]


@pytest.mark.parametrize("broken", [False, True], ids=["gate-open", "gate-closed"])
def test_n8n_workflow_routes_on_the_exit_code(db, tmp_path, broken):
    workflow = json.loads((EXAMPLES / "n8n" / "event_monitor_gate.json").read_text())
    validate = next(n for n in workflow["nodes"] if n["name"] == "Validate yesterday")
    assert validate["type"] == "n8n-nodes-base.executeCommand"
    assert workflow["connections"]["Validate yesterday"]["main"][0][0]["node"] == "Gate open? (exit code 0)"
    path = _export(tmp_path, YESTERDAY, ("zero_purchase",) if broken else ())
    _shell(f"{RUNNER} load {path} --date {YESTERDAY}", db)
    command = validate["parameters"]["command"].replace("cd /opt/event-monitor && .venv/bin/python runner.py", RUNNER)
    proc = _shell(command, db)
    assert json.loads(proc.stdout)["date"] == str(YESTERDAY)
    expected = "Stop: data not trusted" if broken else "Run downstream models"
    assert _n8n_route(workflow, proc.returncode) == expected


SOURCE_DAY = "2026-09-01"


@pytest.mark.parametrize("preset", ["snowplow", "segment", "ga4", "shopify"])
def test_each_source_example_runs_in_place_with_its_one_line(db, monkeypatch, capsys, preset):
    """examples/sources/<preset>: the table as that pipeline writes it, and the one-line
    monitor.toml; `run` reads it in place: every funnel step, revenue, devices, no false
    field-health alert, and `show`-able samples by row_id when there are any."""
    import sqlalchemy as sa

    from monitor import database
    from monitor.cli import main

    folder = EXAMPLES / "sources" / preset
    with database.engine().begin() as conn:
        conn.connection.cursor().execute((folder / "table.sql").read_text())  # no parameters: % is modulo
    monkeypatch.setenv("MONITOR_CONFIG", str(folder / "monitor.toml"))
    assert main(["run", "--date", SOURCE_DAY, "--json", "--no-notify"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "pass", out["alerts"]
    with database.engine().connect() as conn:
        m = dict(conn.execute(sa.text("SELECT metric || ':' || dimension, value FROM monitor.daily_metrics "
                                      "WHERE day = :d"), {"d": SOURCE_DAY}).all())
    from monitor import settings

    ev = settings.load().events
    assert m["rows:"] > 600
    assert [m[f"events:{n}"] for n in (ev.page_view, ev.add_to_cart, ev.checkout, ev.purchase)] == [600, 60, 30, 15]
    assert m["revenue:"] > 0 and m["invalid_revenue:"] == 0 and m["duplicate_order_ids:"] == 0
    assert m["null_client_id:"] == 0 and m["invalid_timestamp:"] == 0 and m["malformed_json:"] == 0
    assert m["sessions:"] >= 240 and m.get("missing_column:event_data", 0) == 0
    devices = {k.split(":")[1] for k in m if k.startswith("device_share:")}
    assert len(devices - {"unknown"}) == 2, ("devices come from the relation's agents (or its device column)", devices)
