"""How the intraday rules decide, on generated shops, run every hour: false alarms on
normal days, and when a purchase stop at 09:00 is caught.

Pure rules (monitor.rules.intraday) over slot counts computed here from the
generator's rows, with three weeks of usual days before each watched day: no
database, so many days can be simulated. What it prints is what README, "Within
the day", quotes.

Usage: python bench/intraday_detection.py [--seeds 8] [--days 3]
Writes bench/results/intraday_detection.md and prints it.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from monitor.demo import generator  # noqa: E402
from monitor.rules import intraday as rules  # noqa: E402
from monitor.settings import Settings  # noqa: E402

START = dt.date(2026, 9, 1)
HISTORY = 21


def slots(rows, known) -> dict:
    """The counts the intraday pass stores, for rows with clean timestamps."""
    out: dict = collections.defaultdict(lambda: [0.0] * rules.SLOTS)
    clients: dict = collections.defaultdict(set)
    for client, ts, name, _ in rows:
        slot = (int(ts[11:13]) * 60 + int(ts[14:16])) // rules.SLOT_MINUTES
        out[("rows", "")][slot] += 1
        if name in known:
            out[("events", name)][slot] += 1
        if client:
            clients[slot].add(client)
    for slot, seen in clients.items():
        out[("active_clients", "")][slot] = len(seen)
    return dict(out)


def watch(sessions: int, seed: int, days: int, stop_at: int | None, s: Settings) -> list[dict]:
    gen = generator.Generator(seed=seed, sessions_per_day=sessions)
    known = s.events.known
    history, out = {}, []
    for i in range(HISTORY + days):
        day = START + dt.timedelta(days=i)
        rows = gen.day_rows(day)
        if i >= HISTORY:
            if stop_at is not None:
                rows = [r for r in rows if not (r[2] == s.events.purchase and int(r[1][11:13]) >= stop_at)]
            today = slots(rows, known)
            first, warnings = None, []
            for end in range(rules.HOUR, rules.SLOTS + 1, rules.HOUR):  # a run every hour
                for f in rules.judge(rules.DaySoFar(day, end, today, dict(history)), s):
                    if f.status == "critical" and first is None:
                        first = (end // rules.HOUR, f.check)
                    elif f.status == "warning":
                        warnings.append((end // rules.HOUR, f.check))
            out.append({"day": day, "first_critical": first, "warnings": warnings})
        history[day] = slots(rows, known)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--days", type=int, default=3)
    args = ap.parse_args()
    s = Settings()
    lines = [f"# intraday rules on generated shops: {args.seeds} seeds x {args.days} watched days, a run every hour, "
             f"{HISTORY} usual days before each", "",
             "| shop | day | days | days with a critical | runs with a warning | stop caught at (hour: days) |",
             "|---|---|---|---|---|---|"]
    for sessions in (6000, 300):
        for stop in (None, 9):
            results = [r for seed in range(1, args.seeds + 1)
                       for r in watch(sessions, seed, args.days, stop, s)]
            critical = sum(1 for r in results if r["first_critical"])
            warned = sum(len(r["warnings"]) for r in results)
            hours = collections.Counter(r["first_critical"][0] if r["first_critical"] else "not that day"
                                        for r in results)
            caught = ", ".join(f"{h if isinstance(h, str) else f'{h:02d}:00'}: {n}"
                               for h, n in sorted(hours.items(), key=lambda x: (isinstance(x[0], str), x[0])))
            lines.append(f"| ~{sessions:,} sessions/day | {'purchases stop at 09:00' if stop else 'normal'} | "
                         f"{len(results)} | {critical} | {warned} | {caught if stop else '-'} |")
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "intraday_detection.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
