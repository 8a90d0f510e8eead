"""Baseline of the notify ledger: its tables as ``alerts.notify.ledger.SCHEMA`` creates them (no change).

A change to it is one new file with ``down_revision = "0001"`` (docs/store.md).
"""

revision = "0001"
down_revision = None


def upgrade() -> None:
    pass
