"""markwatch.toml: one pydantic model per section, found and validated in one place.

Where the file comes from: ``--config PATH``, else ``$MARKWATCH_CONFIG``, else ./markwatch.toml
(a missing default file means all defaults; a missing named file is an error). Every key of
every section can be overridden by ``MARKWATCH_<SECTION>_<KEY>`` (read by pydantic-settings; list
values comma-separated), e.g. ``MARKWATCH_STORE_URLS=http://127.0.0.1:9200``. Any error is a
``ConfigError`` naming file, line and key (exit code 2).

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
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

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
    grace_seconds: float = Field(default=30.0, ge=0, le=600)  # after SIGTERM/SIGINT or the budget: then at once
    max_rows_per_page: int = Field(default=50_000, ge=1)  # entries read of any one array of a page; rest counted
    max_pages_per_host: int = Field(default=20_000, ge=0)  # crawl-trap guard per source and host (0: off)
    flood_factor: float = Field(default=10.0, ge=1)  # new alerts over this × the usual count are held …
    flood_min: int = Field(default=100, ge=0)  # … and over this many (0: never hold a flood)
    log_max_mb: float = Field(default=20.0, gt=0)  # scan.log is rotated at this size …
    log_backups: int = Field(default=3, ge=0, le=50)  # … keeping this many old files
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


class Applicant(BaseModel):
    """[cases.applicant]: who applies (the rights holder or its agent), shown on every dossier and letter."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""  # 申请人 (the rights holder); default: the mark's owner
    credit_code: str = ""  # 统一社会信用代码
    address: str = ""
    agent: str = ""  # 委托代理人 (law firm or agent)
    contact: str = ""  # 联系人及电话 / email


class PlatformSettings(BaseModel):
    """[cases.platform_rules."<source>"]: how a platform takes complaints (links per request)."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""  # the IP-protection channel (default: [cases] platforms)
    max_links: int = Field(default=300, ge=1, le=10000)  # Alibaba IPP: 300 links per complaint


class CasesSettings(BaseModel):
    """[cases]: deadlines, the applicant, where listing complaints go, which sources the follow-up asks."""

    model_config = ConfigDict(extra="forbid")

    deadline_days: int = Field(default=30, ge=0, le=366)  # default deadline after filing a name dispute
    platforms: dict[str, str] = Field(default_factory=dict)  # source name -> the platform's IP-protection channel
    platform_rules: dict[str, PlatformSettings] = Field(default_factory=dict)  # source name -> complaint limits
    # Sources whose `lookup:` sections the follow-up may use, in order (empty: every source that has one).
    lookup_sources: list[str] = Field(default_factory=list)
    followup: bool = True  # re-check filed cases at the end of each scan
    chromium: str = "chromium"  # the headless browser that renders dossiers and screenshots
    timeout: float = Field(default=20.0, gt=0, le=300)
    applicant: Applicant = Field(default_factory=Applicant)


class EvidenceSettings(BaseModel):
    """[evidence]: trusted timestamps (RFC 3161) on captures and exported dossiers."""

    model_config = ConfigDict(extra="forbid")

    tsa_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")  # none: hash-only evidence
    tsa_ca_file: Path | None = None  # the TSA's root certificate(s), PEM, to verify its tokens
    stamp_captures: bool = True  # stamp each new capture after a scan (when tsa_url is set)


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
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)

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


class _Environment(EnvSettingsSource):
    """``MARKWATCH_<SECTION>_<KEY>`` as pydantic-settings reads it, with our two spellings of values.

    pydantic-settings finds the variables (prefix, any case, the first ``_`` after the section
    splits section from key, so ``MARKWATCH_SCHEDULE_MISFIRE_GRACE_TIME`` is
    ``schedule.misfire_grace_time``); lists are comma-separated rather than JSON, tables are JSON.
    """

    def decode_complex_value(self, field_name: str, field: FieldInfo | None, value: Any) -> Any:
        if field is not None and _is_list(field.annotation):
            return value  # split in _env_overrides, where an empty value is an empty list too
        try:
            return json.loads(value)
        except ValueError:
            raise _NotJSON(field_name) from None


class _NotJSON(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _is_list(annotation: Any) -> bool:
    return "list" in str(annotation)


class _EnvironmentShape(BaseSettings):
    """What pydantic-settings needs to read the environment: the prefix and the nesting rule."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="_", env_nested_max_split=1, case_sensitive=False
    )


def _env_overrides(data: dict[str, Any]) -> dict[str, str]:
    """Apply MARKWATCH_<SECTION>_<KEY> onto data; return {"section.key": env var name} applied.

    Only the sections' own keys count: other ``MARKWATCH_*`` variables (``MARKWATCH_ES_URL``,
    ``MARKWATCH_SCHEDULE_DEBUG``…) belong to the tests and tools that read them.
    """
    source = _Environment(_EnvironmentShape)
    applied = {}
    for section, field in Settings.model_fields.items():
        model = _sections()[section]
        var = f"{ENV_PREFIX}{section.upper()}"
        try:
            values = source.explode_env_vars(section, field, source.env_vars)
        except _NotJSON as exc:
            raise ConfigError(
                "not a JSON object", file=f"{var}_{exc.key.upper()} (environment)", key=f"{section}.{exc.key}"
            ) from None
        for key, value in values.items():
            f = model.model_fields.get(key)
            if f is None:
                continue
            if _is_list(f.annotation) and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            sect = data.setdefault(section, {})
            if not isinstance(sect, dict):
                raise ConfigError(f"section [{section}] in the file is not a table", file=f"{var}_{key.upper()}")
            sect[key] = value
            applied[f"{section}.{key}"] = f"{var}_{key.upper()}"
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
