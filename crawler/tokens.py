"""The token step: a bearer token fetched through the crawler, cached until it expires, renewed on 401.

A source with `token:` (OAuth2 client credentials, or a login exchange answering a token at a
JMESPath) gets its token before its first request: `TokenMiddleware` sends the token request through
the crawler's own downloader (host guard, limits, secrets: the one way to the network), reads the
token and its lifetime, and puts it on each request as it goes out (a header, or a query parameter),
taking it off again on the way back so that nothing queued, retried, logged or stored holds it.
An answer of HTTP 401 gets one fresh token and one more try; a second 401, or a token request that
is refused, stops the source with the provider's own reason. The token is added to the values
redacted from every log line.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import extract, health, signers
from crawler.failfast import stop

logger = logging.getLogger(__name__)

TOKEN_STEP = "markwatch_token_step"  # request meta: this is the token request itself
_ADDED = "_markwatch_token_added"  # request meta: (header name | None, param name | None) put on the request
_RENEWED = "_markwatch_token_renewed"
MARGIN = 30.0  # seconds before the stated expiry when a token is renewed anyway


class TokenError(Exception):
    pass


class TokenMiddleware:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.token: str | None = None
        self.expires = 0.0
        self._pending: Any = None
        self.fetches = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _source(self):
        return getattr(self.crawler.spider, "source", None)

    # ---- getting a token ---------------------------------------------------
    def _token_request(self) -> Request:
        src = self._source()
        spec = src.token
        base = getattr(self.crawler.spider, "base_url", "") or src.base_url
        url = spec.url.replace("{base}", base.rstrip("/"))
        headers = {"Accept": "application/json"}
        fields: list[tuple[str, str]] = []
        if spec.grant == "client_credentials":
            fields.append(("grant_type", "client_credentials"))
        if spec.scope:
            fields.append(("scope", spec.scope))
        cid, secret = signers.expand(spec.client_id), signers.expand(spec.client_secret)
        if spec.client_id and spec.auth == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode("ascii")
        elif spec.client_id:
            fields += [("client_id", cid), ("client_secret", secret)]
        fields += [(k, signers.expand(v)) for k, v in spec.params.items()]
        meta = {TOKEN_STEP: True, "handle_httpstatus_all": True, "dont_retry": False, "source": src.name}
        if spec.body is not None:
            body = json.dumps(_expand_all(spec.body), ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
            return Request(url, method=spec.method, body=body, headers=headers, meta=meta, dont_filter=True)
        if spec.method == "GET":
            parts = urlsplit(url)
            query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *fields])
            return Request(urlunsplit(parts._replace(query=query)), headers=headers, meta=meta, dont_filter=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return Request(url, method="POST", body=urlencode(fields), headers=headers, meta=meta, dont_filter=True)

    async def _fetch(self) -> str:
        src = self._source()
        spec = src.token
        self.fetches += 1
        self.crawler.stats.inc_value("markwatch/token_requests")
        engine = self.crawler.engine
        download = getattr(engine, "download_async", None)
        req = self._token_request()
        if download is not None:
            response = await download(req)
        else:
            response = await maybe_deferred_to_future(engine.download(req))
        if response.status >= 400:
            why = f"token step: HTTP {response.status}"
            challenge = response.headers.get(b"WWW-Authenticate")
            if challenge:
                why += f" (WWW-Authenticate: {' '.join(challenge.decode('latin-1').split())[:120]})"
            raise TokenError(why + _oauth_error(response))
        try:
            doc = json.loads(extract.text_of(response, None))
        except ValueError:
            raise TokenError("token step: the answer is not JSON") from None
        token = extract.jmes(spec.token, doc)
        if not isinstance(token, (str, int)) or not str(token).strip():
            raise TokenError(f"token step: no token at {spec.token!r}" + _oauth_error(response, doc))
        token = str(token).strip()
        ttl = extract.jmes(spec.expires_in, doc) if spec.expires_in else None
        try:
            life = float(ttl) if ttl is not None else float(spec.ttl)
        except (TypeError, ValueError):
            life = float(spec.ttl)
        self.token, self.expires = token, time.time() + life
        spider = self.crawler.spider
        values = getattr(spider, "secret_values", None)
        if isinstance(values, list) and len(token) >= 3 and token not in values:
            values.append(token)
            values.sort(key=len, reverse=True)
        signers.guard_logs([token])
        logger.info("source %s: token obtained (valid %.0f s)", src.name, life)
        return token

    async def _current(self) -> str:
        if self.token and time.time() < self.expires - MARGIN:
            return self.token
        if self._pending is None:
            import asyncio

            self._pending = asyncio.ensure_future(self._fetch())
            pending = self._pending
            try:
                return await pending
            finally:
                self._pending = None
        return await self._pending

    # ---- the middleware ----------------------------------------------------
    async def process_request(self, request: Request, spider=None):
        src = self._source()
        if src is None or src.token is None or request.meta.get(TOKEN_STEP) or _is_robots(request):
            return None  # robots.txt is fetched without a token (and the token request waits for it)
        try:
            token = await self._current()
        except TokenError as exc:
            self._refused(str(exc))
            raise IgnoreRequest(str(exc)) from None
        except IgnoreRequest:
            raise
        spec = src.token
        if spec.param:
            parts = urlsplit(request.url)
            query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), (spec.param, token)])
            request.meta[_ADDED] = (None, request.url)
            request._set_url(urlunsplit(parts._replace(query=query)))
        else:
            request.meta[_ADDED] = (spec.header, None)
            request.headers[spec.header] = spec.prefix + token
        return None

    def _take_off(self, request: Request) -> None:
        added = request.meta.pop(_ADDED, None)
        if not added:
            return
        header, url = added
        if header:
            request.headers.pop(header, None)
        if url:
            request._set_url(url)

    def process_response(self, request: Request, response: Response, spider=None):
        src = self._source()
        if src is None or src.token is None or request.meta.get(TOKEN_STEP) or _is_robots(request):
            return response
        self._take_off(request)
        if response.status == 401 and not request.meta.get(_RENEWED):
            self.token, self.expires = None, 0.0  # expired or revoked: one fresh token, one more try
            self.crawler.stats.inc_value("markwatch/token_renewed")
            logger.info("source %s: HTTP 401, renewing the token once", src.name)
            return request.replace(meta={**request.meta, _RENEWED: True}, dont_filter=True)
        return response.replace(request=request) if response.request is not request else response

    def process_exception(self, request: Request, exception: Exception, spider=None):
        self._take_off(request)
        return None

    def _refused(self, why: str) -> None:
        stats = self.crawler.stats
        if not stats.get_value("markwatch/stopped"):
            health.note(stats, "refused", why)
            logger.error("source %s refused: %s; stopping it", getattr(self._source(), "name", "?"), why)
        stop(self.crawler, f"refused: {why}")


def _is_robots(request: Request) -> bool:
    return urlsplit(request.url).path == "/robots.txt"


def _oauth_error(response: Response, doc: Any = None) -> str:
    """': invalid_client: Client authentication failed' from an OAuth2 error answer, else ''."""
    if doc is None:
        try:
            doc = json.loads(response.body[:65536].decode("utf-8", "replace"))
        except ValueError:
            return ""
    if not isinstance(doc, dict):
        return ""
    code = doc.get("error") or doc.get("code") or doc.get("errcode")
    msg = doc.get("error_description") or doc.get("message") or doc.get("msg") or doc.get("errmsg")
    parts = [" ".join(str(x).split())[:80] for x in (code, msg) if x not in (None, "")]
    return (": " + ": ".join(parts)) if parts else ""


def _expand_all(v: Any) -> Any:
    if isinstance(v, str):
        return signers.expand(v)
    if isinstance(v, dict):
        return {k: _expand_all(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_expand_all(x) for x in v]
    return v
