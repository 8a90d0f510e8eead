"""Source files: a site described as data (URLs, selectors, pagination, politeness), not code.

A source is one YAML file. Shipped ones live in crawler/sources/; a user's own
live in their config folder and override a shipped one of the same name. See
docs/sources.md for the format with a worked example.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.errors import SourceError
from matcher.marksfile import load_yaml, yaml_error, yaml_line

SHIPPED_DIR = Path(__file__).parent / "sources"

Kind = Literal["registry", "marketplace", "trademark"]
Mode = Literal["search", "feed", "browse"]
Format = Literal["html", "json", "jsonl", "csv", "jsonp", "xml", "xlsx", "xls"]
FILE_FORMATS = ("csv", "xlsx", "xls")
Method = Literal["GET", "POST"]

# `${NAME}`: a value read from the environment at request time (API keys, tokens), never stored in the file.
SECRET_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

REGISTRY_FIELDS = {
    "name", "uscc", "legal_rep", "capital", "established", "status", "authority", "address", "scope", "industry",
}  # fmt: skip
LISTING_FIELDS = {"title", "price", "currency", "seller", "seller_url", "url", "category", "images"}
# A trademark application as the gazette (商标公告) or a provider's trademark search gives it.
TRADEMARK_FIELDS = {
    "number", "text", "mark_type", "classes", "groups", "goods", "applicant", "applicant_address",
    "agent", "filed", "announcement", "announced", "status", "url",
}  # fmt: skip
FIELDS_BY_KIND = {"registry": REGISTRY_FIELDS, "marketplace": LISTING_FIELDS, "trademark": TRADEMARK_FIELDS}


class FieldSpec(BaseModel):
    """Where a field's value is: one of css / xpath (HTML, XML), json (a JMESPath, for JSON and files),
    column (a data file's column, by its header text), or value (a constant, e.g. a currency)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    css: str | None = None
    xpath: str | None = None
    json_: str | None = Field(default=None, alias="json")
    column: str | None = None
    value: str | None = None
    many: bool = False  # keep every match as a list (image URLs), instead of joining the text
    # ---- decoding (issue 22) ----
    scale: float | None = None  # multiply a number by this (prices in fen: 0.01)
    template: str | None = None  # the value put into a template: "https://item.jd.com/{}.html"

    @model_validator(mode="after")
    def _one(self) -> FieldSpec:
        if sum(x is not None for x in (self.css, self.xpath, self.json_, self.column, self.value)) != 1:
            raise ValueError("give exactly one of css, xpath, json, column, value")
        if self.template is not None and "{}" not in self.template:
            raise ValueError("template: put {} where the value goes")
        from crawler.validate import check_field

        check_field(self)
        return self


def _spec(v):
    """A bare string is a CSS selector, or XPath when it starts with '/' or '('."""
    if isinstance(v, str):
        return {"xpath": v} if v.startswith(("/", "(")) else {"css": v}
    return v


class ScriptSpec(BaseModel):
    """A JSON document inside an HTML page's <script>: after `var = ` (window.__INITIAL_STATE__) or a regex group."""

    model_config = ConfigDict(extra="forbid")

    var: str | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ScriptSpec:
        if (self.var is None) == (self.regex is None):
            raise ValueError("give exactly one of var, regex")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"bad regex: {exc}") from None
        return self


class ErrorSpec(BaseModel):
    """How a 200 response says "refused": a JSON status field and its good values, an object that
    exists only in an error (`exists: error_response`), or text markers."""

    model_config = ConfigDict(extra="forbid")

    exists: str | None = None  # JMESPath: refused when it finds a value (TOP/JD/PDD's error_response)
    code: str | None = None  # JMESPath of the provider's error code, quoted in the reason
    json_: str | None = Field(default=None, alias="json")  # JMESPath of the status (Status, error_code)
    ok: list[str] = Field(default_factory=list)  # values meaning results
    empty: list[str] = Field(default_factory=list)  # values meaning "no results" (not an error)
    message: str | None = None  # JMESPath of the provider's message, shown in the reason
    markers: list[str] = Field(default_factory=list)  # text in the body meaning refused

    @field_validator("ok", "empty", mode="before")
    @classmethod
    def _strs(cls, v):
        return [str(x) for x in v] if isinstance(v, list) else v

    @field_validator("json_", "message", "exists", "code")
    @classmethod
    def _jmes(cls, v: str | None) -> str | None:
        if v is not None:
            from crawler.validate import check_jmes

            check_jmes(v)
        return v


class SignSpec(BaseModel):
    """A request signer, computed fresh for every request (crawler.signers)."""

    model_config = ConfigDict(extra="allow")

    signer: str = Field(min_length=1)  # md5_token, hmac_sha256, or a dotted path to a callable
    key: str = ""  # usually "${APP_KEY}"
    secret: str = ""  # usually "${SECRET}"

    @model_validator(mode="after")
    def _open_platform(self) -> SignSpec:
        """The built-in open_platform signer's options are checked here: a typo is an error, not a bad sign."""
        if self.signer == "open_platform":
            from crawler.signers import check_open_platform

            check_open_platform(dict(self.model_extra or {}))
        return self


class PageSpec(BaseModel):
    """A results/listing page: where the rows are, what each row gives, where its detail page is."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1)
    method: Method = "GET"
    params: dict[str, str | dict | list] = Field(default_factory=dict)  # query parameters; a mapping is sent as JSON
    body: str | dict | None = None  # POST body template: a mapping (sent as JSON or form) or raw text
    body_format: Literal["json", "form"] = "json"  # form: a mapping's values that are mappings go as JSON text
    format: Format = "html"
    script: ScriptSpec | None = None  # HTML page whose data is JSON in a <script>: rows/fields are JMESPath
    rows: str | None = None  # CSS/XPath for HTML rows, JMESPath for a JSON array; none = one record per line
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    detail: FieldSpec | None = None  # the link to each row's detail page
    next: FieldSpec | None = None  # a next-page link; otherwise {page} is counted up while rows keep coming
    has_more: str | None = None  # JMESPath of a JSON flag saying more pages exist
    total: str | None = None  # JMESPath of the total number of records (with page_size: stop after the last)
    cursor: str | None = None  # JMESPath of the next page's token, put in {cursor}; none/empty = last page
    page_size: int = Field(default=0, ge=0)  # rows per page, for {offset} and `total`
    max_pages: int = Field(default=50, ge=1)
    # ---- decoders and data files (issue 22; docs/sources.md "Decoders", "Data files") ----
    namespaces: dict[str, str] = Field(default_factory=dict)  # format: xml, prefixes for XPath
    inner: InnerSpec | None = None  # the real document is a string inside this one (XML in a text node)
    files: FilesSpec | None = None  # this page is an index: follow its links to data files
    header_row: int = Field(default=1, ge=1)  # data files: the line/row holding the column names (1-based)
    skip_rows: int = Field(default=0, ge=0)  # data files: rows to skip right after the header (units, notes)
    sheet: str | int | None = None  # XLSX/XLS: the sheet name or 0-based index (default the first)
    max_rows: int = Field(default=200_000, ge=1)  # data files: rows read at most (the rest is noted too_large)
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)  # CSV separator (default: sniffed)
    published_by: str | None = None  # "18:00" or "1d 09:00": before then, no file for the day is ok (a note)
    timezone: str = "Asia/Shanghai"  # of published_by

    @field_validator("published_by")
    @classmethod
    def _when(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"(?:(\d+)d\s*)?([01]?\d|2[0-3]):([0-5]\d)", v.strip()):
            raise ValueError("'HH:MM', or 'Nd HH:MM' for N days after the file's day")
        return v

    @property
    def data_format(self) -> str:
        """`json` when rows and fields are JMESPath (JSON, JSONP, script-embedded JSON, JSON inside a string)."""
        if self.inner is not None:
            return "json" if self.inner.format == "json" else "xml"
        if self.script is not None or self.format in ("json", "jsonp"):
            return "json"
        return self.format

    @field_validator("fields", mode="before")
    @classmethod
    def _coerce_fields(cls, v):
        return {k: _spec(s) for k, s in (v or {}).items()} if isinstance(v, dict) else v

    @model_validator(mode="before")
    @classmethod
    def _xml_fields(cls, data):
        """In an XML document a bare string field is a (relative) XPath: `s:EntName/text()`."""
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            inner = data.get("inner") if isinstance(data.get("inner"), dict) else {}
            if data.get("format") == "xml" and inner.get("format", "xml" if not inner else "json") == "xml":
                data = {
                    **data,
                    "fields": {k: {"xpath": v} if isinstance(v, str) else v for k, v in data["fields"].items()},
                }
        return data

    @field_validator("has_more", "total", "cursor")
    @classmethod
    def _jmes(cls, v: str | None) -> str | None:
        if v is not None:
            from crawler.validate import check_jmes

            check_jmes(v)
        return v

    @model_validator(mode="after")
    def _rows_compile(self) -> PageSpec:
        if self.rows is not None:
            from crawler.validate import check_rows

            try:
                check_rows(self.rows, self.data_format)
            except ValueError as exc:
                raise ValueError(f"rows: {exc}") from None
        return self

    @field_validator("detail", "next", mode="before")
    @classmethod
    def _coerce_links(cls, v):
        return _spec(v)


class InnerSpec(BaseModel):
    """A document held as a string in the page: `{xpath: "//*[local-name()='string']/text()", format: xml}`
    (an .asmx reply) or `{json: data.result, format: json}` (JSON in a string field)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    xpath: str | None = None
    json_: str | None = Field(default=None, alias="json")
    format: Literal["json", "xml"] = "json"

    @model_validator(mode="after")
    def _one(self) -> InnerSpec:
        if (self.xpath is None) == (self.json_ is None):
            raise ValueError("give exactly one of xpath, json")
        from crawler.validate import check_field

        check_field(FieldSpec.model_validate({"xpath": self.xpath, "json": self.json_}))
        return self


