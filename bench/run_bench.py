"""Benchmark a day's `runner.py run` against history size and a hand-written SQL pass.

For a target day of 100k and of 1M events it times, in one session on one server:
  * `python runner.py run --date D` (process start to exit), with 14 days of
    history and again with 140 days (10x) in the table;
  * the same run in-process (no interpreter start / imports), for the 1M target;
  * two hand-written SQL passes, under the session settings the metrics pass gets:
    bench/same_metrics_baseline.sql computes the same metrics as the run (the
    contract's reference; checked to agree with what the run stored), and
    bench/raw_metrics_baseline.sql only the raw ones (no sessions, channels,
    devices), a stricter yardstick;
  * `python runner.py load FILE --date D` of the target day's file into the
    140-day table, process start to exit (rows/s), and the run's peak RSS;
  * DuckDB computing the core metrics straight from the target day's CSV
    (bench/duckdb_core_metrics.sql; checked against what the run stored), the
    contract's yardstick for a 1M-event day's run (bench-only: pip install -e '.[bench]').
History days hold 100k events each (copies of one generated day, timestamps shifted).

The SQL passes, the process run and the in-process run alternate within each
repeat, after a VACUUM, so drift and autovacuum hit them alike.

Usage: python bench/run_bench.py [--sizes 100000,1000000] [--repeat 3]
Writes bench/results/latest.md and prints it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from monitor import settings  # noqa: E402
from monitor.store import database
from monitor.demo import generator
from monitor.sources import loader
from monitor.verdict import pipeline
from monitor.engines import postgres as backend  # noqa: E402

import bench_server  # noqa: E402

TARGET = dt.date(2026, 6, 30)
HISTORY_EVENTS = 100_000


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


RUN_RSS_MB: list[float] = []


def cli_run(url: str) -> None:
    """`runner.py run` as a downstream job calls it; records that process's own peak RSS.

    GNU time measures it: a child's ru_maxrss as seen from this process would
    include this (large) process's memory at fork time.
    """
    env = dict(os.environ, DATABASE_URL=url)
    cmd = [sys.executable, str(ROOT / "runner.py"), "run", "--date", str(TARGET), "--json"]
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if os.path.exists(gnu_time):
        cmd = [gnu_time, "-f", "maxrss_kb=%M"] + cmd
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"run failed: {proc.stderr}")
    kb = [line.split("=", 1)[1] for line in proc.stderr.splitlines() if line.startswith("maxrss_kb=")]
    if kb:
        RUN_RSS_MB.append(int(kb[-1]) / 1024)


def cli_load(url: str, file: Path, day: dt.date) -> None:
    """`runner.py load` as an ingestion job calls it, process start to exit."""
    cmd = [sys.executable, str(ROOT / "runner.py"), "load", str(file), "--date", str(day), "--force"]
    proc = subprocess.run(cmd, env=dict(os.environ, DATABASE_URL=url), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"load failed: {proc.stderr}")


def gx_import() -> None:
    subprocess.run([sys.executable, "-c", "import great_expectations"], check=True)


def copy_history(conn, template_day: dt.date, days: list[dt.date]) -> None:
    """Clone one loaded day into other partitions, shifting its timestamps."""
    load_id = conn.execute(sa.text("SELECT min(load_id) FROM events.raw_events WHERE partition_date = :d"),
                           {"d": template_day}).scalar()
    for day in days:
        shift = (day - template_day).days
        conn.execute(sa.text(
            """INSERT INTO events.raw_events (partition_date, load_id, line_no, client_id, "timestamp",
                                              event_name, event_data, extra)
               SELECT :day, load_id, line_no, client_id,
                      to_char((events.parse_ts("timestamp") + make_interval(days => :shift)) AT TIME ZONE 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                      event_name, event_data, extra
               FROM events.raw_events WHERE partition_date = :src"""),
            {"day": day, "shift": shift, "src": template_day})
        conn.execute(sa.text("INSERT INTO events.load_days (load_id, partition_date, row_count) "
                             "SELECT :l, :day, count(*) FROM events.raw_events WHERE partition_date = :day"),
                     {"l": load_id, "day": day})
        conn.commit()
    conn.execute(sa.text("SELECT brin_summarize_new_values('events.raw_events_day_brin')"))  # as `load` does
    conn.execute(sa.text("ANALYZE events.raw_events"))
    conn.commit()


DUCKDB_SQL = "duckdb_core_metrics.sql"
RAW_SQL = "raw_metrics_baseline.sql"
REF_SQL = "same_metrics_baseline.sql"


def check_same_metrics(eng, rows: list) -> None:
    """The reference pass must compute what the run stored, or the ratio means nothing."""
    reference = {(m, d): v for m, d, v in rows}
    with eng.connect() as conn:
        stored = {(m, d): v for m, d, v in conn.execute(sa.text(
            "SELECT metric, dimension, value FROM monitor.daily_metrics WHERE day = :d"
            " AND metric NOT IN ('missing_column', 'unexpected_column', 'column')"), {"d": TARGET})}
    differ = [k for k in set(stored) | set(reference)
              if k not in stored or k not in reference or abs(stored[k] - reference[k]) > 1e-9 * max(1, abs(stored[k]))]
    if differ:
        raise SystemExit(f"reference pass disagrees with the metrics pass on {sorted(differ)[:5]}")


def duckdb_pass(csv: Path, s: settings.Settings) -> dict:
    """The core metrics of the day from its CSV, in a fresh DuckDB (no load, no cache)."""
    import duckdb

    def lit(v: str) -> str:
        return "'" + v.replace("'", "''") + "'"

    ev = s.events
    sql = Template((HERE / DUCKDB_SQL).read_text()).substitute(
        csv=lit(str(csv)), day=lit(str(TARGET)), known="[" + ", ".join(lit(n) for n in ev.known) + "]",
        ev_page_view=lit(ev.page_view), ev_add_to_cart=lit(ev.add_to_cart), ev_checkout=lit(ev.checkout),
        ev_purchase=lit(ev.purchase))
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        return {(m, d): v for m, d, v in con.execute(sql).fetchall()}
    finally:
        con.close()


def check_duckdb(eng, duck: dict) -> None:
    """DuckDB's core metrics must be the run's (its sessions count bots too: the run's
    sessions plus bot_sessions), or its time is no yardstick."""
    with eng.connect() as conn:
        stored = {(m, d): v for m, d, v in conn.execute(sa.text(
            "SELECT metric, dimension, value FROM monitor.daily_metrics WHERE day = :d"), {"d": TARGET})}
    differ = []
    for (metric, dim), value in duck.items():
        if metric.endswith("_all"):
            continue  # session measures over bots and people alike: only the count is comparable
        if abs(stored.get((metric, dim), float("nan")) - value) > 1e-9 * max(1, abs(value)):
            differ.append((metric, dim))
    sessions = stored[("sessions", "")] + stored[("bot_sessions", "")]
    if duck[("sessions_all", "")] != sessions:
        differ.append(("sessions_all", ""))
    if differ:
        raise SystemExit(f"DuckDB's core metrics disagree with the run on {differ[:5]}")


def vacuum(server: str, name: str) -> None:
    """Settle the table as autovacuum would, so it does not run during the timings."""
    eng = sa.create_engine(database.with_database(server, name), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(sa.text("VACUUM (ANALYZE) events.raw_events"))
    eng.dispose()


def bench_size(server: str, size: int, repeat: int, work: Path) -> dict:
    name = f"bench_{size}"
    with bench_server.fresh_database(server, name) as url:
        return _bench_day(server, name, url, size, repeat, work)


def _bench_day(server: str, name: str, url: str, size: int, repeat: int, work: Path) -> dict:
    s = settings.load()
    eng = database.engine()

    first_hist = TARGET - dt.timedelta(days=14)
    hist_file = work / f"history_{first_hist}.csv"
    if not hist_file.exists():
        gen = generator.Generator(seed=5, sessions_per_day=HISTORY_EVENTS * 1500 // 5000)
        generator.write_csv(hist_file, gen.day_rows(first_hist))
    loader.load_file(eng, s, hist_file, first_hist)
    with eng.connect() as conn:
        copy_history(conn, first_hist, [first_hist + dt.timedelta(days=i) for i in range(1, 14)])

    target_file = work / f"target_{size}.csv"
    if not target_file.exists():
        gen = generator.Generator(seed=9, sessions_per_day=size * 1500 // 5000)
        generator.write_csv(target_file, gen.day_rows(TARGET))
    report = loader.load_file(eng, s, target_file, TARGET)
    for i in range(7, 0, -1):  # the baseline window the checks read
        pipeline.run_day(TARGET - dt.timedelta(days=i), s)

    params = backend.pass_params(s, TARGET)

    def sql_pass(file: str) -> list:
        with eng.begin() as conn:
            backend.set_pass_settings(conn.connection.cursor())  # the same settings the metrics pass gets
            return conn.exec_driver_sql((HERE / file).read_text(), params).fetchall()

    def in_process():
        pipeline.run_day(TARGET, s)

    def measure(history: str) -> None:
        # interleaved, so that the machine's drift hits the baselines and the runs alike
        vacuum(server, name)
        sql_pass(RAW_SQL)  # warm the cache like the runs after it
        for key in ("raw", "ref", "cli", "inproc"):
            out[f"{key}_{history}"] = []
        for _ in range(repeat):
            if history == "14":  # DuckDB reads the CSV: the table's history means nothing to it
                out["duck"] += timed(lambda: duckdb_pass(target_file, s), 1)
            out[f"raw_{history}"] += timed(lambda: sql_pass(RAW_SQL), 1)
            out[f"ref_{history}"] += timed(lambda: sql_pass(REF_SQL), 1)
            out[f"cli_{history}"] += timed(lambda: cli_run(url), 1)
            out[f"inproc_{history}"] += timed(in_process, 1)

    out = {"size": report.rows, "gx_import": timed(gx_import, repeat), "duck": []}
    measure("14")
    check_same_metrics(eng, sql_pass(REF_SQL))
    check_duckdb(eng, duckdb_pass(target_file, s))
    with eng.connect() as conn:
        older = [first_hist - dt.timedelta(days=i) for i in range(1, 127)]
        copy_history(conn, first_hist, older)
        out["history_rows_140"] = conn.execute(sa.text("SELECT count(*) FROM events.raw_events")).scalar()
    measure("140")
    # `load` of the same file as later days, into the table with 140 days of history
    out["load"] = [timed(lambda: cli_load(url, target_file, TARGET + dt.timedelta(days=i)), 1)[0]
                   for i in range(1, repeat + 1)]
    out["rss_mb"] = max(RUN_RSS_MB, default=float("nan"))
    RUN_RSS_MB.clear()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with bench_server.embedded_server("monitor-bench-") as (server, _, work):
        results = [bench_size(server, int(n), args.repeat, work) for n in args.sizes.split(",")]
    med = statistics.median
    lines = [f"# bench {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, median of {args.repeat}", "",
             "| target day | history | `run` process | `run` in-process | same-metrics SQL pass | in-process / "
             "same-metrics | raw-metrics SQL pass | in-process / raw-metrics | 140d / 14d (process) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for h in ("14", "140"):
            inproc = med(r[f"inproc_{h}"])
            lines.append(f"| {r['size']:,} | {h} days | {med(r[f'cli_{h}']):.2f} s | {inproc:.2f} s | "
                         f"{med(r[f'ref_{h}']):.2f} s | {inproc / med(r[f'ref_{h}']):.2f}x | "
                         f"{med(r[f'raw_{h}']):.2f} s | {inproc / med(r[f'raw_{h}']):.2f}x | "
                         f"{med(r[f'cli_{h}']) / med(r['cli_14']):.2f} |")
    lines.append("")
    lines.append(f"- floor: `python -c 'import great_expectations'` alone takes "
                 f"{med([t for r in results for t in r['gx_import']]):.2f} s on this machine")
    for r in results:
        load_s = med(r["load"])
        lines.append(f"- `load` process of {r['size']:,} rows (median of {len(r['load'])}, into the 140-day table): "
                     f"{load_s:.2f} s ({r['size'] / load_s:,.0f} rows/s); "
                     f"peak RSS of a `run` process: {r['rss_mb']:.0f} MB; rows in table at 140 days: "
                     f"{r['history_rows_140']:,}")
    for r in results:
        duck, run = med(r["duck"]), med(r["cli_14"])
        lines.append(f"- DuckDB, core metrics from the CSV of {r['size']:,} rows (median of {len(r['duck'])}): "
                     f"{duck:.2f} s; `run` process / DuckDB: {run / duck:.2f}x; "
                     f"(`load` + `run` process) / DuckDB: {(med(r['load']) + run) / duck:.2f}x")
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
