"""`run --engine spark` as a downstream job calls it (README, "Engines: PostgreSQL or Spark"):
the same verdicts as the PostgreSQL engine over every incident of the catalog, and the
contract's exit codes when Spark or the lake fails. Apart from test_spark_engine.py (the
engines' metrics, in one JVM) so the two files run on different workers."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from custom_expectations import baseline
from expectations import SUITES
from monitor import database, generator, loader, settings
from tests.test_spark_engine import DAY, ROOT

HISTORY = 5
# every incident of the generator's catalog, a few that do not mask each other per day
INCIDENT_DAYS = [
    ("zero_purchase", "null_client_id", "unexpected_column", "broken_utm"),
    ("null_timestamp", "invalid_timestamp", "malformed_json_light", "bot_burst"),
    ("null_event_name", "unknown_event_name", "late_timestamp", "duplicate_spike"),
    ("future_timestamp", "malformed_json_heavy", "fast_scraper", "checkout_drop"),
    ("missing_column",),
    ("volume_drop", "lost_mobile_tracking"),
    ("traffic_spike", "page_view_drop", "fragmented_sessions"),
]


# how many offending rows each check lists in its message (the rest name only the first)
_LISTED = {getattr(e, "check_name", ""): getattr(e, "list_samples", 0)
           for suite in SUITES.values() for e in suite(settings.load())}


def _strip(summary: dict) -> dict:
    """A day's --json summary without what differs by design: the run id, and the
    offending rows PostgreSQL names (a lake file has no line numbers for Spark)."""
    alerts = []
    for a in summary["alerts"]:
        a = {k: v for k, v in a.items() if k != "samples"}
        samples = summary_samples(summary, a["check"])
        a["message"] = a["message"].replace(baseline.samples_phrase(samples, _LISTED.get(a["check"], 0)), "")
        alerts.append(a)
    return {**{k: v for k, v in summary.items() if k != "run_id"}, "alerts": alerts}


def summary_samples(summary: dict, check: str) -> list[dict]:
    return next((a.get("samples") or [] for a in summary["alerts"] if a["check"] == check), [])


def test_run_with_the_spark_engine_gives_the_postgres_verdicts(use_database, tmp_path):
    """Every incident of the generator's catalog after a few days of history:
    `backfill --engine spark` on the lake and `backfill` on the loaded rows print the same
    summaries, and `run --date D --engine spark` exits as `run --date D` does."""
    assert sorted(i for day in INCIDENT_DAYS for i in day) == sorted(generator.CATALOG)
    plan = [()] * HISTORY + INCIDENT_DAYS
    days = [DAY + dt.timedelta(days=i) for i in range(len(plan))]
    gen = generator.Generator(seed=3, sessions_per_day=300)
    lake = tmp_path / "lake"
    pg_url, spark_url = use_database(), use_database()
    config = tmp_path / "monitor.toml"
    config.write_text(f'[engine]\nspark_source = "{lake}"\n[spark]\nmaster = "local[2]"\n')
    env = dict(os.environ, MONITOR_CONFIG=str(config))
    for url in (pg_url, spark_url):
        assert subprocess.run([sys.executable, str(ROOT / "runner.py"), "init"], env=dict(env, DATABASE_URL=url),
                              capture_output=True, timeout=300).returncode == 0
    # managed PostgreSQL services end sessions idle in a transaction: the Spark runs hold none open
    # while their jobs compute (issue 20, item 6); a transaction held over a job fails its run
    with sa.create_engine(spark_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f"ALTER DATABASE {sa.engine.make_url(spark_url).database}"
                             " SET idle_in_transaction_session_timeout = '2s'"))
    database.use(pg_url)
    for day, inc in zip(days, plan):
        path = generator.write_csv(lake / f"date={day}" / "events.csv", gen.day_rows(day, inc), inc)
        loader.load_file(database.engine(), settings.load(), path, day)

    span = ("--start", str(days[0]), "--end", str(days[-1]), "--json")
    # the two backfills at once (different databases): the suite's longest test waits for the slower only
    runs = [subprocess.Popen([sys.executable, str(ROOT / "runner.py"), "backfill", *span, *extra],
                             env=dict(env, DATABASE_URL=url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for url, extra in ((pg_url, ()), (spark_url, ("--engine", "spark")))]
    outputs = [r.communicate(timeout=600) for r in runs]
    pg, sp = (subprocess.CompletedProcess(r.args, r.returncode, *out) for r, out in zip(runs, outputs))
    assert pg.returncode == sp.returncode == 1, (pg.stderr[-2000:], sp.stderr[-2000:])
    pg_days = [json.loads(line) for line in pg.stdout.splitlines()]
    sp_days = [json.loads(line) for line in sp.stdout.splitlines()]
    assert len(pg_days) == len(days) and sum(len(d["alerts"]) for d in pg_days) >= len(INCIDENT_DAYS)
    for inc, a, b in zip(plan, pg_days, sp_days):
        x, y = _strip(a), _strip(b)
        differ = [(p, q) for p, q in zip(x["alerts"], y["alerts"]) if p != q]
        assert x == y, f"{a['date']} ({inc or 'history'}): postgres != spark: {differ or (x, y)}"
    critical = next(d for d, s in zip(days, pg_days) if s["status"] == "critical")

    def both(*commands):  # the two engines' commands at once, as the backfills above
        procs = [subprocess.Popen([sys.executable, str(ROOT / "runner.py"), *args], env=dict(env, DATABASE_URL=url),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for url, args in commands]
        return [(p.returncode, out) for p, (out, _) in ((p, p.communicate(timeout=600)) for p in procs)]
    runs = both((spark_url, ("run", "--date", str(critical), "--engine", "spark", "--no-notify")),
                (pg_url, ("run", "--date", str(critical), "--no-notify")))
    assert [code for code, _ in runs] == [1, 1], runs
    # a lake day's rows are the run's count, though it has no loads
    pg_entry, sp_entry = (json.loads(out) for _, out in both(*((u, ("status", "--date", str(critical), "--json"))
                                                               for u in (pg_url, spark_url))))
    assert sp_entry["rows"] == pg_entry["rows"] > 0 and sp_entry["loads"] == 0


@pytest.mark.parametrize("case, code, fragment", [
    ("no-folder", 1, None),
    ("unreadable", 2, "events.parquet: unreadable"),
    ("bad-master", 3, "Spark did not start"),
], ids=["missing-partition-is-no-data", "unreadable-file-exits-2", "spark-failure-exits-3"])
def test_spark_failures_give_the_contracts_exit_codes(db, tmp_path, case, code, fragment):
    lake = tmp_path / "lake"
    (lake / "date=2026-06-09").mkdir(parents=True)
    if case == "unreadable":
        (lake / f"date={DAY}").mkdir()
        (lake / f"date={DAY}" / "events.parquet").write_bytes(b"PAR1 not really")
    master = "bogus://nowhere" if case == "bad-master" else "local[1]"
    config = tmp_path / "monitor.toml"
    config.write_text(f'[engine]\nname = "spark"\nspark_source = "{lake}"\n[spark]\nmaster = "{master}"\n')
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), "run", "--date", str(DAY), "--json", "--no-notify"],
                          env=dict(os.environ, MONITOR_CONFIG=str(config), DATABASE_URL=db),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == code, proc.stderr[-2000:]
    if fragment is None:
        summary = json.loads(proc.stdout)
        assert [a["check"] for a in summary["alerts"] if a["severity"] == "critical"][:1] == ["no_data"], summary
    else:
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and fragment in last and "Traceback" not in proc.stderr, proc.stderr[-2000:]
