"""Who is signed in, CSRF tokens, sign-in throttling, body limits and the security headers.

Sessions are server-side (``alerts.sessions``, in the alert store): the ``markwatch_session``
cookie (HttpOnly, SameSite=Strict, Secure over https) holds only a random id, so signing out, a
changed password or an admin's "sign out everywhere" ends a session at once; sessions also end
after ``[review] session_idle_minutes`` without a request and ``session_hours`` after sign-in.

Every state change needs a signed-in analyst and a CSRF token: the ``csrf_token`` field of a form,
or the ``X-CSRF-Token`` header of a fetch. Before sign-in the token is an HMAC of a random
``markwatch_pre`` cookie (double submit), so the sign-in form needs no server state. Scripts may
instead send HTTP Basic credentials to ``/api/``: a browser never adds those by itself (the site
never asks for them), so they need no CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alerts.sessions import SessionRecord
from markwatch.web.passwords import verify_password

SESSION_COOKIE = "markwatch_session"
PRE_COOKIE = "markwatch_pre"
TOUCH_EVERY = 30.0  # seconds: how often a used session's "seen" time is written back

# Pages: only our own scripts, styles and frames; nothing inline, nothing remote.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The captured page: a sandbox (opaque origin, no scripts, no forms) that may load nothing at all.
EVIDENCE_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"


class SecurityHeaders(BaseHTTPMiddleware):
    """Strict headers on every response, and the cookies the request asked for (see ``_cookie``)."""

    async def dispatch(self, request: Request, call_next):  # type: ignore[override]
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", PAGE_CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if request.url.scheme == "https":
            h["Strict-Transport-Security"] = "max-age=31536000"
        if request.url.path.startswith(("/alerts", "/api", "/evidence", "/overview", "/admin")):
            h.setdefault("Cache-Control", "no-store")
        secure = request.app.state.settings.review.cookies_secure
        for name, value, max_age in request.state._cookies.values() if hasattr(request.state, "_cookies") else ():
            if value is None:
                response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure)
            else:
                response.set_cookie(
                    name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=secure
                )
        return response


def set_cookie(request: Request, name: str, value: str | None, max_age: int | None = None) -> None:
    """A cookie on this request's response (HttpOnly, SameSite=Strict, Secure as configured)."""
    _cookie(request, name, value, max_age)


def _cookie(request: Request, name: str, value: str | None, max_age: int | None = None) -> None:
    """Ask ``SecurityHeaders`` to set (or, with None, delete) a cookie on this request's response."""
    if not hasattr(request.state, "_cookies"):
        request.state._cookies = {}
    request.state._cookies[name] = (name, value, max_age)


# -- request bodies -------------------------------------------------------------------------------


class BodyLimit:
    """413 for a request body above ``limit`` bytes: by Content-Length before reading, else counted.

    Pure ASGI, so a chunked upload is cut off as soon as it passes the limit instead of being
    buffered whole by the form or JSON parser.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.limit:
                    await self._reject(send, 413 if declared > self.limit else 400)
                    return
        seen = 0
        started = rejected = False

        async def limited() -> Message:
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Answer now and tell the app the client is gone (parsers turn exceptions into 400).
                    rejected = True
                    if not started:
                        await self._reject(send, 413)
                    return {"type": "http.disconnect"}
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the app's own answer comes after ours
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except Exception:
            if not rejected:
                raise

    async def _reject(self, send: Send, status: int) -> None:
        text = (
            f"request body larger than {self.limit} bytes" if status == 413 else "bad Content-Length"
        )  # no user text echoed
        body = json.dumps({"detail": text}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# -- clients and throttling -----------------------------------------------------------------------


def parse_networks(items: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(i, strict=False) for i in items]


def client_ip(request: Request) -> str:
    """The client's address: the peer, or (only when the peer is a trusted proxy) the last
    ``X-Forwarded-For`` hop that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "?"
    trusted = request.app.state.trusted_proxies
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: trust nothing in it
        if not _in(hop, trusted):
            return hop
    return peer


def _in(addr: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in networks)


