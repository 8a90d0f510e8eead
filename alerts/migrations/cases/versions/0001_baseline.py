"""Baseline of the cases table: as ``alerts.cases.sqlite.SCHEMA`` creates it (nothing to change).

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
