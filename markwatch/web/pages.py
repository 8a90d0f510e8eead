"""The HTML pages: sign-in, the queue (with bulk review and CSV export), one alert, the overview,
the sandboxed captured page and the API reference."""

from __future__ import annotations

import io
import logging
import re
import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from alerts.model import STATUSES
from alerts.present import CSV_FIELDS, csv_row, csv_writer
from alerts.sessions import AUDIT_ACTIONS, AuditQuery
from alerts.store import AlertQuery, ReviewConflict
from markwatch.web.deps import Admin, FilterDep, User, evidence_for, filters_from_qs
from markwatch.web.filters import SORTS, Filters
from markwatch.web.security import (
    EVIDENCE_CSP,
    audit,
    check_csrf,
    client_ip,
    csrf_token,
    end_session,
    pop_flash,
    safe_next,
    session_user,
    set_flash,
    start_session,
)

log = logging.getLogger("markwatch.web")
router = APIRouter(include_in_schema=False)
ID_RE = re.compile(r"^[0-9a-f]{8,64}$")


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("user", session_user(request))
    context["csrf"] = csrf_token(request)
    context["flash"] = pop_flash(request)
    context["is_admin"] = context["user"] in request.app.state.users.admins
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    set_flash(request, text, kind)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- sign in / out --------------------------------------------------------------------------------


@router.get("/")
def home() -> Response:
    return see_other("/alerts")


