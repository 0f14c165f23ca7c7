"""The GX project: suites survive loading only with custom expectations registered."""

from __future__ import annotations

import os
import subprocess
import sys
import re
import textwrap

from monitor.settings import PROJECT_ROOT


def test_suite_loaded_without_registration_is_refused(db):
    # A fresh interpreter loads the stored suite *before* importing our expectations:
    # GX drops the unknown ones silently, and verify_suite must say so.
    code = textwrap.dedent("""
        import great_expectations as gx
        ctx = gx.get_context(mode="file", project_root_dir=__import__("os").environ["MONITOR_GX_ROOT"])
        suite = ctx.suites.get("raw_events")
        print("held", len(suite.expectations))
        from monitor import gx_project, settings
        from monitor.errors import SuiteIntegrityError
        try:
            gx_project.verify_suite(suite, settings.load())
        except SuiteIntegrityError as exc:
            print("refused:", exc)
        fresh = ctx.suites.get("raw_events")
        gx_project.verify_suite(fresh, settings.load())
        print("after registration", len(fresh.expectations))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=dict(os.environ), timeout=120)
    assert proc.returncode == 0, proc.stderr
    from expectations import raw_events
    from monitor import settings

    defined = len(raw_events.expectations(settings.load()))
    lines = proc.stdout.splitlines()
    assert lines[0] == "held 0"
    assert lines[1].startswith(f"refused: suite raw_events holds 0 of its {defined} expectations")
    assert lines[2] == f"after registration {defined}"


def test_gx_files_hold_no_connection_string(db):
    from monitor import gx_project

    text = (gx_project.project_root() / "gx" / "great_expectations.yml").read_text()
    assert "${MONITOR_GX_DATABASE_URL}" in text
    assert "postgresql" not in text.split("connection_string")[1].splitlines()[0]


def test_data_docs_pruned_and_free_of_context_id(with_history, tmp_path, monkeypatch):
    import datetime as dt

    from monitor import gx_project, pipeline, settings
    from tests.conftest import INCIDENT_DAY, load_day

    cfg = tmp_path / "keep.toml"
    cfg.write_text("[docs]\nkeep_runs = 2\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(cfg))
    load_day(tmp_path, INCIDENT_DAY)
    for _ in range(3):
        pipeline.run_day(INCIDENT_DAY, settings.load())
    for suite in ("raw_events", "business_health"):
        runs = list((gx_project.project_root() / "gx" / "uncommitted" / "validations" / suite).iterdir())
        pages = list((gx_project.docs_site() / "validations" / suite).iterdir())
        assert len(runs) == 2 and len(pages) == 2
    index = gx_project.docs_index().read_text()
    assert "dataContextId" not in index and "static/vendor/logo.svg" in index  # our own logo, no id
    # the index links only pages that exist: pruned runs are gone from it too
    linked = set(re.findall(r"validations/[^\"'\s]+?\.html", index))
    assert len(linked) == 4, linked
    assert all((gx_project.docs_site() / rel).is_file() for rel in linked), linked


def test_gx_import_defers_unused_modules_until_first_use():
    # monitor.gx_project imports GX with scipy.stats, altair and jsonschema deferred:
    # they exist as empty lazy modules until code reads from them, then work as usual.
    code = textwrap.dedent("""
        import gc, sys
        import monitor.gx_project
        print(type(sys.modules["scipy.stats"]).__name__, type(sys.modules["altair"]).__name__,
              gc.isenabled())
        from scipy import stats
        import altair
        print(round(float(stats.entropy([0.5, 0.5])), 4), type(sys.modules["scipy.stats"]).__name__,
              altair.Chart.__name__)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["_LazyModule _LazyModule True", "0.6931 module Chart"]
