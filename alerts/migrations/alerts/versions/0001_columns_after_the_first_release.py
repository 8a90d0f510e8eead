"""The alerts table's columns added after the first release: match span, page URL, probability.

The table itself is ``alerts.sqlite_store.SCHEMA`` (the first release's, created if missing). A
file from before the chains may have some of these columns already (the old ``ALTER TABLE``
loop added them one by one), so each is added only when missing.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

COLUMNS = (
    sa.Column("span_start", sa.INTEGER()),
    sa.Column("span_end", sa.INTEGER()),
    sa.Column("url", sa.TEXT()),
    sa.Column("probability", sa.REAL()),
)


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("alerts")}
    for column in COLUMNS:
        if column.name not in have:
            op.add_column("alerts", column)
    # The queue's order (alerts.sqlite_store._SORTS): old rows without a probability (NULL) last.
    op.execute("CREATE INDEX IF NOT EXISTS alerts_probability ON alerts(probability DESC, score DESC, first_seen, id)")
