"""Secrets and signatures, applied at the last moment before a request goes out, and removed after.

A source file names its secrets as `${NAME}` (read from the environment) and may name a signer
(`sign: {signer: md5_token, key: "${QCC_APP_KEY}", secret: "${QCC_SECRET_KEY}"}`). The spider
builds requests from the templates with the `${NAME}` placeholders still in them, so what is
queued (JOBDIR), fingerprinted, logged and stored as evidence never holds a secret.
`SecretsMiddleware`, the downloader middleware closest to the network, substitutes the values and
signs each request as it is sent (a retry is signed again, so a timestamp is never stale), then
puts the placeholders back on the request and the response.

A signer is a callable `(sign, request) -> None` that adds headers or query parameters to a
`SignedRequest`. The built-ins are `md5_token` (企查查: headers `Token` = upper(MD5(key + Timespan +
secret)) and `Timespan`) and `hmac_sha256` (marketplace open platforms: `app_key`, `timestamp`
and `sign` = upper(HMAC-SHA256(secret, k1v1k2v2… over the sorted query parameters))). `open_platform` is the
whole family the Chinese open platforms use (secret-wrapped md5, HMAC-MD5, HMAC-SHA256 over the
sorted query and form parameters, with their timestamp formats and nonces), configured in the file.
Any other is named by dotted path, `mypackage.signing:sign_request`.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from scrapy.http import Request, Response

from crawler.errors import SourceError

# ${NAME} as written, and as it looks once Scrapy has made the URL safe ($%7BNAME%7D).
PLACEHOLDER = re.compile(r"\$(?:\{|%7[Bb])([A-Za-z_][A-Za-z0-9_]*)(?:\}|%7[Dd])")
REDACTED = "***"
TEMPLATE_META = "_markwatch_template"


def expand(text: str, env: Mapping[str, str] | None = None, *, quoted: bool = False) -> str:
    """Replace each `${NAME}` by the environment's value (URL-quoted when *quoted*); unset stays as is."""
    environ = os.environ if env is None else env

    def sub(m: re.Match) -> str:
        v = environ.get(m.group(1))
        if v is None:
            return m.group(0)
        return quote(v, safe="") if quoted else v

    return PLACEHOLDER.sub(sub, text)


def secret_values(names: set[str], env: Mapping[str, str] | None = None) -> list[str]:
    """The values behind *names* (longest first, so a redaction never leaves a tail of one)."""
    environ = os.environ if env is None else env
    vals = {environ[n] for n in names if environ.get(n)}
    vals |= {quote(v, safe="") for v in vals}
    return sorted((v for v in vals if len(v) >= 3), key=len, reverse=True)


def redact(text: str, values: list[str]) -> str:
    for v in values:
        if v in text:
            text = text.replace(v, REDACTED)
    return text


@dataclass
class SignedRequest:
    """What a signer sees and may add to: the request as it will be sent."""

    method: str
    url: str  # without the query
    params: list[tuple[str, str]]  # the query, in order
    headers: dict[str, str] = field(default_factory=dict)  # headers to add
    body: bytes = b""
    now: float = 0.0
    form: bool = False  # the body is application/x-www-form-urlencoded (a signer may sign and extend it)
    encoding: str = "utf-8"  # how the query and a form body are percent-encoded (`query_encoding`)

    def full_url(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(query=urlencode(self.params, encoding=self.encoding)))


Signer = Callable[[dict[str, Any], SignedRequest], None]


def md5_token(sign: dict[str, Any], req: SignedRequest) -> None:
    """企查查 open API: Token = upper(MD5(appkey + Timespan + secret)), Timespan = Unix seconds."""
    ts = str(int(req.now))
    token = hashlib.md5((sign["key"] + ts + sign["secret"]).encode("utf-8")).hexdigest().upper()
    req.headers[sign.get("token_header", "Token")] = token
    req.headers[sign.get("time_header", "Timespan")] = ts


def hmac_sha256(sign: dict[str, Any], req: SignedRequest) -> None:
    """Open-platform style: app_key and timestamp (ms) added, then sign = upper(HMAC-SHA256) of the
    sorted parameters concatenated as k1v1k2v2…, keyed by the secret."""
    key_param = sign.get("key_param", "app_key")
    ts_param = sign.get("timestamp_param", "timestamp")
    sign_param = sign.get("sign_param", "sign")
    ts = str(int(req.now * 1000)) if sign.get("timestamp_unit", "ms") == "ms" else str(int(req.now))
    params = [(k, v) for k, v in req.params if k not in (key_param, ts_param, sign_param)]
    params += [(key_param, sign["key"]), (ts_param, ts)]
    if sign.get("sign_method_param"):
        params.append((sign["sign_method_param"], "hmac-sha256"))
    plain = "".join(k + v for k, v in sorted(params))
    digest = hmac.new(sign["secret"].encode("utf-8"), plain.encode("utf-8"), hashlib.sha256).hexdigest().upper()
    req.params = [*params, (sign_param, digest)]


