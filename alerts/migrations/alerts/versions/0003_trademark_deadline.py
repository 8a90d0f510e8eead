"""A trademark alert's opposition deadline (ISO date), for the queue's clock (``--sort deadline``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("alerts")}
    if "deadline" not in have:
        op.add_column("alerts", sa.Column("deadline", sa.TEXT()))
    op.execute("CREATE INDEX IF NOT EXISTS alerts_deadline ON alerts(deadline)")
