"""What a team's own suite costs a day's run: `runner.py run --date D` as a process on a
~944k-event day, without and with a team suite of 5 column expectations on the day's
rows (monitor.day_events), alternating, medians of N, in one session on one server.

The suite: currency in a set, order_id not null for purchases, client_id not null
(mostly 0.9), revenue between 0 and 100000, event_name in the feed's names.

Usage: python bench/team_suite_bench.py [--events 944000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from monitor import settings  # noqa: E402
from monitor.demo import generator  # noqa: E402
from monitor.sources import loader  # noqa: E402
from monitor.store import database  # noqa: E402

import bench_server  # noqa: E402

DAY = dt.date(2026, 6, 30)
SUITE = "bench_rules"


def _team_suite(gx_root: Path, names: tuple[str, ...]) -> None:
    """Written with GX's API in a process of its own, as a team would."""
    code = f"""
import great_expectations as gx, great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column
ctx = gx.get_context(mode="file", project_root_dir={str(gx_root)!r})
s = ctx.suites.add(gx.ExpectationSuite(name={SUITE!r}))
s.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=["EUR", "USD"]))
s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="order_id", row_condition=Column("event_name") == "purchase"))
s.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="client_id", mostly=0.9))
s.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0, max_value=100000))
s.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="event_name", value_set={list(names)!r}))
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def cli_run(url: str, gx_root: Path, config: Path) -> float:
    return bench_server.timed_run(url, DAY, MONITOR_GX_ROOT=str(gx_root), MONITOR_CONFIG=str(config))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=944_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    gx_root = Path(tempfile.mkdtemp(prefix="team-bench-gx-", dir="/tmp"))
    (gx_root / "gx").mkdir()
    shutil.copy(ROOT / "gx" / "great_expectations.yml", gx_root / "gx" / "great_expectations.yml")
    try:
        with bench_server.embedded_server("team-bench-") as (server, _, work), \
                bench_server.fresh_database(server, "team_bench") as url:
            s = settings.load()
            gen = generator.Generator(seed=9, sessions_per_day=args.events * 1500 // 5000)
            path = generator.write_csv(work / "events.csv", gen.day_rows(DAY))
            report = loader.load_file(database.engine(), s, path, DAY)
            with database.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM (ANALYZE) events.raw_events")
            plain, team = work / "plain.toml", work / "team.toml"
            plain.write_text("")
            team.write_text(f'[suites]\nextra = ["{SUITE}"]\n')
            cli_run(url, gx_root, plain)  # writes the monitor's suites once, warms the cache
            _team_suite(gx_root, s.events.known)
            cli_run(url, gx_root, team)
            times = {"plain run": [], "with team suite": []}
            for _ in range(args.repeat):
                times["plain run"].append(cli_run(url, gx_root, plain))
                times["with team suite"].append(cli_run(url, gx_root, team))
            med = {k: statistics.median(v) for k, v in times.items()}
            print(f"{report.rows:,} events, `runner.py run` as a process, medians of {args.repeat}, interleaved, "
                  f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
            for k, v in times.items():
                print(f"  {k:16s} {med[k]:6.2f} s  ({', '.join(f'{x:.2f}' for x in v)})")
            print(f"  team suite of 5 column expectations: +{med['with team suite'] - med['plain run']:.2f} s "
                  f"({med['with team suite'] / med['plain run']:.2f}x)")
    finally:
        shutil.rmtree(gx_root, ignore_errors=True)


if __name__ == "__main__":
    main()
