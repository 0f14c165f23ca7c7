"""Benchmark the Spark engine (local mode) against the PostgreSQL engine on the same day.

A 1M-event day made by the generator (944k rows), and a 10M-event day: ten
copies of it with client ids made distinct per copy (ten times the visitors,
the same shape). Each day is written as a lake partition of Parquet files and
loaded into PostgreSQL. In one session on one machine it times:
  * the day's metrics in-process: PostgreSQL's pass, and Spark's on the
    Parquet partition (Spark session already started), alternating;
  * `runner.py run --date D` as a process with each engine (Spark's includes
    starting the JVM), with the peak memory (PSS) of everything that works for
    it: the run's process tree, and for PostgreSQL the server's processes;
  * the yardstick (issue 26): spark_plain_pass.sql, the core metrics by hand in Spark SQL,
    in the same JVM alternating with Spark's pass, and as its own process (starting its
    JVM, python bench/spark_plain_pass.py) alternating with `run --engine spark`;
  * `load` of the day into PostgreSQL (what the PostgreSQL engine needs first);
  * Spark's pass again with ten more day folders in the lake (partition pruning).

Usage: python bench/spark_bench.py [--sizes 1,10] [--repeat 3]   (sizes in copies of the 1M day)
Writes bench/results/spark.md and prints it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from monitor import settings  # noqa: E402
from monitor.store import database
from monitor.demo import generator
from monitor.sources import loader
from monitor.engines import postgres, spark as spark_engine  # noqa: E402

import bench_server  # noqa: E402
import spark_plain_pass  # noqa: E402

TARGET = dt.date(2026, 6, 30)
BASE_SESSIONS = 1_000_000 * 1500 // 5000
# local mode runs everything in the driver's JVM: its 1 GB default heap runs out on a 10M-event day
DRIVER_MEMORY = "4g"


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if int((p / "stat").read_text().split(") ", 1)[1].split()[1]) == pid:
                    out.append(int(p.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class PeakMemory:
    """Samples the summed PSS of some process trees every 0.2 s; keeps the peak."""

    def __init__(self, roots):
        self.roots, self.peak, self._stop = roots, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            pids = [p for r in self.roots() for p in _tree(r)]
            self.peak = max(self.peak, _pss_mb(pids))
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def postmaster_pid(state: Path) -> int:
    return int(next(state.rglob("postmaster.pid")).read_text().splitlines()[0])


def cli_run(url: str, config: Path, engine: str, roots_extra=lambda: []) -> tuple[float, float]:
    env = dict(os.environ, DATABASE_URL=url, MONITOR_CONFIG=str(config))
    cmd = [sys.executable, str(ROOT / "runner.py"), "run", "--date", str(TARGET), "--json", "--no-notify",
           "--engine", engine]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with PeakMemory(lambda: [proc.pid, *roots_extra()]) as mem:
        _, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"run --engine {engine} failed: {err[-2000:]}")
    return elapsed, mem.peak


def plain_process(folder: Path) -> float:
    """The yardstick as its own process: interpreter, JVM and the plain pass (seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / "spark_plain_pass.py"), str(folder), str(TARGET), DRIVER_MEMORY],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the plain pass failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def check_plain(eng, plain: dict) -> None:
    """The yardstick computes what the engine stored for the metrics both define."""
    with eng.connect() as c:
        stored = {(m, d): v for m, d, v in c.execute(sa.text(
            "SELECT metric, dimension, value FROM monitor.daily_metrics WHERE day = :d"), {"d": TARGET})}
    for key in [("rows", ""), ("null_client_id", ""), ("distinct_clients", ""), ("duplicate_rows", ""),
                *[k for k in plain if k[0] == "events"]]:
        if abs(plain[key] - stored.get(key, -1)) > 1e-9:
            raise SystemExit(f"the plain pass disagrees with the engine on {key}: {plain[key]} vs {stored.get(key)}")
    sessions = plain[("sessions_all", "")]
    if abs(sessions - stored[("sessions", "")] - stored.get(("bot_sessions", ""), 0)) > 0.001 * sessions:
        raise SystemExit(f"the plain pass's sessions ({sessions}) are not the engine's")


def build_lake(spark, base_csv: Path, copies: int, lake: Path, csv_dir: Path) -> None:
    """date=TARGET/ as Parquet (8 files per 1M events); the same rows as CSV files for `load`."""
    from pyspark.sql import functions as F

    df = (spark.read.option("header", "true").option("multiLine", "true").option("escape", '"').csv(str(base_csv)))
    if copies > 1:
        n = spark.range(copies).withColumnRenamed("id", "copy")
        df = df.crossJoin(n).withColumn("client_id", F.concat("client_id", F.lit("-"), F.col("copy").cast("string")))
        df = df.drop("copy")
    df = df.repartition(8 * copies).cache()
    df.write.mode("overwrite").parquet(str(lake / f"date={TARGET}"))
    df.write.mode("overwrite").option("header", "true").option("escape", '"').csv(str(csv_dir))
    df.unpersist()


def bench_size(server: str, state: Path, spark, copies: int, repeat: int, work: Path) -> dict:
    with bench_server.fresh_database(server, f"bench_spark_{copies}") as url:
        return _bench_day(url, state, spark, copies, repeat, work)


