"""Review-site sessions and the audit log, kept in the store the site already uses.

Sessions are server-side so that signing out, a changed password or an admin's "sign out
everywhere" ends them at once; the browser's cookie holds only a random id, and the store keeps
only its SHA-256 (``key``), so a copy of the database holds no live cookie. The audit log records
who did what from where (sign-ins, reviews, errors; case changes use the same ``add``).

Both have a SQLite and an Elasticsearch implementation with the same methods; the alert stores
expose them as ``session_*`` and ``audit_*`` methods (``alerts.store.AlertStore``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerts import migrations

AUDIT_ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "sign_out_everywhere",
    "review",
    "exception",
    "export",
    "case",
    "error",
)


class SessionRecord(BaseModel):
    """One signed-in analyst's session. Times are Unix seconds (UTC)."""

    model_config = ConfigDict(extra="ignore")

    key: str  # SHA-256 of the cookie's id, hex
    user: str
    created: float
    seen: float
    csrf: str
    client: str = ""
    pw: str = ""  # fingerprint of the password hash it was opened with: a new password ends it
    flash: dict[str, str] | None = None


class AuditEvent(BaseModel):
    """One audited action: who, when, from where, on what, and whether it succeeded."""

    model_config = ConfigDict(extra="ignore")

    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    action: str
    user: str | None = None
    client: str | None = None
    ok: bool = True
    targets: list[str] = Field(default_factory=list)  # alert (or case) ids
    detail: str = ""
    note: str = ""  # what the analyst wrote with it (a review's note, an exception's why)


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    limit: int = Field(default=100, ge=1, le=10_000)


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_sessions (
    key TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seen REAL NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_sessions_user ON review_sessions(user);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    user TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
"""


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SQLiteSessions:
    """Sessions and audit log as two tables next to the alerts (the caller serializes access)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(SQLITE_SCHEMA)
        migrations.upgrade(self.db, "sessions")

    def session_save(self, rec: SessionRecord, new: bool = False) -> None:
        self.db.execute(
            "INSERT INTO review_sessions (key, user, seen, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET user=excluded.user, seen=excluded.seen, doc=excluded.doc",
            (rec.key, rec.user, rec.seen, rec.model_dump_json()),
        )

    def session_get(self, key: str) -> SessionRecord | None:
        row = self.db.execute("SELECT doc FROM review_sessions WHERE key = ?", (key,)).fetchone()
        return SessionRecord.model_validate_json(row[0]) if row else None

    def session_delete(self, key: str) -> None:
        self.db.execute("DELETE FROM review_sessions WHERE key = ?", (key,))

    def session_delete_user(self, user: str) -> int:
        return self.db.execute("DELETE FROM review_sessions WHERE user = ?", (user,)).rowcount

    def session_purge(self, seen_before: float) -> int:
        return self.db.execute("DELETE FROM review_sessions WHERE seen < ?", (seen_before,)).rowcount

    def audit_add(self, event: AuditEvent) -> None:
        self.db.execute(
            "INSERT INTO audit_log (at, action, user, doc) VALUES (?, ?, ?, ?)",
            (_iso(event.at), event.action, event.user, event.model_dump_json()),
        )

    def audit_search(self, q: AuditQuery) -> list[AuditEvent]:
        clauses, params = [], []
        if q.user is not None:
            clauses.append("user = ?")
            params.append(q.user)
        if q.action is not None:
            clauses.append("action = ?")
            params.append(q.action)
        if q.since is not None:
            clauses.append("at >= ?")
            params.append(_iso(q.since))
        if q.until is not None:
            clauses.append("at < ?")
            params.append(_iso(q.until))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.execute(f"SELECT doc FROM audit_log {where} ORDER BY seq DESC LIMIT ?", [*params, q.limit])
        return [AuditEvent.model_validate_json(doc) for (doc,) in rows]


_KW = {"type": "keyword", "ignore_above": 512}
SESSION_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "key": _KW,
        "user": _KW,
        "created": {"type": "double"},
        "seen": {"type": "double"},
        "csrf": {"type": "keyword", "index": False, "doc_values": False},
        "client": _KW,
        "pw": {"type": "keyword", "index": False, "doc_values": False},
        "flash": {"type": "object", "enabled": False},
    },
}
_AUDIT_NOTE = {"type": "text", "analyzer": "standard"}
AUDIT_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "at": {"type": "date"},
        "action": _KW,
        "user": _KW,
        "client": _KW,
        "ok": {"type": "boolean"},
        "targets": _KW,
        "detail": {"type": "text", "analyzer": "standard"},
        "note": _AUDIT_NOTE,
    },
}


