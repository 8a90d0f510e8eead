"""Content fingerprints of items already screened: the memory behind incremental scans.

Keyed by (source, identity); an item whose fingerprint is unchanged since the
last scan is not screened again, a changed one is. SQLite in WAL mode, one
short transaction per item, so a killed scan loses at most the item in flight.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    source TEXT NOT NULL,
    identity TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (source, identity)
);
"""


def fingerprint(values: dict) -> str:
    """SHA-256 of the content fields, in a canonical JSON form."""
    blob = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


class FingerprintDB:
    def __init__(self, path: str | Path | None) -> None:
        target = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(target, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def get(self, source: str, identity: str) -> str | None:
        row = self.db.execute(
            "SELECT fingerprint FROM seen WHERE source=? AND identity=?", (source, identity)
        ).fetchone()
        return row[0] if row else None

    def record(self, source: str, identity: str, fp: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.db.execute(
            "INSERT INTO seen (source, identity, fingerprint, first_seen, last_seen) VALUES (?,?,?,?,?) "
            "ON CONFLICT(source, identity) DO UPDATE SET fingerprint=excluded.fingerprint, "
            "last_seen=excluded.last_seen",
            (source, identity, fp, now, now),
        )

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def close(self) -> None:
        self.db.close()
