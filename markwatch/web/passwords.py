"""Password hashes for the analysts in ``[review.users]``: scrypt from the standard library.

Format: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be raised later
without breaking stored hashes. No dependency beyond hashlib, constant-time comparison.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

LOG2_N, R, P = 15, 8, 1  # ~32 MiB and ~0.1 s per check on the 2-core machine
_MAXMEM = 128 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_password(password: str, *, log2_n: int = LOG2_N) -> str:
    """A new salted scrypt hash of ``password`` for markwatch.toml."""
    if not password:
        raise ValueError("empty password")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**log2_n, r=R, p=P, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${log2_n}${R}${P}${_b64(salt)}${_b64(digest)}"


def _parse(hashed: str) -> tuple[int, int, int, bytes, bytes]:
    parts = hashed.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("not a scrypt$… password hash")
    log2_n, r, p = (int(x) for x in parts[1:4])
    if not (10 <= log2_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError("scrypt cost parameters out of range")
    salt, digest = _unb64(parts[4]), _unb64(parts[5])
    if len(salt) < 8 or len(digest) < 16:
        raise ValueError("salt or hash too short")
    return log2_n, r, p, salt, digest


def check_hash_format(hashed: str) -> str | None:
    """None when ``hashed`` is a usable hash, else what is wrong with it (for config errors)."""
    try:
        _parse(hashed)
    except (ValueError, TypeError) as exc:
        return str(exc) if "scrypt" in str(exc) or "short" in str(exc) else "malformed password hash"
    return None


_DUMMY = None


def verify_password(password: str, hashed: str | None) -> bool:
    """True when ``password`` matches; an unknown user (``hashed`` None) costs the same time."""
    global _DUMMY
    if hashed is None:
        if _DUMMY is None:
            _DUMMY = hash_password(secrets.token_urlsafe(16))
        hashed, known = _DUMMY, False
    else:
        known = True
    try:
        log2_n, r, p, salt, digest = _parse(hashed)
    except (ValueError, TypeError):
        return False
    got = hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"), salt=salt, n=2**log2_n, r=r, p=p, maxmem=_MAXMEM, dklen=len(digest)
    )
    return hmac.compare_digest(got, digest) and known
