"""Source files: a site described as data (URLs, selectors, pagination, politeness), not code.

A source is one YAML file. Shipped ones live in crawler/sources/; a user's own
live in their config folder and override a shipped one of the same name. See
docs/sources.md for the format with a worked example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.errors import SourceError
from matcher.marksfile import load_yaml, yaml_error, yaml_line

SHIPPED_DIR = Path(__file__).parent / "sources"

Kind = Literal["registry", "marketplace"]
Mode = Literal["search", "feed", "browse"]
Format = Literal["html", "json", "jsonl", "csv"]

REGISTRY_FIELDS = {"name", "uscc", "legal_rep", "capital", "established", "status", "authority", "address", "scope"}
LISTING_FIELDS = {"title", "price", "currency", "seller", "seller_url", "url", "category", "images"}


class FieldSpec(BaseModel):
    """Where a field's value is: one of css / xpath (HTML) or json (a JMESPath, for JSON and files)."""

    model_config = ConfigDict(extra="forbid")

    css: str | None = None
    xpath: str | None = None
    json_: str | None = Field(default=None, alias="json")
    many: bool = False  # keep every match as a list (image URLs), instead of joining the text

    @model_validator(mode="after")
    def _one(self) -> FieldSpec:
        if sum(x is not None for x in (self.css, self.xpath, self.json_)) != 1:
            raise ValueError("give exactly one of css, xpath, json")
        return self


def _spec(v):
    """A bare string is a CSS selector, or XPath when it starts with '/' or '('."""
    if isinstance(v, str):
        return {"xpath": v} if v.startswith(("/", "(")) else {"css": v}
    return v


class PageSpec(BaseModel):
    """A results/listing page: where the rows are, what each row gives, where its detail page is."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1)
    format: Format = "html"
    rows: str | None = None  # CSS/XPath for HTML rows, JMESPath for a JSON array; none = one record per line
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    detail: FieldSpec | None = None  # the link to each row's detail page
    next: FieldSpec | None = None  # a next-page link; otherwise {page} is counted up while rows keep coming
    has_more: str | None = None  # JMESPath of a JSON flag saying more pages exist
    max_pages: int = Field(default=50, ge=1)

    @field_validator("fields", mode="before")
    @classmethod
    def _coerce_fields(cls, v):
        return {k: _spec(s) for k, s in (v or {}).items()} if isinstance(v, dict) else v

    @field_validator("detail", "next", mode="before")
    @classmethod
    def _coerce_links(cls, v):
        return _spec(v)


class DetailSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldSpec] = Field(default_factory=dict)

    @field_validator("fields", mode="before")
    @classmethod
    def _coerce_fields(cls, v):
        return {k: _spec(s) for k, s in (v or {}).items()} if isinstance(v, dict) else v


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay: float = Field(default=1.0, ge=0)  # seconds between requests to the site
    concurrency: int = Field(default=2, ge=1)  # requests in flight to the site


class AntiBot(BaseModel):
    """How to tell that the site stopped serving us: a captcha page or a blocking status."""

    model_config = ConfigDict(extra="forbid")

    markers: list[str] = Field(default_factory=lambda: ["安全验证", "验证码", "captcha"])
    statuses: list[int] = Field(default_factory=lambda: [403, 429])
    url_contains: list[str] = Field(default_factory=lambda: ["/captcha", "verify"])


class Limits(BaseModel):
    """Per-source bounds for hostile sites (none set = the crawler's defaults in crawler/settings.py)."""

    model_config = ConfigDict(extra="forbid")

    max_size: int | None = Field(default=None, ge=1024)  # bytes per response, also after decompression
    warn_size: int | None = Field(default=None, ge=1024)
    timeout: float | None = Field(default=None, gt=0)  # seconds per request
    retries: int | None = Field(default=None, ge=0, le=10)


class IdentitySpec(BaseModel):
    """What makes a listing the same listing wherever it was fetched from: a stable id, not host:port.

    `json`/`css`/`xpath` read the id from the row; `url` is a regular expression on the item's URL
    whose first group (or whole match) is the id.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    css: str | None = None
    xpath: str | None = None
    json_: str | None = Field(default=None, alias="json")
    url: str | None = None

    @model_validator(mode="after")
    def _one(self) -> IdentitySpec:
        if sum(x is not None for x in (self.css, self.xpath, self.json_, self.url)) != 1:
            raise ValueError("give exactly one of json, css, xpath, url")
        if self.url is not None:
            import re

            try:
                re.compile(self.url)
            except re.error as exc:
                raise ValueError(f"url: not a regular expression: {exc}") from None
        return self

    def field(self) -> FieldSpec | None:
        """The row selector, when the id is read from the row."""
        if self.url is not None:
            return None
        return FieldSpec.model_validate({"css": self.css, "xpath": self.xpath, "json": self.json_})


class Source(BaseModel):
    """One site, as read from its YAML file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Kind
    mode: Mode = "search"
    description: str = ""
    base_url: str = ""  # replaces {base} in URL templates; the scan may override it
    encoding: str | None = None  # force this encoding when the site declares none (e.g. gbk)
    keywords: list[str] = Field(default_factory=list)  # search terms to add to those from the marks
    pages: PageSpec
    detail: DetailSpec | None = None
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    headers: dict[str, str] = Field(default_factory=dict)
    user_agent: str | None = None
    proxy: str | None = None
    antibot: AntiBot = Field(default_factory=AntiBot)
    max_failures: int = Field(default=8, ge=1)  # consecutive failed requests before the source is degraded
    limits: Limits = Field(default_factory=Limits)
    allowed_hosts: list[str] = Field(default_factory=list)  # hosts besides those of its URLs it may fetch from
    identity: IdentitySpec | None = None  # a listing's stable id (default: its URL)
    path: str = Field(default="", exclude=True)

    @field_validator("encoding")
    @classmethod
    def _codec(cls, v: str | None) -> str | None:
        if v:
            import codecs

            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown encoding {v!r}") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Source:
        allowed = REGISTRY_FIELDS if self.kind == "registry" else LISTING_FIELDS
        specs = dict(self.pages.fields)
        if self.detail:
            specs.update(self.detail.fields)
        unknown = sorted(set(specs) - allowed)
        if unknown:
            raise ValueError(
                f"unknown field {unknown[0]!r} for a {self.kind} source (known: {', '.join(sorted(allowed))})"
            )
        if self.mode == "feed" and self.kind != "registry":
            raise ValueError("mode 'feed' is for registry sources")
        if self.mode == "search" and "{keyword}" not in self.pages.url:
            raise ValueError("a search source's pages.url needs {keyword}")
        if self.pages.detail and not self.detail:
            raise ValueError("pages.detail links to detail pages: add a detail section with their fields")
        if self.pages.format in ("jsonl", "csv") and self.pages.detail is None and not self.pages.fields:
            raise ValueError("a file source needs pages.fields mapping its columns")
        return self

    @property
    def spider(self) -> str:
        return "registry" if self.kind == "registry" else "marketplace"


def parse_source(text: str, path: str = "<source>") -> Source:
    """Validate one source file's text; errors name the file, line and key (SourceError)."""
    try:
        root, data = load_yaml(text)
    except yaml.YAMLError as exc:
        line, _ = yaml_error(exc)
        raise SourceError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", file=path, line=line) from None
    if not isinstance(data, dict):
        raise SourceError("a source file is a mapping (name, kind, pages, ...)", file=path, line=1)
    try:
        src = Source.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if p != "json")
        loc = tuple(err["loc"]) if not loc else loc
        line = yaml_line(root, loc)
        key = ".".join(str(p) for p in loc) or "(top)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise SourceError(msg, file=path, line=line or 1, key=key) from None
    src.path = path
    return src


def load_source_file(path: str | Path) -> Source:
    p = Path(path)
    try:
        return parse_source(p.read_text(encoding="utf-8"), str(p))
    except FileNotFoundError:
        raise SourceError("source file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read source file: {exc}", file=str(p)) from None


def source_dirs(extra: list[str | Path] | None = None) -> list[Path]:
    """Shipped sources first, then the user's folders (later ones win on a name clash)."""
    return [SHIPPED_DIR, *(Path(d) for d in (extra or []))]


def available_sources(extra_dirs: list[str | Path] | None = None) -> dict[str, Source]:
    out: dict[str, Source] = {}
    for d in source_dirs(extra_dirs):
        if not d.is_dir():
            continue
        for f in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
            src = load_source_file(f)
            out[src.name] = src
    return out


def find_source(name_or_path: str, extra_dirs: list[str | Path] | None = None) -> Source:
    """A source by its name, or by the path of its file."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return load_source_file(name_or_path)
    found = available_sources(extra_dirs)
    if name_or_path not in found:
        raise SourceError(f"unknown source {name_or_path!r} (available: {', '.join(sorted(found)) or 'none'})")
    return found[name_or_path]
