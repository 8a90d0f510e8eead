"""What every chain's ``env.py`` runs: the revisions, on the connection ``upgrade`` passes in."""

from __future__ import annotations

from alembic import context


def run() -> None:
    cfg = context.config
    context.configure(connection=cfg.attributes["connection"], version_table=cfg.attributes["version_table"])
    with context.begin_transaction():
        context.run_migrations()