class FilesSpec(BaseModel):
    """An index page linking the day's data files: which links, and which of them are the day's."""

    model_config = ConfigDict(extra="forbid")

    links: str = "a"  # CSS (or XPath) of the <a> elements to consider
    match: str = ""  # regex on each link's text + " " + href; {date:%Y%m%d} etc. put the day in
    formats: list[Literal["csv", "xlsx", "xls"]] = Field(default_factory=lambda: ["csv", "xlsx", "xls"])  # type: ignore[arg-type]
    max_files: int = Field(default=10, ge=1)

    @field_validator("links")
    @classmethod
    def _sel(cls, v: str) -> str:
        from crawler.validate import check_field

        check_field(FieldSpec.model_validate(_spec(v)))
        return v


class TokenSpec(BaseModel):
    """A token step: OAuth2 client credentials or a login exchange, answered with a token at a JMESPath.

    The token is fetched through the crawler before the first request that needs it, cached until it
    expires, refreshed once when an answer is HTTP 401, and never logged (crawler.tokens)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1)  # template with {base}
    method: Method = "POST"
    grant: Literal["client_credentials", "none"] = "client_credentials"
    client_id: str = ""  # "${CLIENT_ID}": sent by HTTP Basic (auth: basic) or in the form (auth: form)
    client_secret: str = ""
    auth: Literal["basic", "form"] = "basic"
    scope: str = ""
    params: dict[str, str] = Field(default_factory=dict)  # more form (POST) or query (GET) fields
    body: dict | None = None  # a JSON body instead of a form (a login exchange)
    token: str = "access_token"  # JMESPath of the token in the answer
    expires_in: str | None = "expires_in"  # JMESPath of its lifetime in seconds
    ttl: int = Field(default=3600, ge=1)  # lifetime when the answer gives none
    header: str = "Authorization"  # where it goes: a header...
    prefix: str = "Bearer "  # ...with this before it
    param: str | None = None  # or a query parameter (e.g. access_token)


class DetailSpec(BaseModel):
    """Each row's detail page: found by `pages.detail` or built by `url` from the row ({row.id})."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None  # template with {base} and {row.FIELD} (JMESPath on the row)
    format: Literal["html", "json"] = "html"
    script: ScriptSpec | None = None
    fields: dict[str, FieldSpec] = Field(default_factory=dict)

    @property
    def data_format(self) -> str:
        return "json" if self.script is not None else self.format

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


class IssueIndex(BaseModel):
    """A gazette's list of issues (期号 and announcement date), read before its pages.

    A feed source with `issues` scans, instead of calendar days, every issue announced in the scan's
    window (`--date`, `--days`): `{issue}` in pages.url/params/body is the issue's number, and each
    item without an `announced` field gets the issue's date.
    """

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1)  # template with {base}; a JSON document
    rows: str = Field(min_length=1)  # JMESPath of the array of issues
    number: str = Field(min_length=1)  # JMESPath (on an issue) of its number
    date: str = Field(min_length=1)  # JMESPath (on an issue) of its announcement date


