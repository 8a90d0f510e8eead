"""Exceptions: "dismiss and never flag this word for this mark again", kept in the alerts store.

An analyst who dismisses 北京市老干部活动中心 for 老干妈 can say once that 老干部 is not 老干妈. The
exception records who, when and why; it is listed (``markwatch exceptions list``, the review site)
and revocable (``markwatch exceptions revoke ID``). It takes effect from the next scan on: the app
turns the active exceptions into extra entries of each mark's ``exclude`` list when it builds the
matcher (``effective_marks``); a global exception (``mark`` None) is excluded for every mark.

Words are plain text (no patterns): what the analyst saw in the subject, bounded and stripped of
invisible characters, so a pasted zero-width space cannot make an exception that never applies.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.model import utc

MAX_WORD = 64
MAX_WHY = 2000


def clean_word(text: str) -> str:
    """The word as the matcher will compare it: NFC, no invisible or control characters, trimmed."""
    s = unicodedata.normalize("NFC", text or "")
    s = "".join(c for c in s if unicodedata.category(c) not in ("Cf", "Cc", "Zl", "Zp"))
    return s.strip()


def new_id() -> str:
    return "x" + secrets.token_hex(6)


class MarkException(BaseModel):
    """One stored exception: never flag ``word`` for ``mark`` (every mark when None)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id, max_length=64)
    mark: str | None = Field(default=None, max_length=64)
    word: str = Field(min_length=1, max_length=MAX_WORD)
    who: str = Field(min_length=1, max_length=200)
    at: datetime
    why: str = Field(default="", max_length=MAX_WHY)
    alert_id: str | None = Field(default=None, max_length=64)  # the alert dismissed with it, if any
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_why: str = ""

    @field_validator("word")
    @classmethod
    def _word(cls, v: str) -> str:
        v = clean_word(v)
        if not v:
            raise ValueError("must contain a visible character")
        return v

    @field_validator("mark")
    @classmethod
    def _mark(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = clean_word(v)
        return v or None

    @field_validator("at", "revoked_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return utc(v) if v is not None else None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def excludes_by_mark(exceptions: Iterable[MarkException]) -> tuple[dict[str, list[str]], list[str]]:
    """Active exceptions as (per-mark words, global words), each list in first-made order, once."""
    per: dict[str, dict[str, None]] = {}
    glob: dict[str, None] = {}
    for e in sorted(exceptions, key=lambda e: e.at):
        if not e.active:
            continue
        if e.mark is None:
            glob[e.word] = None
        else:
            per.setdefault(e.mark, {})[e.word] = None
    return {m: list(ws) for m, ws in per.items()}, list(glob)


def never_flag(store: Any, alert: Any, word: str, who: str, why: str = "") -> MarkException:
    """Store "never flag ``word`` for this alert's mark" (``-`` or empty: the word the matcher matched).

    Used by the CLI (``alerts review --never-flag``) and the review site. The same active
    (mark, word) is not stored twice: the existing exception is returned.
    """
    from datetime import UTC

    from alerts.errors import AlertsError

    word = clean_word(alert.matched if word in ("-", "") else word)
    if not word:
        raise AlertsError(f"alert {alert.id} has no matched word; name the word never to flag")
    if len(word) > MAX_WORD:
        raise AlertsError(f"the word never to flag is longer than {MAX_WORD} characters")
    for e in store.exception_list(active_only=True):
        if e.mark == alert.mark and e.word == word:
            return e
    exc = MarkException(
        mark=alert.mark, word=word, who=who[:200], at=datetime.now(UTC), why=why[:MAX_WHY], alert_id=alert.id
    )
    return store.exception_add(exc)


def _revoked(e: MarkException, who: str, why: str, now: datetime | None) -> MarkException:
    from datetime import UTC

    if not e.active:
        return e  # the first revocation is the record
    return e.model_copy(
        update={"revoked_at": utc(now or datetime.now(UTC)), "revoked_by": who, "revoke_why": why[:MAX_WHY]}
    )


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS mark_exceptions (id TEXT PRIMARY KEY, at TEXT NOT NULL, doc TEXT NOT NULL);
"""


class SQLiteExceptions:
    """Exceptions as one table next to the alerts (the caller's autocommit connection)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.db.executescript(SQLITE_SCHEMA)

    def add(self, exc: MarkException) -> MarkException:
        self.db.execute(
            "INSERT INTO mark_exceptions (id, at, doc) VALUES (?, ?, ?)",
            (exc.id, exc.at.isoformat(), exc.model_dump_json()),
        )
        return exc

    def list_all(self, active_only: bool = False) -> list[MarkException]:
        rows = self.db.execute("SELECT doc FROM mark_exceptions ORDER BY at DESC, id")
        out = [MarkException.model_validate_json(d) for (d,) in rows]
        return [e for e in out if e.active] if active_only else out

    def revoke(self, id: str, who: str, why: str, now: datetime | None) -> MarkException:
        from alerts.errors import AlertNotFound

        row = self.db.execute("SELECT doc FROM mark_exceptions WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise AlertNotFound(f"no exception with id {id!r}")
        e = _revoked(MarkException.model_validate_json(row[0]), who, why, now)
        self.db.execute("UPDATE mark_exceptions SET doc = ? WHERE id = ?", (e.model_dump_json(), id))
        return e


ES_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "mark": {"type": "keyword"},
        "word": {"type": "keyword"},
        "who": {"type": "keyword"},
        "at": {"type": "date"},
        "why": {"type": "text"},
        "alert_id": {"type": "keyword"},
        "revoked_at": {"type": "date"},
        "revoked_by": {"type": "keyword"},
        "revoke_why": {"type": "text"},
    },
}


class ElasticsearchExceptions:
    """Exceptions as a small index, ``<prefix>-exceptions``; writes wait for a refresh so that the
    list (a search) shows them at once."""

    def __init__(self, client: Any, prefix: str, replicas: int = 1) -> None:
        self.client = client
        self.index = f"{prefix}-exceptions"
        self.replicas = replicas
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        from elasticsearch import ApiError

        if not self.client.indices.exists(index=self.index):
            try:
                self.client.indices.create(
                    index=self.index,
                    mappings=ES_MAPPING,
                    settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
                )
            except ApiError as exc:
                if exc.meta.status != 400 or "resource_already_exists" not in str(exc):
                    raise
        self._ready = True

    def add(self, exc: MarkException) -> MarkException:
        self._ensure()
        self.client.create(index=self.index, id=exc.id, document=exc.model_dump(mode="json"), refresh="wait_for")
        return exc

    def list_all(self, active_only: bool = False) -> list[MarkException]:
        self._ensure()
        query: dict[str, Any] = {"match_all": {}}
        if active_only:
            query = {"bool": {"must_not": [{"exists": {"field": "revoked_at"}}]}}
        resp = self.client.search(
            index=self.index, query=query, sort=[{"at": "desc"}, {"id": "asc"}], size=10_000, track_total_hits=False
        )
        return [MarkException.model_validate(h["_source"]) for h in resp["hits"]["hits"]]

    def revoke(self, id: str, who: str, why: str, now: datetime | None) -> MarkException:
        from elasticsearch import NotFoundError

        from alerts.errors import AlertNotFound

        self._ensure()
        try:
            doc = self.client.get(index=self.index, id=id)
        except NotFoundError:
            raise AlertNotFound(f"no exception with id {id!r}") from None
        e = _revoked(MarkException.model_validate(doc["_source"]), who, why, now)
        self.client.index(
            index=self.index,
            id=id,
            document=e.model_dump(mode="json"),
            if_seq_no=doc["_seq_no"],
            if_primary_term=doc["_primary_term"],
            refresh="wait_for",
        )
        return e
