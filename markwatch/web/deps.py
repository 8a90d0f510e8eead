"""What the pages and the API both depend on: who is asking, the filters, the evidence lookup.

Kept apart so that ``app`` imports ``pages`` and ``api``, and both import only this module (the
import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel

from alerts.i18n import Localizer, normalise_locale
from alerts.model import Alert
from markwatch.web.filters import Filters, filters
from markwatch.web.security import audit, basic_credentials, check_csrf, client_ip, session_user

log = logging.getLogger("markwatch.web")


class LoginRequired(Exception):
    """A page asked for by someone not signed in: send them to the sign-in form."""


def require_user(request: Request) -> str:
    user = session_user(request)
    if user is None:
        raise LoginRequired()
    return user


def require_admin(request: Request, user: Annotated[str, Depends(require_user)]) -> str:
    if user not in request.app.state.users.admins:
        raise HTTPException(403, "only an admin ([review] admins) may do this")
    return user


def require_reader(request: Request) -> str:
    """A page a script may fetch too (``/alerts.csv``): the session's analyst, or HTTP Basic
    credentials when the request carries them (a 401 if they are wrong), else the sign-in form."""
    if session_user(request) is None and request.headers.get("authorization", "").lower().startswith("basic "):
        return api_user(request).user
    return require_user(request)


LANG_COOKIE = "markwatch_lang"


def localizer(request: Request, user: str | None = None) -> Localizer:
    """The reader's language and zone: the site's switch (a cookie), else ``[review.languages]``
    for the analyst, else ``[review] language``; times in ``[review] timezone``."""
    review = request.app.state.settings.review
    chosen = request.cookies.get(LANG_COOKIE, "")
    who = user if user is not None else session_user(request)
    locale = normalise_locale(chosen, default="") or review.language_of(who)
    return Localizer(locale, review.timezone)


User = Annotated[str, Depends(require_user)]
Analyst = Annotated[str, Depends(require_reader)]
Admin = Annotated[str, Depends(require_admin)]
FilterDep = Annotated[Filters, Depends(filters)]


class Auth(BaseModel):
    user: str
    via: str  # "session" or "basic"


def api_user(request: Request) -> Auth:
    """The session's analyst, or HTTP Basic credentials (throttled like the sign-in form)."""
    user = session_user(request)
    if user:
        return Auth(user=user, via="session")
    creds = basic_credentials(request)
    if creds:
        throttle = request.app.state.throttle
        client = client_ip(request)
        wait = throttle.wait(creds[0], client)
        if wait > 0:
            raise HTTPException(
                429,
                "too many failed sign-ins from this client; wait and try again",
                {"Retry-After": str(int(wait) + 1)},
            )
        if request.app.state.users.verify_cached(*creds):
            throttle.succeeded(creds[0], client)
            return Auth(user=creds[0], via="basic")
        throttle.failed(creds[0], client)
        audit(request, "sign_in_failed", user=creds[0], ok=False, detail="HTTP Basic")
    raise HTTPException(401, "sign in: session cookie or HTTP Basic credentials of a configured analyst")


def api_writer(request: Request, auth: Annotated[Auth, Depends(api_user)]) -> Auth:
    """Like ``api_user``; a cookie session must also prove it is our page (X-CSRF-Token)."""
    if auth.via == "session":
        check_csrf(request, request.headers.get("x-csrf-token"))
    return auth


def api_admin(request: Request, auth: Annotated[Auth, Depends(api_user)]) -> Auth:
    if auth.user not in request.app.state.users.admins:
        raise HTTPException(403, "only an admin ([review] admins) may do this")
    return auth


Reader = Annotated[Auth, Depends(api_user)]
Writer = Annotated[Auth, Depends(api_writer)]
ApiAdmin = Annotated[Auth, Depends(api_admin)]


def evidence_for(request: Request, alert: Alert) -> tuple[Any, str | None]:
    """The alert's captured page, or None and why it cannot be shown."""
    from alerts.evidence import EvidenceCorrupt, EvidenceNotFound

    if not alert.evidence_id:
        return None, None
    try:
        return request.app.state.evidence().get(alert.evidence_id), None
    except EvidenceNotFound:
        return None, "The captured page is not in this site's evidence file."
    except EvidenceCorrupt:
        log.error("evidence %s does not match its hash", alert.evidence_id)
        return None, "The captured page no longer matches its SHA-256: it has been altered or damaged."


def filters_from_qs(qs: str) -> Filters:
    """The queue's filters from a saved query string (the review form's ``ctx``)."""
    return Filters.from_qs(qs)


def cases_for(request: Request, alert_ids: list[str]) -> list[Any]:
    """The cases holding any of these alerts, newest first (none when the store keeps no cases).

    Uses the app's one case store (``state.cases``, as ``markwatch.web.cases`` opens it).
    """
    from alerts.cases.store import open_case_store
    from markwatch.web.access import Serialized

    state = request.app.state
    found = getattr(state, "cases", None)
    if found is None:
        store = state.store
        target = getattr(store, "_target", store) if isinstance(store, Serialized) else store
        try:
            found = open_case_store(target)
        except Exception:  # noqa: BLE001 - a store without cases shows none
            log.exception("no case store")
            return []
        if isinstance(store, Serialized):
            proxy = Serialized(found)
            proxy._lock = store._lock  # one sqlite3 connection, one lock
            found = proxy
        state.cases = found
    out: dict[str, Any] = {}
    for alert_id in alert_ids[:200]:
        for case in found.for_alert(alert_id):
            out.setdefault(case.id, case)
    return list(out.values())
