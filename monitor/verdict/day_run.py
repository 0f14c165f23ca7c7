"""A day's run, first half: the day's lock, the run's row, the metrics pass, in a background thread.

The metrics pass runs inside PostgreSQL (or Spark), so it can overlap the seconds
this process spends importing GX: the CLI starts it before that import.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import sqlalchemy as sa

from monitor.engines import engine_for
from monitor.settings import Settings
from monitor.store import results as results_store


def new_run_id(day: dt.date, now: dt.datetime) -> str:
    return f"{day.isoformat()}T{now:%H%M%S}-{uuid.uuid4().hex[:8]}"


class DayLock:
    """The day's session-level advisory lock, on a connection of its own: a second run of
    the same day waits for it, so runs of a day never interleave."""

    key = "monitor.run"  # the lock's namespace

    def __init__(self, eng: sa.Engine, day: dt.date):
        self.eng, self.day = eng, day
        self._conn: sa.Connection | None = None

    def acquire(self) -> None:
        conn = self.eng.connect()
        try:
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:k), hashtext(:d))"), {"k": self.key, "d": str(self.day)})
            conn.commit()
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k), hashtext(:d))"),
                         {"k": self.key, "d": str(self.day)})
            conn.commit()
        finally:
            conn.close()


class DayRun:
    """A run of one day, from ``start`` (in a thread: lock, row, metrics) until ``release``.

    The run's row in monitor.runs is committed before the metrics pass, so a
    run killed at any later point leaves the day without a verdict (the gate
    stays closed) until a run finishes.
    """

    def __init__(self, eng: sa.Engine, day: dt.date, settings: Settings):
        self.eng, self.day, self.settings = eng, day, settings
        self.run_time: dt.datetime | None = None  # set once the day's lock is held
        self.run_id: str | None = None
        self.opened = False  # the run's row exists
        self.lock = DayLock(eng, day)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._in_background, name=f"metrics-{day}", daemon=True)

    def start(self) -> DayRun:
        self._thread.start()
        return self

    def _in_background(self) -> None:
        try:
            self.lock.acquire()
            self._open()
            self._compute_and_store()
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc

    def _open(self) -> None:
        self.run_time = dt.datetime.now(dt.timezone.utc)
        self.run_id = new_run_id(self.day, self.run_time)
        with self.eng.begin() as tx:
            results_store.open_run(tx, self.run_id, self.day, self.run_time)
        self.opened = True

    def _compute_and_store(self) -> None:
        # work that needs no snapshot first (Spark's job), with no transaction open
        store_metrics = engine_for(self.settings).prepare(self.eng, self.day, self.settings)
        # one snapshot: the metrics and the list of loads they cover are the same rows
        with self.eng.connect().execution_options(isolation_level="REPEATABLE READ") as tx, tx.begin():
            store_metrics(tx)
            results_store.record_covered_loads(tx, self.run_id, self.day)
            if self.settings.source.in_place:  # what the gate compares later (status): rows changed since: stale
                results_store.record_fingerprint(tx, self.run_id, self.day)

    def wait(self) -> None:
        """Block until the metrics are stored; re-raise what the pass raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def release(self) -> None:
        self._thread.join()
        self.lock.release()

    def __enter__(self) -> DayRun:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


DayPass = DayRun  # the name of earlier releases
