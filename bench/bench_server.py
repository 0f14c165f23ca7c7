"""The embedded server and the throwaway databases both benches run in."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import sqlalchemy as sa

from monitor import settings
from monitor.store import database
from monitor.verdict import pipeline


@contextlib.contextmanager
def embedded_server(prefix: str):
    """A fresh embedded PostgreSQL under /tmp: yields (server URL, its folder, a folder for files)."""
    state = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    server = database.embedded_url(state)
    work = state / "files"
    work.mkdir()
    try:
        yield server, state, work
    finally:
        database.stop_embedded(state)
        shutil.rmtree(state, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server: str, name: str):
    """Database ``name`` created empty, initialised and in use for the block; dropped after it."""
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        c.execute(sa.text(f"CREATE DATABASE {name}"))
    url = database.with_database(server, name)
    database.use(url)
    try:
        pipeline.init(settings.load())
        yield url
    finally:
        database._engine(url).dispose()
        database.use(None)
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def timed_run(url: str, day, **env: str) -> float:
    """`runner.py run --date D` as a downstream job calls it (process start to exit, in
    seconds), with further environment (MONITOR_CONFIG, MONITOR_GX_ROOT); exit 0 or 1 only."""
    import os
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(root / "runner.py"), "run", "--date", str(day), "--no-notify"],
                          env=dict(os.environ, DATABASE_URL=url, **env), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"run failed: {proc.stderr}")
    return elapsed
