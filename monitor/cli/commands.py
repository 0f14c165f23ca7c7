"""What each CLI command does; cli.py only parses arguments."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

from monitor import settings
from monitor.store import database
from monitor.store import schema
from monitor.cli.output import print_json
from monitor.errors import UsageError
from monitor.outcome import Outcome
from monitor.verdict.summary import DaySummary

log = logging.getLogger("monitor")


# GX (and the UA parser) take seconds to import: only the commands that need them load them.


def init() -> Outcome:
    """Make the working directory (or $MONITOR_PROJECT) a monitor project, then create or upgrade its tables."""
    import os

    from monitor import project

    folder = project.init_dir()
    for path in project.create(folder):
        print(f"created {path}")
    os.environ["MONITOR_PROJECT"] = str(folder)  # this process's later steps use the project just made
    from monitor.verdict import gx_project
    from monitor.verdict import pipeline

    pipeline.init(settings.load())
    print(f"initialised {database.masked(database.database_url())} and {gx_project.project_root() / 'gx'}")
    return Outcome.PASS


def load(path: Path, day: dt.date | None, force: bool, replace: bool = False) -> Outcome:
    from monitor.sources import loader

    s = settings.load()
    if s.source.in_place:
        raise UsageError(f"source.relation is set: the monitor reads {s.source.relation} in place, so a loaded "
                         "file would never be read (unset [source] relation to load files)")
    eng = database.libpq()  # no SQLAlchemy: its import is a quarter of a 100k-row load
    schema.check_schema(eng)
    report = loader.load_file(eng, s, path, day, force, replace)
    days = ", ".join(f"{d}: {n}" for d, n in report.days.items()) or "no rows"
    print(f"loaded {report.rows} rows from {path} as load {report.load_id} ({days})")
    if report.replaced_loads:
        print(f"  replaced the rows of load(s) {', '.join(map(str, report.replaced_loads))} in {day}")
    if report.missing_columns:
        print(f"  missing required column(s): {', '.join(report.missing_columns)} (the day's run will alert)")
    if report.extra_columns:
        print(f"  extra column(s) kept in `extra`: {', '.join(report.extra_columns)}")
    if report.unparsed_lines:
        what = "line(s) were not JSON objects" if report.file_format == "jsonl" else "record(s) did not match the header"
        print(f"  {report.unparsed_lines} {what}; kept with empty fields and counted")
    if report.invalid_encoding_rows:
        print(f"  {report.invalid_encoding_rows} row(s) held bytes that are not UTF-8; kept (as U+FFFD) and counted")
    return Outcome.PASS


def _gate(summary: DaySummary, fail_on: str) -> Outcome:
    if summary.status == "critical" or (fail_on == "warning" and summary.status == "warning"):
        return Outcome.CRITICAL
    return Outcome.PASS


def run_days(days: list[dt.date], as_json: bool, fail_on: str, renotify: bool, send: bool = True,
             engine: str | None = None) -> Outcome:
    from monitor.verdict.day_run import DayRun

    s = settings.load()
    if engine:
        s = s.model_copy(update={"engine": s.engine.model_copy(update={"name": engine})})
    eng = database.engine()
    schema.check_schema(eng)
    # the first day's metrics pass runs in the database while GX imports here
    first = DayRun(eng, days[0], s).start()
    with first:
        from monitor.verdict import pipeline

        outcomes = []
        for day in days:
            summary = pipeline.run_day(day, s, renotify=renotify, started=first if day == days[0] else None,
                                       send=send)
            outcomes.append(_gate(summary, fail_on))
            if as_json:
                print_json(summary.to_json())
            else:
                print_summary(summary)
    return Outcome.worst(outcomes)


def intraday(day: dt.date, until: int | None, as_json: bool, send: bool) -> Outcome:
    """The day so far (README, "Within the day"): stored apart, never the day's gate."""
    from monitor.verdict.intraday import run_intraday

    s = settings.load()
    if s.source.in_place:
        raise UsageError(f"intraday counts loaded files as they arrive; {s.source.relation} is read in place, "
                         "and its days are judged by the daily run")
    eng = database.engine()
    schema.check_schema(eng)
    result = run_intraday(day, until, s, send=send)
    if as_json:
        print_json(result.to_json())
    else:
        summary = result.summary
        body = summary.to_json()
        print(f"{summary.date} 00:00-{result.until}  {summary.status.upper():8}  {len(body['alerts'])} alert(s); "
              f"{body['checks']} checks, {body['passed']} passed, {body['skipped']} skipped  (intraday run "
              f"{summary.run_id}; the day's gate is its daily run)")
        for a in summary.alerts:
            print(f"    {a.severity:8} {a.category:14} {a.check:26} {a.message}")
    return Outcome.CRITICAL if result.status == "critical" else Outcome.PASS


