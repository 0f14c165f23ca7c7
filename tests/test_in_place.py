"""In place (``[source] relation``; README, "Monitor your own table"): a team's own typed
table gives the same metrics and verdicts as loading the same rows from CSV, samples name
``row_id``, a validated day whose rows change is stale until a rerun, a SELECT-only role
runs it, and a local day covers exactly that day's rows."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from in_place_tables import build_ga4, build_snowplow
from monitor import database, generator, loader, pipeline, settings
from monitor.cli import main
from monitor.engines import postgres as postgres_engine

START = dt.date(2026, 9, 1)
HISTORY = 4
# incidents a typed table can hold, per schema: Snowplow's is read by its timestamp range,
# GA4's by the export's own day (so a late time on that day is out of the day, as for a dated load)
CASES = {
    "snowplow": (build_snowplow, ("zero_purchase", "null_client_id", "duplicate_spike")),
    "ga4": (build_ga4, ("late_timestamp", "null_timestamp", "volume_drop")),
}
# what differs by design: the feed's own event names, its own columns, and a table with
# no payload column has no payload on any row
RENAMED = ("events:", "column:", "empty_payload:")


def _config(tmp_path, monkeypatch, text: str):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(text)
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    return settings.load()


def _load_days(tmp_path, incidents: tuple[str, ...], s) -> list[dt.date]:
    gen = generator.Generator(seed=17, sessions_per_day=500)
    out = []
    for i in range(HISTORY + len(incidents)):
        day = START + dt.timedelta(days=i)
        inc = (incidents[i - HISTORY],) if i >= HISTORY else ()
        path = generator.write_csv(tmp_path / f"events_{day}.csv", gen.day_rows(day, inc), inc)
        loader.load_file(database.engine(), s, path, day)
        out.append(day)
    return out


def _metrics(day: dt.date, s) -> dict[str, float]:
    with database.engine().begin() as conn:
        postgres_engine.compute_day_metrics(conn, day, s)
        return dict(conn.execute(sa.text(
            "SELECT metric || ':' || dimension, value FROM monitor.daily_metrics WHERE day = :d"), {"d": day}).all())


def _judge(days: list[dt.date], s) -> tuple[dict, dict]:
    """Every day's metrics, and the verdicts of the incident days (history: metrics only)."""
    metrics = {d: _metrics(d, s) for d in days}
    verdicts = {}
    for d in days[HISTORY:]:
        summary = pipeline.run_day(d, s, send=False)
        verdicts[d] = {r.check: r.status for r in summary.results}
    return metrics, verdicts


def _forget_results() -> None:
    with database.engine().begin() as conn:
        conn.execute(sa.text("TRUNCATE monitor.runs, monitor.monitoring_results, monitor.daily_metrics, "
                             "monitor.day_samples, monitor.notifications, monitor.accepted_days"))


@pytest.mark.parametrize("preset", list(CASES))
def test_a_typed_table_in_place_gives_the_verdicts_of_loading_its_rows(db, tmp_path, monkeypatch, preset):
    build, incidents = CASES[preset]
    loaded_settings = settings.load()
    days = _load_days(tmp_path, incidents, loaded_settings)
    loaded_metrics, loaded_verdicts = _judge(days, loaded_settings)
    with database.engine().begin() as conn:
        build(conn)
    _forget_results()

    in_place = _config(tmp_path, monkeypatch, f'[source]\npreset = "{preset}"\n')
    assert in_place.source.in_place
    metrics, verdicts = _judge(days, in_place)

    for d in days:
        same = lambda m: {k: v for k, v in m.items() if not k.startswith(RENAMED)}  # noqa: E731
        assert same(metrics[d]) == same(loaded_metrics[d]), d
    for d, inc in zip(days[HISTORY:], incidents):
        assert verdicts[d] == loaded_verdicts[d], (inc, {c: (verdicts[d].get(c), s) for c, s in
                                                         loaded_verdicts[d].items() if verdicts[d].get(c) != s})
        expected = {e.check for e in generator.CATALOG[inc].expect}
        alerted = {c for c, st in verdicts[d].items() if st in ("warning", "critical")}
        assert expected <= alerted, (inc, alerted)


