"""Settings for email alerts: the `[smtp]` and `[notify]` sections of the configuration.

markwatch/config.py embeds these models; environment variables
(MARKWATCH_SMTP_HOST, MARKWATCH_SMTP_PORT, …) override the file there.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from alerts.model import STATUSES

Security = Literal["starttls", "tls", "none"]
_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class SmtpSettings(BaseModel):
    """How to reach the mail server. No host means: write .eml files to the outbox instead."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = "starttls"
    user: str | None = None
    password: SecretStr | None = None
    sender: str = "markwatch <markwatch@localhost>"
    timeout: float = Field(default=30.0, gt=0, le=600)
    ca_file: Path | None = None  # extra CA bundle, e.g. for a company relay
    verify: bool = True  # TLS certificate and host name checks
    local_hostname: str | None = None  # name sent in EHLO

    @property
    def effective_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]

    @field_validator("host", "user", "local_hostname")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        v = v.strip() if v else v
        return v or None

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        if any(c in v for c in "\r\n\0"):
            raise ValueError("must be one line")
        addr = parseaddr(v)[1]
        if "@" not in addr:
            raise ValueError(f"not an email address: {v!r}")
        return v.strip()


class RecipientPrefs(BaseModel):
    """What one address wants to hear about; unset fields fall back to the defaults."""

    model_config = ConfigDict(extra="forbid")

    min_score: float | None = Field(default=None, ge=0.0, le=1.0)
    statuses: list[str] | None = None
    enabled: bool = True
    language: Literal["zh", "en"] | None = None  # the digest's language for this address
    timezone: str | None = None  # the recipient's time zone (IANA), default [notify] timezone
    csv: bool | None = None  # attach a CSV of the digest's alerts
    links: bool | None = None  # signed read-only links to the alerts (false: no link at all)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            bad = [s for s in v if s not in STATUSES]
            if bad:
                raise ValueError(f"unknown status {bad[0]!r}")
        return v


class NotifySettings(BaseModel):
    """Digest behaviour, delivery ledger and outbox locations, and per-address preferences."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    transport: Literal["auto", "smtp", "outbox"] = "auto"  # auto: smtp when a host is set
    # .eml folder and delivery ledger; by default next to the alerts database ([store] sqlite_path)
    outbox_dir: Path | None = None
    ledger_path: Path | None = None
    max_items: int = Field(default=50, ge=1, le=1000)  # alerts listed in full per digest
    min_score: float = Field(default=0.6, ge=0.0, le=1.0)  # when neither mark nor owner sets one
    statuses: list[str] = Field(default_factory=lambda: ["new"])
    recipients: dict[str, RecipientPrefs] = Field(default_factory=dict)
    language: Literal["zh", "en"] = "zh"  # digests in Chinese (brand owners, officers) or English
    timezone: str = "Asia/Shanghai"  # times in digests (per address: recipients."addr".timezone)
    csv: bool = False  # attach a CSV of each digest's alerts
    # Signed read-only links to each alert for owners without an account (needs [review] secret_key).
    links: bool = True
    link_days: int = Field(default=30, ge=1, le=366)  # a link expires this many days after the digest
    links_valid_after: str | None = None  # ISO time: every link issued before it is revoked
    # who runs markwatch: one short email when a scan ends degraded or failed (brand owners' digests apart)
    operators: list[str] = Field(default_factory=list)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, v: list[str]) -> list[str]:
        return RecipientPrefs._statuses(v) or ["new"]

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai)") from None
        return v

    @field_validator("recipients")
    @classmethod
    def _lower(cls, v: dict[str, RecipientPrefs]) -> dict[str, RecipientPrefs]:
        return {k.strip().lower(): p for k, p in v.items()}
