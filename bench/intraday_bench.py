"""Benchmark intraday runs on a 1M-event day that arrives in quarter-hour files.

In one session on one server:
  * history: a generated 1M-event day and 7 copies of it (timestamps shifted), counted
    once by a first intraday run (timed: what a new install pays once);
  * the target day arrives as 96 files of 15 minutes; at 10:00, 16:00 and 23:45 the
    bench loads the last quarter's file and times `runner.py intraday --until T`
    (process start to exit, and in-process), which counts that file's rows only;
    each repeat replaces that file (`load --replace`, as a retried delivery does);
  * next to it, the same day's `runner.py run` (process) and the intraday count of the
    whole day from scratch (what a run would cost if it recomputed the day each time).

Usage: python bench/intraday_bench.py [--size 1000000] [--repeat 3]
Writes bench/results/intraday.md and prints it.
"""

from __future__ import annotations

import argparse
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

import sqlalchemy as sa  # noqa: E402

from monitor import settings  # noqa: E402
from monitor.demo import generator  # noqa: E402
from monitor.sources import loader  # noqa: E402
from monitor.store import database  # noqa: E402
from monitor.verdict.intraday import run_intraday  # noqa: E402

import bench_server  # noqa: E402
from run_bench import copy_history  # noqa: E402

TARGET = dt.date(2026, 6, 30)
CHECKPOINTS = ("10:00", "16:00", "23:45")


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _process(url: str, *args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), *args], env=dict(os.environ, DATABASE_URL=url),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed: {proc.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with bench_server.embedded_server("monitor-intraday-bench-") as (server, _, work):
        with bench_server.fresh_database(server, "bench_intraday") as url:
            text = bench(url, work, args.size, args.repeat)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "intraday.md").write_text(text)
    print(text)


def bench(url: str, work: Path, size: int, repeat: int) -> str:
    s = settings.load()
    eng = database.engine()
    sessions = size * 1500 // 5000
    first_hist = TARGET - dt.timedelta(days=8)
    hist_file = generator.write_csv(work / "history.csv",
                                    generator.Generator(seed=5, sessions_per_day=sessions).day_rows(first_hist))
    loader.load_file(eng, s, hist_file, first_hist)
    with eng.connect() as conn:
        copy_history(conn, first_hist, [first_hist + dt.timedelta(days=i) for i in range(1, 8)])

    rows = generator.Generator(seed=9, sessions_per_day=sessions).day_rows(TARGET)
    quarters: dict[int, list] = {q: [] for q in range(96)}
    for r in rows:
        quarters[(int(r[1][11:13]) * 60 + int(r[1][14:16])) // 15].append(r)
    files = {q: generator.write_csv(work / f"events_{TARGET}_{q:02d}.csv", part) for q, part in quarters.items()}

    t0 = time.perf_counter()
    run_intraday(TARGET, 0, s, send=False)  # counts the 8 usual days once
    first = time.perf_counter() - t0

    out = []
    loaded = 0
    for point in CHECKPOINTS:
        last = _minutes(point) // 15 - 1  # the quarter that ends at ``point``
        for q in range(loaded, last):
            loader.load_file(eng, s, files[q], TARGET, force=True)
        run_intraday(TARGET, last * 15, s, send=False)  # the run a quarter before: all but the last file counted
        procs, inprocs = [], []
        for i in range(repeat):
            loader.load_file(eng, s, files[last], TARGET, force=True, replace=True)
            procs.append(_process(url, "intraday", "--date", str(TARGET), "--until", point, "--no-notify"))
            loader.load_file(eng, s, files[last], TARGET, force=True, replace=True)
            t0 = time.perf_counter()
            run_intraday(TARGET, _minutes(point), s, send=False)
            inprocs.append(time.perf_counter() - t0)
        loaded = last + 1
        so_far = sum(len(quarters[q]) for q in range(loaded))
        out.append((point, so_far, len(quarters[last]), statistics.median(procs), statistics.median(inprocs)))

    for q in range(loaded, 96):
        loader.load_file(eng, s, files[q], TARGET, force=True)
    with eng.begin() as conn:  # the whole day counted from scratch: what recomputing it would cost
        conn.execute(sa.text("DELETE FROM monitor.intraday_counts WHERE day = :d"), {"d": TARGET})
        conn.execute(sa.text("DELETE FROM monitor.intraday_loads WHERE day = :d"), {"d": TARGET})
    t0 = time.perf_counter()
    run_intraday(TARGET, 24 * 60, s, send=False)
    whole = time.perf_counter() - t0
    daily = statistics.median(_process(url, "run", "--date", str(TARGET), "--no-notify") for _ in range(repeat))

    lines = [f"# intraday bench {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {len(rows):,}-event day in 96 "
             f"quarter-hour files, 8 usual days, median of {repeat}", "",
             "| run at | rows of the day so far | new rows (the last quarter) | `intraday` process | "
             "`intraday` in-process | process / daily `run` |", "|---|---|---|---|---|---|"]
    for point, so_far, new, proc, inproc in out:
        lines.append(f"| {point} | {so_far:,} | {new:,} | {proc:.2f} s | {inproc:.2f} s | {proc / daily:.2f}x |")
    lines += ["", f"- daily `run` of the whole day, process: {daily:.2f} s",
              f"- the whole day counted from scratch in one intraday run (what each run would cost if it "
              f"recomputed the day): {whole:.2f} s in-process",
              f"- first intraday run on the database, counting the 8 usual days ({8 * len(rows):,} rows) once: "
              f"{first:.2f} s"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
