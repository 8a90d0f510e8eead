"""The embedded alert store: one SQLite file, FTS5 for text search.

Used when no Elasticsearch URL is configured (laptop, demo). Each alert is one row: the columns
that filters and sorts need, plus the whole JSON document. An external-content FTS5 table, kept
in step by triggers, indexes the subject's name or title and the seller, Han characters spaced
out (see ``alerts.textsearch``). WAL mode, so analysts can read while a crawl writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts import migrations
from alerts.exceptions import MarkException, SQLiteExceptions
from alerts.facets import index_fields
from alerts.model import Alert, iso, merge_seen
from alerts.sessions import SQLiteSessions
from alerts.store import AlertQuery, AlertStore, Counts, Page, UpsertResult
from alerts.textsearch import field_needles, fts5_phrase, search_terms, spaced

# The columns of alerts.facets.index_fields, in this order after the original columns.
FACET_COLUMNS = ("uscc", "region", "authority", "legal_rep", "address", "contacts", "shop", "sources", "band")
_LIST_COLUMNS = ("contacts", "sources")

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    mark TEXT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    score REAL NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    times_seen INTEGER NOT NULL,
    notified_at TEXT,
    fts_name TEXT NOT NULL,
    fts_seller TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_mark ON alerts(mark, score);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, score);
CREATE INDEX IF NOT EXISTS alerts_score ON alerts(score);
CREATE INDEX IF NOT EXISTS alerts_first_seen ON alerts(first_seen);
CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts(last_seen);
CREATE VIRTUAL TABLE IF NOT EXISTS alerts_fts USING fts5(
    fts_name, fts_seller, content='alerts', content_rowid='rowid', tokenize='unicode61'
);
CREATE TRIGGER IF NOT EXISTS alerts_ai AFTER INSERT ON alerts BEGIN
    INSERT INTO alerts_fts(rowid, fts_name, fts_seller) VALUES (new.rowid, new.fts_name, new.fts_seller);
END;
CREATE TRIGGER IF NOT EXISTS alerts_ad AFTER DELETE ON alerts BEGIN
    INSERT INTO alerts_fts(alerts_fts, rowid, fts_name, fts_seller)
    VALUES ('delete', old.rowid, old.fts_name, old.fts_seller);
END;
CREATE TRIGGER IF NOT EXISTS alerts_au AFTER UPDATE OF fts_name, fts_seller ON alerts BEGIN
    INSERT INTO alerts_fts(alerts_fts, rowid, fts_name, fts_seller)
    VALUES ('delete', old.rowid, old.fts_name, old.fts_seller);
    INSERT INTO alerts_fts(rowid, fts_name, fts_seller) VALUES (new.rowid, new.fts_name, new.fts_seller);
END;
"""

# Columns added after the first release come by migration (alerts/migrations/alerts/versions/):
# an older file's rows keep NULL there and the same fields absent from their documents.

_UPSERT = """
INSERT INTO alerts (id, mark, owner, status, kind, source, score, first_seen, last_seen, times_seen,
                    notified_at, fts_name, fts_seller, doc, span_start, span_end, url, probability,
                    uscc, region, authority, legal_rep, address, contacts, shop, sources, band, deadline)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET
    mark=excluded.mark, owner=excluded.owner, status=excluded.status, kind=excluded.kind,
    source=excluded.source, score=excluded.score, first_seen=excluded.first_seen,
    last_seen=excluded.last_seen, times_seen=excluded.times_seen, notified_at=excluded.notified_at,
    fts_name=excluded.fts_name, fts_seller=excluded.fts_seller, doc=excluded.doc,
    span_start=excluded.span_start, span_end=excluded.span_end, url=excluded.url,
    probability=excluded.probability, uscc=excluded.uscc, region=excluded.region, authority=excluded.authority,
    legal_rep=excluded.legal_rep, address=excluded.address, contacts=excluded.contacts, shop=excluded.shop,
    sources=excluded.sources, band=excluded.band, deadline=excluded.deadline
"""

