"""Baseline of the notify ledger: its tables as ``alerts.notify.ledger.SCHEMA`` creates them (no change).

The chain's first revision, so that a change to the table is one new file with
``down_revision = "0001"`` (docs/store.md).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass
