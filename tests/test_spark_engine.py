"""The Spark engine computes what the PostgreSQL engine computes (README, "Engines: PostgreSQL or Spark").

The same generated days, dirty rows included, are loaded into PostgreSQL and
written as a lake of day partitions; both engines' daily_metrics must agree
(counts exactly, the rest to 1e-9), and `run --engine spark` must give the same
summary and exit code as the PostgreSQL engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from custom_expectations import baseline
from expectations import SUITES
from monitor import database, generator, loader, settings
from monitor.backends import postgres, spark as spark_engine
from monitor.errors import UsageError

DAY = dt.date(2026, 6, 10)
ROOT = Path(__file__).resolve().parent.parent

# rows no generator writes: explicit session ids, odd UTMs, JSON PostgreSQL rejects, odd spacing
ODD_ROWS = [
    ["s1", "2026-06-10T08:00:00Z", "page_viewed",
     '{"session_id":"A","page_url":"https://shop.example.com/?utm_source=Google&utm_medium=CPC&utm_campaign=Summer+Sale"}'],
    ["s1", "2026-06-10T09:30:00Z", "page_viewed", '{"session_id":"A","page_url":"https://shop.example.com/p"}'],
    ["s1", "2026-06-10T09:31:00Z", "page_viewed", '{"session_id":"B","referrer":"https://www.bing.com/search"}'],
    ["s1", "2026-06-10T09:32:00Z", "purchase", '{"session_id":"B","revenue":"12.50"}'],
    ["s2", "2026-06-10 10:00:00+02", "page_viewed",
     '{"utm_source":"newsletter","utm_medium":"","referrer":"https://mail.google.com/"}'],
    ["s2", "2026-06-10T10:05:00.123456Z", "add_to_cart", '{"utm_source":" Facebook ","utm_medium":"paid_social"}'],
    ["  s3  ", "2026-06-10T11:00:00Z", "page_viewed", '{"referrer":"https://t.co/x","page_url":"https://shop.example.com/"}'],
    ["s3", "2026-06-10T11:00:00Z", " purchase ", '{"revenue":"abc"}'],
    ["s4", "2026-06-10T12:00:00Z", "page_viewed", '{"page_url":"https://shop.example.com/"} trailing'],
    ["s4", "2026-06-10T12:01:00Z", "page_viewed", '{"a": NaN}'],
    ["s4", "2026-06-10T12:02:00Z", "page_viewed", "{'single': 'quotes'}"],
    ["s4", "2026-06-10T12:03:00Z", "page_viewed", '["an", "array"]'],
    ["s4", "2026-06-10T12:04:00Z", "page_viewed", ' {"device_type":"Tablet","referrer":"https://shop.example.com/x"} '],
    ["s5", "2026-06-10T12:05", "page_viewed", '{"page_url":"https://other.example.org/?utm_medium=email"}'],
    ["s5", "2026-02-30T10:00:00Z", "page_viewed", "{}"],
    ["", "", "", ""],
]

DIRTY = ("null_client_id", "null_timestamp", "null_event_name", "unknown_event_name", "invalid_timestamp",
         "late_timestamp", "future_timestamp", "malformed_json_heavy", "duplicate_spike", "bot_burst",
         "fast_scraper", "unexpected_column")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    s = settings.Settings(spark=settings.Spark(master="local[2]"))
    session = spark_engine.session(s)
    yield session


def _write_day_csv(path: Path, day: dt.date, incidents: tuple[str, ...], seed: int, sessions: int,
                   odd: bool) -> Path:
    rows = generator.Generator(seed=seed, sessions_per_day=sessions).day_rows(day, incidents)
    if odd:
        rows = rows + [[r[0], r[1].replace("2026-06-10", day.isoformat()), r[2], r[3]] for r in ODD_ROWS]
    return generator.write_csv(path, rows, incidents)


def _as_jsonl(src: Path, dest: Path) -> None:
    with src.open(newline="", encoding="utf-8") as fh, dest.open("w", encoding="utf-8") as out:
        for rec in csv.DictReader(fh):
            out.write(json.dumps(rec) + "\n")


def _as_parquet(spark, src: Path, folder: Path) -> None:
    df = spark.read.option("header", "true").option("multiLine", "true").option("escape", '"').csv(str(src))
    df.coalesce(1).write.mode("overwrite").parquet(str(folder / "_tmp"))
    part = next((folder / "_tmp").glob("*.parquet"))
    part.rename(folder / "events.parquet")
    for f in (folder / "_tmp").iterdir():
        f.unlink()
    (folder / "_tmp").rmdir()


def _stored(day: dt.date) -> dict[tuple[str, str], float]:
    with database.engine().connect() as conn:
        return {(m, d): v for m, d, v in conn.execute(sa.text(
            "SELECT metric, dimension, value FROM monitor.daily_metrics WHERE day = :d"), {"d": day})}


def _compute(engine, day: dt.date, s: settings.Settings) -> dict[tuple[str, str], float]:
    with database.engine().begin() as conn:
        engine.compute_day_metrics(conn, day, s)
    return _stored(day)


def _assert_same(pg: dict, sp: dict) -> None:
    """Metric by metric of the catalogue first (a metric one engine forgets fails by name),
    then every (metric, dimension) value."""
    from monitor.rules.catalogue import CATALOGUE

    names = {"postgres": {m for m, _ in pg}, "spark": {m for m, _ in sp}}
    for engine, emitted in names.items():
        assert emitted <= set(CATALOGUE), f"{engine} stores metrics the catalogue does not declare: " \
                                          f"{sorted(emitted - set(CATALOGUE))}"
    for metric in CATALOGUE.values():
        has = {engine for engine, emitted in names.items() if metric.name in emitted}
        assert len(has) != 1, f"metric {metric.name!r}: only {has.pop()} computes it"
        assert has or not metric.always or pg.get(("rows", ""), 0) == 0, f"metric {metric.name!r}: neither engine"
    assert set(pg) == set(sp), f"only postgres: {sorted(set(pg) - set(sp))[:8]}; only spark: {sorted(set(sp) - set(pg))[:8]}"
    differ = {k: (pg[k], sp[k]) for k in pg
              if (pg[k] != sp[k]) if float(pg[k]).is_integer() and float(sp[k]).is_integer()
              or abs(pg[k] - sp[k]) > 1e-9 * max(1.0, abs(pg[k]))}
    assert not differ, f"{len(differ)} metrics differ, e.g. {dict(list(differ.items())[:6])}"


_SIZED = ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled")


@pytest.mark.parametrize("fmt,incidents,odd,partitioned", [
    ("csv", (), False, False), ("jsonl", (), False, False), ("parquet", (), False, False),
    ("csv", DIRTY, True, True), ("jsonl", DIRTY, True, False), ("parquet", DIRTY, True, True),
], ids=["clean-csv", "clean-jsonl", "clean-parquet", "dirty-csv-partitioned", "dirty-jsonl",
        "dirty-parquet-partitioned"])
def test_both_engines_store_the_same_metrics(db, spark, tmp_path, monkeypatch, fmt, incidents, odd, partitioned):
    """A small day runs in one shuffle partition (SMALL_DAY_ROWS); ``partitioned`` computes it as a
    large day is (several partitions, adaptive execution). The pass leaves the session's settings as
    they were."""
    if partitioned:
        monkeypatch.setattr(spark_engine, "SMALL_DAY_ROWS", 0)
        assert int(spark.conf.get("spark.sql.shuffle.partitions")) > 1
    before = {k: spark.conf.get(k, None) for k in _SIZED}
    _same_metrics(spark, tmp_path, fmt, incidents, odd)
    assert {k: spark.conf.get(k, None) for k in _SIZED} == before, "the pass left the session's settings changed"


def _same_metrics(spark, tmp_path: Path, fmt: str, incidents: tuple[str, ...], odd: bool) -> None:
    src = _write_day_csv(tmp_path / "in" / "events.csv", DAY, incidents, seed=5, sessions=400, odd=odd)
    loader.load_file(database.engine(), settings.load(), src, DAY)
    part = tmp_path / "lake" / f"date={DAY}"
    part.mkdir(parents=True)
    if fmt == "csv":
        (part / "events.csv").write_bytes(src.read_bytes())
    elif fmt == "jsonl":
        _as_jsonl(src, part / "events.jsonl")
    else:
        _as_parquet(spark, src, part)
    pg = _compute(postgres, DAY, settings.load())
    s = settings.Settings(engine=settings.Engine(name="spark", spark_source=str(tmp_path / "lake")),
                          spark=settings.Spark(master="local[2]"))
    sp = _compute(spark_engine, DAY, s)
    if fmt == "jsonl":  # a JSON Lines file has the columns its objects have: the extra column is in every row
        assert sp[("unexpected_column", "debug_flag")] == 1 if "unexpected_column" in incidents else True
    _assert_same(pg, sp)
    assert pg[("rows", "")] > 1000


# a flattened export under the feed's own names, with repeated orders, zero and poison revenue
FLAT_MAPPING = {"client_id": "anonymous_id", "revenue": "total"}
POISON_REVENUE = ["NaN", "Infinity", "1e400", "-5", "abc", "0", ""]


def _write_flat_export(path: Path, day: dt.date) -> Path:
    gen = generator.Generator(seed=12, sessions_per_day=400)
    rows = generator.export_rows(gen, day, ("repeated_order_ids", "zero_revenue"))
    poisoned = {id(r): v for r, v in zip(
        [r for r in rows if r["event_name"] == generator.EXPORT_NAMES["purchase"]], POISON_REVENUE)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([FLAT_MAPPING.get(c, c) for c in generator.EXPORT_COLUMNS] + ["total"])
        for r in rows:
            total = poisoned.get(id(r), "")
            if id(r) in poisoned:  # revenue as a column, where the payload has none
                data = json.loads(r["event_data"])
                data.pop("revenue")
                r = dict(r, event_data=json.dumps(data))
            w.writerow([r[c] for c in generator.EXPORT_COLUMNS] + [total])
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_both_engines_read_a_flattened_export_the_same(use_database, spark, tmp_path, fmt):
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(generator.export_settings_toml() + "[columns]\n"
                   + "".join(f'{k} = "{v}"\n' for k, v in FLAT_MAPPING.items()))
    base = settings.load_file(cfg)
    use_database()
    from monitor import pipeline

    pipeline.init(base)
    src = _write_flat_export(tmp_path / "in" / "export.csv", DAY)
    report = loader.load_file(database.engine(), base, src, DAY)
    assert report.extra_columns == () and report.missing_columns == ()
    part = tmp_path / "lake" / f"date={DAY}"
    part.mkdir(parents=True)
    if fmt == "csv":
        (part / "export.csv").write_bytes(src.read_bytes())
    else:
        _as_parquet(spark, src, part)
    pg = _compute(postgres, DAY, base)
    sp = _compute(spark_engine, DAY, base.model_copy(update={
        "engine": settings.Engine(name="spark", spark_source=str(tmp_path / "lake")),
        "spark": settings.Spark(master="local[2]")}))
    _assert_same(pg, sp)
    assert pg[("duplicate_order_ids", "")] == 4 and pg[("invalid_revenue", "")] >= len(POISON_REVENUE)
    assert pg[("malformed_json", "")] == 0 and pg[("empty_payload", "")] > 0 and pg[("bot_sessions", "")] > 0
    assert pg[("revenue", "")] < 1e9


def test_both_engines_count_poison_rows_alike(db, spark, tmp_path):
    """A NUL escape in a payload, revenues of 1e400, "NaN" and "Infinity" (issue 20): kept,
    counted the same on both engines, and no stored metric is other than finite."""
    import math

    from tests.test_poison_values import poison_day

    path = poison_day(tmp_path)
    loader.load_file(database.engine(), settings.load(), path, DAY)
    part = tmp_path / "lake" / f"date={DAY}"
    part.mkdir(parents=True)
    (part / path.name).write_bytes(path.read_bytes())
    pg = _compute(postgres, DAY, settings.load())
    sp = _compute(spark_engine, DAY, settings.Settings(
        engine=settings.Engine(name="spark", spark_source=str(tmp_path / "lake")),
        spark=settings.Spark(master="local[2]")))
    _assert_same(pg, sp)
    assert pg[("malformed_json", "")] == 1 and pg[("invalid_revenue", "")] == 3 and pg[("rows", "")] == 304
    assert all(math.isfinite(v) for v in pg.values())


def test_a_day_without_a_partition_folder_has_no_data(db, spark, tmp_path):
    s = settings.Settings(engine=settings.Engine(name="spark", spark_source=str(tmp_path / "lake")))
    (tmp_path / "lake" / "date=2026-06-09").mkdir(parents=True)
    got = _compute(spark_engine, DAY, s)
    assert got[("rows", "")] == 0 and not any(m == "sessions" for m, _ in got)


@pytest.mark.parametrize("name, content", [("events.parquet", b"PAR1 this is not parquet"), ("events.xlsx", b"x")],
                         ids=["unreadable-parquet", "unknown-kind"])
def test_a_bad_file_is_a_usage_error_naming_it(db, spark, tmp_path, name, content):
    part = tmp_path / "lake" / f"date={DAY}"
    part.mkdir(parents=True)
    (part / name).write_bytes(content)
    s = settings.Settings(engine=settings.Engine(name="spark", spark_source=str(tmp_path / "lake")))
    with pytest.raises(UsageError, match=name):
        _compute(spark_engine, DAY, s)


def test_both_engines_judge_future_against_arrival(db, spark, tmp_path):
    """Rows two hours ahead of their load (the load's time; a lake file's modification
    time) are future on both engines, though the run comes three hours later."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    arrived = now - dt.timedelta(hours=3)
    stamped = arrived + dt.timedelta(hours=2)
    day = stamped.date()
    path = tmp_path / "fast_clock.csv"
    lines = [f"c{i},{(arrived - dt.timedelta(minutes=i)).isoformat()},page_viewed,{{}}" for i in range(1, 20)]
    lines += [f"f{i},{stamped.isoformat()},page_viewed,{{}}" for i in range(3)]
    path.write_text("client_id,timestamp,event_name,event_data\n" + "\n".join(lines) + "\n")
    loader.load_file(database.engine(), settings.load(), path, day)
    with database.engine().begin() as conn:
        conn.execute(sa.text("UPDATE events.loads SET loaded_at = :t"), {"t": arrived})
    part = tmp_path / "lake" / f"date={day}"
    part.mkdir(parents=True)
    lake_file = part / path.name
    lake_file.write_bytes(path.read_bytes())
    os.utime(lake_file, (arrived.timestamp(), arrived.timestamp()))
    pg = _compute(postgres, day, settings.load())
    sp = _compute(spark_engine, day, settings.Settings(
        engine=settings.Engine(name="spark", spark_source=str(tmp_path / "lake")),
        spark=settings.Spark(master="local[2]")))
    assert pg[("future_timestamp", "")] == sp[("future_timestamp", "")] == 3


