"""Data Docs offline (README, "Results, alerts and gating"): every asset from the site folder, and the pages
work in a browser with no network (headless Chromium, host resolution blocked)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from monitor import database, gx_project, pipeline, settings
from tests.browser import rendered_dom
from tests.conftest import load_day

DAY = dt.date(2026, 10, 1)
# a request to another host: src=, the href of a <link>, a CSS url()
_OUTSIDE = [re.compile(r'\bsrc\s*=\s*["\']?(https?:)?//', re.I),
            re.compile(r'<link\b[^>]*\bhref\s*=\s*["\']?(https?:)?//', re.I),
            re.compile(r'url\(\s*["\']?(https?:)?//', re.I)]


@pytest.fixture
def site(db, tmp_path):
    load_day(tmp_path, DAY, ("zero_purchase",), sessions=300)
    summary = pipeline.run_day(DAY, settings.load(), send=False)
    return gx_project.docs_site(), summary


def test_no_site_file_loads_anything_from_another_host(site):
    root, _ = site
    files = [p for p in root.rglob("*") if p.suffix in (".html", ".css")]
    assert len(files) > 5
    offenders = {str(p.relative_to(root)): m.group(0) for p in files for rx in _OUTSIDE
                 for m in [rx.search(p.read_text(errors="ignore"))] if m}
    assert offenders == {}


def test_index_lists_the_runs_offline(site):
    root, summary = site
    dom = rendered_dom(root / "index.html")
    cells = re.findall(r"<td[^>]*>\s*([^<]*)</td>", dom)
    assert cells.count(summary.run_id) == 2  # one row per suite, built by the page's own scripts
    assert str(DAY) in summary.run_id


def test_validation_page_shows_checks_and_status_offline(site):
    root, summary = site
    page = root / gx_project.docs_pages(summary.run_id, summary.run_time)["raw_events"]
    dom = rendered_dom(page)
    assert "zero_purchase (volume)" in dom and "purchase events = 0 on 2026-10-01" in dom
    assert "fa-times" in dom and "fa-check-circle" in dom  # the status icons (Font Awesome, from the site)
    assert 'class="table-of-contents' in dom or "Table of Contents" in dom


def test_skipped_checks_are_shown_as_skipped(site):
    root, summary = site
    page = root / gx_project.docs_pages(summary.run_id, summary.run_time)["business_health"]
    dom = rendered_dom(page)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", dom, re.S)
    skipped = [r for r in rows if "skipped, insufficient history" in r]
    assert skipped and all("fa-minus-circle" in r and "fa-check-circle" not in r for r in skipped)
    passed = [r for r in rows if "checkout_without_purchase" in r or "bot_share" in r]
    assert passed and all("fa-minus-circle" not in r for r in passed)


def test_a_failing_check_comes_first_on_its_validation_page(site):
    """A reviewer sees what failed without scrolling: failures are the first result rows."""
    root, summary = site
    page = root / gx_project.docs_pages(summary.run_id, summary.run_time)["raw_events"]
    dom = rendered_dom(page)
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", dom, re.S) if "fa-times" in r or "fa-check-circle" in r]
    assert len(rows) > 5
    assert "fa-times" in rows[0] and "zero_purchase (volume)" in rows[0]
    first_pass = next(i for i, r in enumerate(rows) if "fa-check-circle" in r)
    assert all("fa-times" not in r for r in rows[first_pass:])
    # each run names the database it read, so runs of two databases in one site tell apart
    assert database.masked(database.database_url()).split("?")[0] in dom
