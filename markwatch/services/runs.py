"""The scan log: one row per scan (start, end, status, counts, errors), listed by `markwatch runs`.

SQLite in the scan's state folder. A row stays ``running`` only while its scan lives; the next scan
(which holds the scan lock, so no other scan can be alive) marks such rows ``killed``.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL,          -- running, ok, degraded, interrupted, failed, killed
    trigger TEXT NOT NULL,         -- cli, schedule, demo
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    sources TEXT NOT NULL,         -- JSON list of source names
    resumed INTEGER NOT NULL DEFAULT 0,
    totals TEXT NOT NULL DEFAULT '{}',      -- JSON: pages, items, screened, hits, alerts_new, ...
    per_source TEXT NOT NULL DEFAULT '[]',  -- JSON: one SourceStats dict per source
    stages TEXT NOT NULL DEFAULT '{}',      -- JSON: seconds per stage
    errors TEXT NOT NULL DEFAULT '[]',      -- JSON list of one-line messages
    duration REAL
);
"""

STATUSES = ("running", "ok", "degraded", "interrupted", "failed", "killed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Run:
    id: int
    started_at: str
    ended_at: str | None
    status: str
    trigger: str
    host: str
    pid: int
    sources: list[str]
    resumed: bool
    totals: dict[str, Any] = field(default_factory=dict)
    per_source: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RunLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def mark_killed(self) -> int:
        """Rows still `running` belong to scans that died; call only while holding the scan lock."""
        cur = self.db.execute(
            "UPDATE runs SET status='killed', ended_at=?, errors=? WHERE status='running'",
            (_now(), json.dumps(["the scan process died before it finished"])),
        )
        return cur.rowcount

    def start(self, sources: list[str], trigger: str, resumed: bool) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started_at, status, trigger, host, pid, sources, resumed) VALUES (?,?,?,?,?,?,?)",
            (_now(), "running", trigger, socket.gethostname(), os.getpid(), json.dumps(sources), int(resumed)),
        )
        return int(cur.lastrowid or 0)  # always set after an INSERT

    def finish(
        self,
        run_id: int,
        status: str,
        *,
        totals: dict,
        per_source: list[dict],
        stages: dict,
        errors: list[str],
        duration: float,
    ) -> None:
        assert status in STATUSES
        self.db.execute(
            "UPDATE runs SET ended_at=?, status=?, totals=?, per_source=?, stages=?, errors=?, duration=? WHERE id=?",
            (
                _now(),
                status,
                json.dumps(totals),
                json.dumps(per_source, ensure_ascii=False),
                json.dumps(stages),
                json.dumps(errors, ensure_ascii=False),
                round(duration, 3),
                run_id,
            ),
        )

    def list(self, limit: int = 20) -> list[Run]:
        rows = self.db.execute(
            "SELECT id, started_at, ended_at, status, trigger, host, pid, sources, resumed, "
            "totals, per_source, stages, errors, duration FROM runs ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            Run(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                json.loads(r[7]),
                bool(r[8]),
                json.loads(r[9]),
                json.loads(r[10]),
                json.loads(r[11]),
                json.loads(r[12]),
                r[13],
            )
            for r in rows
        ]

    def yield_history(self, source: str, limit: int = 10) -> builtins.list[int]:
        """The source's item counts in its last *limit* finished, not resumed runs where it was not failed."""
        return self._history(source, "items", limit, skip_resumed_source=True)

    def alerts_history(self, source: str, limit: int = 10) -> builtins.list[int]:
        """The source's new-alert counts in its last *limit* finished, not resumed runs (the flood watch)."""
        return self._history(source, "alerts_new", limit, skip_resumed_source=False)

    def _history(self, source: str, field: str, limit: int, *, skip_resumed_source: bool) -> builtins.list[int]:
        rows = self.db.execute(
            "SELECT per_source FROM runs WHERE status IN ('ok','degraded') AND resumed=0 ORDER BY id DESC LIMIT ?",
            (limit * 5,),
        ).fetchall()
        out: list[int] = []
        for (per_source,) in rows:
            for s in json.loads(per_source or "[]"):
                if s.get("source") != source or s.get("state", "ok") == "failed":
                    continue
                if skip_resumed_source and s.get("resume_skipped"):
                    continue
                out.append(int(s.get(field, 0) or 0))
            if len(out) >= limit:
                break
        return out[:limit]

    def since(self, source: str, state: str) -> str | None:
        """When *source* was last seen ok before the current streak of *state* (for 'since when')."""
        rows = self.db.execute(
            "SELECT started_at, per_source FROM runs WHERE status NOT IN ('running','killed') ORDER BY id DESC"
        ).fetchall()
        first_bad = None
        for started, per_source in rows:
            mine = next((s for s in json.loads(per_source or "[]") if s.get("source") == source), None)
            if mine is None:
                continue
            if mine.get("state", "ok") == "ok":
                break
            first_bad = started
        return first_bad

    def last(self) -> Run | None:
        """The newest finished run (not one still running)."""
        return next((r for r in self.list(50) if r.status != "running"), None)

    def get(self, run_id: int) -> Run | None:
        return next((r for r in self.list(1_000_000) if r.id == run_id), None)
