"""markwatch.toml: one pydantic model per section, found and validated in one place.

Where the file comes from: ``--config PATH``, else ``$MARKWATCH_CONFIG``, else ./markwatch.toml
(a missing default file means all defaults; a missing named file is an error). Every key of
every section can be overridden by ``MARKWATCH_<SECTION>_<KEY>`` (list values comma-separated),
e.g. ``MARKWATCH_STORE_URLS=http://127.0.0.1:9200``. Any error is a ``ConfigError`` naming file,
line and key (exit code 2).

To add a section: define a ``BaseModel`` with ``extra="forbid"`` and defaults for every key, and
add it as a field of ``Settings``; loading and env overrides pick it up by themselves.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator

from alerts.notify.settings import NotifySettings, SmtpSettings
from alerts.settings import StoreSettings
from markwatch.errors import ConfigError

DEFAULT_FILE = "markwatch.toml"
ENV_FILE = "MARKWATCH_CONFIG"
ENV_PREFIX = "MARKWATCH_"


class MarksSettings(BaseModel):
    """[marks]: the protected-marks YAML file."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Path("marks.yaml")


class ReviewSettings(BaseModel):
    """[review]: the analysts' review site (`markwatch serve`) and where emails link to.

    ``users`` maps an analyst's name to a password hash from ``markwatch serve --hash-password``
    (put them under ``[review.users]``). Without ``secret_key`` each start signs sessions with a
    new random key for the sign-in form. ``secure_cookies`` defaults to whether ``base_url`` is
    https. Sessions live in the alert store and end after ``session_idle_minutes`` without a
    request or ``session_hours`` after sign-in; ``admins`` may read the audit log and sign others
    out. ``X-Forwarded-For`` counts only from ``trusted_proxies`` (addresses or networks).
    Request bodies above ``max_body_bytes`` get 413. See docs/review.md.
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    users: dict[str, str] = Field(default_factory=dict)
    secret_key: SecretStr | None = None
    secure_cookies: bool | None = None
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    session_idle_minutes: float = Field(default=60.0, gt=0, le=24 * 60 * 30)
    admins: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=4096, le=1024**3)
    # What people read (alerts/i18n.py): the site's and the CLI's language (zh_CN or en), each
    # analyst's own (``[review.languages]``, name = language), and the zone times are shown in.
    language: str = "zh_CN"
    languages: dict[str, str] = Field(default_factory=dict)
    timezone: str = "Asia/Shanghai"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: list[str]) -> list[str]:
        import ipaddress

        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an IP address or network") from None
        return v

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        from alerts.i18n import LOCALES, normalise_locale

        loc = normalise_locale(v, default="")
        if not loc:
            raise ValueError(f"language {v!r}: one of {', '.join(LOCALES)}")
        return loc

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: dict[str, str]) -> dict[str, str]:
        from alerts.i18n import LOCALES, normalise_locale

        out = {}
        for name, lang in v.items():
            loc = normalise_locale(lang, default="")
            if not loc:
                raise ValueError(f"languages.{name} = {lang!r}: one of {', '.join(LOCALES)}")
            out[name] = loc
        return out

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        from alerts.i18n import timezone

        timezone(v)  # ValueError naming it when unknown
        return v

    def language_of(self, user: str | None) -> str:
        return self.languages.get(user or "", self.language)

    @field_validator("users")
    @classmethod
    def _users(cls, v: dict[str, str]) -> dict[str, str]:
        from markwatch.web.passwords import check_hash_format

        for name, hashed in v.items():
            if not re.match(r"^[\w.@-]{1,64}$", name):
                raise ValueError(f"user name {name!r}: use 1-64 letters, digits, '.', '@', '_' or '-'")
            problem = check_hash_format(hashed)
            if problem:
                raise ValueError(f"user {name!r}: {problem} (make one with `markwatch serve --hash-password`)")
        return v

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError("secret_key must be at least 32 characters (e.g. secrets.token_urlsafe(48))")
        return v

    @property
    def cookies_secure(self) -> bool:
        return self.base_url.startswith("https://") if self.secure_cookies is None else self.secure_cookies


class ScanSettings(BaseModel):
    """[scan]: which sources a scan runs, where its state lives, how fast it may go."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(default_factory=list)  # names or YAML paths; empty = every available source
    sources_dirs: list[Path] = Field(default_factory=list)  # folders with your own source files
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")  # replaces every source's {base}
    state_dir: Path = Path("var/markwatch/state")  # lock, runs.sqlite, fingerprints, resume journals
    days: int = Field(default=1, ge=1, le=366)  # feed sources walk this many days back from the scan date
    terms_per_mark: int = Field(default=0, ge=0)  # cap on search variants per mark (0 = all)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)  # hits below this are not stored as alerts
    loopback: bool = False  # no delays, no AutoThrottle: only for the local demo world and tests
    concurrency: int | None = Field(default=None, ge=1, le=64)  # requests in flight per site (overrides sources)
    delay: float | None = Field(default=None, ge=0)  # seconds between requests per site (overrides sources)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_file: Path | None = None
    notify: bool = True  # send the email digests at the end of the scan
    max_minutes: float | None = Field(default=None, gt=0)  # whole-scan time budget; sources still running stop
    metrics_file: Path | None = None  # Prometheus textfile written after each run (node-exporter textfile)
    scrapy: dict[str, Any] = Field(default_factory=dict)  # extra Scrapy settings, e.g. {HTTPCACHE_ENABLED = true}

    def fingerprint_db(self) -> Path:
        return self.state_dir / "fingerprints.sqlite"


