"""The per-recipient delivery ledger: which alert went to whom, and when.

A small SQLite file, separate from the alerts store, so that "sent" is recorded
in the same durable place whichever store backend holds the alerts.

Protocol (see docs/email.md):
1. Before the SMTP transaction, the rendered message (raw bytes, Message-ID,
   alert ids) is committed with state ``sending``.
2. After the server accepts it, the message and its (alert, recipient) rows
   become ``sent`` in one commit.
3. A definite refusal makes the message ``failed`` and releases its alerts back
   to pending with the error recorded; the next run renders them afresh.
4. A message still ``sending`` when a run starts was interrupted: the server may
   or may not have accepted it. It is re-sent byte for byte, same Message-ID,
   before anything new, so a duplicate can only arise if the process died
   between the server's final reply and step 2, and then it carries the
   identical Message-ID.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alerts import migrations

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    message_id  TEXT PRIMARY KEY,
    recipient   TEXT NOT NULL,
    sender      TEXT NOT NULL,
    alert_ids   TEXT NOT NULL,
    raw         BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state, recipient);
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id    TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent')),
    message_id  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (alert_id, recipient)
);
CREATE INDEX IF NOT EXISTS deliveries_recipient ON deliveries (recipient, state);
-- Case updates (alerts.notify.case_updates) ride in digests by the same protocol as alerts.
CREATE TABLE IF NOT EXISTS case_updates (
    update_key  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent')),
    message_id  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (update_key, recipient)
);
CREATE INDEX IF NOT EXISTS case_updates_message ON case_updates (message_id);
-- When the ledger first saw each address: a new address's case updates start near there.
CREATE TABLE IF NOT EXISTS recipients (
    recipient   TEXT PRIMARY KEY,
    added_at    TEXT NOT NULL
);
"""

# What a message's state changes carry along, item by item: (table, key column).
_ITEMS = (("deliveries", "alert_id"), ("case_updates", "update_key"))
_ROW = ("state", "message_id", "attempts", "last_error", "sent_at")