class Throttle:
    """Failed sign-ins per (user, client) and per client, answered with exponential backoff.

    After ``free_pair`` failures for one user name from one client (``free_client`` from one client
    over all names) the next try must wait ``base``·2^k seconds (k counting the failures beyond
    that, at most ``cap``). There is no lock per user name: an analyst signing in from a client
    that has not been failing is never held up by someone guessing their password elsewhere.
    Counters are forgotten ``forget`` seconds after their last failure and kept in an LRU of at
    most ``max_keys`` entries: a spray of names evicts the oldest idle keys, never everyone's.
    """

    def __init__(
        self,
        *,
        free_pair: int = 5,
        free_client: int = 20,
        base: float = 1.0,
        cap: float = 300.0,
        forget: float = 3600.0,
        max_keys: int = 10_000,
    ) -> None:
        self.free = {"pair": free_pair, "client": free_client}
        self.base, self.cap, self.forget, self.max_keys = base, cap, forget, max_keys
        self._keys: OrderedDict[tuple[str, ...], tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _ids(user: str, client: str) -> list[tuple[str, ...]]:
        return [("pair", user, client), ("client", client)]

    def _get(self, key: tuple[str, ...], now: float) -> tuple[int, float]:
        n, last = self._keys.get(key, (0, 0.0))
        if n and now - last > self.forget:
            self._keys.pop(key, None)
            return 0, 0.0
        return n, last

    def wait(self, user: str, client: str, now: float | None = None) -> float:
        """Seconds before this user name may be tried again from this client (0: now)."""
        now = time.monotonic() if now is None else now
        longest = 0.0
        with self._lock:
            for key in self._ids(user, client):
                n, last = self._get(key, now)
                over = n - self.free[key[0]]
                if over > 0:
                    delay = min(self.cap, self.base * 2 ** (over - 1))
                    longest = max(longest, last + delay - now)
        return max(0.0, longest)

    def failed(self, user: str, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in self._ids(user, client):
                n, _ = self._get(key, now)
                self._keys[key] = (n + 1, now)
                self._keys.move_to_end(key)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def succeeded(self, user: str, client: str) -> None:
        with self._lock:
            self._keys.pop(("pair", user, client), None)

    def __len__(self) -> int:
        return len(self._keys)


# -- users and sessions ---------------------------------------------------------------------------


class Users:
    """The analysts of ``[review.users]``; Basic-auth checks cached briefly (scrypt is slow on purpose)."""

    def __init__(self, users: dict[str, str], admins: Iterable[str] = ()) -> None:
        self.users = dict(users)
        self.admins = frozenset(admins)
        self._ok: OrderedDict[tuple[str, bytes], float] = OrderedDict()
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """The configured analysts."""
        return sorted(self.users)

    def verify(self, name: str, password: str) -> bool:
        return verify_password(password, self.users.get(name))

    def fingerprint(self, name: str) -> str:
        """Changes when the user's password hash changes, which ends their sessions."""
        hashed = self.users.get(name)
        return hashlib.sha256(hashed.encode()).hexdigest()[:32] if hashed else ""

    def verify_cached(self, name: str, password: str, ttl: float = 300.0) -> bool:
        key = (name, hashlib.sha256((self.fingerprint(name) + password).encode("utf-8", "surrogatepass")).digest())
        now = time.monotonic()
        with self._lock:
            if self._ok.get(key, 0.0) > now and name in self.users:
                return True
        if not self.verify(name, password):
            return False
        with self._lock:
            self._ok[key] = now + ttl
            self._ok.move_to_end(key)
            while len(self._ok) > 1000:
                self._ok.popitem(last=False)
        return True


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = raw.partition(":")
    return (name, password) if sep else None


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8", "surrogatepass")).hexdigest()


_NONE = object()


def current_session(request: Request) -> SessionRecord | None:
    """This request's live session, checked against the store once per request."""
    cached = getattr(request.state, "_session", _NONE)
    if cached is not _NONE:
        return cached  # type: ignore[return-value]
    rec = _load(request)
    request.state._session = rec
    return rec


def _load(request: Request) -> SessionRecord | None:
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid or len(sid) > 100:
        return None
    store = request.app.state.store
    rec = store.session_get(_key(sid))
    if rec is None:
        _cookie(request, SESSION_COOKIE, None)
        return None
    review = request.app.state.settings.review
    users: Users = request.app.state.users
    now = time.time()
    if (
        rec.user not in users.users
        or not hmac.compare_digest(rec.pw, users.fingerprint(rec.user))
        or now - rec.created > review.session_hours * 3600
        or now - rec.seen > review.session_idle_minutes * 60
    ):
        store.session_delete(rec.key)
        _cookie(request, SESSION_COOKIE, None)
        return None
    if now - rec.seen > TOUCH_EVERY:
        rec.seen = now
        store.session_save(rec)
    return rec


def start_session(request: Request, user: str) -> SessionRecord:
    """A new session (new id, new CSRF token) for ``user``; any old one of this browser ends."""
    store = request.app.state.store
    old = current_session(request)
    if old is not None:
        store.session_delete(old.key)
    review = request.app.state.settings.review
    sid = secrets.token_urlsafe(32)
    now = time.time()
    rec = SessionRecord(
        key=_key(sid),
        user=user,
        created=now,
        seen=now,
        csrf=secrets.token_urlsafe(32),
        client=client_ip(request),
        pw=request.app.state.users.fingerprint(user),
    )
    store.session_save(rec, new=True)
    if secrets.randbelow(50) == 0:  # now and then, forget sessions idle past the limit
        store.session_purge(now - review.session_idle_minutes * 60)
    _cookie(request, SESSION_COOKIE, sid, max_age=int(review.session_hours * 3600))
    request.state._session = rec
    return rec


def end_session(request: Request) -> SessionRecord | None:
    rec = current_session(request)
    if rec is not None:
        request.app.state.store.session_delete(rec.key)
    _cookie(request, SESSION_COOKIE, None)
    request.state._session = None
    return rec


def session_user(request: Request) -> str | None:
    """The signed-in analyst, if the session is still valid and the user still configured."""
    rec = current_session(request)
    return rec.user if rec else None


def set_flash(request: Request, text: str, kind: str = "ok") -> None:
    rec = current_session(request)
    if rec is not None:
        rec.flash = {"text": text[:300], "kind": kind}
        request.app.state.store.session_save(rec)


def pop_flash(request: Request) -> dict[str, str] | None:
    rec = current_session(request)
    if rec is None or not rec.flash:
        return None
    flash, rec.flash = rec.flash, None
    request.app.state.store.session_save(rec)
    return flash


def _pre_token(request: Request, pre: str) -> str:
    secret: bytes = request.app.state.secret
    return hmac.new(secret, b"pre-csrf:" + pre.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """This session's CSRF token; before sign-in, the HMAC of the ``markwatch_pre`` cookie."""
    rec = current_session(request)
    if rec is not None:
        return rec.csrf
    pre = getattr(request.state, "_pre", None) or request.cookies.get(PRE_COOKIE)
    if not pre or len(pre) > 100:
        pre = secrets.token_urlsafe(24)
        _cookie(request, PRE_COOKIE, pre)
    request.state._pre = pre
    return _pre_token(request, pre)


def check_csrf(request: Request, supplied: str | None) -> None:
    rec = current_session(request)
    if rec is not None:
        expected: str | None = rec.csrf
    else:
        pre = request.cookies.get(PRE_COOKIE)
        expected = _pre_token(request, pre) if pre and len(pre) <= 100 else None
    if not expected or not supplied or not hmac.compare_digest(str(expected), str(supplied)):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no //host, no backslash tricks) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/alerts"
    if any(ord(c) < 0x21 for c in target):
        return "/alerts"
    return target


def audit(
    request: Request, action: str, *, user: str | None, ok: bool = True, targets=(), detail: str = "", note: str = ""
) -> None:
    """Record an action in the audit log; a failing log never hides the action's own outcome."""
    from alerts.sessions import AuditEvent

    try:
        request.app.state.store.audit_add(
            AuditEvent(
                action=action,
                user=user[:64] if user else user,
                client=client_ip(request),
                ok=ok,
                targets=list(targets)[:1000],
                detail=detail[:500],
                note=(note or "")[:4000],
            )
        )
    except Exception:  # noqa: BLE001 - logged, the request goes on
        import logging

        logging.getLogger("markwatch.web").exception("audit log write failed for %s", action)