@router.get("/login")
def login_form(request: Request, next: str = "/alerts") -> Response:
    if session_user(request):
        return see_other(safe_next(next))
    return render(request, "login.html", next=safe_next(next), error=None, username="")


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> Response:
    check_csrf(request, csrf_token_)
    throttle = request.app.state.throttle
    client = client_ip(request)
    wait = throttle.wait(username, client)
    if wait > 0:
        log.warning("sign-in throttled for %r from %s", username[:64], client)
        response = render(
            request,
            "login.html",
            429,
            next=safe_next(next),
            username=username,
            error=f"Too many failed attempts from here; wait {int(wait) + 1} s and try again.",
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not request.app.state.users.verify(username, password):
        throttle.failed(username, client)
        log.info("failed sign-in for %r from %s", username[:64], client)
        audit(request, "sign_in_failed", user=username, ok=False)
        return render(
            request, "login.html", 401, next=safe_next(next), username=username, error="Wrong user name or password."
        )
    throttle.succeeded(username, client)
    start_session(request, username)  # a new session id (and CSRF token) at every sign-in
    audit(request, "sign_in", user=username)
    return see_other(safe_next(next))


@router.post("/logout")
def logout(request: Request, csrf_token_: Annotated[str, Form(alias="csrf_token")] = "") -> Response:
    check_csrf(request, csrf_token_)
    rec = end_session(request)
    if rec is not None:
        audit(request, "sign_out", user=rec.user)
    return see_other("/login")


@router.post("/logout/everywhere")
def logout_everywhere(
    request: Request, user: User, csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""
) -> Response:
    """End every session of the signed-in analyst (a lost laptop, a shared computer)."""
    check_csrf(request, csrf_token_)
    n = request.app.state.store.session_delete_user(user)
    end_session(request)
    audit(request, "sign_out_everywhere", user=user, targets=[f"user:{user}"], detail=f"{n} session(s)")
    return see_other("/login")


# -- the queue ------------------------------------------------------------------------------------


@router.get("/alerts")
def queue(request: Request, user: User, f: FilterDep) -> Response:
    store = request.app.state.store
    query = f.to_query()
    page = store.search(query)
    marks = sorted(store.counts(AlertQuery()).by_mark)
    tabs = store.counts(query.model_copy(update={"statuses": []})).by_status
    pages = max(1, -(-page.total // query.size))
    first = (query.page - 1) * query.size
    return render(
        request,
        "queue.html",
        f=f,
        query=query,
        page=page,
        pages=pages,
        first=first,
        marks=marks,
        tabs=tabs,
        statuses=STATUSES,
        sorts=SORTS,
        ctx=f.qs(page="", size=f.size),
    )


@router.get("/alerts.csv")
def export_csv(request: Request, user: User, f: FilterDep) -> Response:
    query = f.to_query(paged=False)
    alerts = request.app.state.store.export(query)

    def rows():
        buf = io.StringIO()
        w = csv_writer(buf)
        buf.write("\ufeff")  # so spreadsheet programs read UTF-8
        w.writerow(CSV_FIELDS)
        for n, alert in enumerate(alerts, 1):
            w.writerow(csv_row(alert))
            if n % 500 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="markwatch-alerts-{stamp}.csv"'},
    )


@router.post("/alerts/review")
def bulk_review(
    request: Request,
    user: User,
    ids: Annotated[list[str], Form()] = [],  # noqa: B006
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    back: Annotated[str, Form(max_length=4000)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_)
    target = "/alerts" + (f"?{back}" if back and "\n" not in back and "\r" not in back else "")
    wanted = [i for i in dict.fromkeys(ids) if ID_RE.match(i)][:1000]
    if status not in STATUSES:
        flash(request, "Choose what to do with the selected alerts.", "error")
    elif not wanted:
        flash(request, "Select one or more alerts first (x, or the boxes).", "error")
    else:
        try:
            done = request.app.state.store.review(wanted, status, note, who=user)
        except ReviewConflict as exc:
            audit(request, "review", user=user, ok=False, targets=wanted, detail=f"{status}: conflict")
            flash(request, str(exc), "error")
        else:
            audit(request, "review", user=user, targets=wanted, detail=status)
            flash(request, f"{len(done)} alert(s) marked {status}.")
    return see_other(target)


# -- one alert ------------------------------------------------------------------------------------


def _neighbour(store: Any, f: Filters, index: int) -> str | None:
    """Id of the alert at ``index`` (0-based) in the queue ``f`` describes, if there is one."""
    if index < 0 or index >= 10_000:
        return None
    q = f.to_query(paged=False).model_copy(update={"page": index + 1, "size": 1})
    items = store.search(q).items
    return items[0].id if items else None


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: str, user: User, f: FilterDep, pos: int | None = None) -> Response:
    store = request.app.state.store
    alert = store.get(alert_id)
    evidence, evidence_problem = evidence_for(request, alert)
    nxt = prv = None
    if pos is not None and 0 <= pos < 10_000:
        nxt, prv = _neighbour(store, f, pos + 1), _neighbour(store, f, pos - 1)
        if nxt == alert.id:
            nxt = None
    ctx = f.qs(page="", size="")
    return render(
        request,
        "alert.html",
        alert=alert,
        evidence=evidence,
        evidence_problem=evidence_problem,
        statuses=STATUSES,
        ctx=ctx,
        pos=pos,
        next_id=nxt,
        prev_id=prv,
    )


def _alert_url(alert_id: str, ctx: str, pos: int | None) -> str:
    params = ctx + (f"&pos={pos}" if pos is not None else "") if ctx else (f"pos={pos}" if pos is not None else "")
    return f"/alerts/{alert_id}" + (f"?{params.lstrip('&')}" if params else "")


@router.post("/alerts/{alert_id}/review")
def review_one(
    request: Request,
    alert_id: str,
    user: User,
    status: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    ctx: Annotated[str, Form(max_length=4000)] = "",
    pos: Annotated[int | None, Form()] = None,
    next_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_)
    if "\r" in ctx or "\n" in ctx:
        ctx = ""
    store = request.app.state.store
    if status not in STATUSES:
        flash(request, "Unknown status.", "error")
        return see_other(_alert_url(alert_id, ctx, pos))
    store.get(alert_id)  # 404 before anything else
    try:
        store.review([alert_id], status, note, who=user)
    except ReviewConflict as exc:
        audit(request, "review", user=user, ok=False, targets=[alert_id], detail=f"{status}: conflict")
        flash(request, str(exc), "error")
        return see_other(_alert_url(alert_id, ctx, pos))
    audit(request, "review", user=user, targets=[alert_id], detail=status)
    label = {"confirmed": "Confirmed", "dismissed": "Dismissed", "escalated": "Escalated"}.get(status, status)
    if next_id and ID_RE.match(next_id) and pos is not None:
        f = filters_from_qs(ctx)
        still = store.search(f.to_query(paged=False).model_copy(update={"ids": [alert_id], "size": 1})).total
        flash(request, f"{label}: alert {alert_id[:12]}. This is the next one.")
        return see_other(_alert_url(next_id, ctx, pos + 1 if still else pos))
    flash(request, f"{label}.")
    return see_other(_alert_url(alert_id, ctx, pos))


# -- the captured page ----------------------------------------------------------------------------

_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]{1,40})", re.I)
_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def evidence_media_type(headers: dict[str, str]) -> str:
    """What the captured body is served as: HTML, a raster image, or else plain text."""
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    base = ctype.split(";")[0].strip().lower()
    m = _CHARSET.search(ctype)
    charset = f"; charset={m.group(1)}" if m else ""
    if base in ("text/html", "application/xhtml+xml"):
        return "text/html" + charset
    if base in _IMAGES:
        return base
    return "text/plain" + (charset or "; charset=utf-8")