# ---- lookup mode (issue 23): the follow-up's re-checks, run by crawler/spiders/lookup.py ----------------
# Kept in this one block (plus the `lookup` field of Source and its secrets in secret_refs) so that
# the rest of the format stays as it is.


class GoneSpec(BaseModel):
    """What "gone" (removed, delisted, unknown) looks like on this source: any one of these."""

    model_config = ConfigDict(extra="forbid")

    statuses: list[int] = Field(default_factory=lambda: [404, 410])  # HTTP statuses
    markers: list[str] = Field(default_factory=list)  # text on a 200 page: 宝贝不存在, 商品已下架
    redirect_to: list[str] = Field(default_factory=list)  # regexes on a redirect's Location (a search or home page)
    codes: list[str] = Field(default_factory=list)  # values of the error status (error.json) meaning "no such item"

    @field_validator("codes", mode="before")
    @classmethod
    def _strs(cls, v):
        return [str(x) for x in v] if isinstance(v, list) else v

    @field_validator("redirect_to")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for r in v:
            try:
                re.compile(r)
            except re.error as exc:
                raise ValueError(f"redirect_to {r!r}: not a regular expression: {exc}") from None
        return v


class LookupSpec(BaseModel):
    """One entity looked up again: by credit code (registries) or by the item itself (marketplaces).

    `url` and `params` are templates with {base}, {uscc}, {date}, {url} (the item's page), {key}
    (the item's identity) and {number} (a trademark application's number: ``by: number``, the
    opposition follow-up); `fields` read the answer like a detail page's; `found` (a selector)
    empty means the answer holds no such entity.
    """

    model_config = ConfigDict(extra="forbid")

    by: Literal["uscc", "item", "number"]
    url: str = Field(min_length=1)
    params: dict[str, str] = Field(default_factory=dict)
    format: Literal["html", "json"] = "html"
    script: ScriptSpec | None = None
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    found: FieldSpec | None = None
    error: ErrorSpec | None = None  # how this endpoint says "refused", when not as the source's pages do
    gone: GoneSpec = Field(default_factory=GoneSpec)

    @property
    def data_format(self) -> str:
        return "json" if self.script is not None else self.format

    @field_validator("fields", mode="before")
    @classmethod
    def _coerce_fields(cls, v):
        return {k: _spec(s) for k, s in (v or {}).items()} if isinstance(v, dict) else v

    @field_validator("found", mode="before")
    @classmethod
    def _coerce_found(cls, v):
        return _spec(v)

    @model_validator(mode="after")
    def _needs(self) -> LookupSpec:
        need = {"uscc": "{uscc}", "number": "{number}"}.get(self.by) or ("{url}", "{key}")
        text = self.url + str(self.params)
        if isinstance(need, str) and need not in text:
            what = "credit code" if self.by == "uscc" else "application number"
            raise ValueError(f"a lookup by {what} needs {need} in url or params")
        if isinstance(need, tuple) and not any(n in text for n in need):
            raise ValueError("a lookup by item needs {url} or {key} in url or params")
        return self


PageSpec.model_rebuild()


