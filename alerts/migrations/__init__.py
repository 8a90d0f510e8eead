"""Versioned schema changes of the SQLite stores: alembic, one revision file per change.

Each database table family is a *chain*: a folder here (``alerts/``, ``evidence/``…) with its
revisions in ``versions/``, recorded in its own version table (``alembic_version_<chain>``), so
chains that share one SQLite file (the alert store's file also holds cases and sessions) move
independently. A store calls ``upgrade(db, chain)`` when it opens: the revisions its file lacks
run in one ``BEGIN IMMEDIATE`` transaction, so two processes opening an old file at once apply
each revision once, and a file already at the head costs one ``SELECT``.

A database made before the chains existed has no version table: its first revision checks what
is there (the columns the old ``ALTER TABLE`` loops may already have added), so upgrading any
earlier file is safe, and running it again is a no-op. The Elasticsearch index's mapping
revisions live beside the mapping, in ``alerts.es_mapping``. How to add a column: docs/store.md.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


def version_table(chain: str) -> str:
    return f"alembic_version_{chain}"


@cache
def head(chain: str) -> str | None:
    """The newest revision of ``chain`` (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(HERE / chain)).get_current_head()


def current(db: sqlite3.Connection, chain: str) -> str | None:
    """The revision the database on ``db`` is at for ``chain`` (None: before the chains)."""
    try:
        row = db.execute(f"SELECT version_num FROM {version_table(chain)}").fetchone()
    except sqlite3.OperationalError:  # no version table yet
        return None
    return row[0] if row else None


def upgrade(db: sqlite3.Connection, chain: str) -> None:
    """Run the revisions of ``chain`` that the database on ``db`` (autocommit mode) lacks."""
    if current(db, chain) == head(chain):
        return
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    # SQLAlchemy on the store's own connection: the revisions see what the store sees.
    engine = create_engine("sqlite://", creator=lambda: db, poolclass=StaticPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # one process migrates; the others wait, then find it done
        try:
            cfg = Config()
            cfg.set_main_option("script_location", str(HERE / chain))
            cfg.attributes["connection"] = conn
            cfg.attributes["version_table"] = version_table(chain)
            command.upgrade(cfg, "head")
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
