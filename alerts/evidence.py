"""Preserved evidence (取证): what a page said, when it was fetched, and proof it was not altered.

Stable interface for the crawler:

- ``EvidenceStore(path)``; ``put(url, fetched_at, status, headers, body: bytes) -> evidence_id``
  where the id is the SHA-256 hex of the body, so an identical page is stored once and every
  fetch of it is kept as a capture (url, time, HTTP status, headers).
- ``get(evidence_id) -> Evidence`` (first capture's fields, all captures, and the body); the body
  is checked against its hash on every read and ``EvidenceCorrupt`` is raised if it differs.
  ``exists(id)``, ``close()``.

A page is kept whole up to ``MAX_BODY``. A larger one keeps its first ``MAX_BODY`` bytes, and its
capture says so: ``truncated``, the ``original_size`` and whether that size is exact or only a
floor ("more than N bytes": the download stopped, or the site sent less than it declared). The id
is then the SHA-256 of the bytes kept, so the evidence never claims more than it holds; nothing
past the kept part is ever read or hashed here.

It always lives in SQLite next to the alerts database (``evidence.sqlite``), also when alerts go
to Elasticsearch: bodies are large, written once, read rarely, and an analyst's laptop copy of
one file is the simplest thing to hand to an authority. Bodies are zlib-compressed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alerts import migrations
from alerts.errors import EvidenceNotFound
from alerts.model import iso, utc

MAX_BODY = 64 * 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence (
    id TEXT PRIMARY KEY,          -- sha-256 hex of the body
    size INTEGER NOT NULL,
    body BLOB NOT NULL            -- zlib
);
CREATE TABLE IF NOT EXISTS captures (
    evidence_id TEXT NOT NULL REFERENCES evidence(id),
    url TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,        -- JSON object
    truncated INTEGER NOT NULL DEFAULT 0,  -- 1: the body kept is the first part of a larger page
    original_size INTEGER,        -- bytes of the page as sent, when more than were kept (or known)
    size_exact INTEGER NOT NULL DEFAULT 1,  -- 0: original_size is a floor ("more than")
    UNIQUE (evidence_id, url, fetched_at)
);
CREATE INDEX IF NOT EXISTS captures_evidence ON captures(evidence_id, fetched_at);
CREATE TABLE IF NOT EXISTS timestamps (  -- RFC 3161 replies over the body (alerts.timestamps)
    evidence_id TEXT NOT NULL REFERENCES evidence(id),
    tsa_url TEXT NOT NULL,
    gen_time TEXT NOT NULL,       -- the time the TSA vouches for
    reply BLOB NOT NULL,          -- TimeStampResp, DER
    UNIQUE (evidence_id, tsa_url, gen_time)
);
"""


class EvidenceCorrupt(Exception):
    """A stored body no longer hashes to its id."""


@dataclass
class Capture:
    url: str
    fetched_at: datetime
    status: int
    headers: dict[str, str]
    truncated: bool = False
    original_size: int | None = None  # the page's size as sent, when known
    size_exact: bool = True  # False: the page was larger than original_size ("more than N bytes")

    def size_note(self, kept: int) -> str:
        """'' for a whole page, else what was kept of what: "truncated: first 1000 bytes of more than 1000 bytes"."""
        return _size_note(self.truncated, self.original_size, self.size_exact, kept)


def _size_note(truncated: bool, original_size: int | None, size_exact: bool, kept: int) -> str:
    if not truncated:
        return ""
    of = "an unknown size" if original_size is None else f"{original_size} bytes"
    if original_size is not None and not size_exact:
        of = f"more than {of}"
    return f"truncated: first {kept} bytes of {of}"


@dataclass
class Evidence:
    id: str
    url: str
    fetched_at: datetime
    status: int
    headers: dict[str, str]
    size: int
    body: bytes
    captures: list[Capture] = field(default_factory=list)
    truncated: bool = False  # the first capture's: see Capture
    original_size: int | None = None
    size_exact: bool = True

    def size_note(self) -> str:
        """'' for a whole page, else what the store kept of what was sent (shown with the evidence)."""
        return _size_note(self.truncated, self.original_size, self.size_exact, self.size)


def _headers(headers: object) -> dict[str, str]:
    """Headers as str → str (Scrapy gives bytes → list of bytes); bad bytes replaced."""

    def s(v: object) -> str:
        if isinstance(v, bytes):
            return v.decode("latin-1")
        if isinstance(v, list | tuple):
            return ", ".join(s(x) for x in v)
        return str(v)

    items = headers.items() if hasattr(headers, "items") else []
    return {s(k)[:200]: s(v)[:4000] for k, v in list(items)[:200]}


