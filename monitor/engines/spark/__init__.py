"""Spark engine: a day's metrics computed where the events live (a lake of day partitions).

The day's files stay in ``engine.spark_source``/``date=YYYY-MM-DD/``; Spark reads
that one folder, computes every metric the PostgreSQL pass computes (events.sql,
day_metrics.sql: the same definitions in Spark SQL, the same channel rules from
monitor/channels.py, the same user-agent table) and the rows go to the same
PostgreSQL metrics store. Suites, actions, results and the gate do not change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
from pathlib import Path
from string import Template

import sqlalchemy as sa

from monitor.engines import channels
from monitor.store import metrics, user_agents
from monitor.errors import InfrastructureError, UsageError
from monitor.settings import FIELD_COLUMNS, INPUT_COLUMNS, Settings

log = logging.getLogger(__name__)
_HERE = Path(__file__).parent
FORMATS = {".csv": "csv", ".jsonl": "json", ".ndjson": "json", ".json": "json", ".parquet": "parquet"}
# A day of fewer rows than this is computed in one shuffle partition with adaptive
# execution off: its cost is Spark's per-stage and per-task overhead, not its rows
# (measured, README "Engines"). Text rows are estimated from the file size.
SMALL_DAY_ROWS = 200_000
_TEXT_BYTES_PER_ROW = 300
_SMALL_DAY_CONF = {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false"}


@functools.cache
def _sql(name: str) -> Template:
    return Template((_HERE / name).read_text())


def session(settings: Settings):
    """This process's Spark session (started once: a JVM takes seconds to start)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the spark engine needs pyspark: pip install -e '.[spark]'") from None
    master = settings.spark.master or os.environ.get("SPARK_MASTER") or "local[*]"
    builder = (SparkSession.builder.appName("event-monitor").master(master)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.ansi.enabled", "false")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={_HERE / 'log4j2.properties'}"))
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2)))
    # a day's pass generates some 150 classes: with Spark's default cache of 100, each day
    # compiled them all again
    builder = builder.config("spark.sql.codegen.cache.maxEntries", "1000")
    for key, value in settings.spark.conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise InfrastructureError(f"Spark did not start ({master}): {_first_line(exc)}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def partition_files(spark, source: str, day: dt.date) -> list[tuple[str, str, int, int]] | None:
    """(path, format, modification time in ms, size in bytes) of the day's data files; None
    when the day's folder does not exist. A file's time is when its rows arrived ("future"
    is judged by it)."""
    jvm = spark.sparkContext._jvm
    folder = jvm.org.apache.hadoop.fs.Path(f"{source.rstrip('/')}/date={day.isoformat()}")
    try:
        fs = folder.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        if not fs.exists(folder):
            return None
        statuses = fs.listStatus(folder)
    except Exception as exc:
        raise InfrastructureError(f"cannot list {folder.toString()}: {_first_line(exc)}") from None
    files = []
    for st in statuses:
        name = st.getPath().getName()
        if st.isDirectory() or name.startswith(("_", ".")):  # _SUCCESS, .crc and the like
            continue
        stem = name[:-3] if name.endswith(".gz") else name
        fmt = FORMATS.get(Path(stem).suffix.lower())
        if fmt is None:
            raise UsageError(f"{st.getPath().toString()}: not a .csv, .jsonl or .parquet file")
        files.append((st.getPath().toString(), fmt, st.getModificationTime(), st.getLen()))
    return sorted(files)


def _open(spark, paths: list[str], fmt: str, schema=None):
    """A DataFrame over files of one format (malformed records kept: PERMISSIVE); with no
    schema given, Spark reads it off the first file."""
    reader = spark.read.option("mode", "PERMISSIVE")
    if schema is not None:
        reader = reader.schema(schema)
    try:
        if fmt == "csv":
            return (reader.option("header", "true").option("multiLine", "true").option("escape", '"')
                    .option("inferSchema", "false").csv(paths))
        if fmt == "json":
            return reader.option("primitivesAsString", "true").json(paths)
        return reader.parquet(*paths)
    except Exception as exc:
        raise UsageError(f"{paths[0]}: unreadable ({_first_line(exc)})") from None


def _file_schema(spark, path: str, fmt: str, size: int):
    """A file's schema as a key to group files by, the schema to read them with (None:
    Spark reads it off the group's first file), and its rows (estimated for text). A
    Parquet file's come from its footer, read in the driver: no Spark job per file, which
    a day of many small files would pay for."""
    if fmt != "parquet":
        schema = _open(spark, [path], fmt).schema
        return schema.json(), schema, size // _TEXT_BYTES_PER_ROW
    jvm = spark.sparkContext._jvm
    try:
        reader = jvm.org.apache.parquet.hadoop.ParquetFileReader.open(jvm.org.apache.parquet.hadoop.util.HadoopInputFile
                                                                      .fromPath(jvm.org.apache.hadoop.fs.Path(path),
                                                                                spark.sparkContext._jsc.hadoopConfiguration()))
        try:
            return reader.getFooter().getFileMetaData().getSchema().toString(), None, reader.getRecordCount()
        finally:
            reader.close()
    except Exception as exc:
        raise UsageError(f"{path}: unreadable ({_first_line(exc)})") from None


def _read_file(spark, path: str, fmt: str, settings: Settings):
    """One file as a DataFrame of text columns (_as_text) and the file's columns (contract names)."""
    return _as_text(_open(spark, [path], fmt), settings)


def _as_text(df, settings: Settings):
    """The input columns and the flattened fields as ``f_<field>``, as text, under the
    contract's names ([columns]); and the columns the files have (contract names)."""
    from pyspark.sql import functions as F

    feed = [c for c in df.columns if c != "_corrupt_record"]
    columns = settings.columns.rename(feed)
    source = dict(zip(columns, feed))
    types = dict(df.dtypes)

    def text(c, alias):
        col, kind = _column(df, types, source, settings.columns.feed_name(c), c)
        if col is None:
            return F.lit(None).cast("string").alias(alias)
        if c == "timestamp":
            col = _time_text(col, kind)
        elif kind != "string":
            col = F.to_json(col) if kind.startswith(("struct", "map", "array")) else col.cast("string")
        return col.alias(alias)

    # a column read through a nested path stands as the fields it supplies (not "unexpected")
    nested = {c: (settings.columns.feed_name(c) or "").partition(".")[0] for c in (*INPUT_COLUMNS, *FIELD_COLUMNS)
              if c not in source and "." in (settings.columns.feed_name(c) or "")
              and _column(df, types, source, settings.columns.feed_name(c), c)[0] is not None}
    columns = [c for c in columns if c not in set(nested.values())] + sorted(nested)
    return (df.select(*[text(c, c) for c in INPUT_COLUMNS], *[text(c, f"f_{c}") for c in FIELD_COLUMNS]),
            columns)


def _column(df, types: dict, source: dict, feed: str | None, contract: str):
    """A contract column of a lake file and its Spark type: the (mapped) column, else a
    nested path into a struct or JSON text column (``context.navigator.userAgent``)."""
    from pyspark.sql import functions as F

    if feed is None:
        return None, None
    if contract in source:
        return F.col(f"`{source[contract]}`"), types[source[contract]]
    head, _, rest = feed.partition(".")
    if rest and head in types:
        if types[head].startswith("struct"):
            try:
                field = df.select(F.col(f"`{head}`." + ".".join(f"`{k}`" for k in rest.split(".")))).schema[0]
            except Exception:  # the path is not in this file's struct
                return None, None
            return F.col(f"`{head}`." + ".".join(f"`{k}`" for k in rest.split("."))), field.dataType.simpleString()
        if types[head] == "string":
            return F.get_json_object(F.col(f"`{head}`"), "$." + rest), "string"
    return None, None


def _time_text(col, kind: str):
    """A typed event time as the ISO text the pass parses: timestamps as they are (UTC),
    epoch numbers in micro-, milli- or seconds by their size, as the PostgreSQL source reads them."""
    from pyspark.sql import functions as F

    iso = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
    if kind in ("timestamp", "timestamp_ntz"):
        return F.date_format(col.cast("timestamp"), iso)
    if kind in ("bigint", "int", "smallint", "double", "float") or kind.startswith("decimal"):
        n = col.cast("double")
        micros = (F.when(F.abs(n) >= 1e14, n).when(F.abs(n) >= 1e11, n * 1000).otherwise(n * 1000000)).cast("long")
        return F.date_format(F.timestamp_micros(micros), iso)
    return col if kind == "string" else col.cast("string")


# what makes two rows identical (duplicate_rows), as the PostgreSQL pass groups them
_DUP_COLUMNS = ("nullif(trim(client_id), '')", "`timestamp`", "nullif(trim(event_name), '')", "event_data",
                *(f"f_{c}" for c in FIELD_COLUMNS))


def _params(day: dt.date, settings: Settings) -> dict[str, str]:
    ev, lit = settings.events, functools.partial(channels.lit, dialect="spark")
    landing = channels.landing_inputs("page_url", "l_source", "l_medium", "l_campaign", "referrer", "spark")
    return {
        "day": lit(day.isoformat()), "tz": lit(settings.day.timezone),
        "known": "array(" + ", ".join(lit(n) for n in ev.known) + ")",
        "ev_page_view": lit(ev.page_view), "ev_add_to_cart": lit(ev.add_to_cart),
        "ev_checkout": lit(ev.checkout), "ev_purchase": lit(ev.purchase),
        "type_counts": "array(" + ", ".join(f"count_if(event_name = {lit(n)})" for n in ev.known) + ")",
        "hour_counts": "array(" + ", ".join(f"count_if(hr = {h})" for h in range(24)) + ")",
        "dup_columns": ", ".join(_DUP_COLUMNS),
        # which of them are NULL, as bits: hashes skip a NULL, so (NULL, 'a') would hash as ('a', NULL)
        "null_mask": "(" + " + ".join(f"IF({c} IS NULL, {1 << i}, 0)" for i, c in enumerate(_DUP_COLUMNS)) + ")",
        "gap_micros": str(settings.sessions.inactivity_minutes * 60 * 1_000_000),
        "future_tolerance_minutes": str(settings.thresholds.future_tolerance_minutes),
        "bot_hits_per_minute": str(settings.bots.max_hits_per_minute), "bot_minutes": str(settings.bots.fast_minutes),
        **landing,
        "src_kind": channels.source_kind("src", "spark"), "ref_kind": channels.source_kind("ref_host", "spark"),
        "channel": channels.channel("src", "med", "ref_host", "page_host", "spark",
                                    src_kind="src_kind", ref_kind="ref_kind"),
    }


def _schema_rows(file_columns: list[list[str]]) -> list[tuple[str, str, float]]:
    """missing_column / unexpected_column / loads, from each file's own columns (a file is a load)."""
    rows = [("loads", "", float(len(file_columns)))]
    seen: dict[str, int] = {}
    for cols in file_columns:
        for c in set(cols):
            seen[c] = seen.get(c, 0) + 1
    rows += [("column", c, float(n)) for c, n in sorted(seen.items())]
    for c in INPUT_COLUMNS:
        missing = sum(1 for cols in file_columns if c not in cols)
        if missing:
            rows.append(("missing_column", c, float(missing)))
    extra: dict[str, int] = {}
    for cols in file_columns:
        for c in cols:
            if c not in INPUT_COLUMNS and c not in FIELD_COLUMNS:
                extra[c] = extra.get(c, 0) + 1
    rows += [("unexpected_column", c, float(n)) for c, n in sorted(extra.items())]
    return rows


def _day_frames(spark, day: dt.date, settings: Settings, numbered: bool = False):
    """The day's files as one DataFrame of text columns (None: no data), each file's columns,
    and the day's rows (estimated for text files; not counted when numbered).
    Files of one format and one schema are read in one scan; numbered (a row's name in a
    team's results: its file and its position there) reads each file on its own."""
    if not settings.engine.spark_source:
        raise UsageError("the spark engine needs engine.spark_source in monitor.toml (the lake folder)")
    files = partition_files(spark, settings.engine.spark_source, day)
    if not files:  # no folder, or no data file in it: the day has no data (no_data alerts)
        return None, [], 0
    from pyspark.sql import functions as F

    frames, file_columns, groups, rows = [], [], {}, 0
    for path, fmt, mtime, size in files:
        if numbered:
            df, columns = _read_file(spark, path, fmt, settings)
            file_columns.append(columns)
            arrived = F.lit(dt.datetime.fromtimestamp(mtime / 1000, dt.timezone.utc))
            frames.append(df.withColumn("arrived", arrived).withColumn("file", F.lit(path.rsplit("/", 1)[-1]))
                          .withColumn("row", F.monotonically_increasing_id() + 1))
        else:
            key, schema, file_rows = _file_schema(spark, path, fmt, size)
            rows += file_rows
            groups.setdefault((fmt, key), (schema, []))[1].append(path)
    for (fmt, _), (schema, paths) in groups.items():
        df, columns = _as_text(_open(spark, paths, fmt, schema), settings)
        file_columns += [columns] * len(paths)
        # a file's time is when its rows arrived ("future" is judged by it)
        frames.append(df.withColumn("arrived", F.col("_metadata.file_modification_time")))
    return functools.reduce(lambda a, b: a.unionByName(b), frames), file_columns, rows


def day_events_frame(spark, day: dt.date, settings: Settings):
    """The lake day's rows as a team's GX suites see them (day_events.sql): the DataFrame
    the team suites' Spark batch is (an empty one for a day without files)."""
    rows, _, _ = _day_frames(spark, day, settings, numbered=True)
    if rows is None:
        from pyspark.sql import types as T

        text = [f for f in ("row_id", "client_id", "event_name", "event_data", "session_id", "page_url", "referrer",
                            "user_agent", "utm_source", "utm_medium", "utm_campaign", "device_type", "order_id",
                            "currency")]
        schema = T.StructType([T.StructField(n, T.StringType()) for n in text]
                              + [T.StructField("timestamp", T.TimestampType()),
                                 T.StructField("revenue", T.DecimalType(38, 9))])
        return spark.createDataFrame([], schema)
    rows.createOrReplaceTempView("day_rows_numbered")
    return spark.sql(_sql("day_events.sql").template)


def day_metric_rows(spark, eng: sa.Engine, day: dt.date, settings: Settings) -> list[tuple[str, str, float]]:
    """The day's (metric, dimension, value) rows, computed by Spark: the day's rows parsed
    and spread by client once (ev, kept), their sessions (kept), the cells (kept), then one
    query for the outputs."""
    day_rows, file_columns, rows = _day_frames(spark, day, settings)
    if day_rows is None:
        return [("rows", "", 0.0), ("loads", "", 0.0)]
    with _sized_for(spark, rows, settings):
        return _metric_rows(spark, eng, day, day_rows, settings) + _schema_rows(file_columns)


@contextlib.contextmanager
def _sized_for(spark, rows: int, settings: Settings):
    """A small day's pass in one shuffle partition, with adaptive execution off (what
    [spark] conf sets is left alone); the session's settings are put back afterwards."""
    conf = {k: v for k, v in _SMALL_DAY_CONF.items() if k not in settings.spark.conf} if rows < SMALL_DAY_ROWS else {}
    before = {k: spark.conf.get(k, None) for k in conf}
    for k, v in conf.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def _metric_rows(spark, eng: sa.Engine, day: dt.date, day_rows, settings: Settings) -> list[tuple[str, str, float]]:
    day_rows.createOrReplaceTempView("day_rows")
    params = _params(day, settings)
    kept = []

    def keep(name: str, sql: str):
        from pyspark import StorageLevel

        df = spark.sql(_sql(sql).substitute(params)).persist(StorageLevel.MEMORY_AND_DISK)
        kept.append(df)
        df.createOrReplaceTempView(name)
        return df

    try:
        spark.sql(_sql("events.sql").substitute(params)).createOrReplaceTempView("parsed")
        agents = [r[0] for r in keep("ev", "by_client.sql").where("user_agent IS NOT NULL").select("user_agent")
                  .distinct().collect()]
        spark.createDataFrame(_classify_agents(eng, agents), "user_agent string, device_type string, bot_name string") \
            .createOrReplaceTempView("agents")
        keep("sessions", "sessions.sql")
        keep("cells", "cells.sql").count()
        rows = [(r.metric, r.dimension, r.value) for r in spark.sql(_sql("day_metrics.sql").substitute(params)).collect()]
    finally:
        for df in kept:
            df.unpersist()
    return rows


def _classify_agents(eng: sa.Engine, agents: list[str]) -> list[tuple[str, str | None, str | None]]:
    """The day's distinct user agents, classified through the store's user-agent table
    (the same table, and the same parser, the PostgreSQL engine uses), in a short
    transaction of its own."""
    if not agents:
        return []
    raw = eng.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT user_agent FROM monitor.user_agents WHERE user_agent = ANY (%s)", (agents,))
        known = {r[0] for r in cursor.fetchall()}
        user_agents.store_user_agents(cursor, [a for a in agents if a not in known])
        cursor.execute("SELECT user_agent, device_type, bot_name FROM monitor.user_agents WHERE user_agent = ANY (%s)",
                       (agents,))
        rows = cursor.fetchall()
        raw.commit()
        return rows
    finally:
        raw.close()


def prepare(eng: sa.Engine, day: dt.date, settings: Settings):
    """Compute the day's metrics with Spark while no PostgreSQL transaction is open (a
    managed server's idle_in_transaction_session_timeout would end it), and return how
    to store them in the run's snapshot."""
    if settings.source.in_place:
        raise UsageError(f"source.relation {settings.source.relation} is a PostgreSQL table: the spark engine reads "
                         "the lake (engine.spark_source); use the postgres engine to read it in place")
    spark = session(settings)
    try:
        rows = day_metric_rows(spark, eng, day, settings)
    except (UsageError, InfrastructureError):
        raise
    except Exception as exc:  # the JVM, an executor, a lost connection to the cluster
        raise InfrastructureError(f"Spark failed on {day}: {_first_line(exc)}") from None

    def store_rows(conn: sa.Connection) -> None:
        metrics.store_day_metrics(conn.connection.cursor(), day, rows, [])
    return store_rows


def compute_day_metrics(conn: sa.Connection, day: dt.date, settings: Settings) -> None:
    """Recompute one day's metrics with Spark into monitor.daily_metrics (replacing the day)."""
    prepare(conn.engine, day, settings)(conn)