def open_platform(sign: dict[str, Any], req: SignedRequest) -> None:
    """The open-platform family (淘宝 TOP, 京东联盟, 多多进宝, and the many APIs modelled on them).

    Adds the system parameters (`key_param` = key, `timestamp_param` = the time in `timestamp_format`,
    `nonce_param`, `sign_method_param`, the fixed `extra` ones), then signs the sorted parameters of the
    query *and* a form body, concatenated as k1v1k2v2… (`join`/`pair` to change that), by `method`:
    `md5` = md5(secret + plain + secret) (`wrap: none|secret|both`), `hmac-md5`, `hmac-sha256`, `sha256`.
    The sign goes to `sign_to` (query, body or header) as upper or lower hex (`case`). See docs/sources.md.
    """
    opts = OpenPlatformOptions.of(sign)
    form = _form_params(req)
    in_body = opts.params_to == "body" and form is not None
    system: list[tuple[str, str]] = []
    if opts.key_param:
        system.append((opts.key_param, sign.get("key", "")))
    if opts.timestamp_param:
        system.append((opts.timestamp_param, timestamp(req.now, opts.timestamp_format, opts.timezone)))
    if opts.nonce_param:
        system.append((opts.nonce_param, nonce(opts.nonce_length)))
    if opts.sign_method_param:
        system.append((opts.sign_method_param, opts.sign_method_value or opts.method))
    system += [(k, str(v)) for k, v in opts.extra.items()]
    names = {k for k, _ in system} | {opts.sign_param}
    query = [(k, v) for k, v in req.params if k not in names]
    body = [(k, v) for k, v in (form or []) if k not in names]
    if in_body:
        body += system
    else:
        query += system
    signed = [*query, *body] if form is not None and not opts.query_only else query
    if opts.only:
        signed = [(k, v) for k, v in signed if k in opts.only]
    signed = [(k, v) for k, v in signed if k not in opts.exclude]
    if opts.skip_empty:
        signed = [(k, v) for k, v in signed if v != ""]
    plain = opts.join.join(f"{k}{opts.pair}{v}" for k, v in sorted(signed, key=lambda kv: kv[0]))
    if opts.sign_body == "raw" and form is None and req.body:  # a JSON/XML body signed as the text it is
        plain += req.body.decode(req.encoding, "replace")
    secret = sign.get("secret", "")
    if opts.prefix is not None or opts.suffix is not None:
        path = urlsplit(req.url).path
        fill = {"secret": secret, "path": path, "method": req.method.upper()}
        plain = _fill(opts.prefix or "", fill) + plain + _fill(opts.suffix or "", fill)
        digest = _digest(opts.model_copy_wrap("none"), secret, plain)
    else:
        digest = _digest(opts, secret, plain)
    digest = digest.upper() if opts.case == "upper" else digest.lower()
    if opts.sign_to == "header":
        req.headers[opts.sign_param] = digest
    elif opts.sign_to == "body" and form is not None:
        body.append((opts.sign_param, digest))
    else:
        query.append((opts.sign_param, digest))
    req.params = query
    if form is not None:
        req.body = urlencode(body, encoding=req.encoding).encode("ascii")


@dataclass
class OpenPlatformOptions:
    """The `sign:` options of `open_platform`, with the TOP/JD/PDD defaults."""

    method: str = "md5"  # md5, hmac-md5, hmac-sha256, sha256
    wrap: str = "both"  # md5/sha256 only: secret before and after the text (both), before only (secret), none
    case: str = "upper"
    key_param: str = "app_key"
    timestamp_param: str = "timestamp"
    timestamp_format: str = "ms"  # s, ms, or a strftime pattern like "%Y-%m-%d %H:%M:%S"
    timezone: str = "Asia/Shanghai"  # for a strftime timestamp
    sign_param: str = "sign"
    sign_to: str = "query"  # query, body (a form body), header
    params_to: str = "query"  # where the system parameters go: query, or body (a form body)
    sign_method_param: str = ""  # e.g. sign_method: the value is `sign_method_value`, else `method`
    sign_method_value: str = ""
    nonce_param: str = ""
    nonce_length: int = 16
    extra: dict[str, Any] = field(default_factory=dict)  # fixed system parameters: method, v, format…
    only: list[str] = field(default_factory=list)  # sign only these parameters
    exclude: list[str] = field(default_factory=list)  # never sign these
    skip_empty: bool = True
    query_only: bool = False
    join: str = ""
    pair: str = ""
    prefix: str | None = None  # text before the signed parameters: "{secret}", "{path}" (the URL path), "{method}"
    suffix: str | None = None  # text after them: "{secret}", "&key={secret}"; either one replaces `wrap`
    sign_body: str = "params"  # params: a form body's fields are signed; raw: a non-form body's text is appended

    def model_copy_wrap(self, wrap: str) -> OpenPlatformOptions:
        from dataclasses import replace

        return replace(self, wrap=wrap)

    @classmethod
    def of(cls, sign: dict[str, Any]) -> OpenPlatformOptions:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in sign.items() if k in known and v is not None})