def print_summary(summary: DaySummary) -> None:
    body = summary.to_json()
    print(f"{summary.date}  {summary.status.upper():8}  {len(body['alerts'])} alert(s); {body['checks']} checks, "
          f"{body['passed']} passed, {body['skipped']} skipped  (run {summary.run_id})")
    for a in summary.alerts:
        print(f"    {a.severity:8} {a.category:14} {a.check:26} {a.message}")
    sys.stdout.flush()


def status(day: dt.date | None, as_json: bool) -> Outcome:
    """Stored verdicts only: never re-runs a check, never writes (a read-only role can run it)."""
    import sqlalchemy as sa  # not at the top: `load` never imports it

    eng = database.engine()
    schema.check_schema(eng)
    with eng.connect() as conn:
        rows = conn.execute(sa.text(
            """SELECT * FROM monitor.day_gate WHERE CAST(:day AS date) IS NULL OR day = CAST(:day AS date)
               ORDER BY day"""), {"day": day}).all()
        accepted: dict[dt.date, list[str]] = {}
        acceptances: dict[dt.date, list[dict]] = {}
        for d, check, at, by in conn.execute(sa.text(
                "SELECT day, check_name, accepted_at, accepted_by FROM monitor.accepted_days ORDER BY 1, 2")):
            accepted.setdefault(d, []).append(check or "*")
            acceptances.setdefault(d, []).append({"check": check or "*", "by": by or "runner.py accept",
                                                  "at": at.isoformat(timespec="seconds")})
        intraday = _intraday_timeline(conn, rows, day)
        stale = _changed_in_place(conn, rows)
    days = [_status_entry(r, accepted.get(r.day), acceptances.get(r.day), stale.get(r.day)) for r in rows]
    for entry in days:  # README, "Within the day": shown, never part of the gate
        runs = intraday.get(dt.date.fromisoformat(entry["date"]))
        if runs:
            entry["intraday"] = runs if day is not None else runs[-1:]
    if day is not None:
        entry = days[0] if days else {"date": str(day), "rows": 0, "loads": 0, "latest": None, "stale": False,
                                      "reason": "no rows loaded and never run"}
        if as_json:
            print_json(entry)
        else:
            _print_status_line(entry)
        # the gate: open only for a finished, current, non-critical verdict
        return Outcome.CRITICAL if "reason" in entry else Outcome.PASS
    if as_json:
        print_json({"database": database.masked(database.database_url()), "days": days})
    else:
        print(f"database: {database.masked(database.database_url())}")
        for entry in days:
            _print_status_line(entry)
    return Outcome.PASS


def _intraday_timeline(conn, rows, day: dt.date | None) -> dict:
    from monitor.store import intraday as intraday_store

    if not rows:
        return {}
    first, last = (day, day) if day is not None else (rows[0].day, rows[-1].day)
    return {d: [{k: run[k] for k in ("until", "status", "alerts", "run_id")}
                | {"checks": [a["check"] for a in run["failed"]]} for run in runs]
            for d, runs in intraday_store.timeline(conn, first, last).items()}


