"""Facet, identity-search and relation columns (alerts.facets.index_fields): credit code, region,
registering authority, legal representative, address, contacts, shop, sources, likelihood band.

Rows stored before them get their values from their own documents once, by the store
(``alerts.sqlite_store.backfill_facets``): a migration script cannot import the model.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

FACETS = ("uscc", "region", "authority", "legal_rep", "address", "contacts", "shop", "sources", "band")
INDEXED = ("uscc", "region", "authority", "legal_rep", "address", "shop")


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("alerts")}
    for name in FACETS:
        if name not in have:
            op.add_column("alerts", sa.Column(name, sa.TEXT()))
    for name in INDEXED:
        op.execute(f"CREATE INDEX IF NOT EXISTS alerts_{name} ON alerts({name})")