class ElasticsearchSessions:
    """Sessions and audit log as two small indices, ``<prefix>-sessions`` and ``<prefix>-audit``.

    Session reads are ``get`` by id (real-time, no refresh needed); writes that a later search
    must see (a new session, before "sign out everywhere" searches by user) wait for a refresh.
    """

    def __init__(self, client: Any, prefix: str, replicas: int = 1, refresh: bool = False) -> None:
        self.client = client
        self.refresh = refresh
        self.sessions = f"{prefix}-sessions"
        self.audit = f"{prefix}-audit"
        self.replicas = replicas
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        from elasticsearch import ApiError

        for name, mapping in ((self.sessions, SESSION_MAPPING), (self.audit, AUDIT_MAPPING)):
            if self.client.indices.exists(index=name):
                if name == self.audit:  # an audit index made before notes were kept: add the field
                    self.client.indices.put_mapping(index=name, properties={"note": _AUDIT_NOTE})
                continue
            try:
                self.client.indices.create(
                    index=name,
                    mappings=mapping,
                    settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
                )
            except ApiError as exc:
                if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                    raise
        self._ready = True

    def session_save(self, rec: SessionRecord, new: bool = False) -> None:
        # Only a new session must be searchable at once (by user, for "sign out everywhere");
        # later saves (last seen, flash) change nothing a search looks at.
        self._ensure()
        refresh = "wait_for" if new or self.refresh else False
        self.client.index(index=self.sessions, id=rec.key, document=rec.model_dump(), refresh=refresh)

    def session_get(self, key: str) -> SessionRecord | None:
        from elasticsearch import NotFoundError

        self._ensure()
        try:
            doc = self.client.get(index=self.sessions, id=key)
        except NotFoundError:
            return None
        return SessionRecord.model_validate(doc["_source"])

    def session_delete(self, key: str) -> None:
        from elasticsearch import NotFoundError

        self._ensure()
        try:
            self.client.delete(index=self.sessions, id=key, refresh="wait_for" if self.refresh else False)
        except NotFoundError:
            pass

    def _delete_where(self, query: dict[str, Any]) -> int:
        """Search then bulk-delete (the minimal distribution has no _delete_by_query)."""
        from elasticsearch import helpers

        self._ensure()
        deleted = 0
        while True:
            resp = self.client.search(index=self.sessions, query=query, size=1000, source=False)
            ids = [h["_id"] for h in resp["hits"]["hits"]]
            if not ids:
                return deleted
            ok, _ = helpers.bulk(
                self.client,
                ({"_op_type": "delete", "_index": self.sessions, "_id": i} for i in ids),
                raise_on_error=False,
                refresh="wait_for",
            )
            deleted += ok
            if len(ids) < 1000:
                return deleted

    def session_delete_user(self, user: str) -> int:
        return self._delete_where({"term": {"user": user}})

    def session_purge(self, seen_before: float) -> int:
        return self._delete_where({"range": {"seen": {"lt": seen_before}}})

    def audit_add(self, event: AuditEvent) -> None:
        self._ensure()
        doc = event.model_dump()
        doc["at"] = _iso(event.at)
        self.client.index(index=self.audit, document=doc, refresh="wait_for" if self.refresh else False)

    def audit_search(self, q: AuditQuery) -> list[AuditEvent]:
        self._ensure()
        filters: list[dict[str, Any]] = []
        if q.user is not None:
            filters.append({"term": {"user": q.user}})
        if q.action is not None:
            filters.append({"term": {"action": q.action}})
        if q.since is not None or q.until is not None:
            rng: dict[str, str] = {}
            if q.since is not None:
                rng["gte"] = _iso(q.since)
            if q.until is not None:
                rng["lt"] = _iso(q.until)
            filters.append({"range": {"at": rng}})
        resp = self.client.search(
            index=self.audit, query={"bool": {"filter": filters}}, sort=[{"at": "desc"}], size=q.limit
        )
        return [AuditEvent.model_validate(h["_source"]) for h in resp["hits"]["hits"]]