class LedgerBusy(Exception):
    """Another notify run holds the ledger."""


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A message from an interrupted run, to be re-sent exactly as it was."""

    message_id: str
    recipient: str
    sender: str
    alert_ids: tuple[str, ...]
    raw: bytes
    attempts: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Ledger:
    """Durable record of deliveries keyed by (alert_id, recipient)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a "sent" mark must survive power loss
        self._db.executescript(SCHEMA)
        migrations.upgrade(self._db, "ledger")
        self._lock_fd: int | None = None

    def close(self) -> None:
        self.unlock()
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- run lock ---------------------------------------------------------
    def lock(self) -> None:
        """Hold an exclusive lock for one run; a second concurrent run would double-send."""
        if self._lock_fd is not None:
            return
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LedgerBusy(f"{self.path}: another `markwatch notify` run is in progress") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- queries ----------------------------------------------------------
    def sent_ids(self, recipient: str) -> set[str]:
        rows = self._db.execute("SELECT alert_id FROM deliveries WHERE recipient = ? AND state = 'sent'", (recipient,))
        return {r[0] for r in rows}

    def held_ids(self, recipient: str) -> set[str]:
        """Alerts inside an interrupted message to this recipient: not to be rendered again."""
        rows = self._db.execute(
            "SELECT alert_ids FROM messages WHERE recipient = ? AND state = 'sending'", (recipient,)
        )
        return {aid for (ids,) in rows for aid in json.loads(ids)}

    def case_keys_done(self, recipient: str) -> set[str]:
        """Case updates sent to this recipient, or inside an interrupted message to it."""
        rows = self._db.execute(
            "SELECT update_key FROM case_updates WHERE recipient = ? AND state IN ('sent', 'sending')", (recipient,)
        )
        return {r[0] for r in rows}

    def case_keys_of(self, message_id: str) -> list[str]:
        rows = self._db.execute("SELECT update_key FROM case_updates WHERE message_id = ?", (message_id,))
        return [r[0] for r in rows]

    def case_update(self, update_key: str, recipient: str) -> dict | None:
        return self._item("case_updates", "update_key", update_key, recipient)

    def interrupted(self) -> list[PendingMessage]:
        rows = self._db.execute(
            "SELECT message_id, recipient, sender, alert_ids, raw, attempts FROM messages "
            "WHERE state = 'sending' ORDER BY created_at"
        )
        return [PendingMessage(m, r, s, tuple(json.loads(a)), bytes(raw), n) for m, r, s, a, raw, n in rows]

    def delivery(self, alert_id: str, recipient: str) -> dict | None:
        return self._item("deliveries", "alert_id", alert_id, recipient)

    def _item(self, table: str, column: str, key: str, recipient: str) -> dict | None:
        """One (item, recipient) row of *table* (one of `_ITEMS`), or None."""
        assert (table, column) in _ITEMS  # names, never values, go into the SQL text
        row = self._db.execute(
            f"SELECT {', '.join(_ROW)} FROM {table} WHERE {column} = ? AND recipient = ?", (key, recipient)
        ).fetchone()
        return None if row is None else dict(zip(_ROW, row, strict=True))

    def recipient_since(self, recipient: str, now: datetime, *, record: bool = True) -> datetime:
        """When the ledger first saw *recipient* (recorded now, unless *record* is false: a dry run).

        An address already written to before this was kept counts from its first message.
        """
        row = self._db.execute("SELECT added_at FROM recipients WHERE recipient = ?", (recipient,)).fetchone()
        if row is not None:
            return datetime.fromisoformat(row[0])
        (first,) = self._db.execute("SELECT MIN(created_at) FROM messages WHERE recipient = ?", (recipient,)).fetchone()
        since = datetime.fromisoformat(first) if first else now.astimezone(UTC)
        if record:
            with self._tx() as db:
                db.execute(
                    "INSERT OR IGNORE INTO recipients (recipient, added_at) VALUES (?, ?)",
                    (recipient, since.isoformat(timespec="microseconds")),
                )
        return since

    def summary(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
        return {state: n for state, n in rows}

    def errors(self) -> list[tuple[str, int, str]]:
        """(recipient, alerts waiting, last error) for recipients whose last attempt failed."""
        rows = self._db.execute(
            "SELECT recipient, COUNT(*), MAX(last_error) FROM deliveries "
            "WHERE state != 'sent' AND last_error IS NOT NULL GROUP BY recipient ORDER BY recipient"
        )
        return list(rows)

    # -- state changes ----------------------------------------------------
    def begin(
        self,
        message_id: str,
        recipient: str,
        sender: str,
        alert_ids: tuple[str, ...],
        raw: bytes,
        case_keys: tuple[str, ...] = (),
    ) -> None:
        """Record the message as being sent, before any byte goes to the server."""
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO messages (message_id, recipient, sender, alert_ids, raw, state, attempts, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'sending', 1, ?, ?) "
                "ON CONFLICT (message_id) DO UPDATE SET state = 'sending', raw = excluded.raw, "
                "attempts = messages.attempts + 1, updated_at = excluded.updated_at "
                "WHERE messages.state != 'sent'",
                (message_id, recipient, sender, json.dumps(list(alert_ids)), raw, now, now),
            )
            for (table, column), keys in zip(_ITEMS, (alert_ids, case_keys), strict=True):
                db.executemany(
                    f"INSERT INTO {table} ({column}, recipient, state, message_id, attempts, updated_at) "
                    f"VALUES (?, ?, 'sending', ?, 1, ?) ON CONFLICT ({column}, recipient) DO UPDATE SET "
                    f"state = 'sending', message_id = excluded.message_id, attempts = {table}.attempts + 1, "
                    f"updated_at = excluded.updated_at WHERE {table}.state != 'sent'",
                    [(k, recipient, message_id, now) for k in keys],
                )

    def retrying(self, message_id: str) -> None:
        """Count another attempt at an interrupted message."""
        now = _now()
        self._change(message_id, "attempts = attempts + 1, updated_at = ?", (now,))

    def sent(self, message_id: str) -> str:
        """The server accepted the message: its alerts are never sent to this recipient again."""
        now = _now()
        self._change(message_id, "state = 'sent', sent_at = ?, updated_at = ?, last_error = NULL", (now, now))
        return now

    def failed(self, message_id: str, error: str) -> None:
        """The server certainly did not take the message: release its alerts to pending."""
        now = _now()
        self._change(
            message_id,
            "state = 'failed', last_error = ?, updated_at = ?",
            (error, now),
            items="state = 'pending', last_error = ?, updated_at = ?",
        )

    def uncertain(self, message_id: str, error: str) -> None:
        """The connection broke after the data went out: keep it for an identical re-send."""
        now = _now()
        self._change(message_id, "last_error = ?, updated_at = ?", (error, now))

    def _change(self, message_id: str, assignments: str, values: tuple, *, items: str | None = None) -> None:
        """One commit: *assignments* on the message, and (or *items*) on its alerts and case updates still sending."""
        with self._tx() as db:
            db.execute(f"UPDATE messages SET {assignments} WHERE message_id = ?", (*values, message_id))
            for table, _ in _ITEMS:
                db.execute(
                    f"UPDATE {table} SET {items or assignments} WHERE message_id = ? AND state = 'sending'",
                    (*values, message_id),
                )