@pytest.fixture
def snowplow(db, tmp_path, monkeypatch):
    """Six clean days (and one of null client ids) in atomic.events, read in place."""
    days = _load_days(tmp_path, ("null_client_id",), settings.load())
    with database.engine().begin() as conn:
        build_snowplow(conn)
        conn.execute(sa.text("TRUNCATE events.raw_events, events.load_days, events.loads CASCADE"))
    return days, _config(tmp_path, monkeypatch, '[source]\npreset = "snowplow"\n')


def test_samples_in_place_name_the_row_id(snowplow, capsys):
    days, s = snowplow
    for d in days[:-1]:
        _metrics(d, s)
    summary = pipeline.run_day(days[-1], s, send=False)
    alert = next(a for a in summary.alerts if a.check == "null_client_id")
    assert "first at row_id " in alert.message, alert.message
    assert main(["show", "--date", str(days[-1]), "--check", "null_client_id", "--json"]) == 0
    samples = json.loads(capsys.readouterr().out)["samples"]
    assert samples and all(set(x) == {"row_id", "value"} for x in samples)
    with database.engine().connect() as conn:
        ids = [x["row_id"] for x in samples]
        found = conn.execute(sa.text("SELECT count(*) FROM atomic.events WHERE event_id = ANY(:i) "
                                     "AND domain_userid IS NULL"), {"i": ids}).scalar()
    assert found == len(samples), "each sample is a row of the relation without a client id"


def test_rows_changed_in_a_validated_day_close_its_gate_until_a_rerun(snowplow, capsys):
    days, s = snowplow
    day = days[HISTORY - 1]
    for d in days[:HISTORY - 1]:
        _metrics(d, s)
    assert pipeline.run_day(day, s, send=False).status != "critical"
    assert main(["status", "--date", str(day), "--json"]) == 0
    capsys.readouterr()

    with database.engine().begin() as conn:
        conn.execute(sa.text(
            """INSERT INTO atomic.events (event_id, domain_userid, derived_tstamp, event_name, load_tstamp)
               VALUES ('late-1', 'c-late', :t, 'page_view', now())"""), {"t": dt.datetime.combine(
                day, dt.time(12), dt.timezone.utc)})
    assert main(["status", "--date", str(day), "--json"]) == 1
    entry = json.loads(capsys.readouterr().out)
    assert entry["stale"] is True and "added, changed or removed" in entry["reason"], entry

    pipeline.run_day(day, s, send=False)
    assert main(["status", "--date", str(day), "--json"]) == 0
    capsys.readouterr()
    with database.engine().begin() as conn:  # a removal is a change too
        conn.execute(sa.text("DELETE FROM atomic.events WHERE event_id = 'late-1'"))
    assert main(["status", "--date", str(day), "--json"]) == 1
    assert main(["status", "--date", str(days[HISTORY - 2])]) == 1, "never run: the gate stays closed"


