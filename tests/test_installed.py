"""Installed as a tool: a non-editable install into a fresh venv, then `event-monitor init`
and `demo` in an empty folder. The project (monitor.toml, gx/, the embedded server and the
results) lives in that folder; the installed package holds code only.

The fresh venv takes its dependencies from the test venv (a path entry, no copy), so the
test installs only this package, from a copy of the source tree, and downloads nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from monitor import database
from monitor.settings import PROJECT_ROOT

# what the wheel must never hold: a project's files, or modules under generic top-level names
NOT_INSTALLED = ("runner.py", "monitor.toml", "gx", ".monitor", "checkpoints", "expectations", "custom_expectations")


def _tree_copy(dst: Path) -> Path:
    skip = shutil.ignore_patterns(".git", ".venv", ".monitor", "uncommitted", "__pycache__", "*.egg-info", "build",
                                  "bench", "tests", "docs", "examples")
    shutil.copytree(PROJECT_ROOT, dst, ignore=skip)
    return dst


@pytest.fixture(scope="module")
def installed():
    work = Path(tempfile.mkdtemp(prefix="monitor-install-", dir="/tmp"))  # outside root's home (embedded server)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    src = _tree_copy(work / "src")
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    yield work, venv, site
    database.stop_embedded(work / "project" / ".monitor")
    shutil.rmtree(work, ignore_errors=True)


def _tool(venv: Path, cwd: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MONITOR_") and k not in ("DATABASE_URL", "PYTHONPATH")} | extra_env
    return subprocess.run([str(venv / "bin" / "event-monitor"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=400)


def test_installed_package_holds_code_only(installed):
    _, _, site = installed
    ours = [p.name for p in site.iterdir() if p.name in NOT_INSTALLED]
    assert ours == [], f"installed into site-packages: {ours}"
    assert (site / "monitor" / "templates" / "monitor.toml").is_file()


def test_init_and_demo_in_an_empty_folder(installed):
    work, venv, site = installed
    project = work / "project"
    project.mkdir()
    before = sorted(str(p) for p in site.rglob("*") if "__pycache__" not in p.parts)
    init = _tool(venv, project, "init")
    assert init.returncode == 0, init.stderr
    assert (project / "monitor.toml").is_file() and (project / "gx" / "great_expectations.yml").is_file()
    database.embedded_url(project / ".monitor")  # this process's handle on the folder's server, to stop it after
    demo = _tool(venv, project, "demo", "--days", "4")
    assert demo.returncode == 0, demo.stderr
    # every later command finds the demo's days from the folder, with no extra step
    status = _tool(venv, project, "status", "--json")
    assert status.returncode == 0, status.stderr
    days = [d["date"] for d in json.loads(status.stdout)["days"]]
    assert len(days) == 4 and all(d["latest"] for d in json.loads(status.stdout)["days"])
    gate = _tool(venv, project, "status", "--date", days[-1], "--json")
    assert gate.returncode == 1 and json.loads(gate.stdout)["latest"]["status"] == "critical"
    report = _tool(venv, project, "report")
    assert report.returncode == 0, report.stderr
    assert list((project / "gx" / "uncommitted" / "validations").iterdir())
    assert (project / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").is_file()
    after = sorted(str(p) for p in site.rglob("*") if "__pycache__" not in p.parts)
    assert after == before, "the commands wrote into site-packages"
    # MONITOR_PROJECT finds the project from anywhere
    elsewhere = _tool(venv, work, "status", "--date", days[-1], MONITOR_PROJECT=str(project))
    assert elsewhere.returncode == 1 and days[-1] in elsewhere.stdout, elsewhere.stderr
