"""The offending rows: every field-health alert carries its rows' file, line and value,
collected by the metrics pass (real embedded PostgreSQL, real GX run)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from monitor import pipeline, settings
from monitor import loader, database
from tests.test_cli import runner

DAY = dt.date(2026, 10, 7)
GOOD = f'c1,{DAY}T10:00:00Z,page_viewed,"{{""page_url"":""https://s.example/""}}"'

# check -> (bad line, the value the sample must show)
CASES = {
    "null_client_id": (f',{DAY}T10:00:01Z,page_viewed,{{}}', f',{DAY}T10:00:01Z,page_viewed,{{}}'),
    "null_timestamp": ("c2,,page_viewed,{}", "c2,,page_viewed,{}"),  # the row, as it was sent
    "null_event_name": (f"c3,{DAY}T10:00:02Z,,{{}}", f"c3,{DAY}T10:00:02Z,,{{}}"),
    "unknown_event_name": (f"c4,{DAY}T10:00:03Z,page_view,{{}}", "page_view"),
    "invalid_timestamp": ("c5,27/11/2026 10:15,page_viewed,{}", "27/11/2026 10:15"),
    "malformed_json": (f'c6,{DAY}T10:00:04Z,page_viewed,"{{""page_url"":""https://s.ex"', '{"page_url":"https://s.ex'),
}


def _file(tmp_path, check, bad_line_at=(3, 7)):
    lines = ["client_id,timestamp,event_name,event_data"] + [GOOD] * 8
    for n in bad_line_at:
        lines[n] = CASES[check][0]
    path = tmp_path / f"export_{check}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("check", sorted(CASES))
def test_field_health_alert_names_file_line_and_value(check, db, tmp_path):
    path = _file(tmp_path, check)
    loader.load_file(database.engine(), settings.load(), path, DAY)
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    alert = next(a for a in summary.to_json()["alerts"] if a["check"] == check)
    assert alert["samples"] == [{"file": str(path.resolve()), "line": n, "value": CASES[check][1]} for n in (3, 7)]
    assert f"{path.name} line 3" in alert["message"]
    shown = runner("show", "--date", str(DAY), "--check", check, url=db)
    assert shown.returncode == 0 and f"{path.resolve()}:7" in shown.stdout


def test_invalid_encoding_samples(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"client_id,timestamp,event_name,event_data\n" + GOOD.encode() + b"\n"
                     + f"caf\xe9,{DAY}T10:00:00Z,page_viewed,{{}}\n".encode("latin-1"))
    loader.load_file(database.engine(), settings.load(), path, DAY)
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    alert = next(a for a in summary.to_json()["alerts"] if a["check"] == "invalid_encoding")
    assert alert["samples"] == [{"file": str(path.resolve()), "line": 2,
                                 "value": f"caf\ufffd,{DAY}T10:00:00Z,page_viewed,{{}}"}]


def test_at_most_20_samples_and_none_on_a_clean_day(db, tmp_path):
    lines = ["client_id,timestamp,event_name,event_data"] + [f",{DAY}T10:00:00Z,page_viewed,{{}}"] * 50
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    loader.load_file(database.engine(), settings.load(), path, DAY)
    alert = next(a for a in pipeline.run_day(DAY, settings.load(), send=False).to_json()["alerts"]
                 if a["check"] == "null_client_id")
    assert [x["line"] for x in alert["samples"]] == list(range(1, 21))
    clean = DAY + dt.timedelta(days=1)
    (tmp_path / "clean.csv").write_text("client_id,timestamp,event_name,event_data\n"
                                        + GOOD.replace(str(DAY), str(clean)) + "\n")
    loader.load_file(database.engine(), settings.load(), tmp_path / "clean.csv", clean)
    pipeline.run_day(clean, settings.load(), send=False)
    with database.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM monitor.day_samples WHERE day = %s", (clean,)).scalar() == 0


def test_samples_reach_slack_json_and_data_docs(db, tmp_path, monkeypatch):
    from monitor import gx_project
    from tests.peers import Webhook

    path = _file(tmp_path, "invalid_timestamp")
    loader.load_file(database.engine(), settings.load(), path, DAY)
    with Webhook() as hook:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        summary = pipeline.run_day(DAY, settings.load())
    text = json.dumps(hook.posts[0])
    assert f"{path.name}:3" in text and "27/11/2026 10:15" in text
    page = gx_project.docs_site() / gx_project.docs_pages(summary.run_id, summary.run_time)["raw_events"]
    assert f"{path.name} line 3" in page.read_text()


def test_a_duplicate_spike_names_the_repeated_rows(with_history, tmp_path):
    from tests.conftest import INCIDENT_DAY, load_day

    path = load_day(tmp_path, INCIDENT_DAY, ("duplicate_spike",))
    alert = next(a for a in pipeline.run_day(INCIDENT_DAY, settings.load(), send=False).to_json()["alerts"]
                 if a["check"] == "duplicate_spike")
    assert len(alert["samples"]) == 20 and all(x["file"] == str(path.resolve()) for x in alert["samples"])
    lines = path.read_text().splitlines()
    first = alert["samples"][0]
    assert first["value"].endswith("(2 identical rows)")
    # the named line is a row that the file holds twice
    record = lines[first["line"]]
    assert lines.count(record) >= 2


SPANNING = f'c1,{DAY}T10:00:00Z,page_viewed,"{{""page_url"":""https://s.example/"",""note"":""two\nlines\nmore""}}"'


@pytest.mark.parametrize("path_taken", ["dated_copy", "undated_copy", "records_read_here"])
def test_sample_line_is_the_files_line_when_a_quoted_field_spans_lines(path_taken, db, tmp_path):
    # event lines (after the header): 1 spans 1-3, 4 is blank or clean, 5 is the bad row
    bad = CASES["unknown_event_name"][0]
    middle = {"dated_copy": GOOD, "undated_copy": GOOD, "records_read_here": ""}[path_taken]
    text = "\n".join(["client_id,timestamp,event_name,event_data", SPANNING, middle, bad, GOOD]) + "\n"
    path = tmp_path / f"spanning_{path_taken}.csv"
    path.write_text(text)
    report = loader.load_file(database.engine(), settings.load(), path,
                              None if path_taken == "undated_copy" else DAY)
    assert report.rows == (3 if path_taken == "records_read_here" else 4)
    alert = next(a for a in pipeline.run_day(DAY, settings.load(), send=False).to_json()["alerts"]
                 if a["check"] == "unknown_event_name")
    assert [x["line"] for x in alert["samples"]] == [5]
    # the named line is the bad row, counting lines after the header as the other samples do
    assert text.split("\n")[5] == bad