class Source(BaseModel):
    """One site, as read from its YAML file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Kind
    mode: Mode = "search"
    description: str = ""
    base_url: str = ""  # replaces {base} in URL templates; the scan may override it
    encoding: str | None = None  # force this encoding when the site declares none (e.g. gbk)
    query_encoding: str | None = None  # percent-encode the query and a form body in this codec (gbk, gb18030)
    keywords: list[str] = Field(default_factory=list)  # search terms to add to those from the marks
    pages: PageSpec
    detail: DetailSpec | None = None
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    headers: dict[str, str] = Field(default_factory=dict)
    user_agent: str | None = None
    proxy: str | None = None
    antibot: AntiBot = Field(default_factory=AntiBot)
    max_failures: int = Field(default=3, ge=1)  # consecutive failed requests (or unreachable tries) before it stops
    sign: SignSpec | None = None  # a signer for every request (crawler.signers)
    token: TokenSpec | None = None  # a token fetched first and sent with every request (crawler.tokens)
    error: ErrorSpec | None = None  # how a 200 body says "refused"
    render: Literal["http", "browser"] = "http"  # browser: headless Chromium through scrapy-playwright
    wait_for: str | None = None  # with render: browser, a CSS selector to wait for before reading the page
    max_terms: int | None = Field(default=None, ge=1)  # search terms per mark (paid APIs: few); see docs
    limits: Limits = Field(default_factory=Limits)
    allowed_hosts: list[str] = Field(default_factory=list)  # hosts besides those of its URLs it may fetch from
    identity: IdentitySpec | None = None  # a listing's stable id (default: its URL)
    lookup: LookupSpec | None = None  # the follow-up's re-check (issue 23; crawler/spiders/lookup.py)
    issues: IssueIndex | None = None  # a gazette's issues, for a feed of trademark announcements
    path: str = Field(default="", exclude=True)

    @field_validator("encoding", "query_encoding")
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
        allowed = FIELDS_BY_KIND[self.kind]
        specs = dict(self.pages.fields)
        if self.detail:
            specs.update(self.detail.fields)
        unknown = sorted(set(specs) - allowed)
        if unknown:
            raise ValueError(
                f"unknown field {unknown[0]!r} for a {self.kind} source (known: {', '.join(sorted(allowed))})"
            )
        if self.mode == "feed" and self.kind == "marketplace":
            raise ValueError("mode 'feed' is for registry and trademark sources")
        if self.issues is not None and self.mode != "feed":
            raise ValueError("issues (a gazette's list of issues) is for mode: feed")
        p = self.pages
        if self.mode == "search" and "{keyword}" not in p.url + str(p.params) + str(p.body or ""):
            raise ValueError("a search source's pages.url (or params, body) needs {keyword}")
        if (p.detail or (self.detail and self.detail.url)) and not self.detail:
            raise ValueError("pages.detail links to detail pages: add a detail section with their fields")
        if p.detail and self.detail and self.detail.url:
            raise ValueError("give the detail page by pages.detail (a link) or detail.url (a template), not both")
        if self.detail and not p.detail and not self.detail.url and self.detail.fields:
            raise ValueError("detail.fields need pages.detail (a link on the page) or detail.url (a template)")
        if p.body is not None and p.method != "POST":
            raise ValueError("pages.body is sent with method: POST")
        if p.script is not None and p.format != "html":
            raise ValueError("pages.script reads JSON from an HTML page: use it with format: html")
        if "{offset}" in p.url + str(p.params) + str(p.body or "") and not p.page_size:
            raise ValueError("{offset} needs pages.page_size")
        if self.wait_for and self.render != "browser":
            raise ValueError("wait_for is for render: browser")
        if self.pages.format in ("jsonl", *FILE_FORMATS) and self.pages.detail is None and not self.pages.fields:
            raise ValueError("a file source needs pages.fields mapping its columns")
        if p.files is not None and p.format not in ("html", *FILE_FORMATS):
            raise ValueError("pages.files follows an index page's links: format is html, or the files' format")
        if p.namespaces and p.data_format != "xml":
            raise ValueError("pages.namespaces is for format: xml")
        return self

    @property
    def spider(self) -> str:
        return self.kind

    def secret_refs(self) -> list[tuple[str, str]]:
        """Every `${NAME}` in the file, as (key, NAME): the environment variables the source reads."""
        out: list[tuple[str, str]] = []

        def walk(key: str, v) -> None:
            if isinstance(v, str):
                out.extend((key, m) for m in SECRET_RE.findall(v))
            elif isinstance(v, dict):
                for k, x in v.items():
                    walk(f"{key}.{k}", x)

        p = self.pages
        walk("pages.url", p.url)
        walk("pages.params", p.params)
        walk("pages.body", p.body)
        walk("headers", self.headers)
        if self.detail and self.detail.url:
            walk("detail.url", self.detail.url)
        if self.sign:
            walk("sign", self.sign.model_dump())
        if self.token:
            walk("token", self.token.model_dump())
        if self.proxy:
            walk("proxy", self.proxy)
        if self.lookup:
            walk("lookup.url", self.lookup.url)
            walk("lookup.params", self.lookup.params)
        return out

    def missing_secrets(self, env: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
        environ = os.environ if env is None else env
        return [(k, n) for k, n in self.secret_refs() if not environ.get(n)]

    def require_secrets(self) -> None:
        """SourceError (exit 2) naming the file, the key and the variable when one is not set."""
        missing = self.missing_secrets()
        if missing:
            key, name = missing[0]
            raise SourceError(f"environment variable {name} is not set", file=self.path or self.name, key=key)

    def term_budget(self) -> int:
        """Search terms per mark: `max_terms`, else few for a paid API (one with secrets), else the matcher's."""
        if self.max_terms:
            return self.max_terms
        return PAID_API_TERMS if self.secret_refs() else FREE_SOURCE_TERMS


