"""The database's tables (schema.sql) and the version this monitor needs: `init` creates
or upgrades them; every other command only checks the version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import UsageError

if TYPE_CHECKING:
    import sqlalchemy as sa

_SCHEMA = Path(__file__).with_name("schema.sql")

# Bump with every change to schema.sql: commands other than `init` refuse a
# database whose recorded version differs, instead of altering tables (which
# takes locks and rights a read-only gate must not need).
SCHEMA_VERSION = 7


def apply_schema(eng: sa.Engine, *steps) -> None:
    """`init` only: create or upgrade the tables, run ``steps`` (each takes the cursor:
    the engines' SQL functions, the user agents' reclassification) in the same
    transaction, and record the schema version."""
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('monitor.schema'))")
        cur.execute(_SCHEMA.read_text())
        for step in steps:
            step(cur)
        cur.execute("DELETE FROM monitor.schema_version")
        cur.execute("INSERT INTO monitor.schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
        raw.commit()
    finally:
        raw.close()


def check_schema(eng: sa.Engine) -> None:
    """Every command but `init`: the database must carry this monitor's schema version.
    ``eng``: an Engine, or anything else with its ``raw_connection()`` (database.Libpq)."""
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT to_regclass('monitor.schema_version') IS NOT NULL")
        version = None
        if cur.fetchone()[0]:
            cur.execute("SELECT max(version) FROM monitor.schema_version")
            version = cur.fetchone()[0]
        raw.rollback()
    finally:
        raw.close()
    if version == SCHEMA_VERSION:
        return
    if version is None:
        raise UsageError("the database is not initialised for the monitor: run `runner.py init`")
    if version < SCHEMA_VERSION:
        raise UsageError(f"the database schema is version {version}, this monitor needs {SCHEMA_VERSION}: "
                         "run `runner.py init`")
    raise UsageError(f"the database schema is version {version}, newer than this monitor's {SCHEMA_VERSION}: "
                     "upgrade the monitor")
