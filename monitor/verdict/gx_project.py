"""The GX file context under gx/: datasource, suites, validation definitions, checkpoint.

Two batches, both query assets naming their day in the query itself (no session
setting, so a connection pooler that drops connection options changes nothing):
``day_metric_window`` (the monitor's suites: monitor.metric_window(D), the day's
metrics and the days before) and ``day_events`` (a team's suites, ``[suites] extra``:
monitor.day_events_on(D), the day's rows). The stored queries read the views
monitor.day_metric_window and monitor.day_events (the latest day run), for GX's own
tools; a run points both at its day in memory (``scope_to_day``). That keeps a day's
validation proportional to the day, unlike add_batch_definition_daily (EXTRACT
filters and a whole-table DISTINCT scan per batch).

The monitor's own expectations carry ``meta.owner``; ``sync`` replaces only those and
never touches a team's expectation or suite.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import os
import shutil
from pathlib import Path

import jinja2

from monitor.verdict.fast_import import fast_import

with fast_import("scipy.stats", "altair", "jsonschema"):  # GX loads them for features we do not use
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    import monitor.custom_expectations  # noqa: F401  (registers expectations before any suite loads)
    import monitor.checkpoints.actions  # noqa: F401  (registers actions before the checkpoint loads)

import json

from monitor.checkpoints import daily_events
from monitor.expectations import SUITES
from monitor.expectations.checks import OWNER
from monitor import project
from monitor.store import database
from monitor.errors import SuiteIntegrityError, UsageError
from monitor.settings import Settings

log = logging.getLogger(__name__)


class _CompiledTemplates(jinja2.BytecodeCache):
    """GX builds a jinja Environment per page view and compiles its templates each time
    (a third of a day's run); compiled once here, they are reused by every view."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def _share_compiled_templates() -> None:
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView, "_monitor_shared", False):
        return
    cache, original = _CompiledTemplates(), DefaultJinjaView.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    DefaultJinjaView.__init__ = init
    DefaultJinjaView._monitor_shared = True


_share_compiled_templates()

DATASOURCE = "events_db"
LAKE_DATASOURCE = "events_lake"  # the spark engine: a team's suites read the lake day's rows as a DataFrame
LAKE_CHECKPOINT = "daily_events_lake_rows"  # those suites, run before daily_events (which holds the actions)
ASSET = "day_metric_window"  # the monitor's suites read the day's metric window
EVENTS_ASSET = "day_events"  # a team's suites read the day's rows
BATCH = "day"
# GX's counts and up to 20 unexpected values per expectation; SUMMARY's value counts would
# cost a team's expectations one more scan of the day each
RESULT_FORMAT = "BASIC"
URL_VARIABLE = "MONITOR_GX_DATABASE_URL"
# what each asset's stored query reads (the latest day run: GX's own tools), and what a
# run reads instead, its day named in the query
STORED_QUERIES = {ASSET: "SELECT * FROM monitor.day_metric_window", EVENTS_ASSET: "SELECT * FROM monitor.day_events"}
DAY_QUERIES = {ASSET: "SELECT * FROM monitor.metric_window('{day}'::date)",
               EVENTS_ASSET: "SELECT * FROM monitor.day_events_on('{day}'::date)"}


def team_suites(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.suites.extra)


def _asset_of(suite: str) -> str:
    return ASSET if suite in SUITES else EVENTS_ASSET


def _vd_name(suite: str) -> str:
    return suite if suite in SUITES else f"{suite}.day_events"


def _on_lake(settings: Settings) -> bool:
    return settings.engine.name == "spark" and bool(team_suites(settings))


def project_root() -> Path:
    return project.gx_root()


def docs_site() -> Path:
    return project_root() / "gx" / "uncommitted" / "data_docs" / "local_site"


def docs_index() -> Path:
    return docs_site() / "index.html"


def docs_pages(run_id: str, run_time: dt.datetime, extra: tuple[str, ...] = (), lake: bool = False) -> dict[str, str]:
    """Site-relative path of each suite's Data Docs page for one run (as GX names them);
    ``extra``: a team's suites, on the lake's batch when ``lake``."""
    stamp = run_time.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")

    def source(suite: str) -> str:
        return LAKE_DATASOURCE if lake and suite not in SUITES else DATASOURCE
    return {suite: f"validations/{suite}/{run_id}/{stamp}/{source(suite)}-{_asset_of(suite)}.html"
            for suite in (*SUITES, *extra)}


def docs_links(run_id: str, run_time: dt.datetime, base_url: str = "", extra: tuple[str, ...] = (),
               lake: bool = False) -> dict[str, str]:
    """URL of each suite's page: under ``base_url`` when Data Docs are served, else a file URL."""
    return {suite: f"{base_url.rstrip('/')}/{rel}" if base_url else (docs_site() / rel).as_uri()
            for suite, rel in docs_pages(run_id, run_time, extra, lake).items()}