PAID_API_TERMS = 8
FREE_SOURCE_TERMS = 30  # the ranked list's length for a keyless source (matcher.variants.ranked_terms)


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
        msg = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]).removeprefix("Value error, ")
        loc, msg = _sub_key(loc, msg)
        line = yaml_line(root, loc)
        key = ".".join(str(p) for p in loc) or "(top)"
        raise SourceError(msg, file=path, line=line or 1, key=key) from None
    src.path = path
    return src


def _sub_key(loc: tuple, msg: str) -> tuple[tuple, str]:
    """A model check's "rows: …" message names a key inside its section: report that key (pages.rows)."""
    m = re.match(r"([a-z_]+): (.*)", msg, re.S)
    if not m:
        return loc, msg
    model: type[BaseModel] | None = Source
    for part in loc:
        info = model.model_fields.get(str(part)) if model is not None else None
        ann = getattr(info, "annotation", None)
        model = next(
            (a for a in (ann, *getattr(ann, "__args__", ())) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
    if model is not None and m.group(1) in model.model_fields:
        rest = m.group(2)
        return (*loc, m.group(1)), rest.removeprefix(f"{m.group(1)} ")
    return loc, msg


def load_source_file(path: str | Path) -> Source:
    p = Path(path)
    try:
        return parse_source(p.read_text(encoding="utf-8"), str(p))
    except FileNotFoundError:
        raise SourceError("source file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read source file: {exc}", file=str(p)) from None


def source_dirs(extra: Sequence[str | Path] | None = None) -> list[Path]:
    """Shipped sources, then ~/.config/markwatch/sources/, then the user's folders (later ones win)."""
    return [SHIPPED_DIR, user_sources_dir(), *(Path(d) for d in (extra or []))]


def user_sources_dir() -> Path:
    """The user's own source files: $XDG_CONFIG_HOME/markwatch/sources (~/.config/markwatch/sources)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "markwatch" / "sources"


def scan_source_files(
    extra_dirs: Sequence[str | Path] | None = None,
) -> tuple[dict[str, Source], dict[str, SourceError]]:
    """Every source file: the valid ones by name, and the broken ones by name (else file stem) with their error.

    One broken file does not hide the others: it is reported only when it is chosen (or listed).
    """
    good: dict[str, Source] = {}
    broken: dict[str, SourceError] = {}
    for d in source_dirs(extra_dirs):
        if not d.is_dir():
            continue
        for f in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
            try:
                src = load_source_file(f)
            except SourceError as exc:
                name = _declared_name(f) or f.stem
                broken[name] = exc
                good.pop(name, None)
                continue
            good[src.name] = src
            broken.pop(src.name, None)
    return good, broken


def _declared_name(path: Path) -> str | None:
    """The `name:` a broken file means to have, when it can be read at all."""
    try:
        m = re.search(r"^name:\s*[\"']?([A-Za-z0-9_.-]+)", path.read_text(encoding="utf-8")[:65536], re.M)
    except (OSError, UnicodeDecodeError):
        return None
    return m.group(1) if m else None


def available_sources(extra_dirs: Sequence[str | Path] | None = None) -> dict[str, Source]:
    """The valid sources by name (broken files are left out: see scan_source_files)."""
    return scan_source_files(extra_dirs)[0]


def find_source(name_or_path: str, extra_dirs: Sequence[str | Path] | None = None) -> Source:
    """A source by its name, or by the path of its file; a broken file's own error when it is the one named."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return load_source_file(name_or_path)
    found, broken = scan_source_files(extra_dirs)
    if name_or_path in broken:
        raise broken[name_or_path]
    if name_or_path not in found:
        raise SourceError(f"unknown source {name_or_path!r} (available: {', '.join(sorted(found)) or 'none'})")
    return found[name_or_path]
