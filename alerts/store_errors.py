"""A store write that failed, in plain words: disk full, read-only, a cluster block.

The crawler's alert stage asks `write_failure(exc)` about any exception from a store or evidence
write; a non-empty answer means "this store cannot take writes for the rest of the run" (the
next item would fail the same way, each after its own timeout), so the stage stops trying,
queues in the outbox if it can, and the scan names the store and this reason.
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

from alerts.errors import StoreUnavailable

_SQLITE = (
    ("database or disk is full", "disk full"),
    ("disk i/o error", "disk I/O error"),
    ("readonly database", "read-only database"),
    ("read-only", "read-only database"),
    ("unable to open database", "cannot open the database file"),
    ("database is locked", "database locked by another process"),
    ("malformed", "database file damaged"),
    ("not a database", "not a database file"),
)
_ERRNO = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "disk I/O error",
}
BLOCK_TYPES = ("cluster_block_exception", "index_closed_exception")


class StoreBlocked(StoreUnavailable):
    """The store answers but refuses writes (a read-only index, a cluster block): no retry helps."""


def block_reason(error: Any) -> str:
    """'index read-only (…)' when an Elasticsearch error (an exception or a bulk item's error) is a block."""
    info = getattr(error, "body", None) if not isinstance(error, dict) else error
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        info = info["error"]
        if isinstance(info.get("root_cause"), list) and info["root_cause"]:
            info = info["root_cause"][0] if isinstance(info["root_cause"][0], dict) else info
    kind = str(info.get("type", "")) if isinstance(info, dict) else ""
    text = str(info.get("reason", "")) if isinstance(info, dict) else str(error)
    if kind not in BLOCK_TYPES and "cluster_block_exception" not in str(error):
        return ""
    low = text.lower()
    if "flood-stage" in low or "flood stage" in low or "read-only-allow-delete" in low:
        what = "index read-only: disk usage over the flood-stage watermark"
    elif "read-only" in low or "read_only" in low:
        what = "index read-only"
    elif "closed" in low or kind == "index_closed_exception":
        what = "index closed"
    elif "write" in low:
        what = "index blocks writes"
    else:
        what = "cluster block"
    return f"{what} ({kind or 'cluster_block_exception'})"


def write_failure(exc: BaseException) -> str:
    """Why a write to a store failed, when the store cannot take writes now; '' for other errors."""
    if isinstance(exc, StoreUnavailable):
        return str(exc).splitlines()[0][:200] if str(exc) else "unavailable"
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        for needle, plain in _SQLITE:
            if needle in text:
                return plain
        if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
            return f"database error ({str(exc)[:80]})"
        return ""
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if type(exc).__module__.startswith(("elasticsearch", "elastic_transport")):
        block = block_reason(exc)
        if block:
            return block
        status = getattr(getattr(exc, "meta", None), "status", None)
        return f"HTTP {status} {getattr(exc, 'message', '')}".strip() if status else type(exc).__name__
    return ""