def _bench_day(url: str, state: Path, spark, copies: int, repeat: int, work: Path) -> dict:
    eng = database.engine()

    base_csv = work / "base.csv"
    if not base_csv.exists():
        gen = generator.Generator(seed=9, sessions_per_day=BASE_SESSIONS)
        generator.write_csv(base_csv, gen.day_rows(TARGET))
    lake, csv_dir = work / f"lake_{copies}", work / f"csv_{copies}"
    build_lake(spark, base_csv, copies, lake, csv_dir)
    config = work / f"monitor_{copies}.toml"
    config.write_text(f'[engine]\nspark_source = "{lake}"\n[spark]\nmaster = "local[*]"\n'
                      f'conf = {{ "spark.driver.memory" = "{DRIVER_MEMORY}" }}\n')
    s_pg = settings.load()
    s_sp = settings.load_file(config)

    t0 = time.perf_counter()
    for part in sorted(csv_dir.glob("*.csv")):
        loader.load_file(eng, s_pg, part, TARGET)
    load_s = time.perf_counter() - t0
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as c:
        c.execute(sa.text("VACUUM (ANALYZE) events.raw_events"))
        rows = c.execute(sa.text("SELECT count(*) FROM events.raw_events")).scalar()

    def pass_with(engine):
        def go():
            with eng.begin() as conn:
                engine.compute_day_metrics(conn, TARGET, s_sp if engine is spark_engine else s_pg)
        return go

    def timed(fn) -> float:
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    out = {"rows": rows, "load": load_s, "pg": [], "spark": [], "plain": [], "spark_more_days": [], "cli_pg": [],
           "cli_spark": [], "cli_plain": [], "mem_pg": [], "mem_spark": []}
    folder = lake / f"date={TARGET}"
    pass_with(spark_engine)()  # warm: classify the day's agents, JIT the JVM
    check_plain(eng, spark_plain_pass.plain_pass(spark, folder, TARGET, s_pg))
    repeat = repeat if copies == 1 else 1  # a 10M day: one of each, or the bench takes an hour
    for _ in range(repeat):
        out["pg"].append(timed(pass_with(postgres)))
        out["spark"].append(timed(pass_with(spark_engine)))
        out["plain"].append(timed(lambda: spark_plain_pass.plain_pass(spark, folder, TARGET, s_pg)))
    for i in range(1, 11):  # ten more days in the lake: a day's run must not read them
        other = lake / f"date={TARGET - dt.timedelta(days=i)}"
        other.symlink_to(lake / f"date={TARGET}", target_is_directory=True)
    for _ in range(repeat):
        out["spark_more_days"].append(timed(pass_with(spark_engine)))
    server_pids = lambda: [postmaster_pid(state)]  # noqa: E731
    for _ in range(repeat):
        t, m = cli_run(url, config, "postgres", server_pids)
        out["cli_pg"].append(t)
        out["mem_pg"].append(m)
        t, m = cli_run(url, config, "spark")
        out["cli_spark"].append(t)
        out["mem_spark"].append(m)
        out["cli_plain"].append(plain_process(lake / f"date={TARGET}"))
    shutil.rmtree(csv_dir, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with bench_server.embedded_server("monitor-spark-bench-") as (server, state, work):
        spark = spark_engine.session(settings.Settings(spark=settings.Spark(conf={"spark.driver.memory": DRIVER_MEMORY})))
        results = []
        try:
            for n in args.sizes.split(","):
                results.append(bench_size(server, state, spark, int(n), args.repeat, work))
                report(results, args.repeat)  # each size as it finishes: a 10M day takes long
        finally:
            spark.stop()


def report(results: list[dict], repeat: int) -> None:
    med = statistics.median
    lines = [f"# Spark engine bench {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, local[*] on "
             f"{os.cpu_count()} cores, driver heap {DRIVER_MEMORY}, medians of {repeat} (10M day: one of each)", "",
             "| day | PostgreSQL `load` | PostgreSQL pass | Spark pass (Parquet) | Spark / PostgreSQL pass | "
             "plain Spark SQL pass (yardstick) | **Spark pass / plain pass** | "
             "Spark pass, 10 more days in the lake | `run` process, postgres | `run` process, spark | "
             "plain pass as a process | **`run --engine spark` / plain process** | "
             "peak memory, postgres run + server (PSS) | peak memory, spark run + JVM (PSS) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['load']:.1f} s ({r['rows'] / r['load']:,.0f} rows/s) | {med(r['pg']):.2f} s | "
            f"{med(r['spark']):.2f} s | {med(r['spark']) / med(r['pg']):.2f}x | {med(r['plain']):.2f} s | "
            f"**{med(r['spark']) / med(r['plain']):.2f}x** | "
            f"{med(r['spark_more_days']):.2f} s ({med(r['spark_more_days']) / med(r['spark']):.2f}) | "
            f"{med(r['cli_pg']):.2f} s | {med(r['cli_spark']):.2f} s | {med(r['cli_plain']):.2f} s | "
            f"**{med(r['cli_spark']) / med(r['cli_plain']):.2f}x** | {max(r['mem_pg']):.0f} MB | "
            f"{max(r['mem_spark']):.0f} MB |")
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "spark.md").write_text(text)
    print(text, flush=True)


if __name__ == "__main__":
    main()