@router.get("/evidence/{evidence_id}")
def evidence_body(request: Request, evidence_id: str, user: User) -> Response:
    """The captured body, inert: sandboxed by CSP (no scripts, opaque origin) and allowed to load nothing."""
    from alerts.evidence import EvidenceCorrupt, EvidenceNotFound

    if not re.fullmatch(r"[0-9a-f]{64}", evidence_id):
        return Response("not found", status_code=404, media_type="text/plain")
    try:
        ev = request.app.state.evidence().get(evidence_id)
    except EvidenceNotFound:
        return Response("not found", status_code=404, media_type="text/plain")
    except EvidenceCorrupt:
        return Response("evidence does not match its hash", status_code=409, media_type="text/plain")
    return Response(
        ev.body,
        media_type=evidence_media_type(ev.headers),
        headers={
            "Content-Security-Policy": EVIDENCE_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Content-Disposition": "inline",
            "Cache-Control": "private, max-age=3600",
        },
    )


# -- overview and API reference ---------------------------------------------------------------------


@router.get("/overview")
def overview(request: Request, user: User, f: FilterDep) -> Response:
    from markwatch.web.chart import day_chart

    query = f.to_query(paged=False)
    counts = request.app.state.store.counts(query)
    total = sum(counts.by_status.values())
    return render(
        request,
        "overview.html",
        counts=counts,
        total=total,
        chart=day_chart(counts.by_day),
        f=f,
        statuses=STATUSES,
        qs=lambda **kw: urlencode([(k, v) for k, v in kw.items() if v]),
    )


@router.get("/api/docs")
def api_docs(request: Request, user: User) -> Response:
    spec = request.app.openapi()
    return render(request, "api_docs.html", spec=spec)


# -- admin ----------------------------------------------------------------------------------------


@router.get("/admin/audit")
def audit_page(
    request: Request, user: Admin, who: str = "", action: str = "", since: str = "", limit: int = 200
) -> Response:
    """The audit log, newest first, for admins; filter by analyst, action and start date."""
    from markwatch.web.filters import FilterError, parse_date

    if action and action not in AUDIT_ACTIONS:
        raise FilterError(f"action: one of {', '.join(AUDIT_ACTIONS)}")
    if not 1 <= limit <= 1000:
        raise FilterError("limit: 1 to 1000")
    q = AuditQuery(user=who[:64] or None, action=action or None, since=parse_date("since", since), limit=limit)
    events = request.app.state.store.audit_search(q)
    return render(request, "audit.html", events=events, who=who, action=action, since=since, actions=AUDIT_ACTIONS)


@router.post("/admin/sign-out")
def admin_sign_out(
    request: Request,
    user: Admin,
    target: Annotated[str, Form(max_length=64)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    """An admin ends every session of ``target`` (e.g. a departed analyst's, before the config edit)."""
    check_csrf(request, csrf_token_)
    n = request.app.state.store.session_delete_user(target)
    audit(request, "sign_out_everywhere", user=user, targets=[f"user:{target}"], detail=f"{n} session(s)")
    flash(request, f"{n} session(s) of {target} ended.")
    return see_other("/admin/audit")
