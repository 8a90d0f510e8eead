"""Baseline of the review sessions and audit log: as ``alerts.sessions.SQLITE_SCHEMA`` creates them (no change).

A change to it is one new file with ``down_revision = "0001"`` (docs/store.md).
"""

revision = "0001"
down_revision = None


def upgrade() -> None:
    pass