OPEN_PLATFORM_METHODS = ("md5", "hmac-md5", "hmac-sha256", "sha256")


_CHOICES = {
    "method": OPEN_PLATFORM_METHODS,
    "wrap": ("both", "secret", "none"),
    "case": ("upper", "lower"),
    "sign_to": ("query", "body", "header"),
    "params_to": ("query", "body"),
    "sign_body": ("params", "raw"),
}


def check_open_platform(options: dict[str, Any]) -> None:
    """ValueError naming the option when `sign:` has an unknown option or value for open_platform."""
    known = set(OpenPlatformOptions.__dataclass_fields__) | {"clock_offset"}
    for k, v in options.items():
        if k not in known:
            raise ValueError(f"open_platform has no option {k!r} (options: {', '.join(sorted(known))})")
        if k in _CHOICES and v not in _CHOICES[k]:
            raise ValueError(f"{k} {v!r}: one of {', '.join(_CHOICES[k])}")
    fmt = str(options.get("timestamp_format", "ms"))
    if fmt not in ("s", "ms") and "%" not in fmt:
        raise ValueError(f"timestamp_format {fmt!r}: s, ms, or a strftime pattern such as '%Y-%m-%d %H:%M:%S'")
    if "timezone" in options:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(str(options["timezone"]))
        except Exception:  # noqa: BLE001 - ZoneInfo raises several types for a bad name
            raise ValueError(f"timezone {options['timezone']!r}: not a time zone name (Asia/Shanghai)") from None


def _fill(template: str, values: dict[str, str]) -> str:
    out = template
    for k, v in values.items():
        out = out.replace("{" + k + "}", v)
    return out


def _digest(opts: OpenPlatformOptions, secret: str, plain: str) -> str:
    if opts.method == "hmac-md5":
        return hmac.new(secret.encode("utf-8"), plain.encode("utf-8"), hashlib.md5).hexdigest()
    if opts.method == "hmac-sha256":
        return hmac.new(secret.encode("utf-8"), plain.encode("utf-8"), hashlib.sha256).hexdigest()
    algo = hashlib.sha256 if opts.method == "sha256" else hashlib.md5
    before = secret if opts.wrap in ("both", "secret") else ""
    after = secret if opts.wrap == "both" else ""
    return algo((before + plain + after).encode("utf-8")).hexdigest()


def timestamp(now: float, fmt: str, zone: str = "Asia/Shanghai") -> str:
    """Unix seconds (`s`), milliseconds (`ms`), or a strftime pattern in the named time zone."""
    if fmt == "s":
        return str(int(now))
    if fmt == "ms":
        return str(int(now * 1000))
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.fromtimestamp(now, ZoneInfo(zone)).strftime(fmt)


