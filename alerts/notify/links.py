"""Signed read-only links to one alert, for brand owners without an account on the review site.

The token (itsdangerous, signed with ``[review] secret_key``) names the alert and the address it
was sent to, and carries the time it was issued. It expires ``[notify] link_days`` after that, and
every link issued before ``[notify] links_valid_after`` is revoked (set it to now to revoke all that
were sent, or rotate the secret key). The page it opens shows that one alert and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "markwatch.shared-alert.v1"


class LinkError(Exception):
    """A link that is forged, expired or revoked (the reason is safe to show)."""


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=SALT)


def make_token(key: str, alert_id: str, recipient: str) -> str:
    return _serializer(key).dumps({"a": alert_id, "r": recipient.strip().lower()})


def read_token(key: str, token: str, *, max_days: int, valid_after: datetime | None = None) -> tuple[str, str]:
    """(alert id, recipient) of a valid token; LinkError otherwise."""
    try:
        data, issued = _serializer(key).loads(token, max_age=max_days * 86400, return_timestamp=True)
    except SignatureExpired:
        raise LinkError("this link has expired") from None
    except BadSignature:
        raise LinkError("this link is not valid") from None
    if valid_after is not None:
        issued = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
        if issued < valid_after.astimezone(UTC):
            raise LinkError("this link has been revoked")
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        raise LinkError("this link is not valid")
    return data["a"], str(data.get("r", ""))


def shared_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/shared/alerts/{token}"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(value)
    return t if t.tzinfo else t.replace(tzinfo=UTC)
