"""A team's own GX checks (CONTRACT section 9; README, "Your own checks"): a suite made
with GX's API runs on the day's rows (monitor.day_events) after the monitor's suites,
alerts and gates with each expectation's severity, survives `init` and runs unchanged,
stops when taken out of monitor.toml, and no two of its results collide."""

from __future__ import annotations

import csv
import datetime as dt
import json

import great_expectations as gx
import great_expectations.expectations as gxe
import pytest
import sqlalchemy as sa
from great_expectations.expectations.row_conditions import Column

from monitor import database, generator, loader, pipeline, settings
from monitor.cli import main
from monitor.verdict import gx_project
from tests.conftest import forget_suite

DAY = dt.date(2026, 9, 10)
SUITE = "shop_rules"


def _load(tmp_path, day: dt.date, extra_rows: list[list[str]] = ()) -> int:
    rows = generator.Generator(seed=day.day, sessions_per_day=300).day_rows(day) + list(extra_rows)
    path = generator.write_csv(tmp_path / f"events_{day}.csv", rows)
    return loader.load_file(database.engine(), settings.load(), path, day).rows


# what the team's rules catch: a currency no shop sells in, an order with no id, a big order
ODD = [["c-odd", f"{DAY}T10:00:00Z", "purchase", json.dumps({"order_id": "o-big", "revenue": 4999.0,
                                                             "currency": "EUR"})],
       ["c-odd", f"{DAY}T10:05:00Z", "purchase", json.dumps({"order_id": "o-x", "revenue": 20, "currency": "XXX"})],
       ["c-odd", f"{DAY}T10:06:00Z", "purchase", json.dumps({"revenue": 25, "currency": "EUR"})]]


def _team_suite() -> None:
    """The team's suite, made with GX's own API, as a team would."""
    ctx = gx_project.context()
    suite = ctx.suites.add(gx.ExpectationSuite(name=SUITE))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=["EUR", "USD"],
                                                          severity="critical"))
    suite.add_expectation(gxe.UnexpectedRowsExpectation(
        unexpected_rows_query="SELECT row_id, order_id, revenue FROM {batch} WHERE revenue > 1000",
        severity="warning"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="order_id", row_condition=Column("event_name")
                                                            == "purchase", severity="critical"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="client_id", mostly=0.5, severity="warning"))
    # and one added to a monitor suite: sync must keep it
    own = ctx.suites.get("business_health")
    own.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="metric", severity="warning"))
    own.save()


@pytest.fixture(autouse=True)
def _restore_gx_project():
    """The GX project is the session's: a test's suites (and what it added to the monitor's)
    go when it ends, so other tests see the monitor's suites as `init` writes them."""
    folder = gx_project.project_root() / "gx" / "expectations"
    before = {p.name for p in folder.glob("*.json")}
    yield
    for p in folder.glob("*.json"):
        if p.name not in before or p.name == "business_health.json":
            p.unlink()
            if p.stem != "business_health":
                forget_suite(p.stem)
    for p in (gx_project.project_root() / "gx" / "validation_definitions").glob("*.day_events*"):
        p.unlink()


