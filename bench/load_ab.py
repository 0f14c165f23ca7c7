"""Same-run A/B of `load` as a process: this tree's runner against an earlier commit's,
loading the same 100k-row file into a young table (0, 1, 2, then 3 days already in it),
alternating, medians of N. The shape every new install meets first (CONTRACT section 5:
>= 100k rows/s, process start to exit, for a 100k-row file).

Usage: python bench/load_ab.py --baseline REV [--rows 100000] [--repeat 3]
The baseline runs from a git worktree of REV (removed afterwards).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from monitor.demo import generator  # noqa: E402
from monitor.store import database  # noqa: E402

import bench_server  # noqa: E402

DAY = dt.date(2026, 6, 26)


def _fresh(server: str, name: str) -> str:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        c.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return database.with_database(server, name)


def _runner(tree: Path, url: str, *args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(tree / "runner.py"), *args], env=dict(os.environ, DATABASE_URL=url), cwd=tree,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed: {proc.stderr[-500:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="load-ab-", dir="/tmp")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline], check=True,
                   capture_output=True)
    trees = {"baseline": base, "this tree": ROOT}
    times: dict[str, list[float]] = {k: [] for k in trees}
    try:
        with bench_server.embedded_server("monitor-load-ab-") as (server, _, work):
            gen = generator.Generator(seed=4, sessions_per_day=args.rows * 1500 // 5000)
            files = []
            for i in range(4):
                day = DAY + dt.timedelta(days=i)
                files.append((day, generator.write_csv(work / f"events_{day}.csv", gen.day_rows(day))))
            rows = sum(1 for _ in files[0][1].open()) - 1
            for r in range(args.repeat):
                for name, tree in (trees.items() if r % 2 == 0 else reversed(list(trees.items()))):
                    url = _fresh(server, "load_ab")
                    _runner(tree, url, "init")
                    for day, path in files:  # into 0, 1, 2, 3 days of history
                        times[name].append(_runner(tree, url, "load", str(path), "--date", str(day)))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)
    lines = [f"# load A/B {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC: {rows:,}-row files into a table "
             f"of 0-3 days, process start to exit, {args.repeat} repeats x 4 loads, alternating", "",
             "| tree | median | rows/s |", "|---|---|---|"]
    for name, values in times.items():
        med = statistics.median(values)
        lines.append(f"| {name}{' (' + args.baseline + ')' if name == 'baseline' else ''} | {med:.3f} s | "
                     f"{rows / med:,.0f} |")
    ratio = statistics.median(times["this tree"]) / statistics.median(times["baseline"])
    lines += ["", f"this tree / baseline: {ratio:.2f}x"]
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "load_ab.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
