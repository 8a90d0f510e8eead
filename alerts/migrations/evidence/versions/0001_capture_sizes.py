"""The captures table's size columns added after the first release: truncated, original_size, size_exact.

A file from before the chains may have some of them already (the old ``ALTER TABLE`` loop), and
a new file has all of them (``alerts.evidence.SCHEMA``), so each is added only when missing.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

COLUMNS = (
    sa.Column("truncated", sa.INTEGER(), nullable=False, server_default=sa.text("0")),
    sa.Column("original_size", sa.INTEGER()),
    sa.Column("size_exact", sa.INTEGER(), nullable=False, server_default=sa.text("1")),
)


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("captures")}
    for column in COLUMNS:
        if column.name not in have:
            op.add_column("captures", column)