NY = "America/New_York"


def test_both_engines_judge_a_local_day_alike(db, spark, tmp_path):
    """day.timezone: the lake's day D (its folder) is New York's D: rows of the evening
    before are out of the day, and hours are the local wall clock, on both engines."""
    zoned = settings.Settings(day=settings.Day(timezone=NY))
    src = _write_day_csv(tmp_path / "in" / "events.csv", DAY, ("duplicate_spike",), seed=8, sessions=400, odd=True)
    loader.load_file(database.engine(), zoned, src, DAY)
    part = tmp_path / "lake" / f"date={DAY}"
    part.mkdir(parents=True)
    (part / "events.csv").write_bytes(src.read_bytes())
    pg = _compute(postgres, DAY, zoned)
    sp = _compute(spark_engine, DAY, zoned.model_copy(update={
        "engine": settings.Engine(name="spark", spark_source=str(tmp_path / "lake")),
        "spark": settings.Spark(master="local[2]")}))
    _assert_same(pg, sp)
    assert pg[("out_of_day_timestamp", "")] > 0, "the UTC day's first hours are the evening before in New York"


@pytest.mark.parametrize("kind", ["timestamp", "epoch_micros"])
def test_typed_parquet_in_the_lake_is_read_with_the_mapping(use_database, spark, tmp_path, monkeypatch, kind):
    """A lake as lakes hold it: typed event times (a timestamp, or epoch microseconds), the
    feed's own names, the user agent in a nested struct; the same metrics as the same rows
    loaded from CSV under the contract's names."""
    from pyspark.sql import types as T

    use_database()
    from monitor.verdict import pipeline

    pipeline.init(settings.load())
    rows = generator.Generator(seed=21, sessions_per_day=250).day_rows(DAY, ("null_client_id", "null_timestamp"))
    flat, typed = [], []
    for client, ts, name, data in rows:
        payload = json.loads(data) if data else {}
        ua = payload.pop("user_agent", None)
        text = json.dumps(payload) if payload else ""
        flat.append([client, ts, name, text, ua or ""])
        when = dt.datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None
        value = when if kind == "timestamp" or when is None else int(when.timestamp() * 1_000_000)
        typed.append((client or None, value, name, text, {"navigator": {"userAgent": ua}}))
    src = tmp_path / "events.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["client_id", "timestamp", "event_name", "event_data", "user_agent"])
        w.writerows(flat)
    loader.load_file(database.engine(), settings.load(), src, DAY)
    pg = _compute(postgres, DAY, settings.load())

    schema = T.StructType([
        T.StructField("anonymous_id", T.StringType()),
        T.StructField("sent_at", T.TimestampType() if kind == "timestamp" else T.LongType()),
        T.StructField("event_name", T.StringType()), T.StructField("event_data", T.StringType()),
        T.StructField("context", T.StructType([T.StructField("navigator", T.StructType([
            T.StructField("userAgent", T.StringType())]))]))])
    part = tmp_path / "lake" / f"date={DAY}"
    spark.createDataFrame(typed, schema).coalesce(1).write.parquet(str(part))
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(f"""[engine]\nname = "spark"\nspark_source = "{tmp_path / 'lake'}"\n[spark]\nmaster = "local[2]"\n
[columns]\nclient_id = "anonymous_id"\ntimestamp = "sent_at"\nuser_agent = "context.navigator.userAgent"\n""")
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    sp = _compute(spark_engine, DAY, settings.load())
    _assert_same(pg, sp)
    assert pg[("null_timestamp", "")] > 0 and pg[("rows", "")] > 500