def localise_docs(pages=None) -> None:
    """Point Data Docs pages (default: all of them) and GX's stylesheets, which each build
    copies anew, at the site's own asset copies."""
    from monitor.review import docs_offline

    site = docs_site()
    styles = sorted((site / "static" / "styles").glob("*.css"))
    docs_offline.localise(site, docs_offline.all_pages(site) if pages is None else list(pages) + styles)


def prune_results(keep_runs: int, extra: tuple[str, ...] = ()) -> int:
    """Keep the newest ``keep_runs`` runs per suite in the validation store and Data Docs,
    so per-run index updates stay bounded. Returns how many runs were removed."""
    removed = 0
    root = project_root() / "gx" / "uncommitted"
    for suite in (*SUITES, *extra):
        runs = root / "validations" / suite
        if not runs.is_dir():
            continue
        dirs = sorted((d for d in runs.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
        for old in dirs[keep_runs:]:
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(docs_site() / "validations" / suite / old.name, ignore_errors=True)
            removed += 1
    return removed


def point_at_day(url: str, day: dt.date | None = None) -> None:
    """Hand GX its connection string through a config variable (secrets stay out of gx/).
    The day is not in it: each batch names its day in its query (``scope_to_day``)."""
    os.environ[URL_VARIABLE] = url


def scope_to_day(ctx, day: dt.date, day_rows: str | None = None) -> None:
    """Point both batches at ``day`` for this process's run, in memory only (the stored
    queries stay as they are): concurrent runs of other days each read their own.
    ``day_rows``: the run's copy of the day's rows (``stage_day_rows``), read instead."""
    ds = ctx.data_sources.get(DATASOURCE)
    for name, query in DAY_QUERIES.items():
        ds.get_asset(name).query = query.format(day=day.isoformat())
    if day_rows:
        ds.get_asset(EVENTS_ASSET).query = f"SELECT * FROM {day_rows}"


_STAGE_PREFIX = "day_events_run_"


def stage_day_rows(run_id: str, day: dt.date) -> str:
    """The day's rows once, as a typed unlogged table of this run, for a team's suites: GX
    reads its batch once per metric of every expectation, and each read of
    monitor.day_events_on would parse the day's payloads again (5 column expectations on a
    944k-event day: 89 s of reads, against one copy and cheap scans). Dropped after the
    run; a crashed run's copy goes with the next run."""
    import hashlib

    import sqlalchemy as sa

    name = _STAGE_PREFIX + hashlib.sha1(run_id.encode()).hexdigest()[:16]
    with database.engine().begin() as conn:
        for (old,) in conn.execute(sa.text(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   LEFT JOIN monitor.runs r ON r.run_id = obj_description(c.oid, 'pg_class')
                   WHERE n.nspname = 'monitor' AND c.relkind = 'r' AND c.relname LIKE :p
                     AND (r.run_id IS NULL OR r.finished_at IS NOT NULL)"""), {"p": _STAGE_PREFIX + "%"}).all():
            conn.execute(sa.text(f'DROP TABLE IF EXISTS monitor."{old}"'))
        conn.execute(sa.text(f'CREATE UNLOGGED TABLE monitor."{name}" AS SELECT * FROM monitor.day_events_on(:d)'),
                     {"d": day})
        conn.execute(sa.text(f"COMMENT ON TABLE monitor.\"{name}\" IS '{run_id}'"))
    return f'monitor."{name}"'


def drop_day_rows(table: str | None) -> None:
    if not table:
        return
    import sqlalchemy as sa

    try:
        with database.engine().begin() as conn:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    except Exception as exc:  # the next run drops it
        log.warning("could not drop %s: %s", table, exc)


def context():
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx.get_context(mode="file", project_root_dir=str(project_root()))


def _is_monitors(e, checks: set[str]) -> bool:
    """An expectation the monitor wrote: marked as its own, or (suites written before the
    mark) one of its checks by name without an owner."""
    meta = e.meta or {}
    return meta.get("owner") == OWNER or ("owner" not in meta and meta.get("check") in checks)


def _clean(e) -> dict:
    return {k: v for k, v in e.configuration.to_json_dict().items() if k != "id"}


def _wanted(name: str, settings: Settings) -> list:
    return SUITES[name](settings)


def _split(suite, wanted: list) -> tuple[list, list]:
    """(the monitor's expectations, a team's) of a stored monitor suite."""
    checks = {e.meta["check"] for e in wanted}
    ours = [e for e in suite.expectations if _is_monitors(e, checks)]
    return ours, [e for e in suite.expectations if not _is_monitors(e, checks)]


def _by_check(expectations) -> list[dict]:
    return sorted((_clean(e) for e in expectations), key=lambda d: d["meta"]["check"])


def sync(ctx, settings: Settings) -> None:
    """Create or update everything the checkpoint needs; writes files only on change.

    Serialised across processes by a PostgreSQL advisory lock, so concurrent runs
    after an upgrade do not rewrite gx/ over each other.
    """
    import sqlalchemy as sa

    from monitor import sources

    with database.engine().connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(hashtext('monitor.gx_sync'))"))
        try:
            with database.engine().begin() as tx:  # the day-rows batch follows the source
                sources.install_day_events(tx.connection.cursor(), settings)
            _sync(ctx, settings)
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext('monitor.gx_sync'))"))


def _assets(ctx) -> dict:
    """The datasource and both query assets (an older table asset is replaced); their batch definitions."""
    try:
        ds = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        ds = ctx.data_sources.add_postgres(DATASOURCE, connection_string="${" + URL_VARIABLE + "}")
    batches = {}
    for name, query in STORED_QUERIES.items():
        try:
            asset = ds.get_asset(name)
            if getattr(asset, "type", None) != "query":  # the table asset of earlier releases
                ds.delete_asset(name)
                raise LookupError(name)
        except LookupError:
            asset = ds.add_query_asset(name, query=query)
        try:
            batches[name] = asset.get_batch_definition(BATCH)
        except (KeyError, ValueError, LookupError):
            batches[name] = asset.add_batch_definition_whole_table(BATCH)
    return batches


def _lake_batch(ctx):
    """The team suites' batch on the spark engine: the lake day's rows, a DataFrame handed in per run."""
    try:
        ds = ctx.data_sources.get(LAKE_DATASOURCE)
    except (KeyError, ValueError, LookupError):
        ds = ctx.data_sources.add_spark(LAKE_DATASOURCE)
    try:
        asset = ds.get_asset(EVENTS_ASSET)
    except LookupError:
        asset = ds.add_dataframe_asset(EVENTS_ASSET)
    try:
        return asset.get_batch_definition(BATCH)
    except (KeyError, ValueError, LookupError):
        return asset.add_batch_definition_whole_dataframe(BATCH)


def team_suite(ctx, name: str):
    """A team's suite as listed in [suites] extra; one that does not exist, or loses an
    expectation on load (a type GX does not know), is a usage error naming it."""
    try:
        suite = ctx.suites.get(name)
    except Exception as exc:
        raise UsageError(f"[suites] extra: suite {name!r} not found in gx/expectations/ or unreadable "
                         f"({type(exc).__name__}: {str(exc)[:200]})") from None
    path = project_root() / "gx" / "expectations" / f"{name}.json"
    if suite.id is None:  # GX runs only a suite it has stored with an id (a JSON file written by hand)
        raise UsageError(f"[suites] extra: suite {name!r} ({path.name}) has no \"id\": give it one (any UUID), "
                         "or add it with GX's API (context.suites.add)")
    if path.is_file():
        try:
            stored = json.loads(path.read_text()).get("expectations") or []
        except ValueError:
            stored = []
        loaded = {e.expectation_type if hasattr(e, "expectation_type") else e.type for e in suite.expectations}
        lost = sorted({x.get("type") for x in stored} - loaded)
        if len(stored) != len(suite.expectations):
            raise UsageError(f"[suites] extra: suite {name!r} holds {len(stored)} expectations in {path.name} but "
                             f"{len(suite.expectations)} loaded: unknown type(s) {', '.join(map(str, lost)) or '?'} "
                             "(a custom expectation not imported?)")
    return suite


def _sync(ctx, settings: Settings) -> None:
    batches = _assets(ctx)
    teams = team_suites(settings)
    lake = _on_lake(settings)
    if lake:
        batches[LAKE_DATASOURCE] = _lake_batch(ctx)
    teams_ds = LAKE_DATASOURCE if lake else DATASOURCE
    current = True
    for name in SUITES:
        try:
            ours, _ = _split(ctx.suites.get(name), _wanted(name, settings))
            current &= _by_check(ours) == _by_check(_wanted(name, settings))
            ctx.validation_definitions.get(name)
        except Exception:
            current = False
    suites = {name: team_suite(ctx, name) for name in teams}
    for name in teams:
        try:
            vd = ctx.validation_definitions.get(_vd_name(name))
            current &= (vd.suite.name == name and vd.data.data_asset.name == EVENTS_ASSET
                        and vd.data.data_asset.datasource.name == teams_ds)
        except Exception:
            current = False
    try:
        stored = ctx.checkpoints.get(daily_events.NAME)
        current &= [(a.type, a.name) for a in stored.actions] == [(a.type, a.name) for a in daily_events.actions()]
        current &= str(getattr(stored.result_format, "value", stored.result_format)).upper() == RESULT_FORMAT
        current &= [vd.name for vd in stored.validation_definitions] == [_vd_name(n) for n in SUITES] + (
            [] if lake else [_vd_name(n) for n in teams])
        if lake:
            current &= [vd.name for vd in ctx.checkpoints.get(LAKE_CHECKPOINT).validation_definitions] == [
                _vd_name(n) for n in teams]
    except Exception:
        current = False
    if current:
        return
    log.info("writing the monitor's suites, validation definitions and checkpoint to gx/")
    _delete(ctx.checkpoints, "checkpoints", daily_events.NAME)
    vds = []
    for name in SUITES:
        try:
            _, theirs = _split(ctx.suites.get(name), _wanted(name, settings))
        except Exception:
            theirs = []  # no suite yet
        # the monitor's expectations anew, a team's additions kept as they are
        suite = ctx.suites.add_or_update(gx.ExpectationSuite(
            name=name, expectations=_wanted(name, settings) + [copy.copy(e) for e in theirs]))
        vds.append(_validation_definition(ctx, name, suite, batches[ASSET]))
    team_vds = [_validation_definition(ctx, _vd_name(name), suites[name],
                                       batches[LAKE_DATASOURCE] if lake else batches[EVENTS_ASSET]) for name in teams]
    _delete(ctx.checkpoints, "checkpoints", LAKE_CHECKPOINT)
    if lake:  # a DataFrame batch takes its rows as a batch parameter no SQL batch accepts: a checkpoint of its own
        ctx.checkpoints.add(gx.Checkpoint(name=LAKE_CHECKPOINT, validation_definitions=team_vds, actions=[],
                                          result_format=RESULT_FORMAT))
    ctx.checkpoints.add(gx.Checkpoint(name=daily_events.NAME, validation_definitions=vds + ([] if lake else team_vds),
                                      actions=daily_events.actions(), result_format=RESULT_FORMAT))
    monitor.checkpoints.actions.build_suite_docs(ctx, list(SUITES) + list(teams))
    localise_docs(sorted((docs_site() / "expectations").glob("*.html")) + [docs_index()])


def _delete(store, folder: str, name: str) -> None:
    """Remove a stored checkpoint or validation definition, also one GX can no longer load
    (it names a suite or batch that is gone): then its file goes."""
    try:
        store.delete(name)
    except Exception:
        (project_root() / "gx" / folder / f"{name}.json").unlink(missing_ok=True)


def _validation_definition(ctx, name: str, suite, batch):
    _delete(ctx.validation_definitions, "validation_definitions", name)
    return ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))


def verify_suite(suite, settings: Settings) -> None:
    """Fail loudly if a loaded monitor suite lacks any of the monitor's expectations, by
    identity (check name): GX drops unregistered expectation types on load, silently."""
    wanted = _wanted(suite.name, settings)
    ours, _ = _split(suite, wanted)
    held = {e.meta.get("check") for e in ours}
    missing = [e.meta["check"] for e in wanted if e.meta["check"] not in held]
    if missing:
        raise SuiteIntegrityError(
            f"suite {suite.name} holds {len(wanted) - len(missing)} of its {len(wanted)} expectations "
            f"(missing: {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}; custom expectations not "
            "registered before the suite loaded?); run `runner.py init`")


def checkpoint(ctx, settings: Settings):
    """The stored checkpoint, refused if a monitor suite lost expectations on load."""
    cp = ctx.checkpoints.get(daily_events.NAME)
    for vd in cp.validation_definitions:
        if vd.suite.name in SUITES:
            verify_suite(vd.suite, settings)
    return cp


def run_lake_suites(ctx, settings: Settings, run_id: str, run_time: dt.datetime):
    """The spark engine: a team's suites on the lake day's rows (a DataFrame); their results
    join the run's through summary.lake_results, before daily_events' actions read them."""
    from monitor.engines import spark as spark_engine

    day = dt.date.fromisoformat(run_id[:10])
    frame = spark_engine.day_events_frame(spark_engine.session(settings), day, settings)
    return ctx.checkpoints.get(LAKE_CHECKPOINT).run(
        batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_id, run_time=run_time))


def run_checkpoint(ctx, settings: Settings, run_id: str, run_time: dt.datetime):
    day = dt.date.fromisoformat(run_id[:10])
    staged = stage_day_rows(run_id, day) if team_suites(settings) and not _on_lake(settings) else None
    try:
        scope_to_day(ctx, day, staged)
        if _on_lake(settings):
            from monitor.verdict import summary

            summary.lake_results.set(list(run_lake_suites(ctx, settings, run_id, run_time).run_results.items()))
        cp = checkpoint(ctx, settings)
        try:
            return cp.run(run_id=RunIdentifier(run_name=run_id, run_time=run_time))
        finally:
            # the engine's pool belongs to this run: never reuse or leak it
            ctx.data_sources.get(DATASOURCE).get_execution_engine().engine.dispose()
    finally:
        drop_day_rows(staged)
