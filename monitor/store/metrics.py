"""The metrics store: a day's (metric, dimension, value) rows in monitor.daily_metrics and
its offending rows in monitor.day_samples, whichever engine computed them. The rules
read only this."""

from __future__ import annotations

import datetime as dt


def store_day_metrics(cursor, day: dt.date, rows: list, samples: list) -> None:
    """Replace the day's rows in the metrics store, whichever engine computed them."""
    cursor.execute("DELETE FROM monitor.daily_metrics WHERE day = %s", (day,))
    cursor.executemany(
        "INSERT INTO monitor.daily_metrics (day, metric, dimension, value) VALUES (%s, %s, %s, %s)",
        [(day, m, d, v) for m, d, v in rows],
    )
    _store_samples(cursor, day, samples)


def _store_samples(cursor, day: dt.date, samples: list) -> None:
    """The offending rows the pass named: their file, line and value. Only days with
    bad rows pay for this one lookup (a clean day names none)."""
    cursor.execute("DELETE FROM monitor.day_samples WHERE day = %s", (day,))
    if not samples:
        return
    checks = [m.removeprefix("sample:") for m, _, _ in samples]
    loads = [int(d.split(":")[0]) for _, d, _ in samples]
    lines = [int(v) for _, _, v in samples]
    copies = [int(d.split(":")[2]) if d.count(":") == 2 else 1 for _, d, _ in samples]  # duplicates: how many
    cursor.execute(
        """INSERT INTO monitor.day_samples (day, check_name, file, line, value)
           SELECT %(day)s, s.check_name, l.source_file, s.line_no,
                  CASE s.check_name
                    WHEN 'unknown_event_name' THEN r.event_name
                    WHEN 'invalid_timestamp' THEN r."timestamp"
                    WHEN 'malformed_json' THEN left(r.event_data, 200)
                    WHEN 'invalid_revenue' THEN 'revenue ' || coalesce(  -- as it was sent: 1e400 stays 1e400
                         nullif(left(btrim(substring(r.event_data from '"revenue"\s*:\s*("[^"]*"|[^,}\s]*)'), '"'), 40), ''),
                         nullif(left(r.extra->>'revenue', 40), ''), '(missing)')
                    WHEN 'duplicate_order_id' THEN 'order ' || coalesce(
                         CASE WHEN r.event_data IS JSON OBJECT AND pg_input_is_valid(r.event_data, 'jsonb')
                              THEN r.event_data::jsonb->>'order_id' END, r.extra->>'order_id', '')
                         || ' on ' || s.copies || ' purchases'
                    ELSE left(concat_ws(',', coalesce(r.client_id, ''), coalesce(r."timestamp", ''),
                                        coalesce(r.event_name, ''), coalesce(r.event_data, '')), 200)
                  END || CASE WHEN s.copies > 1 AND s.check_name = 'duplicate_spike'
                              THEN ' (' || s.copies || ' identical rows)' ELSE '' END
           FROM unnest(%(checks)s::text[], %(loads)s::bigint[], %(lines)s::bigint[], %(copies)s::int[])
                AS s(check_name, load_id, line_no, copies)
           JOIN events.raw_events r ON r.partition_date = %(day)s AND r.load_id = s.load_id AND r.line_no = s.line_no
           JOIN events.loads l ON l.load_id = s.load_id""",
        {"day": day, "checks": checks, "loads": loads, "lines": lines, "copies": copies})
