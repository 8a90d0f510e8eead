"""[store] settings: which backend holds the alerts and how to reach it.

They live with the stores that read them; the app's ``markwatch.config.Settings`` composes them as
its ``[store]`` section, and the crawler's alert pipeline accepts them as ``MARKWATCH_STORE``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class StoreSettings(BaseModel):
    """[store]: SQLite by default; Elasticsearch when ``urls`` is set."""

    model_config = ConfigDict(extra="forbid")

    sqlite_path: Path = Path("var/markwatch/alerts.sqlite")
    # evidence.sqlite and outbox.sqlite go next to sqlite_path unless set
    evidence_path: Path | None = None
    outbox_path: Path | None = None
    urls: list[str] = Field(default_factory=list)
    api_key: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_certs: Path | None = None
    verify_certs: bool = True
    timeout: float = Field(default=10.0, gt=0)
    retries: int = Field(default=3, ge=0, le=20)
    index_prefix: str = Field(default="markwatch", pattern=r"^[a-z0-9][a-z0-9_-]{0,60}$")
    replicas: int = Field(default=1, ge=0, le=10)
    refresh: bool = False  # refresh after each write (tests); analysts otherwise wait ≤ 1 s

    @field_validator("urls")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for url in v:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return v

    @property
    def backend(self) -> str:
        return "elasticsearch" if self.urls else "sqlite"

    def evidence_file(self) -> Path:
        return self.evidence_path or self.sqlite_path.with_name("evidence.sqlite")

    def outbox_file(self) -> Path:
        return self.outbox_path or self.sqlite_path.with_name("outbox.sqlite")
