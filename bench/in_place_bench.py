"""In place against loaded, same run: one generated day of ~1M events, loaded by the
loader (text as received) and the same rows in a Snowplow-style typed table
(atomic.events: timestamptz, fields as columns, an index on the event time), read in
place with ``[source] preset = "snowplow"``.

Times, alternating, medians of N:
  * the metrics pass alone over each source (fetched, not stored), under the pass's
    session settings;
  * ``runner.py run --date D`` as a process, for each source (the in-place run also
    classifies the day's agents and takes the day's fingerprint).
The in-place pass is checked to give the loaded pass's metrics first (bar the feed's
own event names and columns), or the ratio means nothing.

Usage: python bench/in_place_bench.py [--events 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from monitor import settings, sources  # noqa: E402
from monitor.demo import generator  # noqa: E402
from monitor.engines import postgres as backend  # noqa: E402
from monitor.sources import loader  # noqa: E402
from monitor.store import database  # noqa: E402

import bench_server  # noqa: E402
from in_place_tables import SNOWPLOW_NAMES, build_snowplow  # noqa: E402

DAY = dt.date(2026, 6, 30)


def timed_pass(s: settings.Settings) -> tuple[float, dict]:
    raw = database.engine().raw_connection()
    try:
        cur = raw.cursor()
        source = sources.source_for(s)
        source.prepare(cur, DAY)
        rows_sql, rows_params = source.day_rows(cur, DAY)
        backend.set_pass_settings(cur)
        t0 = time.perf_counter()
        cur.execute(backend.pass_sql(rows_sql), {**rows_params, **backend.pass_params(s, DAY)})
        rows = cur.fetchall()
        elapsed = time.perf_counter() - t0
        raw.rollback()
        return elapsed, {(m, d): v for m, d, v in rows if not m.startswith("sample:")}
    finally:
        raw.close()


def cli_run(url: str, config: Path | None) -> float:
    return bench_server.timed_run(url, DAY, **({"MONITOR_CONFIG": str(config)} if config else {}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with bench_server.embedded_server("in-place-bench-") as (server, _, work), \
            bench_server.fresh_database(server, "in_place") as url:
        loaded = settings.load()
        gen = generator.Generator(seed=9, sessions_per_day=args.events * 1500 // 5000)
        path = generator.write_csv(work / "events.csv", gen.day_rows(DAY))
        report = loader.load_file(database.engine(), loaded, path, DAY)
        with database.engine().begin() as conn:
            build_snowplow(conn)
        with database.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) events.raw_events")
            conn.exec_driver_sql("VACUUM (ANALYZE) atomic.events")
        config = work / "monitor.toml"
        config.write_text('[source]\npreset = "snowplow"\n')
        in_place = settings.load_file(config)

        _, a = timed_pass(loaded)  # warms the cache for both, and checks they agree
        _, b = timed_pass(in_place)
        renamed = {(m, SNOWPLOW_NAMES.get(d, d) if m == "events" else d): v for (m, d), v in a.items()}
        differ = [k for k in renamed if k[0] not in ("events", "empty_payload", "fingerprint") and renamed[k] != b.get(k)]
        if differ:
            raise SystemExit(f"the in-place pass disagrees with the loaded pass on {differ[:5]}")

        times: dict[str, list[float]] = {k: [] for k in ("pass loaded", "pass in place", "run loaded",
                                                          "run in place")}
        for i in range(args.repeat):
            times["pass loaded"].append(timed_pass(loaded)[0])
            times["pass in place"].append(timed_pass(in_place)[0])
            times["run loaded"].append(cli_run(url, None))
            times["run in place"].append(cli_run(url, config))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{report.rows:,} events, medians of {args.repeat} passes and {len(times['run loaded'])} runs, "
              f"interleaved, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
        for k, v in times.items():
            print(f"  {k:14s} {med[k]:6.2f} s  ({', '.join(f'{x:.2f}' for x in v)})")
        print(f"  pass: in place / loaded = {med['pass in place'] / med['pass loaded']:.2f}x")
        print(f"  run:  in place / loaded = {med['run in place'] / med['run loaded']:.2f}x")


if __name__ == "__main__":
    main()
