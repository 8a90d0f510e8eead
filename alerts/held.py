"""Alerts held back from the digests: a source's flood waits for an analyst, it is not mailed.

A source that brings far more new alerts than it usually does (a crawl trap, a site that changed
what its pages mean, a matcher setting gone wrong) would mail every brand owner thousands of
lines in one night. The crawl's alert stage puts the new alerts of such a source here; they stay
in the store and in the review queue (status ``new``), and the digests skip them until
`markwatch alerts release` takes them out of this file.

One SQLite file (``<state_dir>/held.sqlite``): alert id, source, run key, why, when.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS held (
    alert_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    run TEXT NOT NULL,
    reason TEXT NOT NULL,
    held_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS held_source ON held(source);
"""


@dataclass(frozen=True)
class HeldGroup:
    source: str
    run: str
    reason: str
    count: int
    since: str


class HeldAlerts:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def hold(self, ids: Iterable[str], *, source: str, run: str, reason: str) -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [(i, source, run, reason, now) for i in dict.fromkeys(ids)]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR IGNORE INTO held VALUES (?,?,?,?,?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return len(rows)

    def ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT alert_id FROM held")}

    def groups(self) -> list[HeldGroup]:
        rows = self.db.execute(
            "SELECT source, run, reason, COUNT(*), MIN(held_at) FROM held GROUP BY source, run, reason ORDER BY 5"
        )
        return [HeldGroup(*r) for r in rows]

    def release(self, *, source: str | None = None, ids: Iterable[str] | None = None) -> int:
        """Let these alerts into the next digests; *source* None and *ids* None release everything."""
        wanted = list(ids or [])
        if wanted:
            cur = self.db.executemany("DELETE FROM held WHERE alert_id = ?", [(i,) for i in wanted])
        elif source is not None:
            cur = self.db.execute("DELETE FROM held WHERE source = ?", (source,))
        else:
            cur = self.db.execute("DELETE FROM held")
        return int(cur.rowcount or 0)

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM held").fetchone()[0])

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HeldAlerts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def held_ids(path: str | Path | None) -> set[str]:
    """The held alert ids in *path* (none when the file does not exist)."""
    if path is None or not Path(path).exists():
        return set()
    with HeldAlerts(path) as held:
        return held.ids()


class HoldingSource:
    """A digest source (alerts.notify.source.AlertSource) that leaves out the held alerts."""

    def __init__(self, inner: object, held: set[str]) -> None:
        self.inner = inner
        self.held = held

    def candidates(self, mark: str, min_score: float, statuses: Iterable[str]) -> list:
        items = self.inner.candidates(mark, min_score, statuses)  # type: ignore[attr-defined]
        return [i for i in items if i.alert_id not in self.held] if self.held else items

    def mark_notified(self, ids: Iterable[str], at: datetime) -> None:
        self.inner.mark_notified(ids, at)  # type: ignore[attr-defined]

    def deadlines(self, marks: Iterable[str], since: date, until: date) -> list:
        """Reminders wait for a held alert too: it is mailed only once an analyst releases it."""
        inner = getattr(self.inner, "deadlines", None)
        items = inner(marks, since, until) if inner is not None else []
        return [i for i in items if i.alert_id not in self.held]
