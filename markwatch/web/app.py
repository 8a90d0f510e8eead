"""Build the review site: middleware, state, error pages and the two routers (pages, API)."""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from alerts.errors import AlertsError
from alerts.i18n import using
from alerts.store import AlertNotFound, ReviewConflict, StoreUnavailable
from markwatch.config import Settings
from markwatch.errors import UserError
from markwatch.services.considered import MatcherCache
from markwatch.web import api, deps, pages
from markwatch.web.access import guarded, lazy
from markwatch.web.deps import Reader
from markwatch.web.display import templates
from markwatch.web.filters import N_, FilterError
from markwatch.web.security import (
    BodyLimit,
    SecurityHeaders,
    Throttle,
    Users,
    audit,
    csrf_token,
    parse_networks,
    session_user,
)

log = logging.getLogger("markwatch.web")
HERE = Path(__file__).parent
LoginRequired = deps.LoginRequired  # where it used to be


def create_app(settings: Settings, store: Any = None, evidence: Any = None) -> FastAPI:
    """The ASGI app over ``store`` (default: the configured one) and the evidence file.

    Passing ``store``/``evidence`` lets tests and embedders reuse stores they opened; the app then
    leaves closing them to the caller.
    """
    from alerts import open_evidence, open_store

    review = settings.review
    owned = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if owned:
            app.state.store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="markwatch review API",
        version="1",
        description="Alerts of imitated marks (傍名牌): search, read and review them. "
        "Sign in with the site's session cookie (POSTs then need the X-CSRF-Token header) "
        "or send HTTP Basic credentials of a `[review.users]` analyst.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in analysts only
    )
    app.state.store = guarded(store if store is not None else open_store(settings))
    app.state.evidence = lazy(lambda: evidence if evidence is not None else open_evidence(settings))
    app.state.settings = settings
    app.state.matcher = MatcherCache(settings, app.state.store)  # the alert page's "also considered"
    app.state.users = Users(review.users, review.admins)
    app.state.throttle = Throttle()
    app.state.trusted_proxies = parse_networks(review.trusted_proxies)
    app.state.templates = templates()
    secret = review.secret_key.get_secret_value() if review.secret_key else secrets.token_urlsafe(48)
    app.state.secret = secret.encode()

    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=review.max_body_bytes)  # outermost: before anything reads
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(__import__("markwatch.web.cases", fromlist=["router"]).router)  # issue 14

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_schema(auth: Reader) -> JSONResponse:
        """The API's schema: routes and models only, no data; signed-in analysts only."""
        return JSONResponse(app.openapi())

    def page_error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status)
        loc = deps.localizer(request)
        with using(loc):
            return app.state.templates.TemplateResponse(
                request,
                "error.html",
                {
                    "status": status,
                    "message": loc.gettext(message),
                    "user": session_user(request),
                    "csrf": csrf_token(request),
                },
                status_code=status,
            )

    @app.exception_handler(deps.LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import urlencode

        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(AlertNotFound)
    async def _missing(request: Request, exc: AlertNotFound) -> Response:
        return page_error(request, 404, N_("No such alert."))

    @app.exception_handler(StoreUnavailable)
    async def _down(request: Request, exc: StoreUnavailable) -> Response:
        log.warning("store unavailable: %s", exc)
        return page_error(request, 503, N_("The alert store cannot be reached right now; try again in a moment."))

    @app.exception_handler(FilterError)
    async def _filter(request: Request, exc: FilterError) -> Response:
        return page_error(request, 400, f"Filter not understood — {exc}")

    @app.exception_handler(ReviewConflict)
    async def _conflict(request: Request, exc: ReviewConflict) -> Response:
        return page_error(request, 409, str(exc))

    @app.exception_handler(UserError)
    @app.exception_handler(AlertsError)
    async def _user_error(request: Request, exc: Exception) -> Response:
        log.warning("request refused: %s", exc)
        return page_error(request, 400, str(exc)[:500])

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        """Anything unforeseen: logged and audited with its type, never the raw traceback to the client."""
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        user = None
        try:
            user = session_user(request)
        except Exception:  # noqa: BLE001 - the store itself may be what failed
            pass
        audit(
            request, "error", user=user, ok=False, detail=f"{request.method} {request.url.path}: {type(exc).__name__}"
        )
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)
        return PlainTextResponse("internal error; it has been logged", status_code=500)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        return page_error(request, exc.status_code, str(exc.detail))

    return app