class EvidenceStore:
    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        migrations.upgrade(self.db, "evidence")  # an older file's captures get the size columns

    def put(
        self,
        url: str,
        fetched_at: datetime,
        status: int,
        headers: object,
        body: bytes,
        *,
        original_size: int | None = None,
        size_exact: bool = True,
    ) -> str:
        """Keep the page (its first MAX_BODY bytes) and this capture of it; the id is the SHA-256 of what is kept.

        *original_size*: the page's size when the caller knows *body* is only part of it (a download
        that stopped: *size_exact* False makes it "more than"); a body over MAX_BODY is cut here.
        """
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("evidence body must be bytes")
        view = memoryview(body)
        size = len(view)
        # size_exact False: the page was larger than original_size (the download stopped there).
        truncated = original_size is not None and (original_size > size or not size_exact)
        if size > MAX_BODY:
            truncated = True
            original_size = max(original_size or 0, size)
            view = view[:MAX_BODY]
        if not truncated:
            original_size, size_exact = None, True
        body = bytes(view)  # only the part kept is copied and hashed
        digest = hashlib.sha256(body).hexdigest()
        url = str(url).encode("utf-8", "replace").decode("utf-8")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT OR IGNORE INTO evidence (id, size, body) VALUES (?, ?, ?)",
                (digest, len(body), zlib.compress(body, 6)),
            )
            self.db.execute(
                "INSERT OR IGNORE INTO captures (evidence_id, url, fetched_at, status, headers, truncated, "
                "original_size, size_exact) VALUES (?,?,?,?,?,?,?,?)",
                (
                    digest,
                    url,
                    iso(fetched_at),
                    int(status),
                    json.dumps(_headers(headers), ensure_ascii=False),
                    int(truncated),
                    original_size,
                    int(bool(size_exact)),
                ),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return digest

    def exists(self, evidence_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM evidence WHERE id = ?", (evidence_id,)).fetchone() is not None

    def get(self, evidence_id: str) -> Evidence:
        row = self.db.execute("SELECT size, body FROM evidence WHERE id = ?", (evidence_id,)).fetchone()
        if row is None:
            raise EvidenceNotFound(f"no evidence with id {evidence_id!r}")
        size, packed = row
        body = zlib.decompress(packed)
        if hashlib.sha256(body).hexdigest() != evidence_id or len(body) != size:
            raise EvidenceCorrupt(f"evidence {evidence_id} does not match its hash")
        captures = [
            Capture(
                url=u,
                fetched_at=utc(datetime.fromisoformat(t)),
                status=s,
                headers=json.loads(h),
                truncated=bool(cut),
                original_size=orig,
                size_exact=bool(exact),
            )
            for u, t, s, h, cut, orig, exact in self.db.execute(
                "SELECT url, fetched_at, status, headers, truncated, original_size, size_exact FROM captures "
                "WHERE evidence_id = ? ORDER BY fetched_at",
                (evidence_id,),
            )
        ]
        first = captures[0]
        return Evidence(
            id=evidence_id,
            url=first.url,
            fetched_at=first.fetched_at,
            status=first.status,
            headers=first.headers,
            size=size,
            body=body,
            captures=captures,
            truncated=first.truncated,
            original_size=first.original_size,
            size_exact=first.size_exact,
        )

    # -- trusted timestamps (alerts.timestamps) ------------------------------------------------

    def put_stamp(self, evidence_id: str, tsa_url: str, gen_time: datetime, reply: bytes) -> None:
        """Keep a TSA's reply over the body of *evidence_id* beside it."""
        self.db.execute(
            "INSERT OR IGNORE INTO timestamps (evidence_id, tsa_url, gen_time, reply) VALUES (?,?,?,?)",
            (evidence_id, tsa_url, iso(gen_time), bytes(reply)),
        )

    def stamps(self, evidence_id: str) -> list[tuple[str, datetime, bytes]]:
        """(tsa_url, gen_time, reply) of every stamp over *evidence_id*, oldest first."""
        return [
            (u, utc(datetime.fromisoformat(t)), bytes(r))
            for u, t, r in self.db.execute(
                "SELECT tsa_url, gen_time, reply FROM timestamps WHERE evidence_id = ? ORDER BY gen_time",
                (evidence_id,),
            )
        ]

    def unstamped(self, limit: int = 500) -> list[str]:
        """Evidence ids without any stamp, most recently captured first."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT e.id FROM evidence e WHERE NOT EXISTS (SELECT 1 FROM timestamps t WHERE t.evidence_id = e.id) "
                "ORDER BY (SELECT MAX(fetched_at) FROM captures c WHERE c.evidence_id = e.id) DESC LIMIT ?",
                (int(limit),),
            )
        ]

    def close(self) -> None:
        self.db.close()