_SORTS = {
    # Rows without a probability (NULL) last in both directions, as Elasticsearch's "missing".
    "-probability": "a.probability DESC, a.score DESC, a.first_seen ASC, a.id",
    "probability": "a.probability IS NULL, a.probability ASC, a.score ASC, a.first_seen ASC, a.id",
    "-score": "a.score DESC, a.id",
    "score": "a.score ASC, a.id",
    "-last_seen": "a.last_seen DESC, a.id",
    "last_seen": "a.last_seen ASC, a.id",
    "-first_seen": "a.first_seen DESC, a.id",
    "first_seen": "a.first_seen ASC, a.id",
    "mark": "a.mark ASC, a.score DESC, a.id",
    "-times_seen": "a.times_seen DESC, a.id",
    "deadline": "a.deadline IS NULL, a.deadline ASC, a.probability DESC, a.id",
}

_CHUNK = 500


def _row(alert: Alert) -> tuple:
    doc = alert.stored_doc()
    s = alert.subject
    return (
        alert.id,
        alert.mark,
        alert.owner,
        alert.status,
        s.kind,
        alert.source,
        alert.score,
        doc["first_seen"],
        doc["last_seen"],
        alert.times_seen,
        doc["notified_at"],
        spaced(s.text),
        spaced(s.seller or ""),
        json.dumps(doc, ensure_ascii=False),
        alert.span_start,
        alert.span_end,
        alert.url,
        doc.get("probability"),
        *_facet_values(alert),
        doc.get("deadline"),
    )


def _facet_values(alert: Alert) -> tuple:
    fields = index_fields(alert)
    return tuple(json.dumps(fields[c], ensure_ascii=False) if c in _LIST_COLUMNS else fields[c] for c in FACET_COLUMNS)


def backfill_facets(db: sqlite3.Connection) -> None:
    """Fill the facet columns (migration 0002) of rows stored before them, from each row's own document."""
    rows = db.execute("SELECT id, doc FROM alerts WHERE band IS NULL").fetchall()
    if not rows:
        return
    sets = ", ".join(f"{c} = ?" for c in FACET_COLUMNS)
    db.executemany(
        f"UPDATE alerts SET {sets} WHERE id = ?",
        [(*_facet_values(Alert.model_validate_json(doc)), i) for i, doc in rows],
    )


def _local_day(stamp: str | None, zone: str) -> str | None:
    """SQL ``local_day(first_seen, 'Asia/Shanghai')``: the day of a stored UTC time in that zone."""
    if stamp is None:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


