"""Exports as real shops deliver them (README, "Input", "Checks"): flattened columns, empty
payloads, the shop's own event names, a usual rate of empty client ids, crawlers, and the
incidents such feeds have. Real embedded PostgreSQL, real GX runs, the generator's export mode."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from monitor import database, generator, loader, pipeline, settings
from monitor.settings import Settings

START = dt.date(2026, 9, 1)
DAYS = 16
# one incident a day after the learning days; every other day is clean
INCIDENT_DAYS = {START + dt.timedelta(days=8 + i): name for i, name in enumerate(generator.EXPORT_CATALOG)}
# what each incident's alert must name
NAMED = {"client_id_spike": "client_id", "renamed_client_id": "`clientId` appeared the same day: renamed?",
         "lost_referrer": "`referrer`", "repeated_order_ids": "order ", "zero_revenue": "revenue 0",
         "silent_hours": "no events 11:00-12:59 UTC"}


def export_settings(tmp_path) -> Settings:
    path = tmp_path / "monitor.toml"
    path.write_text(generator.export_settings_toml())
    return settings.load_file(path)


@pytest.fixture(scope="module")
def export_run(server_url, state_dir, gx_root, tmp_path_factory):
    """16 days of a flattened export (about 3,500 events a day), loaded and run once."""
    from tests.conftest import create_database, drop_database

    name = create_database(server_url)
    url = database.with_database(server_url, name)
    database.use(url)
    folder = tmp_path_factory.mktemp("export")
    s = export_settings(folder)
    pipeline.init(s)
    gen = generator.Generator(seed=5, sessions_per_day=700)
    days = {}
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        inc = (INCIDENT_DAYS[day],) if day in INCIDENT_DAYS else ()
        path = generator.write_export(folder / f"export_{day}.csv", generator.export_rows(gen, day, inc), inc)
        loader.load_file(database.engine(), s, path, day)
        days[day] = (inc, pipeline.run_day(day, s, send=False))
    yield url, days
    database._engine(url).dispose()
    database.use(None)
    drop_database(server_url, name)


@pytest.mark.parametrize("incident", sorted(generator.EXPORT_CATALOG), ids=str)
def test_each_incident_is_caught_and_named(export_run, incident):
    _, days = export_run
    day = next(d for d, name in INCIDENT_DAYS.items() if name == incident)
    summary = days[day][1]
    found = {(a.check, a.category, a.gate_severity): a for a in summary.alerts}
    for exp in generator.EXPORT_CATALOG[incident].expect:
        assert (exp.check, exp.category, exp.severity) in found, (incident, sorted(found))
        assert NAMED[incident] in found[(exp.check, exp.category, exp.severity)].message or exp.check in (
            "lost_column", "required_columns") and incident == "renamed_client_id" and "client_id" in \
            found[(exp.check, exp.category, exp.severity)].message
    first = found[tuple(vars(generator.EXPORT_CATALOG[incident].expect[0]).values())]
    assert NAMED[incident] in first.message, first.message


def test_clean_days_are_never_critical_and_empty_payloads_raise_nothing(export_run):
    _, days = export_run
    for day, (incidents, summary) in days.items():
        checks = {a.check for a in summary.alerts}
        assert not checks & {"malformed_json", "malformed_json_rate", "unexpected_columns"} or incidents, (
            day, [a.message for a in summary.alerts])
        if not incidents:
            assert summary.status != "critical", (day, [a.message for a in summary.alerts])
        if not incidents and (day - START).days >= 4:  # past the first days, a usual 1% of empty ids is quiet
            assert "null_client_id" not in checks, (day, [a.message for a in summary.alerts])


def test_first_days_warn_on_empty_ids_without_history(export_run):
    _, days = export_run
    first = days[START][1]
    alert = next(a for a in first.alerts if a.check == "null_client_id")
    assert alert.gate_severity == "warning" and "too little history" in alert.message


def test_lost_column_is_one_story_with_what_it_broke(export_run):
    from monitor import stories

    _, days = export_run
    day = next(d for d, name in INCIDENT_DAYS.items() if name == "renamed_client_id")
    groups = stories.group(days[day][1].alerts)
    root, explained = groups[0]
    assert root.check in ("required_columns", "lost_column")
    assert "null_client_id" in {a.check for a in explained} | {root.check} | {
        a.check for _, more in groups[1:] for a in more} or len(groups) == 1
    assert {a.check for a in explained} >= {"null_client_id"}, [(r.check, [a.check for a in e]) for r, e in groups]


def _day_metrics(url: str, day: dt.date) -> dict[tuple[str, str], float]:
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        rows = conn.execute(sa.text("SELECT metric, dimension, value FROM monitor.daily_metrics WHERE day = :d"),
                            {"d": day}).fetchall()
    eng.dispose()
    return {(m, d): v for m, d, v in rows}


SAME_AS_PAYLOAD = ("sessions", "bot_sessions", "bot_share", "bot_hit_share", "page_depth", "channel_share",
                   "utm_source_share", "device_share", "distinct_clients", "events", "revenue")


def test_flattened_fields_read_as_payload_keys(use_database, tmp_path):
    """The same rows, once with page URL, referrer and user agent in event_data and once as
    columns: the same channels, devices, bots and sessions."""
    day = START
    gen = generator.Generator(seed=8, sessions_per_day=300)
    rows = generator.export_rows(gen, day)
    flat = generator.write_export(tmp_path / "flat.csv", rows)
    nested = tmp_path / "nested.csv"
    with nested.open("w", newline="") as fh:
        import csv

        w = csv.writer(fh)
        w.writerow(["client_id", "timestamp", "event_name", "event_data"])
        for r in rows:
            data = {k: r[k] for k in ("page_url", "referrer", "user_agent") if r[k]}
            data.update(json.loads(r["event_data"]) if r["event_data"] else {})
            w.writerow([r["client_id"], r["timestamp"], r["event_name"], json.dumps(data)])
    s = export_settings(tmp_path)
    metrics = []
    for path in (flat, nested):
        url = use_database()
        pipeline.init(s)
        report = loader.load_file(database.engine(), s, path, day)
        assert report.extra_columns == ()
        pipeline.run_day(day, s, send=False)
        metrics.append(_day_metrics(url, day))
    flat_m, nested_m = metrics
    compared = {k for k in nested_m if k[0] in SAME_AS_PAYLOAD}
    assert len(compared) > 20 and {k[1] for k in compared if k[0] == "device_share"} >= {"mobile", "desktop"}
    assert {k: flat_m.get(k) for k in compared} == pytest.approx({k: nested_m[k] for k in compared})
    assert flat_m[("bot_sessions", "")] > 0 and flat_m[("empty_payload", "")] > 0.8 * flat_m[("rows", "")]
    assert flat_m[("malformed_json", "")] == 0


def test_columns_mapping_for_csv_and_json_lines(use_database, tmp_path):
    """[columns]: the feed's names said once; a payload key wins over a column of the same field."""
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[columns]\nclient_id = "anonymous_id"\ntimestamp = "received_at"\nevent_data = "properties"\n'
                   'revenue = "total"\n')
    s = settings.load_file(cfg)
    day = dt.date(2026, 9, 3)
    lines = [{"anonymous_id": "a1", "received_at": f"{day}T10:00:00Z", "event_name": "purchase",
              "properties": {"order_id": "o1", "revenue": 30}, "total": "999"},
             {"anonymous_id": "a2", "received_at": f"{day}T10:05:00Z", "event_name": "purchase",
              "properties": {"order_id": "o2"}, "total": "25.5"},
             {"anonymous_id": "", "received_at": f"{day}T10:06:00Z", "event_name": "page_viewed", "properties": {}}]
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    csv_file = tmp_path / "events.csv"
    csv_file.write_text("anonymous_id,received_at,event_name,properties,total\n"
                        f'a1,{day}T10:00:00Z,purchase,"{{""order_id"":""o1"",""revenue"":30}}",999\n'
                        f'a2,{day}T10:05:00Z,purchase,"{{""order_id"":""o2""}}",25.5\n'
                        f',{day}T10:06:00Z,page_viewed,{{}}\n')
    for path in (jsonl, csv_file):
        url = use_database()
        pipeline.init(s)
        report = loader.load_file(database.engine(), s, path, day)
        assert report.missing_columns == () and report.extra_columns == (), report
        summary = pipeline.run_day(day, s, send=False)
        m = _day_metrics(url, day)
        assert m[("revenue", "")] == 55.5 and m[("null_client_id", "")] == 1 and m[("invalid_revenue", "")] == 0
        assert not {a.check for a in summary.alerts} & {"required_columns", "unexpected_columns", "malformed_json"}


