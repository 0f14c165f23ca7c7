"""The GX file context under gx/: datasource, suites, validation definitions, checkpoint.

The batch is the view monitor.day_metric_window, scoped to one day by the
session setting ``monitor.day`` carried in the connection string. That keeps
a day's validation proportional to the day, unlike add_batch_definition_daily
(EXTRACT filters and a whole-table DISTINCT scan per batch).
"""

from __future__ import annotations

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

from monitor.checkpoints import daily_events
from monitor.expectations import SUITES
from monitor import project
from monitor.store import database
from monitor.errors import SuiteIntegrityError
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
ASSET = "day_metric_window"
BATCH = "day"
URL_VARIABLE = "MONITOR_GX_DATABASE_URL"


def project_root() -> Path:
    return project.gx_root()


def docs_site() -> Path:
    return project_root() / "gx" / "uncommitted" / "data_docs" / "local_site"


def docs_index() -> Path:
    return docs_site() / "index.html"


def docs_pages(run_id: str, run_time: dt.datetime) -> dict[str, str]:
    """Site-relative path of each suite's Data Docs page for one run (as GX names them)."""
    stamp = run_time.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return {suite: f"validations/{suite}/{run_id}/{stamp}/{DATASOURCE}-{ASSET}.html" for suite in SUITES}


def docs_links(run_id: str, run_time: dt.datetime, base_url: str = "") -> dict[str, str]:
    """URL of each suite's page: under ``base_url`` when Data Docs are served, else a file URL."""
    return {suite: f"{base_url.rstrip('/')}/{rel}" if base_url else (docs_site() / rel).as_uri()
            for suite, rel in docs_pages(run_id, run_time).items()}


def localise_docs(pages=None) -> None:
    """Point Data Docs pages (default: all of them) and GX's stylesheets, which each build
    copies anew, at the site's own asset copies."""
    from monitor.review import docs_offline

    site = docs_site()
    styles = sorted((site / "static" / "styles").glob("*.css"))
    docs_offline.localise(site, docs_offline.all_pages(site) if pages is None else list(pages) + styles)


def prune_results(keep_runs: int) -> int:
    """Keep the newest ``keep_runs`` runs per suite in the validation store and Data Docs,
    so per-run index updates stay bounded. Returns how many runs were removed."""
    removed = 0
    root = project_root() / "gx" / "uncommitted"
    for suite in SUITES:
        runs = root / "validations" / suite
        if not runs.is_dir():
            continue
        dirs = sorted((d for d in runs.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
        for old in dirs[keep_runs:]:
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(docs_site() / "validations" / suite / old.name, ignore_errors=True)
            removed += 1
    return removed


def point_at_day(url: str, day: dt.date | None) -> None:
    """Hand GX its connection string through a config variable (secrets stay out of gx/)."""
    options = {}
    if day:
        options["monitor.day"] = day.isoformat()
    os.environ[URL_VARIABLE] = database.with_session_options(url, **options)


def context():
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx.get_context(mode="file", project_root_dir=str(project_root()))


def _suite_body(suite) -> list[dict]:
    return sorted((e.configuration.to_json_dict() for e in suite.expectations), key=lambda d: d["meta"]["check"])


def _suite_body_clean(suite) -> list[dict]:
    return [{k: v for k, v in d.items() if k != "id"} for d in _suite_body(suite)]


def _wanted(name: str, settings: Settings) -> list[dict]:
    return _suite_body_clean(gx.ExpectationSuite(name=name, expectations=SUITES[name](settings)))


def sync(ctx, settings: Settings) -> None:
    """Create or update everything the checkpoint needs; writes files only on change.

    Serialised across processes by a PostgreSQL advisory lock, so concurrent runs
    after an upgrade do not rewrite gx/ over each other.
    """
    import sqlalchemy as sa

    with database.engine().connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(hashtext('monitor.gx_sync'))"))
        try:
            _sync(ctx, settings)
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext('monitor.gx_sync'))"))


def _sync(ctx, settings: Settings) -> None:
    try:
        ds = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        ds = ctx.data_sources.add_postgres(DATASOURCE, connection_string="${" + URL_VARIABLE + "}")
    try:
        asset = ds.get_asset(ASSET)
    except LookupError:
        asset = ds.add_table_asset(ASSET, table_name=ASSET, schema_name="monitor")
    try:
        batch = asset.get_batch_definition(BATCH)
    except (KeyError, ValueError, LookupError):
        batch = asset.add_batch_definition_whole_table(BATCH)

    current = True
    for name in SUITES:
        try:
            current &= _suite_body_clean(ctx.suites.get(name)) == _wanted(name, settings)
            ctx.validation_definitions.get(name)
        except Exception:
            current = False
    try:
        stored = [(a.type, a.name) for a in ctx.checkpoints.get(daily_events.NAME).actions]
        current &= stored == [(a.type, a.name) for a in daily_events.actions()]
    except Exception:
        current = False
    if current:
        return
    log.info("writing suites, validation definitions and checkpoint to gx/")
    for store, name in [(ctx.checkpoints, daily_events.NAME)] + [(ctx.validation_definitions, n) for n in SUITES] \
            + [(ctx.suites, n) for n in SUITES]:
        try:
            store.delete(name)
        except Exception:
            pass  # not there yet
    vds = []
    for name in SUITES:
        suite = ctx.suites.add(gx.ExpectationSuite(name=name, expectations=SUITES[name](settings)))
        vds.append(ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite)))
    ctx.checkpoints.add(gx.Checkpoint(name=daily_events.NAME, validation_definitions=vds,
                                      actions=daily_events.actions(), result_format="SUMMARY"))
    monitor.checkpoints.actions.build_suite_docs(ctx, list(SUITES))
    localise_docs(sorted((docs_site() / "expectations").glob("*.html")) + [docs_index()])


def verify_suite(suite, settings: Settings) -> None:
    """Fail loudly if a loaded suite holds fewer expectations than expectations/ defines."""
    defined = len(SUITES[suite.name](settings))
    held = len(suite.expectations)
    if held != defined:
        raise SuiteIntegrityError(
            f"suite {suite.name} holds {held} of its {defined} expectations "
            "(custom expectations not registered before the suite loaded?); run `runner.py init`")


def checkpoint(ctx, settings: Settings):
    """The stored checkpoint, refused if a suite lost expectations on load."""
    cp = ctx.checkpoints.get(daily_events.NAME)
    for vd in cp.validation_definitions:
        verify_suite(vd.suite, settings)
    return cp


def run_checkpoint(ctx, settings: Settings, run_id: str, run_time: dt.datetime):
    cp = checkpoint(ctx, settings)
    try:
        return cp.run(run_id=RunIdentifier(run_name=run_id, run_time=run_time))
    finally:
        # the engine is bound to this day's session settings: never reuse or leak it
        ctx.data_sources.get(DATASOURCE).get_execution_engine().engine.dispose()
