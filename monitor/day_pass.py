"""A day's run, first half: take the day's lock and compute its metrics, in a background thread.

The metrics pass runs inside PostgreSQL, so it can overlap the seconds this
process spends importing GX: the CLI starts it before that import.
"""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from monitor.backends import postgres as backend
from monitor.settings import Settings


class DayPass:
    """Holds the day's advisory lock from ``start`` until ``release``; runs of a day never interleave."""

    def __init__(self, eng: sa.Engine, day: dt.date, settings: Settings):
        self.eng, self.day, self.settings = eng, day, settings
        self._lock_conn: sa.Connection | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=f"metrics-{day}", daemon=True)

    def start(self) -> DayPass:
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            conn = self.eng.connect()
            try:
                # session-level lock: a second run of the same day waits here, then runs after
                conn.execute(sa.text("SELECT pg_advisory_lock(hashtext('monitor.run'), hashtext(:d))"),
                             {"d": str(self.day)})
                conn.commit()
            except BaseException:
                conn.close()
                raise
            self._lock_conn = conn
            with self.eng.begin() as conn:
                backend.compute_day_metrics(conn, self.day, self.settings)
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the metrics are stored; re-raise what the pass raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def release(self) -> None:
        self._thread.join()
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        try:
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext('monitor.run'), hashtext(:d))"),
                         {"d": str(self.day)})
            conn.commit()
        finally:
            conn.close()

    def __enter__(self) -> DayPass:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
