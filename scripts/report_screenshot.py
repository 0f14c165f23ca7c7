"""Make docs/report.png, the README's picture of `runner.py report`.

Six weeks of the generator's shop (weekly rhythm, growth, a few incidents) go
into a throwaway embedded PostgreSQL; every day is run, the report written,
and headless Chromium (network blocked) photographs it.

Usage: python scripts/report_screenshot.py   (needs Debian's chromium)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    state = Path(tempfile.mkdtemp(prefix="monitor-shot-", dir="/tmp"))
    os.environ["MONITOR_GX_ROOT"] = str(state / "gxproject")
    (state / "gxproject" / "gx").mkdir(parents=True)
    shutil.copy(ROOT / "gx" / "great_expectations.yml", state / "gxproject" / "gx" / "great_expectations.yml")
    from monitor import settings
    from monitor.store import database
    from monitor.demo import generator
    from monitor.verdict import gx_project
    from monitor.sources import loader
    from monitor.verdict import pipeline
    from monitor.review import report

    try:
        database.use(database.embedded_url(state))
        s = settings.load()
        pipeline.init(s)
        gen = generator.Generator(seed=21, sessions_per_day=1000, weekly=generator.WEEKLY_SHOP)
        timeline = generator.timeline(dt.date(2026, 6, 1), weeks=8)
        for day, incidents, scale in timeline:
            path = generator.write_csv(state / "files" / f"events_{day}.csv", gen.day_rows(day, incidents, scale),
                                       incidents)
            loader.load_file(database.engine(), s, path, day)
            pipeline.run_day(day, s, send=False)
        out = gx_project.docs_site() / "report.html"
        with database.engine().connect() as conn:
            report.write(conn, timeline[0][0], timeline[-1][0], out, gx_project.docs_links)
        png = ROOT / "docs" / "report.png"
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND",
                            f"--user-data-dir={profile}", "--window-size=1100,1250", f"--screenshot={png}",
                            out.as_uri()], check=True, capture_output=True, timeout=120)
        print(f"wrote {png}")
    finally:
        database.stop_embedded(state)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
