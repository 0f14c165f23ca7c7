"""The day-cost targets of issue 26 (CONTRACT section 5), each against its yardstick, in one run:

  * `load` of a 100k-row file into a young table (0, 1, 2, then 3 days already in it), process
    start to exit: >= 100k rows/s; beside it, the least a load can do, one COPY of the same file
    into a bare logged table by a Python process of its own (psycopg2 only);
  * `run` of a 100k-event day after 41 days of runs / after 4 days (processes, alternating): < 1.2x;
  * Spark's pass / the plain Spark SQL pass (bench/spark_plain_pass.sql) on a 1M-event Parquet
    day, in one JVM, alternating: <= 1.5x;
  * `run --engine spark` / the plain pass as its own process (each starts its JVM): <= 1.6x.

One embedded server; the parts run one after another, so none shares the machine with another.
Usage: python bench/day_cost_bench.py [--repeat 3]
Writes bench/results/day_cost.md and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from monitor import settings  # noqa: E402
from monitor.demo import generator  # noqa: E402
from monitor.engines import spark as spark_engine  # noqa: E402
from monitor.sources import loader  # noqa: E402
from monitor.store import database  # noqa: E402

import bench_server  # noqa: E402
import history_bench  # noqa: E402
import spark_bench  # noqa: E402
import spark_plain_pass  # noqa: E402

LOAD_DAY = dt.date(2026, 5, 26)
PLAIN_COPY = """
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("CREATE TABLE plain_copy (client_id text, \\"timestamp\\" text, event_name text, event_data text)")
with open(sys.argv[2], "rb") as fh:
    cur.copy_expert("COPY plain_copy FROM STDIN WITH (FORMAT csv, HEADER true)", fh, size=1 << 16)
conn.commit()
"""


def _process(cmd: list[str], env: dict | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed: {proc.stderr[-1500:]}")
    return elapsed, proc.stdout


def _libpq_dsn(url: str) -> str:
    return " ".join(f"{k}={v}" for k, v in database.Libpq(url).params.items() if k != "options")


def bench_load(server: str, work: Path, repeat: int) -> dict:
    """Loads into 0-3 days beside a bare COPY; then the last day's first `run` (which
    classifies the loads' new agents and summarises their BRIN ranges) and a re-run."""
    gen = generator.Generator(seed=4, sessions_per_day=32_500)  # about 100k rows a day
    files = [(LOAD_DAY + dt.timedelta(days=i), work / f"load_{i}.csv") for i in range(4)]
    for day, path in files:
        if not path.exists():
            generator.write_csv(path, gen.day_rows(day))
    out = {"load": [], "plain": [], "by_age": {i: [] for i in range(4)}, "first_run": [], "rerun": []}
    for _ in range(repeat):
        with bench_server.fresh_database(server, "day_cost_load") as url:
            env = dict(os.environ, DATABASE_URL=url)  # initialised by fresh_database
            for age, (day, path) in enumerate(files):  # into 0, 1, 2, then 3 days
                t, said = _process([sys.executable, str(ROOT / "runner.py"), "load", str(path), "--date", str(day)], env)
                rows = int(said.split()[1])  # "loaded N rows from ..."
                out["load"].append(rows / t)
                out["by_age"][age].append(rows / t)
                out.setdefault("rows", set()).add(rows)
                with bench_server.fresh_database(server, "day_cost_plain") as plain_url:
                    t, _ = _process([sys.executable, "-c", PLAIN_COPY, _libpq_dsn(plain_url), str(path)])
                out["plain"].append(rows / t)
            out["first_run"].append(bench_server.timed_run(url, files[-1][0]))
            out["rerun"].append(bench_server.timed_run(url, files[-1][0]))
    return out


def bench_history(server: str, work: Path, repeat: int) -> dict:
    out = {"young": [], "old": []}
    with contextlib.ExitStack() as stack:
        young = history_bench.build(stack, server, work, 4, target_events=100_000)
        old = history_bench.build(stack, server, work, 41, target_events=100_000)
        for _ in range(repeat):
            out["young"].append(history_bench.timed_run(young))
            out["old"].append(history_bench.timed_run(old))
    return out