@pytest.fixture
def team(db, tmp_path, monkeypatch):
    for i in range(3, 0, -1):
        _load(tmp_path, DAY - dt.timedelta(days=i))
    rows = _load(tmp_path, DAY, ODD)
    _team_suite()
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(f'[suites]\nextra = ["{SUITE}"]\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    return rows, cfg


def _suite_files() -> dict[str, str]:
    folder = gx_project.project_root() / "gx" / "expectations"
    return {p.name: p.read_text() for p in sorted(folder.glob("*.json"))}


def test_a_team_suite_runs_alerts_and_gates_with_its_severities(team, capsys):
    s = settings.load()
    summary = pipeline.run_day(DAY, s, send=False)
    custom = {r.check: r for r in summary.results if r.suite == SUITE}
    assert all(r.category == "custom" for r in custom.values())
    currency = custom["shop_rules.values_to_be_in_set(currency)"]
    assert (currency.status, currency.severity) == ("critical", "critical")
    assert "1 of" in currency.message and "'XXX'" in currency.message, currency.message
    big = custom["shop_rules.unexpected_rows"]
    assert (big.status, big.severity) == ("warning", "warning") and big.observed == 1, big.message
    names = [c for c in custom if c.startswith("shop_rules.values_to_not_be_null(")]
    assert sorted(names) == ["shop_rules.values_to_not_be_null(client_id)",
                             "shop_rules.values_to_not_be_null(order_id)"]
    assert custom["shop_rules.values_to_not_be_null(order_id)"].status == "critical"
    assert custom["shop_rules.values_to_not_be_null(client_id)"].status == "pass"
    kept = [r for r in summary.results if r.suite == "business_health" and r.category == "custom"]
    assert [r.check for r in kept] == ["business_health.values_to_not_be_null(metric)"]

    assert summary.status == "critical"
    assert main(["status", "--date", str(DAY)]) == 1
    with database.engine().connect() as conn:
        stored = dict(conn.execute(sa.text(
            "SELECT check_name, status FROM monitor.monitoring_results WHERE run_id = :r AND suite = :s"),
            {"r": summary.run_id, "s": SUITE}).all())
    assert stored == {c: r.status for c, r in custom.items()}, "every team result stored, none collided"
    page = gx_project.docs_site() / gx_project.docs_pages(summary.run_id, summary.run_time, (SUITE,))[SUITE]
    assert page.is_file(), "the team suite has its Data Docs page"


def test_the_team_suite_survives_init_and_runs_and_stops_when_unlisted(team, monkeypatch):
    _, cfg = team
    before = _suite_files()
    s = settings.load()
    pipeline.init(s)
    pipeline.run_day(DAY, s, send=False)
    pipeline.run_day(DAY, s, send=False)
    after = _suite_files()
    assert after[f"{SUITE}.json"] == before[f"{SUITE}.json"], "the team's suite is never rewritten"
    health = json.loads(after["business_health.json"])["expectations"]
    assert any(e["type"] == "expect_column_values_to_not_be_null" for e in health), "a team's addition is kept"

    cfg.write_text("")
    settings.load_file.cache_clear()
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    assert not [r for r in summary.results if r.suite == SUITE], "unlisted: the team suite no longer runs"
    assert (gx_project.project_root() / "gx" / "expectations" / f"{SUITE}.json").is_file(), "and is not deleted"


def test_an_unknown_team_suite_is_exit_2_naming_it(db, tmp_path, monkeypatch, capsys):
    _load(tmp_path, DAY)
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[suites]\nextra = ["no_such_rules"]\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    assert main(["run", "--date", str(DAY), "--no-notify"]) == 2
    err = capsys.readouterr().err
    assert "no_such_rules" in err and len(err.strip().splitlines()) == 1


def test_the_day_rows_batch_holds_exactly_the_days_rows(team):
    rows, _ = team
    pipeline.run_day(DAY, settings.load(), send=False)
    with database.engine().connect() as conn:
        on = lambda d: conn.execute(sa.text("SELECT count(*) FROM monitor.day_events_on(:d)"), {"d": d}).scalar()  # noqa: E731
        source = lambda d: conn.execute(sa.text(  # noqa: E731
            "SELECT count(*) FROM events.raw_events WHERE partition_date = :d"), {"d": d}).scalar()
        assert on(DAY) == source(DAY) == rows
        assert on(DAY - dt.timedelta(days=1)) == source(DAY - dt.timedelta(days=1)) != rows
        assert conn.execute(sa.text("SELECT count(*) FROM monitor.day_events")).scalar() == rows, \
            "the view is the latest day run"
        typed = dict(conn.execute(sa.text(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_schema = 'monitor' AND table_name = 'day_events'""")).all())
    assert typed["timestamp"] == "timestamp with time zone" and typed["revenue"] == "numeric"
    assert typed["event_data"] == "jsonb"


def test_no_day_rides_on_the_connection_string(team):
    """Behind a pooler that drops connection options the day must still be right: GX's
    connection carries none, and each batch names its day in its query."""
    import os

    pipeline.run_day(DAY - dt.timedelta(days=1), settings.load(), send=False)
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    assert "options" not in os.environ[gx_project.URL_VARIABLE]
    assert "monitor.day" not in os.environ[gx_project.URL_VARIABLE]
    text = (gx_project.project_root() / "gx" / "great_expectations.yml").read_text()
    assert "SELECT * FROM monitor.day_events" in text and str(DAY) not in text, "the stored queries name no day"
    currency = next(r for r in summary.results if r.check == "shop_rules.values_to_be_in_set(currency)")
    assert currency.status == "critical", "the run read its own day, not the day before"


def test_two_expectations_of_one_kind_and_column_both_store(db, tmp_path, monkeypatch):
    _load(tmp_path, DAY)
    ctx = gx_project.context()
    suite = ctx.suites.add(gx.ExpectationSuite(name="twins"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="client_id", mostly=0.5))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="client_id", mostly=0.99))
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[suites]\nextra = ["twins"]\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    twins = sorted(r.check for r in summary.results if r.suite == "twins")
    assert len(twins) == 2 and len(set(twins)) == 2, twins
    with database.engine().connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM monitor.monitoring_results WHERE run_id = :r AND suite = 'twins'"),
                         {"r": summary.run_id}).scalar()
    assert n == 2
    # stable: the same names on the next run
    again = pipeline.run_day(DAY, settings.load(), send=False)
    assert sorted(r.check for r in again.results if r.suite == "twins") == twins


def test_a_team_suite_as_a_json_file_in_gx_expectations(db, tmp_path, monkeypatch):
    _load(tmp_path, DAY, ODD)
    (gx_project.project_root() / "gx" / "expectations" / "file_rules.json").write_text(json.dumps({
        "name": "file_rules", "id": "5b1f3c2e-8a4d-4e0f-9c61-2d7e9a0b4c11", "meta": {}, "notes": None,
        "expectations": [{"type": "expect_column_values_to_be_in_set", "kwargs": {
            "column": "currency", "value_set": ["EUR"]}, "meta": {"check": "currency_is_eur"}, "severity": "warning"}]}))
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[suites]\nextra = ["file_rules"]\n')
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    r = next(r for r in summary.results if r.suite == "file_rules")
    assert (r.check, r.category, r.status) == ("currency_is_eur", "custom", "warning"), r.message


def test_team_alerts_reach_slack_email_and_the_report(team, monkeypatch, tmp_path):
    import email

    from tests.peers import Mailbox, Webhook, mail_env

    with Webhook() as hook, Mailbox() as mail:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        mail_env(monkeypatch, mail.port)
        summary = pipeline.run_day(DAY, settings.load())
        assert summary.status == "critical"
        assert len(hook.posts) == 1 and len(mail.messages) == 1
        slack = json.dumps(hook.posts[0])
        assert "shop_rules.values_to_be_in_set(currency)" in slack and "XXX" in slack
        body = email.message_from_bytes(mail.messages[0].content)
        text = next(p.get_payload(decode=True).decode() for p in body.walk() if p.get_content_type() == "text/plain")
        assert "shop_rules.values_to_not_be_null(order_id)" in text
    out = tmp_path / "report.html"
    assert main(["report", "--start", str(DAY), "--end", str(DAY), "--out", str(out)]) == 0
    assert "shop_rules.values_to_be_in_set(currency)" in out.read_text()