def test_a_team_suite_reads_the_lake_days_rows_as_postgres_reads_the_loaded(use_database, spark, tmp_path,
                                                                             monkeypatch):
    """[suites] extra on the spark engine: the team's suite runs on the lake day's rows (a
    Spark DataFrame through GX's Spark datasource) and finds what it finds on the same
    rows loaded into PostgreSQL, with the same check names, statuses and counts."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from monitor.verdict import gx_project, pipeline

    rows = generator.Generator(seed=4, sessions_per_day=150).day_rows(DAY) + [
        ["c-odd", f"{DAY}T10:05:00Z", "purchase", json.dumps({"order_id": "o-x", "revenue": 20, "currency": "XXX"})],
        ["c-odd", f"{DAY}T10:06:00Z", "purchase", json.dumps({"order_id": "o-big", "revenue": 5000,
                                                             "currency": "EUR"})]]
    src = generator.write_csv(tmp_path / "lake" / f"date={DAY}" / "events.csv", rows)
    folder = gx_project.project_root() / "gx" / "expectations"
    ctx = gx_project.context()
    suite = ctx.suites.add(gx.ExpectationSuite(name="lake_rules"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=["EUR"], severity="critical"))
    suite.add_expectation(gxe.UnexpectedRowsExpectation(
        unexpected_rows_query="SELECT order_id FROM {batch} WHERE revenue > 1000", severity="warning"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="client_id", mostly=0.5, severity="warning"))
    try:
        results = {}
        for engine in ("postgres", "spark"):
            use_database()
            cfg = tmp_path / f"{engine}.toml"
            cfg.write_text(f'[suites]\nextra = ["lake_rules"]\n[engine]\nname = "{engine}"\n'
                           f'spark_source = "{tmp_path / "lake"}"\n[spark]\nmaster = "local[2]"\n')
            monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
            s = settings.load()
            pipeline.init(s)
            if engine == "postgres":
                loader.load_file(database.engine(), s, src, DAY)
            summary = pipeline.run_day(DAY, s, send=False)
            results[engine] = {r.check: (r.status, r.observed) for r in summary.results if r.suite == "lake_rules"}
        assert results["spark"] == results["postgres"], results
        assert results["spark"]["lake_rules.values_to_be_in_set(currency)"] == ("critical", 1)
        assert results["spark"]["lake_rules.unexpected_rows"][0] == "warning"
    finally:
        from tests.conftest import forget_suite

        (folder / "lake_rules.json").unlink(missing_ok=True)
        forget_suite("lake_rules")
