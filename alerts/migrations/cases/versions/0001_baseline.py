"""Baseline of the cases table: as ``alerts.cases.sqlite.SCHEMA`` creates it (nothing to change).

A change to it is one new file with ``down_revision = "0001"`` (docs/store.md).
"""

revision = "0001"
down_revision = None


def upgrade() -> None:
    pass
