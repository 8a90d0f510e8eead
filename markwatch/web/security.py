"""Who is signed in, CSRF tokens, login throttling and the security headers of every response.

Sessions are Starlette's itsdangerous-signed cookies (HttpOnly, SameSite=Strict, Secure over
https). Every state change needs a signed-in analyst and a CSRF token: the ``csrf_token`` field of
a form, or the ``X-CSRF-Token`` header of a fetch. Scripts may instead send HTTP Basic credentials
to ``/api/``: a browser never adds those by itself (the site never asks for them), so they need no
CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware

from markwatch.web.passwords import verify_password

# Pages: only our own scripts, styles and frames; nothing inline, nothing remote.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The captured page: a sandbox (opaque origin, no scripts, no forms) that may load nothing at all.
EVIDENCE_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"


class SecurityHeaders(BaseHTTPMiddleware):
    """Strict headers on every response; the evidence route sets its own CSP first."""

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
        if request.url.path.startswith(("/alerts", "/api", "/evidence", "/overview")):
            h.setdefault("Cache-Control", "no-store")
        return response


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use, also before sign-in for the login form)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, supplied: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not supplied or not hmac.compare_digest(str(expected), str(supplied)):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


@dataclass
class Throttle:
    """At most ``limit`` failed sign-ins per user name and per client in ``window`` seconds."""

    limit: int = 8
    window: float = 300.0
    _fails: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._fails.get(key, []) if now - t < self.window]
        if kept:
            self._fails[key] = kept
        else:
            self._fails.pop(key, None)
        return kept

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._fails) > 10_000:  # bounded memory under a spray of names
                self._fails.clear()
            for k in keys:
                self._fails.setdefault(k, []).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)


class Users:
    """The analysts of ``[review.users]``; Basic-auth checks cached briefly (scrypt is slow on purpose)."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = dict(users)
        self._ok: dict[tuple[str, bytes], float] = {}
        self._lock = threading.Lock()

    def verify(self, name: str, password: str) -> bool:
        return verify_password(password, self.users.get(name))

    def verify_cached(self, name: str, password: str, ttl: float = 300.0) -> bool:
        key = (name, hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())
        now = time.monotonic()
        with self._lock:
            if self._ok.get(key, 0.0) > now and name in self.users:
                return True
        if not self.verify(name, password):
            return False
        with self._lock:
            if len(self._ok) > 1000:
                self._ok.clear()
            self._ok[key] = now + ttl
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


def session_user(request: Request) -> str | None:
    """The signed-in analyst, if the session is still valid and the user still configured."""
    users: Users = request.app.state.users
    name = request.session.get("user")
    if not name or name not in users.users:
        return None
    expires = request.session.get("expires", 0)
    if not isinstance(expires, int | float) or expires < time.time():
        request.session.pop("user", None)
        return None
    return name


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no //host, no backslash tricks) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/alerts"
    if any(ord(c) < 0x21 for c in target):
        return "/alerts"
    return target