def test_columns_mapping_rejects_one_column_for_two_names(tmp_path):
    from monitor.errors import UsageError

    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[columns]\nclient_id = "id"\nsession_id = "id"\n')
    with pytest.raises(UsageError, match="mapped twice: id"):
        settings.load_file(cfg)


def _columns_series(days: dict[dt.date, list[str]], target: dt.date, today: list[str]) -> dict:
    iso = {d.isoformat(): {c: 1.0 for c in cols} for d, cols in days.items()}
    return {"day": target.isoformat(), "target": {c: 1.0 for c in today}, "history": iso,
            "recent": {d: v for d, v in iso.items() if (target - dt.date.fromisoformat(d)).days <= 7},
            "verdicts": {}, "accepted": [], "segments": {},
            "counts": {**{d: 1.0 for d in iso}, target.isoformat(): 1.0}}


def test_a_rename_is_named_while_it_lasts_and_a_lost_column_for_days():
    from custom_expectations import ExpectDayColumnsToBeKept

    cols = ["client_id", "page_url", "referrer", "timestamp", "event_name", "event_data", "user_agent"]
    renamed = ["clientId"] + cols[1:]
    day = dt.date(2026, 9, 10)
    history = {day - dt.timedelta(days=i): cols for i in range(2, 8)}
    history[day - dt.timedelta(days=1)] = renamed  # the rename started yesterday
    required = ExpectDayColumnsToBeKept(mode="required", required=["client_id", "timestamp", "event_name",
                                                                    "event_data"])
    result = required.check(_columns_series(history, day, renamed))
    message = result["result"]["details"]["message"]
    assert not result["success"] and f"`clientId` appeared on {day - dt.timedelta(days=1)}: renamed?" in message
    lost = ExpectDayColumnsToBeKept(mode="lost", required=["client_id"])
    without_referrer = [c for c in cols if c != "referrer"]
    history = {day - dt.timedelta(days=i): cols for i in range(3, 8)}
    history.update({day - dt.timedelta(days=i): without_referrer for i in (1, 2)})  # gone since two days
    result = lost.check(_columns_series(history, day, without_referrer))
    assert not result["success"] and "`referrer` missing" in result["result"]["details"]["message"]
    assert result["result"]["details"].get("severity") is None  # not a required column: a warning


def test_a_rare_empty_id_on_a_feed_that_mostly_has_none_is_no_alert():
    from custom_expectations import ExpectDayRateToMatchBaseline

    day = dt.date(2026, 9, 10)
    nulls = [0, 1, 0, 0, 2, 0, 1]  # median 0, a few now and then
    history = {(day - dt.timedelta(days=i + 1)).isoformat(): {"": float(k)} for i, k in enumerate(nulls)}
    series = {"day": day.isoformat(), "target": {"": 2.0}, "history": history, "recent": history,
              "verdicts": {}, "accepted": [], "segments": {}, "samples": [],
              "counts": {**{d: 3000.0 for d in history}, day.isoformat(): 3000.0}}
    check = ExpectDayRateToMatchBaseline(metric="null_client_id")
    assert check.check(series)["success"]
    spike = dict(series, target={"": 20.0})  # 20 in 3,000 where 0.2 in 3,000 is usual
    assert not check.check(spike)["success"]
