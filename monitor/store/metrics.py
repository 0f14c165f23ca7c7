"""The metrics store: a day's (metric, dimension, value) rows in monitor.daily_metrics and
its offending rows in monitor.day_samples, whichever engine computed them. The rules
read only this."""

from __future__ import annotations

import datetime as dt


def store_day_metrics(cursor, day: dt.date, rows: list, samples: list, fingerprint: str | None = None) -> None:
    """Replace the day's rows in the metrics store, whichever engine computed them; in place,
    also the fingerprint of the rows they were computed from (the run records it)."""
    cursor.execute("DELETE FROM monitor.day_fingerprints WHERE day = %s", (day,))
    if fingerprint is not None:
        cursor.execute("INSERT INTO monitor.day_fingerprints (day, fingerprint) VALUES (%s, %s)", (day, fingerprint))
    cursor.execute("DELETE FROM monitor.daily_metrics WHERE day = %s", (day,))
    cursor.executemany(
        "INSERT INTO monitor.daily_metrics (day, metric, dimension, value) VALUES (%s, %s, %s, %s)",
        [(day, m, d, v) for m, d, v in rows],
    )
    _store_samples(cursor, day, samples)


def _store_samples(cursor, day: dt.date, samples: list) -> None:
    """The offending rows the pass named, as the source found them: (check, file, line,
    row_id, value); a loaded file names file and line, a relation read in place its row_id."""
    cursor.execute("DELETE FROM monitor.day_samples WHERE day = %s", (day,))
    if samples:
        cursor.executemany(
            "INSERT INTO monitor.day_samples (day, check_name, file, line, row_id, value) VALUES (%s, %s, %s, %s, %s, %s)",
            [(day, *s) for s in samples])