def test_a_role_with_only_select_on_the_source_runs_it(snowplow, login_role):
    days, s = snowplow
    pipeline.init(s)  # as the schema's owner, once: the day-rows batch follows the source
    reader = login_role("reader", "GRANT CONNECT ON DATABASE {database} TO {role}",
                        "GRANT USAGE ON SCHEMA atomic TO {role}", "GRANT SELECT ON atomic.events TO {role}",
                        *(grant for schema in ("monitor", "events")  # the monitor's own schemas: its to write
                          for grant in (f"GRANT ALL ON SCHEMA {schema} TO {{role}}",
                                        f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {{role}}",
                                        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {{role}}")))
    database.use(reader)
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        with database.engine().begin() as conn:
            conn.execute(sa.text("DELETE FROM atomic.events"))
    for d in days[:HISTORY]:
        _metrics(d, s)
    summary = pipeline.run_day(days[-1], s, send=False)
    assert "null_client_id" in {a.check for a in summary.alerts}
    assert main(["status", "--date", str(days[-1])]) == 1  # critical: the gate is closed, and says so


def test_a_renamed_column_in_place_is_a_lost_column_and_names_its_new_name(snowplow):
    days, s = snowplow
    for d in days[:HISTORY - 1]:
        _metrics(d, s)
    with database.engine().begin() as conn:
        conn.execute(sa.text("ALTER TABLE atomic.events RENAME COLUMN mkt_source TO marketing_source"))
    summary = pipeline.run_day(days[HISTORY - 1], s, send=False)
    by_check = {r.check: r for r in summary.results}
    assert by_check["lost_column"].status == "warning", by_check["lost_column"].message
    assert "utm_source" in by_check["lost_column"].message
    assert by_check["unexpected_columns"].status == "warning"
    assert "marketing_source" in json.dumps(by_check["unexpected_columns"].details)
    assert by_check["required_columns"].status == "pass"


NY = "America/New_York"


@pytest.mark.parametrize("day", [dt.date(2026, 3, 8), dt.date(2026, 11, 1)], ids=["spring-forward", "fall-back"])
def test_a_local_day_in_place_covers_exactly_its_rows(db, tmp_path, monkeypatch, day):
    rows = [r for d in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1))
            for r in generator.Generator(seed=d.day, sessions_per_day=300).day_rows(d)]
    with database.engine().begin() as conn:
        conn.execute(sa.text("CREATE TABLE public.shop_events (id bigserial, visitor text, occurred_at timestamptz, "
                             "kind text, payload jsonb)"))
        conn.execute(sa.text("INSERT INTO public.shop_events (visitor, occurred_at, kind, payload) "
                             "VALUES (:c, CAST(:t AS timestamptz), :e, CAST(:d AS jsonb))"),
                     [{"c": r[0], "t": r[1], "e": r[2], "d": r[3]} for r in rows])
    s = _config(tmp_path, monkeypatch, f"""[source]\nrelation = "public.shop_events"\n[day]\ntimezone = "{NY}"\n
[columns]\nclient_id = "visitor"\ntimestamp = "occurred_at"\nevent_name = "kind"\nevent_data = "payload"\nrow_id = "id"\n""")
    local = sum(1 for r in rows if dt.datetime.fromisoformat(r[1].replace("Z", "+00:00")).astimezone(
        ZoneInfo(NY)).date() == day)
    metrics = _metrics(day, s)
    assert metrics["rows:"] == local
    assert metrics["out_of_day_timestamp:"] == 0 and metrics["invalid_timestamp:"] == 0


def test_in_place_mistakes_are_one_clear_line(db, tmp_path, monkeypatch, capsys):
    _config(tmp_path, monkeypatch, '[source]\nrelation = "atomic.nowhere"\n')
    assert main(["run", "--date", "2026-09-01", "--no-notify"]) == 2
    err = capsys.readouterr().err
    assert "atomic.nowhere" in err and "no such table" in err and len(err.strip().splitlines()) == 1
    path = generator.write_csv(tmp_path / "e.csv", generator.Generator(seed=1, sessions_per_day=20).day_rows(START))
    assert main(["load", str(path), "--date", str(START)]) == 2
    assert "in place" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["snowplow", "segment", "ga4", "shopify"])
def test_each_preset_is_one_line_and_the_file_still_wins(tmp_path, monkeypatch, name):
    s = _config(tmp_path, monkeypatch, f'[source]\npreset = "{name}"\n[events]\npurchase = "order"\n')
    assert s.source.relation and s.columns.feed_name("client_id") != "client_id"
    assert s.events.purchase == "order", "what the file says wins over the preset"