class ScheduleSettings(BaseModel):
    """[schedule]: when `markwatch schedule` starts a scan (cron in its own time zone)."""

    model_config = ConfigDict(extra="forbid")

    cron: str = "0 2 * * *"  # minute hour day month weekday; a 6th leading field is seconds
    timezone: str = "Asia/Shanghai"
    misfire_grace_time: int = Field(default=3600, ge=1)  # a run missed by up to this many seconds still runs
    jobstore: Path = Path("var/markwatch/schedule.sqlite")
    timeout: int = Field(default=6 * 3600, ge=10)  # a scan still running after this long is stopped

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai)") from None
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        from markwatch.services.schedule import cron_trigger

        cron_trigger(v, "UTC")  # raises ValueError with the reason
        return v.strip()


class QueueSettings(BaseModel):
    """[queue]: `local` (each scan its own queue) or `redis` (workers on several machines share one)."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "redis"] = "local"
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", pattern=r"^rediss?://[^\s]+$")
    key_prefix: str = Field(default="markwatch", pattern=r"^[A-Za-z0-9_.:-]{1,60}$")
    run_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,60}$")  # default: the scan date
    expire_days: int = Field(default=7, ge=1)  # shared queue and seen-set kept this long after a scan
    idle_grace: float = Field(default=20.0, ge=0)  # seconds a worker with nothing to do waits for peers' requests


class CaseLookup(BaseModel):
    """How the follow-up looks an enterprise up by credit code on one source (JSON, JMESPath)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^(\{base\}|https?://)[^\s]*\{uscc\}[^\s]*$")  # {base}, {uscc}, {date}
    name: str = "data.entName"
    status: str = "data.regState"
    found: str | None = None  # JMESPath that is null/false when the code is unknown (default: name)


class CasesSettings(BaseModel):
    """[cases]: deadlines, where listing complaints go, how the follow-up re-checks entities."""

    model_config = ConfigDict(extra="forbid")

    deadline_days: int = Field(default=30, ge=0, le=366)  # default deadline after filing a name dispute
    platforms: dict[str, str] = Field(default_factory=dict)  # source name -> the platform's IP-protection channel
    lookups: dict[str, CaseLookup] = Field(default_factory=dict)  # source name -> lookup by USCC
    followup: bool = True  # re-check filed cases at the end of each scan
    chromium: str = "chromium"  # the headless browser that renders dossiers and screenshots
    timeout: float = Field(default=20.0, gt=0, le=300)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: StoreSettings = Field(default_factory=StoreSettings)
    marks: MarksSettings = Field(default_factory=MarksSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    scan: ScanSettings = Field(default_factory=ScanSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    cases: CasesSettings = Field(default_factory=CasesSettings)

    _source: str = PrivateAttr(default="<defaults>")

    @property
    def source(self) -> str:
        """The file these settings came from, or "<defaults>"."""
        return self._source


def _sections() -> dict[str, type[BaseModel]]:
    out = {}
    for name, f in Settings.model_fields.items():
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            out[name] = f.annotation
    return out


def _line_of(text: str, section: str | None, key: str | None) -> int | None:
    """Line of ``key`` inside ``[section]`` (or of the section header) in TOML text."""
    current = None
    header_line = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
        if m:
            current = m.group(1)
            if current == section:
                header_line = n
            continue
        if key and current == section and re.match(rf'^"?{re.escape(key)}"?\s*=', line):
            return n
    return header_line


def _env_overrides(data: dict[str, Any]) -> dict[str, str]:
    """Apply MARKWATCH_<SECTION>_<KEY> onto data; return {"section.key": env var name} applied."""
    applied = {}
    for section, model in _sections().items():
        for key, f in model.model_fields.items():
            var = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
            if var not in os.environ:
                continue
            value: Any = os.environ[var]
            if "list" in str(f.annotation):
                value = [v.strip() for v in value.split(",") if v.strip()]
            elif str(f.annotation).startswith("dict"):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ConfigError(
                        "not a JSON object", file=f"{var} (environment)", key=f"{section}.{key}"
                    ) from None
            sect = data.setdefault(section, {})
            if not isinstance(sect, dict):
                raise ConfigError(f"section [{section}] in the file is not a table", file=var)
            sect[key] = value
            applied[f"{section}.{key}"] = var
    return applied


def find_config(explicit: str | Path | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_FILE):
        return Path(os.environ[ENV_FILE])
    default = Path(DEFAULT_FILE)
    return default if default.exists() else None


def load_settings(path: str | Path | None = None) -> Settings:
    """Find, parse, override from the environment and validate; raise ConfigError on any problem."""
    file = find_config(path)
    text = ""
    data: dict[str, Any] = {}
    source = "<defaults>"
    if file is not None:
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("configuration file not found", file=str(file)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read configuration file: {exc}", file=str(file)) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            msg = re.sub(r"\s*\(at line .*\)$", "", str(exc)) or "invalid TOML"
            raise ConfigError(f"invalid TOML: {msg}", file=str(file), line=int(m.group(1)) if m else None) from None
    applied = _env_overrides(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        section = loc[0] if loc else None
        key = loc[1] if len(loc) > 1 else None
        dotted = ".".join(loc[:2])
        msg = "unknown key" if err["type"] == "extra_forbid" or err["type"] == "extra_forbidden" else err["msg"]
        if dotted in applied:
            raise ConfigError(msg, file=f"{applied[dotted]} (environment)", key=dotted) from None
        line = _line_of(text, section, key) if text else None
        raise ConfigError(msg, file=source, line=line, key=dotted) from None
    settings._source = source
    return settings
