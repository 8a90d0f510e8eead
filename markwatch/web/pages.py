"""The HTML pages: sign-in, the queue (with bulk review and CSV export), one alert, the overview,
the sandboxed captured page and the API reference."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from alerts.i18n import Localizer, normalise_locale, using
from alerts.model import STATUSES, sightings_of
from alerts.present import CSV_BOM, STATUS_NAMES, csv_header, csv_row, csv_writer
from alerts.sessions import AUDIT_ACTIONS, AuditEvent, AuditQuery
from alerts.store import AlertQuery, ReviewConflict
from markwatch.services.considered import also_considered
from markwatch.web.deps import (
    LANG_COOKIE,
    Admin,
    Analyst,
    FilterDep,
    User,
    cases_for,
    evidence_for,
    filters_from_qs,
    localizer,
)
from markwatch.web.display import ACTION_LABELS, BAND_LABELS, FACET_LABELS, KIND_LABELS
from markwatch.web.filters import N_, PAGE_SIZES, SORTS, Filters
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
    set_cookie,
    set_flash,
    start_session,
)

log = logging.getLogger("markwatch.web")
router = APIRouter(include_in_schema=False)
ID_RE = re.compile(r"^[0-9a-f]{8,64}$")


DENSITY_COOKIE = "markwatch_density"


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("user", session_user(request))
    loc = localizer(request, context["user"])
    context["csrf"] = csrf_token(request)
    context["flash"] = pop_flash(request)
    context["is_admin"] = context["user"] in request.app.state.users.admins
    context.setdefault("density", request.cookies.get(DENSITY_COOKIE, ""))
    context["status_labels_json"] = json.dumps({s: loc.gettext(STATUS_NAMES[s]) for s in STATUSES}, ensure_ascii=False)
    with using(loc):  # the templates' _() and local times follow this reader
        return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def tr(request: Request, message: str, **values: Any) -> str:
    """``message`` in the reader's language (flash messages, errors)."""
    return localizer(request)._(message, **values)


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
            error=tr(request, "Too many failed attempts from here; wait %(s)s s and try again.", s=int(wait) + 1),
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not request.app.state.users.verify(username, password):
        throttle.failed(username, client)
        log.info("failed sign-in for %r from %s", username[:64], client)
        audit(request, "sign_in_failed", user=username, ok=False)
        return render(
            request,
            "login.html",
            401,
            next=safe_next(next),
            username=username,
            error=tr(request, "Wrong user name or password."),
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


def _facets(f: Filters, counts: dict[str, list[tuple[str, int]]], loc: Localizer) -> list[dict[str, Any]]:
    """The facet lists of the queue: value, label, count, selected, and the link that toggles it."""
    from alerts.facets import FACETS, region_name

    out = []
    for name in FACETS:
        param = name
        selected = set(getattr(f, param))
        buckets = []
        for value, n in counts.get(name, []):
            if name == "kind":
                label = loc.gettext(KIND_LABELS.get(value, value))
            elif name == "status":
                label = loc.gettext(STATUS_NAMES.get(value, value))
            elif name == "band":
                label = loc.gettext(BAND_LABELS.get(value, value))
            elif name == "region":
                label = f"{value} {region_name(value)}".strip()
            else:
                label = value
            buckets.append(
                {
                    "value": value,
                    "label": label,
                    "count": n,
                    "selected": value in selected,
                    "href": f.toggled(param, value),
                }
            )
        out.append({"name": name, "label": FACET_LABELS[name], "buckets": buckets})
    return out


def _chips(f: Filters, loc: Localizer) -> list[dict[str, str]]:
    """The list filters in force, each with the link that removes it."""
    from alerts.facets import region_name

    out = []
    for name in (
        "mark",
        "kind",
        "source",
        "region",
        "authority",
        "status",
        "band",
        "uscc",
        "entity",
        "shop",
        "legal_rep",
        "address",
        "contact",
        "owner",
    ):
        for value in getattr(f, name):
            label = value
            if name == "kind":
                label = loc.gettext(KIND_LABELS.get(value, value))
            elif name == "status":
                label = loc.gettext(STATUS_NAMES.get(value, value))
            elif name == "band":
                label = loc.gettext(BAND_LABELS.get(value, value))
            elif name == "region":
                label = f"{value} {region_name(value)}".strip()
            out.append({"field_label": FACET_LABELS.get(name, name), "label": label, "href": f.toggled(name, value)})
    return out


# The queue's columns: (name, label msgid, css class, (first sort, reverse sort) or None).
COLUMNS = (
    ("probability", N_("Worth a look"), "num", ("-probability", "probability")),
    ("score", N_("Score"), "num", ("-score", "score")),
    ("name", N_("Name / title"), "", None),
    ("mark", N_("Mark"), "", ("mark", None)),
    ("status", N_("Status"), "", None),
    ("authority", N_("Registering authority"), "", None),
    ("source", N_("Sources"), "", None),
    ("last_seen", N_("Last seen"), "", ("-last_seen", "last_seen")),
    ("times_seen", N_("Seen"), "num", ("-times_seen", None)),
)
# Shown when the page holds trademark alerts (or is sorted or filtered by them): the opposition clock.
DEADLINE_COLUMN = ("deadline", N_("Deadline"), "date", ("deadline", None))


def _columns(f: Filters, current: str, deadline: bool = False) -> list[dict[str, Any]]:
    """Header cells: a sortable column links to its sort, and to the reverse when already sorted by it."""
    out = []
    for name, label, css, sorts in (*COLUMNS, DEADLINE_COLUMN) if deadline else COLUMNS:
        href, sorted_ = "", ""
        if sorts:
            first, reverse = sorts
            if current == first:
                sorted_ = "asc" if first == "mark" else "desc"
                target = reverse or first
            elif reverse and current == reverse:
                sorted_ = "asc"
                target = first
            else:
                target = first
            href = f.qs(sort=target, page="")
        out.append({"name": name, "label": label, "css": css, "href": href, "sorted": sorted_})
    return out


@router.get("/alerts")
def queue(request: Request, user: User, f: FilterDep) -> Response:
    store = request.app.state.store
    loc = localizer(request, user)
    query = f.to_query()
    page = store.search(query)
    facet_counts = store.facets(query)
    marks = sorted(set(store.counts(AlertQuery()).by_mark) | set(f.mark))
    tabs = store.counts(query.model_copy(update={"statuses": []})).by_status
    pages = max(1, -(-page.total // query.size))
    first = (query.page - 1) * query.size
    show_deadline = (
        query.sort == "deadline" or "trademark" in query.kinds or any(a.deadline is not None for a in page.items)
    )
    density = f.density or request.cookies.get(DENSITY_COOKIE, "")
    if f.density:
        set_cookie(request, DENSITY_COOKIE, f.density, max_age=365 * 86400)
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
        page_sizes=sorted({*PAGE_SIZES, query.size}),
        facets=_facets(f, facet_counts, loc),
        chips=_chips(f, loc),
        columns=_columns(f, query.sort, show_deadline),
        show_deadline=show_deadline,
        density=density,
        ctx=f.qs(page="", size=f.size, density=""),
    )


@router.get("/alerts.csv")
def export_csv(request: Request, user: Analyst, f: FilterDep) -> Response:
    """Every alert of the filter as CSV (BOM, headings and reasons in the reader's language);
    a signed-in analyst or HTTP Basic credentials (scripts). The export is audited."""
    query = f.to_query(paged=False)
    loc = localizer(request, user)
    alerts = request.app.state.store.export(query)
    audit(request, "export", user=user, detail=f"alerts.csv {f.qs(page='', size='', density='')}"[:500])

    def rows():
        buf = io.StringIO()
        w = csv_writer(buf)
        buf.write(CSV_BOM)  # so spreadsheet programs read UTF-8
        w.writerow(csv_header(loc))
        for n, alert in enumerate(alerts, 1):
            w.writerow(csv_row(alert, loc))
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
        flash(request, tr(request, "Choose what to do with the selected alerts."), "error")
    elif not wanted:
        flash(request, tr(request, "Select one or more alerts first (x, or the boxes)."), "error")
    else:
        try:
            done = request.app.state.store.review(wanted, status, note, who=user)
        except ReviewConflict as exc:
            audit(request, "review", user=user, ok=False, targets=wanted, detail=f"{status}: conflict", note=note)
            flash(request, str(exc), "error")
        else:
            audit(request, "review", user=user, targets=wanted, detail=status, note=note)
            label = tr(request, STATUS_NAMES[status])
            flash(request, tr(request, "%(n)s alert(s) marked %(status)s.", n=len(done), status=label))
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
    ctx = f.qs(page="", size="", density="")
    from alerts.model import entity_of
    from alerts.relations import related_entities

    related = related_entities(store, [alert], exclude=entity_of(alert), by_entity=True)
    matcher = request.app.state.matcher.get()
    considered = also_considered(matcher, alert) if matcher is not None else None
    return render(
        request,
        "alert.html",
        alert=alert,
        related=related,
        considered=considered,
        sightings=sightings_of(alert),
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
    never: Annotated[str, Form(max_length=10)] = "",
    never_word: Annotated[str, Form(max_length=200)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_)
    if "\r" in ctx or "\n" in ctx:
        ctx = ""
    store = request.app.state.store
    if status not in STATUSES:
        flash(request, tr(request, "Unknown status."), "error")
        return see_other(_alert_url(alert_id, ctx, pos))
    if never and status != "dismissed":
        flash(request, tr(request, "“Never flag this word again” goes with Dismiss."), "error")
        return see_other(_alert_url(alert_id, ctx, pos))
    store.get(alert_id)  # 404 before anything else
    try:
        done = store.review([alert_id], status, note, who=user)
    except ReviewConflict as exc:
        audit(request, "review", user=user, ok=False, targets=[alert_id], detail=f"{status}: conflict", note=note)
        flash(request, str(exc), "error")
        return see_other(_alert_url(alert_id, ctx, pos))
    audit(request, "review", user=user, targets=[alert_id], detail=status, note=note)
    if never:
        from alerts.errors import AlertsError
        from alerts.exceptions import never_flag

        try:
            exc_ = never_flag(store, done[0], never_word, user, note)
        except (AlertsError, ValueError) as exc:
            flash(request, tr(request, "Dismissed, but no exception was stored: %(why)s", why=exc), "error")
            return see_other(_alert_url(alert_id, ctx, pos))
        audit(
            request,
            "exception",
            user=user,
            targets=[f"exception:{exc_.id}", alert_id],
            detail=f"never flag {exc_.word} for {exc_.mark or '*'}",
            note=note,
        )
    label = tr(request, STATUS_NAMES[status])
    if next_id and ID_RE.match(next_id) and pos is not None:
        f = filters_from_qs(ctx)
        f.time_zone = request.app.state.settings.review.timezone
        still = store.search(f.to_query(paged=False).model_copy(update={"ids": [alert_id], "size": 1})).total
        flash(request, tr(request, "%(status)s: alert %(id)s. This is the next one.", status=label, id=alert_id[:12]))
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
    counts = request.app.state.store.counts(query)  # days in the site's zone (query.time_zone)
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


# -- exceptions ("never flag this word for this mark again") ------------------------------------


@router.get("/exceptions")
def exceptions_page(request: Request, user: User, all: int = 0) -> Response:
    """The stored exceptions, newest first: who made them, when, why, and whether revoked."""
    found = request.app.state.store.exception_list(active_only=not all)
    return render(request, "exceptions.html", exceptions=found, show_all=bool(all))


@router.post("/exceptions/{exc_id}/revoke")
def exception_revoke(
    request: Request,
    exc_id: str,
    user: User,
    why: Annotated[str, Form(max_length=2000)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    """Revoke one exception: the word is flagged again from the next scan on."""
    check_csrf(request, csrf_token_)
    if not re.fullmatch(r"x[0-9a-f]{1,40}", exc_id):
        flash(request, tr(request, "Unknown exception."), "error")
        return see_other("/exceptions")
    e = request.app.state.store.exception_revoke(exc_id, user, why)
    audit(request, "exception", user=user, targets=[f"exception:{e.id}"], detail="revoke", note=why)
    flash(request, tr(request, "Exception %(id)s revoked.", id=e.id))
    return see_other("/exceptions")


# -- admin ----------------------------------------------------------------------------------------


def _audit_query(request: Request, who: str, action: str, since: str, until: str, limit: int) -> AuditQuery:
    from markwatch.web.filters import FilterError, parse_date

    if action and action not in AUDIT_ACTIONS:
        raise FilterError(f"action: one of {', '.join(AUDIT_ACTIONS)}")
    if not 1 <= limit <= 10_000:
        raise FilterError("limit: 1 to 10000")
    zone = request.app.state.settings.review.timezone
    return AuditQuery(
        user=who[:64] or None,
        action=action or None,
        since=parse_date("since", since, time_zone=zone),
        until=parse_date("until", until, end=True, time_zone=zone),
        limit=limit,
    )


def _audit_targets(request: Request, events: list[AuditEvent], loc: Localizer) -> list[list[dict[str, str]]]:
    """Each event's targets as links with names: alerts by their subject, cases, exceptions, users."""
    ids = {t for e in events for t in e.targets if ID_RE.match(t) and len(t) == 32}
    names = {a.id: a for a in request.app.state.store.get_many(sorted(ids))} if ids else {}
    out = []
    for e in events:
        row = []
        for t in e.targets[:20]:
            if t in names:
                a = names[t]
                row.append({"id": t, "label": f"{a.subject.text} · {a.mark}", "href": f"/alerts/{t}"})
            elif t.startswith("exception:"):
                row.append({"id": t, "label": loc._("exception %(id)s", id=t[10:]), "href": "/exceptions?all=1"})
            elif t.startswith("user:"):
                row.append({"id": t, "label": loc._("analyst %(name)s", name=t[5:]), "href": ""})
            elif re.fullmatch(r"c[0-9a-z-]{3,40}", t):
                row.append({"id": t, "label": loc._("case %(id)s", id=t), "href": f"/cases/{t}"})
            elif ID_RE.match(t):
                row.append({"id": t, "label": loc._("alert %(id)s", id=t[:12]), "href": f"/alerts/{t}"})
            else:
                row.append({"id": t, "label": t, "href": ""})
        out.append(row)
    return out


@router.get("/admin/audit")
def audit_page(
    request: Request,
    user: Admin,
    who: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    limit: int = 200,
) -> Response:
    """The audit log, newest first, for admins: names and links for what was acted on, the
    notes, filters by analyst, action and days (both included), and the CSV export."""
    q = _audit_query(request, who, action, since, until, limit)
    events = request.app.state.store.audit_search(q)
    loc = localizer(request, user)
    users = sorted(set(request.app.state.users.names()) | ({who} if who else set()))
    qs = urlencode([(k, v) for k, v in (("who", who), ("action", action), ("since", since), ("until", until)) if v])
    return render(
        request,
        "audit.html",
        events=list(zip(events, _audit_targets(request, events, loc), strict=True)),
        who=who,
        action=action,
        since=since,
        until=until,
        actions=AUDIT_ACTIONS,
        action_labels=ACTION_LABELS,
        users=users,
        qs=qs,
    )


@router.get("/admin/audit.csv")
def audit_csv(
    request: Request,
    user: Admin,
    who: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    limit: int = 10_000,
) -> Response:
    """The audit log of these filters as CSV (BOM; local times with their offset)."""
    q = _audit_query(request, who, action, since, until, limit)
    events = request.app.state.store.audit_search(q)
    loc = localizer(request, user)
    buf = io.StringIO()
    buf.write(CSV_BOM)
    w = csv_writer(buf)
    headings = (
        N_("when"),
        N_("action"),
        N_("analyst"),
        N_("client"),
        N_("ok"),
        N_("targets"),
        N_("detail"),
        N_("note"),
    )
    w.writerow([loc.gettext(h) for h in headings])
    for e in events:
        w.writerow(
            [
                loc.local(e.at).isoformat(timespec="seconds"),
                e.action,
                e.user or "",
                e.client or "",
                "yes" if e.ok else "no",
                " ".join(e.targets),
                e.detail,
                e.note,
            ]
        )
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="markwatch-audit-{stamp}.csv"'},
    )


@router.post("/settings/language")
def set_language(
    request: Request,
    user: User,
    lang: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/alerts",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    """The analyst's language on this site (remembered by the browser for a year)."""
    check_csrf(request, csrf_token_)
    loc = normalise_locale(lang, default="")
    if loc:
        set_cookie(request, LANG_COOKIE, loc, max_age=365 * 86400)
    return see_other(safe_next(next))


# -- one company or shop, and the entities related to it ---------------------------------------------


@router.get("/entity")
def entity_page(request: Request, user: User, key: str = "") -> Response:
    """Every alert, sighting, case and decision of one credit code, shop or entity, and the
    entities sharing its legal representative, address, phone/e-mail or shop."""
    from alerts.errors import AlertNotFound
    from alerts.relations import entity_fields, query_for, related_entities

    key = key.strip()[:600]
    if not key or ":" not in key:
        raise AlertNotFound("no entity")
    store = request.app.state.store
    q = query_for(key).model_copy(update={"sort": "-probability"})
    alerts = [a for _, a in zip(range(500), store.export(q), strict=False)]
    if not alerts:
        raise AlertNotFound(f"no alerts for {key!r}")
    fields = entity_fields(alerts)
    related = related_entities(store, alerts, exclude=key)
    kind = key.partition(":")[0]
    name = fields["shop"] if kind == "shop" else alerts[0].subject.text
    sightings = sorted(((a, sg) for a in alerts for sg in sightings_of(a)), key=lambda p: p[1].last_seen, reverse=True)
    decisions = sorted(((a, h) for a in alerts for h in a.history), key=lambda p: p[1].at, reverse=True)
    open_ids = [a.id for a in alerts][:25]
    related_ids = [i for r in related for i in r.alert_ids][: max(0, 50 - len(open_ids))]
    shared = sorted({s.label for r in related for s in r.shared})
    loc = localizer(request, user)
    return render(
        request,
        "entity.html",
        key=key,
        entity_name=name,
        kind_label={"uscc": N_("Company"), "shop": N_("Shop")}.get(kind, N_("Entity")),
        fields=fields,
        alerts=alerts,
        related=related,
        sightings=sightings,
        decisions=decisions,
        cases=cases_for(request, [a.id for a in alerts]),
        open_ids=open_ids,
        related_ids=related_ids,
        related_fields="、".join(loc.gettext(s) for s in shared),
    )


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
    flash(request, tr(request, "%(n)s session(s) of %(who)s ended.", n=n, who=target))
    return see_other("/admin/audit")
