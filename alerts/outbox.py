"""A durable local queue of alerts that could not reach Elasticsearch.

One SQLite file (``outbox.sqlite`` next to the alerts DB). Alerts are appended in order and
removed only after Elasticsearch acknowledged them, so a crash between the two replays a batch;
that is harmless because upserts are idempotent (``alerts.model.merge_seen``). Entries queued by a
markwatch from before entities come out under their entity id (``alerts.model.rekeyed``), so an
upgrade with a full outbox does not bring back per-source duplicates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from alerts.model import Alert, iso, rekeyed


class Outbox:
    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # durable: this is the only copy
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " queued_at TEXT NOT NULL, doc TEXT NOT NULL)"
        )

    def put(self, alerts: Iterable[Alert]) -> int:
        now = iso(datetime.now(UTC))
        rows = [(now, a.model_dump_json()) for a in alerts]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT INTO outbox (queued_at, doc) VALUES (?, ?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return len(rows)

    def peek(self, limit: int) -> list[tuple[int, Alert]]:
        """The oldest ``limit`` entries, oldest first."""
        rows = self.db.execute("SELECT seq, doc FROM outbox ORDER BY seq LIMIT ?", (limit,))
        return [(seq, rekeyed(Alert.model_validate_json(doc))) for seq, doc in rows]

    def remove(self, seqs: Iterable[int]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
        self.db.execute("COMMIT")

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def drain(store: object, path: str | Path, chunk: int = 500) -> int:
    """Write an outbox file into a store without one of its own (SQLite); the entries left (0 when drained).

    Entries are removed only after the store took them; a store that still cannot take writes leaves
    them for the next try (its error is logged by the caller's store, not raised here).
    """
    if not Path(path).exists():
        return 0
    box = Outbox(path)
    try:
        while True:
            entries = box.peek(chunk)
            if not entries:
                return 0
            try:
                store.upsert([a for _, a in entries])  # type: ignore[attr-defined]
            except Exception:
                return len(box)
            box.remove(seq for seq, _ in entries)
    finally:
        box.close()