def nonce(length: int = 16) -> str:
    import secrets

    return secrets.token_hex((length + 1) // 2)[:length]


def _form_params(req: SignedRequest) -> list[tuple[str, str]] | None:
    """The form body's parameters (decoded as the source encodes them), or None when the body is not a form."""
    if not req.form:
        return None
    return parse_qsl(req.body.decode("ascii", "replace"), keep_blank_values=True, encoding=req.encoding)


BUILTIN: dict[str, Signer] = {"md5_token": md5_token, "hmac_sha256": hmac_sha256, "open_platform": open_platform}


def signer(name: str, *, file: str = "", key: str = "sign.signer") -> Signer:
    """A built-in signer by name, or a callable by dotted path (`pkg.mod:func` or `pkg.mod.func`)."""
    if name in BUILTIN:
        return BUILTIN[name]
    mod, sep, attr = name.partition(":")
    if not sep:
        mod, _, attr = name.rpartition(".")
    try:
        fn = getattr(importlib.import_module(mod), attr, None) if mod and attr else None
    except ImportError as exc:
        raise SourceError(f"signer {name!r} cannot be imported: {exc}", file=file, key=key) from None
    if not callable(fn):
        raise SourceError(
            f"unknown signer {name!r} (built in: {', '.join(BUILTIN)}; or a dotted path to a callable)",
            file=file,
            key=key,
        )
    return fn


class _Redact(logging.Filter):
    """Takes secret values out of every log line (an exception's message may quote the real URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if self.values:
            try:
                msg = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string is not ours to fix here
                return True
            clean = redact(msg, self.values)
            if clean != msg:
                record.msg, record.args = clean, ()
            if record.exc_text:
                record.exc_text = redact(record.exc_text, self.values)
        return True


LOG_FILTER = _Redact()


def guard_logs(values: list[str]) -> None:
    """Redact *values* from every log line from now on (the root handlers Scrapy installed)."""
    LOG_FILTER.values = sorted(set(LOG_FILTER.values) | set(values), key=len, reverse=True)
    root = logging.getLogger()
    for h in root.handlers:
        if LOG_FILTER not in h.filters:
            h.addFilter(LOG_FILTER)


class SecretsMiddleware:
    """Fill in `${NAME}` and sign each request just before it is sent; put the placeholders back after."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _source(self):
        return getattr(self.crawler.spider, "source", None)

    def process_request(self, request: Request, spider=None):
        src = self._source()
        if src is None or TEMPLATE_META in request.meta:
            return None
        url, body = request.url, request.body
        touched = {k: v for k, v in request.headers.items() if any(b"${" in x for x in v)}
        if src.sign is None and not touched and not PLACEHOLDER.search(url) and b"${" not in body:
            _record_sent(request, self.crawler.spider)
            return None
        request.meta[TEMPLATE_META] = (url, body, {k: list(v) for k, v in touched.items()})
        real_url = expand(url, quoted=True)
        real_body = _expand_body(request, body) if body else body
        for k, vals in touched.items():
            request.headers[k] = [expand(v.decode("utf-8")).encode("utf-8") for v in vals]
        if src.sign is not None and not request.meta.get("markwatch_token_step"):
            spec = {k: expand(v) if isinstance(v, str) else v for k, v in src.sign.model_dump().items()}
            parts = urlsplit(real_url)
            enc = getattr(src, "query_encoding", None) or "utf-8"
            req = SignedRequest(
                method=request.method,
                url=urlunsplit(parts._replace(query="")),
                params=parse_qsl(parts.query, keep_blank_values=True, encoding=enc),
                body=real_body,
                now=time.time() + float(spec.get("clock_offset") or 0),
                form=_is_form(request),
                encoding=enc,
            )
            signer(src.sign.signer, file=src.path)(spec, req)
            real_url = req.full_url()
            real_body = req.body
            for hname, hvalue in req.headers.items():
                if hname.encode() not in touched:
                    request.meta[TEMPLATE_META][2].setdefault(hname.encode(), None)
                request.headers[hname] = hvalue
        request._set_url(real_url)
        request._set_body(real_body)
        _record_sent(request, self.crawler.spider)
        return None

    def _restore(self, request: Request) -> str | None:
        tpl = request.meta.pop(TEMPLATE_META, None)
        if tpl is None:
            return None
        url, body, headers = tpl
        request._set_url(url)
        request._set_body(body)
        for k, v in headers.items():
            if v is None:
                request.headers.pop(k, None)
            else:
                request.headers[k] = v
        return url

    def process_response(self, request: Request, response: Response, spider=None):
        url = self._restore(request)
        if url is None:
            return response
        values = getattr(self.crawler.spider, "secret_values", [])
        body = response.body
        if values and any(v.encode() in body for v in values):
            for v in values:
                body = body.replace(v.encode(), REDACTED.encode())
        return response.replace(url=url, body=body, request=request)

    def process_exception(self, request: Request, exception: Exception, spider=None):
        self._restore(request)
        return None


SENT_META = "markwatch_as_sent"  # request meta: the request as it went out, secrets masked (sources check)


def _record_sent(request: Request, spider) -> None:
    """Keep (method, URL, body, headers) as sent, each secret value replaced by ***, for `sources check`."""
    values = list(getattr(spider, "secret_values", []) or [])
    headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in request.headers.items()}
    request.meta[SENT_META] = {
        "method": request.method,
        "url": redact(request.url, values),
        "body": redact(request.body.decode("utf-8", "replace"), values)[:4000],
        "headers": {k: redact(v, values) for k, v in headers.items()},
    }


def _is_form(request: Request) -> bool:
    return b"x-www-form-urlencoded" in (request.headers.get(b"Content-Type") or b"")


def _expand_body(request: Request, body: bytes) -> bytes:
    """Secrets into a body, escaped for what it is: URL-quoted in a form, JSON-escaped in JSON."""
    text = body.decode("utf-8")
    if _is_form(request):
        return expand(text, quoted=True).encode("utf-8")
    if b"json" in (request.headers.get(b"Content-Type") or b""):
        env = {k: json.dumps(v, ensure_ascii=False)[1:-1] for k, v in os.environ.items()}
        return expand(text, env).encode("utf-8")
    return expand(text).encode("utf-8")
