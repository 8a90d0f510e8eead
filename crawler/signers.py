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
and `sign` = upper(HMAC-SHA256(secret, k1v1k2v2… over the sorted query parameters))). Any other
is named by dotted path, `mypackage.signing:sign_request`.
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

    def full_url(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(query=urlencode(self.params)))


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


BUILTIN: dict[str, Signer] = {"md5_token": md5_token, "hmac_sha256": hmac_sha256}


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
            return None
        request.meta[TEMPLATE_META] = (url, body, {k: list(v) for k, v in touched.items()})
        real_url = expand(url, quoted=True)
        real_body = _expand_body(request, body) if body else body
        for k, vals in touched.items():
            request.headers[k] = [expand(v.decode("utf-8")).encode("utf-8") for v in vals]
        if src.sign is not None:
            spec = {k: expand(v) if isinstance(v, str) else v for k, v in src.sign.model_dump().items()}
            parts = urlsplit(real_url)
            req = SignedRequest(
                method=request.method,
                url=urlunsplit(parts._replace(query="")),
                params=parse_qsl(parts.query, keep_blank_values=True),
                body=real_body,
                now=time.time(),
            )
            signer(src.sign.signer, file=src.path)(spec, req)
            real_url = req.full_url()
            for name, value in req.headers.items():
                if name.encode() not in touched:
                    request.meta[TEMPLATE_META][2].setdefault(name.encode(), None)
                request.headers[name] = value
        request._set_url(real_url)
        request._set_body(real_body)
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
