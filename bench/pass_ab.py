"""Same-run A/B of the day's metrics pass: this tree's pass against the pass of an earlier
commit, on one generated day, alternating, medians of N (the issues' "no more than 10%
slower" criterion). Both passes get the same session settings and parameters; only the
SQL differs. Nothing is stored: each pass's rows are fetched and dropped.

Usage: python bench/pass_ab.py --baseline REV [--events 1000000] [--repeat 3] [--export]
``--export`` times a flattened export day (page URL, referrer, user agent as columns,
empty payloads) instead of the contract's four-column file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from monitor import settings, sources  # noqa: E402
from monitor.store import database
from monitor.demo import generator
from monitor.sources import loader
from monitor.engines import postgres as backend  # noqa: E402

import bench_server  # noqa: E402

DAY = dt.date(2026, 6, 30)


def baseline_sql(rev: str) -> str:
    path = "monitor/engines/postgres/day_metrics.sql"
    if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}:{path}"], capture_output=True).returncode:
        path = "monitor/backends/postgres/day_metrics.sql"  # before the engines had a room of their own
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
                          check=True, capture_output=True, text=True).stdout


def timed_pass(sql: str, params: dict) -> float:
    raw = database.engine().raw_connection()
    try:
        cur = raw.cursor()
        backend.set_pass_settings(cur)
        t0 = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        elapsed = time.perf_counter() - t0
        raw.rollback()
        return elapsed
    finally:
        raw.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="the commit whose pass is the yardstick")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--export", action="store_true")
    args = ap.parse_args()
    s = settings.load()
    flat = ", ".join(f"r.extra->>'{f}'" for f in settings.FIELD_COLUMNS)
    old = baseline_sql(args.baseline).replace("%(flat_fields)s", flat)
    if "%(day_rows)s" in old:  # a tree whose pass reads its rows from a source
        old = old.replace("%(day_rows)s", sources.LoadedTable(s).day_rows(None, DAY)[0])
    new = backend.pass_sql(sources.LoadedTable(s).day_rows(None, DAY)[0])
    with bench_server.embedded_server("pass-ab-") as (server, _, work), \
            bench_server.fresh_database(server, "pass_ab"):
        gen = generator.Generator(seed=5, sessions_per_day=args.events * 1500 // 5000)
        if args.export:
            path = generator.write_export(work / "export.csv", generator.export_rows(gen, DAY, bot_share=0.0))
        else:
            path = generator.write_csv(work / "events.csv", gen.day_rows(DAY))
        report = loader.load_file(database.engine(), s, path, DAY)
        # what the passes of earlier trees read too (the input columns, the flattened fields)
        params = {**backend.pass_params(s, DAY), "required": list(settings.INPUT_COLUMNS),
                  "fields": list(settings.FIELD_COLUMNS)}
        with database.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) events.raw_events")
        times = {"baseline": [], "this tree": []}
        timed_pass(new, params)  # warm the cache once, for both
        for _ in range(args.repeat):
            times["baseline"].append(timed_pass(old, params))
            times["this tree"].append(timed_pass(new, params))
        med = {k: statistics.median(v) for k, v in times.items()}
        kind = "flattened export" if args.export else "four-column file"
        print(f"{report.rows:,} rows ({kind}), medians of {args.repeat}, interleaved, "
              f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
        for k, v in times.items():
            print(f"  {k:10s} {med[k]:.2f} s  ({', '.join(f'{x:.2f}' for x in v)})")
        print(f"  ratio      {med['this tree'] / med['baseline']:.3f}x")


if __name__ == "__main__":
    main()