def _changed_in_place(conn, rows) -> dict[dt.date, str]:
    """In place, no load says that a day changed: the day's fingerprint now against the one
    its latest run recorded (rows added, changed or removed since make it stale)."""
    import sqlalchemy as sa  # not at the top: `load` never imports it

    s = settings.load()
    if not s.source.in_place:
        return {}
    from monitor import sources

    source = sources.source_for(s)
    recorded = dict(conn.execute(sa.text(
        "SELECT day, fingerprint FROM monitor.latest_runs WHERE day = ANY (:d)"), {"d": [r.day for r in rows]}).all())
    cursor = conn.connection.cursor()
    out = {}
    for r in rows:
        if not r.has_verdict:
            continue
        then, now = recorded.get(r.day), source.fingerprint(cursor, r.day)
        if then != now:
            counts = f" ({(then or '?').split('/')[0]} rows then, {now.split('/')[0]} now)"
            out[r.day] = (f"stale: the day's rows in {source.label} were added, changed or removed after its "
                          f"latest run{counts}; run it again")
    return out


def _status_entry(r, accepted: list[str] | None = None, acceptances: list[dict] | None = None,
                  changed: str | None = None) -> dict:
    """One day's entry of monitor.day_gate; ``reason`` is there exactly when the gate is closed."""
    entry = {"date": str(r.day), "rows": int(r.rows), "loads": int(r.loads),
             "latest": {"status": r.status, "run_id": r.run_id, "alerts": r.alerts} if r.has_verdict else None,
             "stale": bool(r.stale) or changed is not None}
    if changed and not r.stale:
        entry["reason"] = changed
    elif r.reason:
        entry["reason"] = r.reason
    if accepted:  # `runner.py accept`: this day's level is the new normal for these checks (* = all)
        entry["accepted"] = accepted
        entry["acceptances"] = acceptances or []  # who or what accepted it, and when
    return entry


def _print_status_line(entry: dict) -> None:
    latest = entry["latest"]
    verdict = f"{latest['status']:8} {latest['alerts']} alert(s)  run {latest['run_id']}" if latest else "no verdict"
    gate = f"  [gate closed: {entry['reason']}]" if "reason" in entry else "  [gate open]"
    accepted = ("  accepted as new normal: " + ", ".join(f"{a['check']} by {a['by']} at {a['at']}"
                                                         for a in entry.get("acceptances", []))
                if entry.get("accepted") else "")
    intraday = ""
    if entry.get("intraday"):
        latest = entry["intraday"][-1]
        failed = f" ({', '.join(latest['checks'])})" if latest["checks"] else ""
        intraday = f"  intraday until {latest['until']}: {latest['status']}{failed}"
    print(f"{entry['date']}  {entry['rows']:>9} rows  {entry['loads']} load(s)  {verdict}{gate}{accepted}{intraday}")
    for run in entry.get("intraday", [])[:-1] if len(entry.get("intraday", [])) > 1 else []:
        failed = f" ({', '.join(run['checks'])})" if run["checks"] else ""
        print(f"    intraday until {run['until']}: {run['status']}{failed}")


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown user"


def accept(day: dt.date, check: str | None) -> Outcome:
    """A person says the day's level is the new normal (for one check, or every baseline check)."""
    import sqlalchemy as sa  # not at the top: `load` never imports it

    from monitor.expectations import SUITES

    s = settings.load()
    eng = database.engine()
    schema.check_schema(eng)
    names = {e.meta["check"] for build in SUITES.values() for e in build(s)}
    if check is not None and check not in names:
        raise UsageError(f"unknown check {check!r}; one of: {', '.join(sorted(names))}")
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO monitor.accepted_days (day, check_name, accepted_by) VALUES (:d, :c, :b)"
                             " ON CONFLICT (day, check_name) DO UPDATE SET accepted_at = now(), accepted_by = :b"),
                     {"d": day, "c": check or "", "b": f"{_who()} (runner.py accept)"})
    what = f"check {check}" if check else "every baseline check"
    print(f"accepted {day} as the new normal for {what}: later baselines start there "
          f"(run `runner.py run --date {day}` again to update its own verdict)")
    return Outcome.PASS


