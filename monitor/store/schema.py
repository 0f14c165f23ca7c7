"""The database's tables (schema.sql) and the version this monitor needs: `init` creates
or upgrades them; every other command only checks the version."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from monitor.errors import UsageError

_SCHEMA = Path(__file__).with_name("schema.sql")

# Bump with every change to schema.sql: commands other than `init` refuse a
# database whose recorded version differs, instead of altering tables (which
# takes locks and rights a read-only gate must not need).
SCHEMA_VERSION = 6


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
    """Every command but `init`: the database must carry this monitor's schema version."""
    with eng.connect() as conn:
        found = conn.execute(sa.text("SELECT to_regclass('monitor.schema_version') IS NOT NULL")).scalar()
        version = conn.execute(sa.text("SELECT max(version) FROM monitor.schema_version")).scalar() if found else None
    if version == SCHEMA_VERSION:
        return
    if version is None:
        raise UsageError("the database is not initialised for the monitor: run `runner.py init`")
    if version < SCHEMA_VERSION:
        raise UsageError(f"the database schema is version {version}, this monitor needs {SCHEMA_VERSION}: "
                         "run `runner.py init`")
    raise UsageError(f"the database schema is version {version}, newer than this monitor's {SCHEMA_VERSION}: "
                     "upgrade the monitor")
