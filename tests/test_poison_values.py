"""One public event never switches the gate off (issue 20, items 1 and 2): a payload holding
the JSON escape for NUL, a revenue of 1e400, "NaN" or "Infinity". The day runs (exit 0 or 1),
every row is kept, the alert names the row and what is wrong with it, no non-finite number
reaches a stored metric or result, and both engines store the same metrics."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
import sqlalchemy as sa

from monitor import database, loader, pipeline, settings
from tests.test_cli import runner

DAY = dt.date(2026, 6, 10)
# poison -> (the bad row's event_name and event_data, the check that names it, what the sample shows)
POISON = {
    "nul_escape": ("page_viewed", '{"page_url":"https://shop.example/\\u0000x"}', "malformed_json", "\\u0000"),
    "revenue_1e400": ("purchase", '{"order_id":"o9","revenue":1e400}', "invalid_revenue", "revenue 1"),
    "revenue_nan": ("purchase", '{"order_id":"o9","revenue":"NaN"}', "invalid_revenue", "revenue NaN"),
    "revenue_infinity": ("purchase", '{"order_id":"o9","revenue":"Infinity"}', "invalid_revenue", "revenue Infinity"),
}


def _rows(poison: str) -> list[list[str]]:
    rows = []
    for i in range(300):
        t = f"{DAY}T{8 + i // 60:02d}:{i % 60:02d}:00Z"
        name = "purchase" if i % 30 == 29 else "checkout_started" if i % 30 == 28 else "page_viewed"
        data = {"page_url": "https://shop.example/p", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0"}
        if name == "purchase":
            data.update(order_id=f"o{i}", revenue=25.0)
        rows.append([f"c{i % 40}", t, name, json.dumps(data)])
    name, payload, _, _ = POISON[poison]
    rows.insert(150, ["c-poison", f"{DAY}T12:30:00Z", name, payload])
    return rows


def _write(tmp_path, poison: str, fmt: str):
    rows = _rows(poison)
    if fmt == "csv":
        import csv

        path = tmp_path / f"{poison}.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["client_id", "timestamp", "event_name", "event_data"])
            w.writerows(rows)
    else:
        path = tmp_path / f"{poison}.jsonl"
        # event_data as an object, as JSON Lines carry it, written as sent (1e400 stays 1e400):
        # the NUL escape is then the line's own
        path.write_text("".join(json.dumps(dict(zip(["client_id", "timestamp", "event_name"], r)))[:-1]
                                + f', "event_data": {r[3]}}}\n' for r in rows))
    return path


def _finite_everywhere(conn) -> None:
    values = [v for (v,) in conn.execute(sa.text("SELECT value FROM monitor.daily_metrics"))]
    assert values and all(math.isfinite(v) for v in values)
    text = conn.execute(sa.text("SELECT string_agg(coalesce(observed, '') || message || details::text, ' ')"
                                " FROM monitor.monitoring_results")).scalar()
    assert "NaN" not in text.replace("revenue NaN", "") and "Infinity" not in text.replace("revenue Infinity", "")
    assert "0" * 50 not in text  # no 400-digit number anywhere


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("poison", sorted(POISON), ids=str)
def test_one_poison_row_never_stops_the_day(db, tmp_path, poison, fmt):
    path = _write(tmp_path, poison, fmt)
    loader.load_file(database.engine(), settings.load(), path, DAY)
    if poison == "nul_escape":  # the reproduction through the command line: exit 3 on every (re)run
        run = runner("run", "--date", str(DAY), "--json", "--no-notify", url=db)
        assert run.returncode in (0, 1), run.stderr
        body = json.loads(run.stdout)
        assert runner("run", "--date", str(DAY), "--json", "--no-notify", url=db).returncode == run.returncode
    else:
        body = pipeline.run_day(DAY, settings.load(), send=False).to_json()
    _, _, check, shown = POISON[poison]
    if fmt == "jsonl" and poison == "nul_escape":  # in a JSON Lines object: read as U+FFFD, the row marked
        check, shown = "invalid_encoding", "\ufffd"
    alert = next(a for a in body["alerts"] if a["check"] == check)
    sample = next(x for x in alert["samples"])
    assert sample["file"] == str(path.resolve()) and sample["line"] == 151 and shown in sample["value"], sample
    with database.engine().connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events.raw_events")).scalar() == 301
        _finite_everywhere(conn)


def poison_day(tmp_path):
    """One day holding every poison row (the engine parity case, tests/test_spark_engine.py)."""
    rows = _rows("nul_escape")
    for n, poison in enumerate(p for p in sorted(POISON) if p != "nul_escape"):
        name, payload, _, _ = POISON[poison]
        rows.insert(100 + n, [f"c-{poison}", f"{DAY}T12:3{n}:00Z", name, payload])
    import csv

    path = tmp_path / "poison.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["client_id", "timestamp", "event_name", "event_data"])
        w.writerows(rows)
    return path