def backtest(start: dt.date, end: dt.date, as_json: bool) -> Outcome:
    """What the current monitor.toml would have said about stored days; stores and sends nothing."""
    from monitor.review import backtest as replay_days
    from monitor.verdict import gx_project  # noqa: F401  (registers the expectations)

    s = settings.load()
    eng = database.engine()
    schema.check_schema(eng)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    with eng.connect() as conn:
        summaries = replay_days.replay(conn, days, s)
        conn.rollback()
    alerted = replay_days.by_check(summaries)
    if as_json:
        print_json({"start": str(start), "end": str(end), "replayed": len(summaries),
                    "days": [{"date": x.date, "status": x.status,
                              "alerts": [{k: a.alert()[k] for k in ("check", "severity", "message")}
                                         for a in x.alerts]} for x in summaries],
                    "checks": alerted})
        return Outcome.PASS
    print(f"backtest {start} .. {end}: {len(summaries)} stored day(s) replayed under {settings.config_path()}")
    for summary in summaries:
        print(f"{summary.date}  {summary.status.upper():8}  {len(summary.alerts)} alert(s)")
    print()
    for check, dates in alerted.items():
        print(f"{check:28} {len(dates):3} day(s): {', '.join(dates)}")
    if not alerted:
        print("no check would have alerted")
    return Outcome.PASS


def show(day: dt.date, check: str, as_json: bool) -> Outcome:
    """The offending rows a field-health check found on a day, by file and line (in place: row_id)."""
    import sqlalchemy as sa  # not at the top: `load` never imports it

    eng = database.engine()
    schema.check_schema(eng)
    with eng.connect() as conn:
        rows = conn.execute(sa.text("SELECT file, line, row_id, value FROM monitor.day_samples"
                                    " WHERE day = :d AND check_name = :c ORDER BY file, line, row_id"),
                            {"d": day, "c": check}).all()
    # a loaded file's row is its file and line; a relation's (in place) its row_id
    samples = [{"row_id": r.row_id, "value": r.value} if r.row_id is not None
               else {"file": r.file, "line": r.line, "value": r.value} for r in rows]
    if as_json:
        print_json({"date": str(day), "check": check, "samples": samples})
        return Outcome.PASS
    print(f"{check} on {day}: {len(samples)} sample row(s) (the first 20 per check, from the latest run's metrics)")
    for x in samples:
        print(f"row_id={x['row_id']}  {x['value']}" if "row_id" in x else f"{x['file']}:{x['line']}  {x['value']}")
    return Outcome.PASS


def report(start: dt.date | None, end: dt.date | None, out: Path | None) -> Outcome:
    """One self-contained HTML file: verdicts, charts against the expected band, alerts."""
    import sqlalchemy as sa  # not at the top: `load` never imports it

    from monitor.verdict import gx_project
    from monitor.review import report as html_report

    eng = database.engine()
    schema.check_schema(eng)
    with eng.connect() as conn:
        if end is None:
            end = conn.execute(sa.text("SELECT max(day) FROM (SELECT max(day) AS day FROM monitor.daily_metrics"
                                       " UNION ALL SELECT max(day) FROM monitor.intraday_runs) d")).scalar()
            if end is None:
                raise UsageError("nothing to report yet: load and run some days first")
        start = start or end - dt.timedelta(days=27)
        if end < start:
            raise UsageError(f"--end {end} is before --start {start}")
        path = html_report.write(conn, start, end, Path(out or gx_project.docs_site() / "report.html"),
                                 gx_project.docs_links)
    print(f"report {start} .. {end}: {path}")
    return Outcome.PASS