class SQLiteAlertStore(AlertStore):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.create_function("local_day", 2, _local_day, deterministic=True)
        self.db.executescript(SCHEMA)
        migrations.upgrade(self.db, "alerts")
        backfill_facets(self.db)
        self._sessions: SQLiteSessions | None = None
        self._exceptions: SQLiteExceptions | None = None

    def _security(self) -> SQLiteSessions:
        if self._sessions is None:
            self._sessions = SQLiteSessions(self.db)
        return self._sessions

    def _exc(self) -> SQLiteExceptions:
        if self._exceptions is None:
            self._exceptions = SQLiteExceptions(self.db)
        return self._exceptions

    def exception_add(self, exc: MarkException) -> MarkException:
        return self._exc().add(exc)

    def exception_list(self, active_only: bool = False) -> list[MarkException]:
        return self._exc().list_all(active_only)

    def exception_revoke(self, id: str, who: str, why: str = "", now: datetime | None = None) -> MarkException:
        exc = self._exc()  # its table is made (executescript commits) before the transaction opens
        with self._tx():
            return exc.revoke(id, who, why, now)

    # -- writes -----------------------------------------------------------------
    def _replace(self, alerts: list[Alert], delete_ids: list[str]) -> None:
        with self._tx():  # one transaction: the merged alerts and the removal of their copies
            self.db.executemany(_UPSERT, [_row(a) for a in alerts])
            for i in range(0, len(delete_ids), _CHUNK):
                part = delete_ids[i : i + _CHUNK]
                self.db.execute(f"DELETE FROM alerts WHERE id IN ({','.join('?' * len(part))})", part)

    def upsert(self, alerts: Iterable[Alert]) -> UpsertResult:
        result = UpsertResult()
        batch: dict[str, Alert] = {}
        with self._tx():
            for alert in alerts:
                if alert.id in batch:  # the same alert twice in one call: keep the later sighting
                    self._write_batch(batch, result)
                    batch = {}
                batch[alert.id] = alert
                if len(batch) >= _CHUNK:
                    self._write_batch(batch, result)
                    batch = {}
            if batch:
                self._write_batch(batch, result)
        return result

    def _write_batch(self, batch: dict[str, Alert], result: UpsertResult) -> None:
        existing = {a.id: a for a in self._fetch(list(batch))}
        rows = []
        for alert_id, alert in batch.items():
            old = existing.get(alert_id)
            if old is None:
                rows.append(_row(alert))
                result.new += 1
                result.new_ids.append(alert_id)
                continue
            merged = merge_seen(old, alert)
            if merged is None:
                result.unchanged += 1
            else:
                rows.append(_row(merged))
                result.updated += 1
        self.db.executemany(_UPSERT, rows)

    def _save_reviewed(self, old: list[Alert], new: list[Alert]) -> None:
        with self._tx():
            self.db.executemany(_UPSERT, [_row(a) for a in new])

    def mark_notified(self, ids: Iterable[str], at: datetime) -> int:
        found = self.get_many(ids)
        with self._tx():
            self.db.executemany(_UPSERT, [_row(a.model_copy(update={"notified_at": at})) for a in found])
        return len(found)

    def _tx(self) -> _Tx:
        return _Tx(self.db)

    # -- reads ------------------------------------------------------------------
    def _fetch(self, ids: list[str]) -> list[Alert]:
        out: list[Alert] = []
        for i in range(0, len(ids), _CHUNK):
            part = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            for (doc,) in self.db.execute(f"SELECT doc FROM alerts WHERE id IN ({marks})", part):
                out.append(Alert.model_validate_json(doc))
        return out

    def get_many(self, ids: Iterable[str]) -> list[Alert]:
        wanted = list(dict.fromkeys(ids))
        by_id = {a.id: a for a in self._fetch(wanted)}
        return [by_id[i] for i in wanted if i in by_id]

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM alerts WHERE id >= ? AND id < ? ORDER BY id LIMIT ?", (prefix, prefix + "\uffff", limit)
        )
        return [r[0] for r in rows]

    def _where(self, q: AlertQuery) -> tuple[str, str, list]:
        clauses: list[str] = []
        params: list = []
        join = ""
        for col, values in (
            ("mark", q.marks),
            ("owner", q.owners),
            ("status", q.statuses),
            ("kind", q.kinds),
            ("id", q.ids),
            ("region", q.regions),
            ("authority", q.authorities),
            ("band", q.bands),
            ("uscc", q.usccs),
            ("entity_of", q.entities),
            ("shop", q.shops),
            ("legal_rep", q.legal_reps),
            ("address", q.addresses),
        ):
            if values:
                expr = "json_extract(a.doc, '$.entity')" if col == "entity_of" else f"a.{col}"
                clauses.append(f"{expr} IN ({','.join('?' * len(values))})")
                params.extend(values)
        for col, values in (("sources", q.sources), ("contacts", q.contacts)):  # any source that saw the entity
            if values:
                clauses.append(
                    f"EXISTS (SELECT 1 FROM json_each(a.{col}) j WHERE j.value IN ({','.join('?' * len(values))}))"
                )
                params.extend(values)
        if q.min_score is not None:
            clauses.append("a.score >= ?")
            params.append(q.min_score)
        if q.max_score is not None:
            clauses.append("a.score <= ?")
            params.append(q.max_score)
        if q.min_probability is not None:  # rows without one (not migrated) never match, as in Elasticsearch
            clauses.append("a.probability >= ?")
            params.append(q.min_probability)
        if q.since is not None:
            clauses.append(f"a.{q.date_field} >= ?")
            params.append(iso(q.since))
        if q.until is not None:
            clauses.append(f"a.{q.date_field} < ?")
            params.append(iso(q.until))
        if q.notified is not None:
            clauses.append("a.notified_at IS NOT NULL" if q.notified else "a.notified_at IS NULL")
        if q.deadline_from is not None:
            clauses.append("a.deadline >= ?")
            params.append(q.deadline_from.isoformat())
        if q.deadline_to is not None:
            clauses.append("a.deadline <= ?")
            params.append(q.deadline_to.isoformat())
        terms = search_terms(q.text)
        for term in terms:  # each term: a phrase of the name/title/seller, or part of an identity field
            ors = []
            phrase = fts5_phrase(term)
            if phrase:
                ors.append("a.rowid IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?)")
                params.append(phrase)
            for col, needle in field_needles(term).items():
                if needle:
                    ors.append(f"instr(a.{col}, ?) > 0")
                    params.append(needle)
            clauses.append("(" + " OR ".join(ors) + ")" if ors else "0")
        if q.text and q.text.strip() and not terms:
            clauses.append("0")  # text with nothing searchable finds nothing, as in Elasticsearch
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return join, where, params

    def search(self, query: AlertQuery) -> Page:
        join, where, params = self._where(query)
        total = self.db.execute(f"SELECT COUNT(*) FROM alerts a {join} {where}", params).fetchone()[0]
        rows = self.db.execute(
            f"SELECT a.doc FROM alerts a {join} {where} ORDER BY {_SORTS[query.sort]} LIMIT ? OFFSET ?",
            [*params, query.size, (query.page - 1) * query.size],
        )
        items = [Alert.model_validate_json(doc) for (doc,) in rows]
        return Page(items=items, total=total, page=query.page, size=query.size)

    def export(self, query: AlertQuery) -> Iterator[Alert]:
        # Ids first, then documents in chunks: callers may write while they iterate
        # (mark_notified), which must neither skip alerts nor disturb an open cursor.
        join, where, params = self._where(query)
        ids = [
            r[0]
            for r in self.db.execute(f"SELECT a.id FROM alerts a {join} {where} ORDER BY {_SORTS[query.sort]}", params)
        ]
        for i in range(0, len(ids), _CHUNK):
            yield from self.get_many(ids[i : i + _CHUNK])

    def counts(self, query: AlertQuery | None = None) -> Counts:
        q = query or AlertQuery()
        join, where, params = self._where(q)
        out = Counts()
        day = "substr(a.first_seen, 1, 10)" if q.time_zone == "UTC" else "local_day(a.first_seen, ?)"
        for field, expr in (
            ("by_mark", "a.mark"),
            ("by_status", "a.status"),
            ("by_day", day),
        ):
            args = [q.time_zone, *params] if "?" in expr else params
            rows = self.db.execute(
                f"SELECT {expr} AS k, COUNT(*) FROM alerts a {join} {where} GROUP BY k ORDER BY k", args
            )
            setattr(out, field, {k: n for k, n in rows})
        return out

    def facets(self, query: AlertQuery, size: int = 20) -> dict[str, list[tuple[str, int]]]:
        join, where, params = self._where(query)
        out: dict[str, list[tuple[str, int]]] = {}
        for name, expr, source in (
            ("mark", "a.mark", ""),
            ("kind", "a.kind", ""),
            ("source", "j.value", ", json_each(a.sources) j"),
            ("region", "a.region", ""),
            ("authority", "a.authority", ""),
            ("status", "a.status", ""),
            ("band", "a.band", ""),
        ):
            nonempty = f"{expr} IS NOT NULL AND {expr} != ''"
            cond = f"{where} AND {nonempty}" if where else f"WHERE {nonempty}"
            rows = self.db.execute(
                f"SELECT {expr} AS k, COUNT(*) AS n FROM alerts a {source} {join} {cond}"
                " GROUP BY k ORDER BY n DESC, k ASC LIMIT ?",
                [*params, size],
            )
            out[name] = [(k, n) for k, n in rows]
        return out

    def close(self) -> None:
        self.db.close()


class _Tx:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
