"""One day's run: metrics pass (monitor.day_pass), GX checkpoint, results stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from monitor.store import database
from monitor.verdict import gx_project
from monitor.delivery import notify
from monitor.store import results as results_store
from monitor.engines import postgres as postgres_engine
from monitor.store import schema, user_agents
from monitor.verdict.day_run import DayRun
from monitor.errors import InfrastructureError
from monitor.settings import Settings
from monitor.verdict.summary import DaySummary, lake_results, summarize

log = logging.getLogger(__name__)


def init(settings: Settings) -> None:
    schema.apply_schema(database.engine(), postgres_engine.install, user_agents.reclassify_user_agents)
    gx_project.point_at_day(database.database_url(), None)
    gx_project.sync(gx_project.context(), settings)


def run_day(day: dt.date, settings: Settings, renotify: bool = False, started: DayRun | None = None,
            send: bool = True) -> DaySummary:
    """Run one day; ``started`` is its metrics pass if the caller already began it (see DayRun).
    With ``send`` False nothing goes to Slack or email (results are stored all the same).

    A run that raises is closed as ``error`` (no verdict: the gate stays closed).
    """
    eng = database.engine()
    with started or DayRun(eng, day, settings).start() as metrics:
        try:
            metrics.wait()
            return _run_checks(eng, database.database_url(), metrics, settings,
                               notify.RunOptions(renotify=renotify, send=send))
        except BaseException as exc:
            if metrics.opened:
                try:
                    results_store.fail_run(eng, metrics.run_id, exc)
                except Exception as store_exc:  # the database itself may be what failed
                    log.error("could not record the failure of run %s: %s", metrics.run_id, store_exc)
            raise


def _run_checks(eng, url, metrics: DayRun, settings: Settings, options: notify.RunOptions) -> DaySummary:
    day, run_id, now = metrics.day, metrics.run_id, metrics.run_time
    gx_project.point_at_day(url, day)
    ctx = gx_project.context()
    gx_project.sync(ctx, settings)
    links = gx_project.docs_links(run_id, now, settings.alerting.docs_base_url, gx_project.team_suites(settings),
                                  gx_project._on_lake(settings))
    token = notify.run_options.set(dataclasses.replace(options, docs_links=links))
    _make_room_in_docs(settings)
    try:
        result = gx_project.run_checkpoint(ctx, settings, run_id, now)
    except Exception as exc:
        lake_results.set([])
        if isinstance(exc, InfrastructureError):
            raise
        raise InfrastructureError(f"checkpoint failed for {day}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    finally:
        notify.run_options.reset(token)
    summary = summarize(result)
    lake_results.set([])  # a team's lake results belong to this run only
    with eng.begin() as conn:
        if not results_store.is_stored(conn, run_id):  # the store action failed: never lose results
            log.error("results action did not store run %s; storing now", run_id)
            results_store.store(conn, summary)
    _housekeeping(run_id, now, settings)
    return summary


def _make_room_in_docs(settings: Settings) -> None:
    """Prune old runs before this one, so the index the run builds links only pages that exist.
    A failure is logged: Data Docs never decide a verdict."""
    try:
        gx_project.prune_results(settings.docs.keep_runs - 1, gx_project.team_suites(settings))
    except Exception as exc:
        log.warning("Data Docs pruning failed and is left for the next run: %s: %s", type(exc).__name__, str(exc)[:300])


def _housekeeping(run_id: str, now, settings: Settings) -> None:
    """Data Docs page rewriting, after the verdict is stored: nothing here may change the
    run's exit code (a page pruned by a concurrent run of another day, say)."""
    try:
        gx_project.localise_docs([gx_project.docs_index()] + [
            gx_project.docs_site() / rel
            for rel in gx_project.docs_pages(run_id, now, gx_project.team_suites(settings),
                                             gx_project._on_lake(settings)).values()])
    except Exception as exc:
        log.warning("run %s: verdict stored; Data Docs housekeeping failed and is left for the next run: %s: %s",
                    run_id, type(exc).__name__, str(exc)[:300])