def digest() -> Outcome:
    """Send the deferred warnings (alerting.warnings = "digest") as one message per channel."""
    from monitor.delivery import notify

    s = settings.load()
    schema.check_schema(database.engine())
    secrets = s.secrets
    for channel in ("slack", "email"):
        if not notify.configured(channel, secrets):
            continue
        with database.engine().begin() as conn:
            days = notify.send_digest(conn, channel, secrets, s.alerting)
        print(f"{channel}: digest covered {days} day(s)")
    return Outcome.PASS


def docs() -> Outcome:
    from monitor.verdict import gx_project

    schema.check_schema(database.engine())
    gx_project.point_at_day(database.database_url(), None)
    ctx = gx_project.context()
    gx_project.sync(ctx, settings.load())
    ctx.build_data_docs()
    gx_project.localise_docs()
    print(f"Data Docs: {gx_project.docs_index()}")
    return Outcome.PASS


def demo(days: int, seed: int) -> Outcome:
    """The spec's days on the project's embedded server, so every later command sees them.

    The demo replaces that database (and the project's Data Docs) whole; it refuses when
    the database holds loads of files that are not the demo's own.
    """
    import os
    import shutil

    from monitor.demo import generator
    from monitor.verdict import gx_project
    from monitor.sources import loader
    from monitor.verdict import pipeline

    folder = (database.monitor_home() / "demo_data").resolve()
    url = database.embedded_url()
    database.use(url)
    eng = database.engine()
    with eng.begin() as conn:
        own = conn.exec_driver_sql(
            "SELECT count(*) FROM events.loads WHERE left(source_file, %s) <> %s",
            (len(str(folder)) + 1, f"{folder}/")).scalar() if _has_loads_table(conn) else 0
        if own:
            raise UsageError(f"the embedded database of {database.monitor_home()} holds {own} load(s) of your own "
                             "files; the demo replaces it whole: run the demo in another folder "
                             "(`event-monitor init` there first)")
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS events, monitor CASCADE")
    for stale in ("validations", "data_docs"):  # pages of runs the new database no longer holds
        shutil.rmtree(gx_project.project_root() / "gx" / "uncommitted" / stale, ignore_errors=True)
    s = settings.load()
    pipeline.init(s)
    end = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    print(f"generating {days} days ({start} .. {end}) of sample events into {folder}", flush=True)
    files = generator.write_dataset(folder, start, days, generator.demo_incidents(start, days), seed=seed)
    for day, path in files:
        loader.load_file(database.engine(), s, path, day, force=True)
    print(f"loaded {len(files)} files; running every day, oldest first", flush=True)
    print("notifications are off in the demo: nothing goes to Slack or email, whatever the environment holds\n",
          flush=True)
    summaries = [pipeline.run_day(day, s, send=False) for day, _ in files]
    for summary in summaries:
        print_summary(summary)
    if all(x.status == "critical" for x in summaries):
        print("\nEvery day is critical: purchases never arrived. Each day that alerted stays out of that "
              "check's own baseline, so the outage never becomes the new normal.")
    print(f"\nData Docs: {gx_project.docs_index()}")
    report(start, end, None)
    print(f"Stored results: table monitor.monitoring_results in the embedded database under {database.monitor_home()}")
    print(f"\nExplore it (from this folder): event-monitor status; event-monitor status --date {end} --json; "
          f"event-monitor show --date {end} --check zero_purchase; event-monitor report")
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set: the other commands use that database, not the demo's; unset it to explore the demo")
    home = database.monitor_home()
    print(f"Remove it all: pkill -f \"{home / 'pgdata'}\"; rm -rf {home} {gx_project.project_root() / 'gx' / 'uncommitted'}")
    return Outcome.PASS


def _has_loads_table(conn) -> bool:
    return conn.exec_driver_sql("SELECT to_regclass('events.loads') IS NOT NULL").scalar()
