"""A day's `run` against the history before it (issue 26; CONTRACT section 5): the same
97k-event target day after 4 days and after 41 days of runs (20k-event days, each loaded
and run, as a new install's first weeks are), `runner.py run` as a process, alternating.

Usage: python bench/history_bench.py [--repeat 3]   (prints the medians and their ratio)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from monitor import settings  # noqa: E402
from monitor.demo import generator  # noqa: E402
from monitor.sources import loader  # noqa: E402
from monitor.store import database  # noqa: E402
from monitor.verdict import pipeline  # noqa: E402

import bench_server  # noqa: E402

TARGET = dt.date(2026, 6, 30)


def build(stack: contextlib.ExitStack, server: str, work: Path, history: int, target_events: int = 97_000) -> str:
    """A database with ``history`` days loaded and run before TARGET, and TARGET (about
    ``target_events`` events) loaded."""
    url = stack.enter_context(bench_server.fresh_database(server, f"history_{history}"))
    s, eng = settings.load(), database.engine()
    gen = generator.Generator(seed=5, sessions_per_day=20_000 * 1500 // 5000)
    for i in range(history, 0, -1):
        day = TARGET - dt.timedelta(days=i)
        path = work / f"history_{day}.csv"
        if not path.exists():
            generator.write_csv(path, gen.day_rows(day))
        loader.load_file(eng, s, path, day)
        pipeline.run_day(day, s)
    target = work / f"target_{target_events}.csv"
    if not target.exists():
        generator.write_csv(target, generator.Generator(seed=9, sessions_per_day=target_events * 1500 // 5000)
                            .day_rows(TARGET))
    loader.load_file(eng, s, target, TARGET)
    return url


def timed_run(url: str) -> float:
    """The target day's `run` as a process (seconds); a run that fails stops the bench."""
    return bench_server.timed_run(url, TARGET)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with bench_server.embedded_server("monitor-history-bench-") as (server, state, work), contextlib.ExitStack() as st:
        young, old = build(st, server, work, 4), build(st, server, work, 41)
        a, b = [], []
        for _ in range(args.repeat):
            a.append(timed_run(young))
            b.append(timed_run(old))
        print(f"run after 4 days: {statistics.median(a):.2f} s, after 41 days: {statistics.median(b):.2f} s, "
              f"41/4 = {statistics.median(b) / statistics.median(a):.2f}x (medians of {args.repeat})")


if __name__ == "__main__":
    main()
