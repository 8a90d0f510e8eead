"""Cases in the alerts' SQLite file: one row per case, the JSON document plus filter columns."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from alerts import migrations
from alerts.cases.errors import CaseError
from alerts.cases.model import Case
from alerts.cases.store import CaseConflict, CaseStore
from alerts.model import iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    deadline TEXT,
    updated_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_state ON cases(state, updated_at);
CREATE INDEX IF NOT EXISTS cases_entity ON cases(entity_key);
"""


def _row(case: Case) -> tuple:
    return (
        case.id,
        case.state,
        case.owner,
        case.entity.key,
        case.deadline.isoformat() if case.deadline else None,
        iso(case.updated_at),
        json.dumps(case.to_doc(), ensure_ascii=False),
    )


class SQLiteCaseStore(CaseStore):
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(SCHEMA)
        migrations.upgrade(self.db, "cases")

    def create(self, case: Case) -> Case:
        try:
            self.db.execute("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?)", _row(case))
        except sqlite3.IntegrityError:
            raise CaseError(f"case {case.id} already exists") from None
        return case

    def _get(self, case_id: str) -> Case | None:
        row = self.db.execute("SELECT doc FROM cases WHERE id = ?", (case_id,)).fetchone()
        return Case.model_validate(json.loads(row[0])) if row else None

    def save(self, case: Case, expected_updated_at: datetime) -> Case:
        cur = self.db.execute(
            "UPDATE cases SET state=?, owner=?, entity_key=?, deadline=?, updated_at=?, doc=? "
            "WHERE id = ? AND updated_at = ?",
            (*_row(case)[1:], case.id, iso(expected_updated_at)),
        )
        if cur.rowcount != 1:
            raise CaseConflict(f"case {case.id} changed meanwhile; read it again")
        return case

    def list(self, states: Iterable[str] = (), owner: str | None = None, entity_key: str | None = None) -> list[Case]:
        where, args = [], []
        states = list(states)
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args += states
        if owner is not None:
            where.append("owner = ?")
            args.append(owner)
        if entity_key is not None:
            where.append("entity_key = ?")
            args.append(entity_key)
        sql = "SELECT doc FROM cases" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY updated_at DESC, id"
        return [Case.model_validate(json.loads(d)) for (d,) in self.db.execute(sql, args)]
