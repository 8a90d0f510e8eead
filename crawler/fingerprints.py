"""Content fingerprints of items already screened: the memory behind incremental scans.

Keyed by (source, identity); an item whose fingerprint is unchanged since the
last scan is not screened again, a changed one is. SQLite in WAL mode, one
short transaction per item, so a killed scan loses at most the item in flight.

What the fingerprint covers (`content_of`): an item's content fields (title, price, seller, …),
with links to the item's own site (the host of its page) reduced to path and query. Where the
site is served from (the demo on another port, a mirror) is not a change of the listing; another
seller or image path is. A link to another host (a CDN) is kept whole: that host may be the
only thing telling two images apart.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


# Content fields that hold links (made absolute by the spider from the page they were on).
URL_FIELDS = ("seller_url", "images")


def _host_key(url: str) -> str:
    """host:port, lowercased, the scheme's default port spelled out; '' for a link that is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return ""
    try:
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().rstrip(".")
    return f"{host}:{port or {'http': 80, 'https': 443}[parts.scheme]}"


def _relative(value: Any, hosts: set[str]) -> Any:
    """*value* with every link to one of *hosts* cut to path?query#fragment (lists element by element)."""
    if isinstance(value, list):
        return [_relative(v, hosts) for v in value]
    if isinstance(value, str) and _host_key(value) in hosts:
        parts = urlsplit(value)
        return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    return value


def content_of(item: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """What an item's fingerprint covers: its content *fields*, same-site links without host and port.

    A field the item class added later (``LATER_FIELDS``) counts only when it has a value, so that
    adding one does not make every item already seen look changed."""
    later = getattr(item, "LATER_FIELDS", ())
    values = {k: item.get(k) for k in fields if k not in later or item.get(k) is not None}
    response = item.get("response")
    pages = [item.get("url"), response.get("url") if isinstance(response, dict) else None]
    hosts = {h for u in pages if isinstance(u, str) and (h := _host_key(u))}
    for k in URL_FIELDS:
        if k in values and hosts:
            values[k] = _relative(values[k], hosts)
    return values


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
