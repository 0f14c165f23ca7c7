"""Fixtures: a real embedded PostgreSQL, a fresh database per test, a private GX project.

Every fixture that changes process-wide state (database override, environment,
GX root) puts it back afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import database, generator, loader, pipeline, settings
from monitor.settings import PROJECT_ROOT

HISTORY_START = dt.date(2026, 10, 1)
HISTORY_DAYS = 14
INCIDENT_DAY = HISTORY_START + dt.timedelta(days=HISTORY_DAYS)


@pytest.fixture(scope="session")
def state_dir():
    # outside root's home: the embedded server's OS user must traverse its parents
    path = Path(tempfile.mkdtemp(prefix="monitor-tests-", dir="/tmp"))
    yield path
    database.stop_embedded(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url(state_dir):
    return database.embedded_url(state_dir)


@pytest.fixture(scope="session", autouse=True)
def gx_root(state_dir):
    """A private copy of the GX project, so tests never write into the repo's gx/."""
    root = state_dir / "gxproject"
    (root / "gx").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "gx" / "great_expectations.yml", root / "gx" / "great_expectations.yml")
    old = os.environ.get("MONITOR_GX_ROOT")
    os.environ["MONITOR_GX_ROOT"] = str(root)
    yield root
    if old is None:
        os.environ.pop("MONITOR_GX_ROOT", None)
    else:
        os.environ["MONITOR_GX_ROOT"] = old


def _admin(server_url):
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT")


def create_database(server_url: str, template: str | None = None) -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    eng = _admin(server_url)
    with eng.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    eng.dispose()
    return name


def drop_database(server_url: str, name: str) -> None:
    eng = _admin(server_url)
    with eng.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    eng.dispose()


@pytest.fixture
def use_database(server_url):
    """Factory: point the monitor at a new database (optionally copied from a template)."""
    created = []

    def make(template: str | None = None) -> str:
        name = create_database(server_url, template)
        created.append(name)
        url = database.with_database(server_url, name)
        database.use(url)
        return url

    yield make
    database.use(None)
    for name in created:
        database._engine(database.with_database(server_url, name)).dispose()
        drop_database(server_url, name)


@pytest.fixture
def login_role(db):
    """Factory: a login role for the test's database (``db``), granted ``grants`` (statements,
    ``{role}`` and ``{database}`` filled in); returns its URL. Roles are the server's: one per test database,
    dropped with what it owns after the test, the monitor pointed back at the owner's URL."""
    owner_url = db
    made = []

    def make(prefix: str, *grants: str) -> str:
        name = sa.engine.make_url(owner_url).database
        role = f"{prefix}_{name}"
        with database.engine().begin() as conn:
            conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
            for grant in grants:
                conn.execute(sa.text(grant.format(role=role, database=name)))
        url = sa.engine.make_url(owner_url).set(username=role).render_as_string(hide_password=False)
        made.append((role, url))
        return url

    yield make
    database.use(owner_url)
    for role, url in made:
        database._engine(url).dispose()
        with database.engine().begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))


@pytest.fixture
def db(use_database):
    """A fresh, initialised database; returns its SQLAlchemy URL."""
    url = use_database()
    pipeline.init(settings.load())
    return url


@pytest.fixture(scope="session")
def history_template(server_url, state_dir, gx_root):
    """A database holding 14 clean days, loaded and run: copied by tests that need history."""
    name = create_database(server_url)
    url = database.with_database(server_url, name)
    database.use(url)
    s = settings.load()
    pipeline.init(s)
    files = generator.write_dataset(state_dir / "history", HISTORY_START, HISTORY_DAYS, seed=11)
    verdicts = {}
    for day, path in files:
        loader.load_file(database.engine(), s, path, day)
        verdicts[day] = pipeline.run_day(day, s).status
    database._engine(url).dispose()
    database.use(None)
    yield name, verdicts
    drop_database(server_url, name)


@pytest.fixture
def with_history(use_database, history_template):
    template, _ = history_template
    return use_database(template)


def load_day(tmp_path: Path, day: dt.date, incidents: tuple[str, ...] = (), seed: int = 99,
             sessions: int = 1500) -> Path:
    gen = generator.Generator(seed=seed, sessions_per_day=sessions)
    path = generator.write_csv(tmp_path / f"events_{day}.csv", gen.day_rows(day, incidents), incidents)
    loader.load_file(database.engine(), settings.load(), path, day)
    return path


def forget_suite(name: str) -> None:
    """A test's team suite leaves no results or pages in the session's GX project behind
    (the Data Docs index would link them for every later test)."""
    from monitor.verdict import gx_project

    uncommitted = gx_project.project_root() / "gx" / "uncommitted"
    shutil.rmtree(uncommitted / "validations" / name, ignore_errors=True)
    shutil.rmtree(gx_project.docs_site() / "validations" / name, ignore_errors=True)
    (gx_project.docs_site() / "expectations" / f"{name}.html").unlink(missing_ok=True)


# Files by their measured time in the full suite (seconds, clean clone, 2026-12-02), longest
# first: each worker takes the next file as it frees up, so the three workers finish together
# (a file stays on one worker: its module fixtures are built once). pyproject's addopts pass
# --no-loadscope-reorder, or xdist would reorder files by their number of tests instead.
# A file not listed runs last: list it here once it takes more than a few seconds.
SLOWEST_FIRST = ("test_spark_engine.py", "test_spark_runs.py", "test_detection.py", "test_examples.py",
                 "test_alerting.py", "test_gate.py", "test_baselines.py", "test_incidents.py", "test_intraday.py",
                 "test_notify_policy.py", "test_real_exports.py", "test_in_place.py", "test_installed.py",
                 "test_cli.py", "test_bots.py", "test_poison_values.py", "test_samples.py", "test_gate_never_off.py",
                 "test_team_suites.py", "test_gx_project.py", "test_data_docs.py", "test_loader.py",
                 "test_time_zones.py", "test_day_metrics.py", "test_traffic_and_devices.py", "test_fast_import.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).name, len(rank)))