def bench_spark(server: str, work: Path, repeat: int) -> dict:
    spark = spark_engine.session(settings.Settings(spark=settings.Spark(
        conf={"spark.driver.memory": spark_bench.DRIVER_MEMORY})))
    out = {"pass": [], "plain": [], "run": [], "plain_process": []}
    try:
        with bench_server.fresh_database(server, "day_cost_spark") as url:
            base_csv = work / "spark_base.csv"
            if not base_csv.exists():
                gen = generator.Generator(seed=9, sessions_per_day=spark_bench.BASE_SESSIONS)
                generator.write_csv(base_csv, gen.day_rows(spark_bench.TARGET))
            lake = work / "lake"
            spark_bench.build_lake(spark, base_csv, 1, lake, work / "lake_csv")
            folder = lake / f"date={spark_bench.TARGET}"
            config = work / "spark.toml"
            config.write_text(f'[engine]\nspark_source = "{lake}"\n[spark]\nmaster = "local[*]"\n'
                              f'conf = {{ "spark.driver.memory" = "{spark_bench.DRIVER_MEMORY}" }}\n')
            s_sp, s_pg, eng = settings.load_file(config), settings.load(), database.engine()

            def engine_pass() -> float:
                t = time.perf_counter()
                with eng.begin() as conn:
                    spark_engine.compute_day_metrics(conn, spark_bench.TARGET, s_sp)
                return time.perf_counter() - t

            def plain() -> float:
                t = time.perf_counter()
                spark_plain_pass.plain_pass(spark, folder, spark_bench.TARGET, s_pg)
                return time.perf_counter() - t

            engine_pass()  # warm: the day's agents classified, the JVM's code compiled
            spark_bench.check_plain(eng, spark_plain_pass.plain_pass(spark, folder, spark_bench.TARGET, s_pg))
            with eng.connect() as c:
                out["events"] = int(c.exec_driver_sql(
                    "SELECT value FROM monitor.daily_metrics WHERE day = %s AND metric = 'rows'",
                    (spark_bench.TARGET,)).scalar())
            for _ in range(repeat):
                out["pass"].append(engine_pass())
                out["plain"].append(plain())
            for _ in range(repeat):
                out["run"].append(spark_bench.cli_run(url, config, "spark")[0])
                out["plain_process"].append(spark_bench.plain_process(folder))
    finally:
        spark.stop()
    return out


def report(load: dict, history: dict, sp: dict, repeat: int) -> str:
    med = statistics.median
    load_rate, plain_rate = med(load["load"]), med(load["plain"])
    young, old = med(history["young"]), med(history["old"])
    rows = [
        (f"`load`, {min(load['rows']):,}-{max(load['rows']):,}-row files into 0-3 days (process)", f"{load_rate:,.0f} rows/s",
         f"one bare COPY process: {plain_rate:,.0f} rows/s ({plain_rate / load_rate:.2f}x faster)",
         f"**{load_rate:,.0f} rows/s**", ">= 100,000 rows/s", load_rate >= 100_000),
        ("`run` of a 100k-event day, 41 days of runs before it", f"{old:.2f} s", f"after 4 days: {young:.2f} s",
         f"**{old / young:.2f}x**", "< 1.2x", old / young < 1.2),
        (f"Spark pass, {sp['events']:,}-event Parquet day, one JVM", f"{med(sp['pass']):.2f} s",
         f"plain Spark SQL pass: {med(sp['plain']):.2f} s", f"**{med(sp['pass']) / med(sp['plain']):.2f}x**",
         "<= 1.5x", med(sp["pass"]) / med(sp["plain"]) <= 1.5),
        ("`run --engine spark`, process", f"{med(sp['run']):.2f} s",
         f"plain pass as a process: {med(sp['plain_process']):.2f} s",
         f"**{med(sp['run']) / med(sp['plain_process']):.2f}x**", "<= 1.6x",
         med(sp["run"]) / med(sp["plain_process"]) <= 1.6),
    ]
    lines = [f"# day-cost bench {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
             f"medians (load: {len(load['load'])} loads; runs and passes: {repeat} each, alternating)", "",
             "| what | measured | yardstick, same run | result | target | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {w} | {m} | {y} | {r} | {t} | {'yes' if ok else '**no**'} |" for w, m, y, r, t, ok in rows]
    ages = ", ".join(f"{age} days {med(v):,.0f}" for age, v in load["by_age"].items())
    lines += ["", f"- `load` by what the table held: {ages} rows/s (medians of {repeat}).",
              f"- the last loaded day's first `run` (classifies the loads' new agents, summarises their BRIN "
              f"ranges): {med(load['first_run']):.2f} s; a re-run: {med(load['rerun']):.2f} s (processes, medians of "
              f"{repeat}; CONTRACT: < 5 s)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with bench_server.embedded_server("monitor-day-cost-") as (server, _, work):
        load = bench_load(server, work, args.repeat)
        history = bench_history(server, work, args.repeat)
        sp = bench_spark(server, work, args.repeat)
    text = report(load, history, sp, args.repeat)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "day_cost.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
