"""The cases pages: the list (filters, deadlines, overdue highlighted), one case (alerts, evidence,
events, the actions), opening a case from alert ids, and the dossier downloads.

Same rules as the rest of the site: signed-in analysts only, every POST checks the CSRF token,
every crawled string goes through the templates' autoescaping and ``reveal``. The case store
shares the alert store's SQLite connection, so it also shares its lock.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse

from alerts.cases.errors import CaseError, CaseNotFound
from alerts.cases.model import STATES, Case
from markwatch.web.deps import User
from markwatch.web.pages import flash, render, see_other
from markwatch.web.security import audit, check_csrf

router = APIRouter(include_in_schema=False)
CASE_RE = re.compile(r"^C-[0-9a-f]{4,10}$")
STATE_LABELS = {
    "open": "open 立案",
    "filed": "filed 已投诉",
    "awaiting": "awaiting 等待期限",
    "resolved": "resolved 已解决",
    "closed": "closed 已关闭",
}
RESOLUTIONS = {
    "renamed": "renamed 已更名",
    "deregistered": "deregistered 已注销",
    "revoked": "revoked 已吊销",
    "listing_removed": "listing removed 链接已删除",
    "refused": "registration refused 不予注册",
    "withdrawn": "application withdrawn 申请已撤回",
    "registered": "registered 已核准注册 (invalidation is the next route 可请求宣告无效)",
}


def cases_of(request: Request) -> Any:
    """The case store over the app's alert store (created once; SQLite shares the store's lock)."""
    from alerts.cases.store import open_case_store
    from markwatch.web.access import Serialized

    state = request.app.state
    found = getattr(state, "cases", None)
    if found is None:
        store = state.store
        target = getattr(store, "_target", store) if isinstance(store, Serialized) else store
        found = open_case_store(target)
        if isinstance(store, Serialized):
            proxy = Serialized(found)
            proxy._lock = store._lock  # one sqlite3 connection, one lock
            found = proxy
        state.cases = found
    return found


def _case(request: Request, case_id: str) -> Case:
    if not CASE_RE.match(case_id):
        raise HTTPException(404, "No such case.")
    try:
        return cases_of(request).get(case_id)
    except CaseNotFound:
        raise HTTPException(404, "No such case.") from None


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("/cases")
def case_list(request: Request, user: User, state: str = "", overdue: str = "", owner: str = "") -> Response:
    states = [s for s in state.split(",") if s in STATES]
    today = _today()
    cases = cases_of(request).list(states=states, owner=owner[:200] or None)
    if overdue:
        cases = [c for c in cases if c.overdue(today)]
    counts: dict[str, int] = {}
    for c in cases_of(request).list():
        counts[c.state] = counts.get(c.state, 0) + 1
    return render(
        request,
        "cases.html",
        cases=cases,
        today=today,
        state=",".join(states),
        overdue=bool(overdue),
        owner=owner[:200],
        counts=counts,
        states=STATES,
        STATE_LABELS=STATE_LABELS,
    )


@router.post("/cases")
def case_open(
    request: Request,
    user: User,
    alert_ids: Annotated[str, Form(max_length=4000)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    from alerts.cases.service import open_case

    check_csrf(request, csrf_token_)
    ids = [i for i in re.split(r"[\s,]+", alert_ids) if i][:50]
    if not ids or not all(re.fullmatch(r"[0-9a-f]{6,64}", i) for i in ids):
        flash(request, "Give one or more alert ids (hex).", "error")
        return see_other("/cases")
    store = request.app.state.store
    try:
        case = open_case(store, cases_of(request), ids, note=note, who=user)
    except CaseError as exc:
        audit(request, "case", user=user, ok=False, targets=ids, detail=f"open: {exc}")
        flash(request, f"Not opened: {exc}", "error")
        return see_other("/cases")
    store.review(case.alert_ids, "escalated", note=f"case {case.id}", who=user)
    audit(request, "case", user=user, targets=[case.id, *case.alert_ids], detail="open")
    flash(request, f"Case {case.id} opened.")
    return see_other(f"/cases/{case.id}")


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, user: User) -> Response:
    case = _case(request, case_id)
    alerts = request.app.state.store.get_many(case.alert_ids)
    evidence_ids: list[tuple[str, str]] = [(a.evidence_id, "alert") for a in alerts if a.evidence_id]
    for e in case.events:
        for key, label in (("before_evidence", "before"), ("after_evidence", "after")):
            if e.data.get(key) and re.fullmatch(r"[0-9a-f]{64}", str(e.data[key])):
                evidence_ids.append((str(e.data[key]), label))
    evidence = list(dict.fromkeys(evidence_ids))
    platform = ""
    if case.entity.kind == "listing":
        platform = request.app.state.settings.cases.platforms.get(case.entity.source, "")
    return render(
        request,
        "case.html",
        case=case,
        alerts=alerts,
        evidence=evidence,
        platform=platform,
        today=_today(),
        STATE_LABELS=STATE_LABELS,
        RESOLUTIONS=RESOLUTIONS,
        default_days=request.app.state.settings.cases.deadline_days,
    )


def _act(request: Request, case_id: str, csrf: str, fn: Any, done: str, **kw: Any) -> Response:
    check_csrf(request, csrf)
    case = _case(request, case_id)
    action = fn.__name__.removesuffix("_case")
    try:
        fn(cases_of(request), case.id, **kw)
    except CaseError as exc:
        audit(request, "case", user=kw.get("who"), ok=False, targets=[case.id], detail=f"{action}: {exc}")
        flash(request, f"Not done: {exc}", "error")
    else:
        audit(request, "case", user=kw.get("who"), targets=[case.id], detail=action)
        flash(request, done)
    return see_other(f"/cases/{quote(case.id)}")


@router.post("/cases/{case_id}/file")
def case_file(
    request: Request,
    case_id: str,
    user: User,
    to: Annotated[str, Form(max_length=300)] = "",
    ref: Annotated[str, Form(max_length=200)] = "",
    deadline: Annotated[str, Form(max_length=20)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    from alerts.cases.service import file_case

    dl = None
    if deadline.strip():
        try:
            dl = date.fromisoformat(deadline.strip())
        except ValueError:
            check_csrf(request, csrf_token_)
            flash(request, "Deadline: a date as YYYY-MM-DD.", "error")
            return see_other(f"/cases/{quote(case_id)}")
    days = request.app.state.settings.cases.deadline_days
    return _act(
        request, case_id, csrf_token_, file_case, "Filed.", to=to, ref=ref, deadline=dl, default_days=days, who=user
    )


@router.post("/cases/{case_id}/close")
def case_close(
    request: Request,
    case_id: str,
    user: User,
    reason: Annotated[str, Form(max_length=4000)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    from alerts.cases.service import close_case

    return _act(request, case_id, csrf_token_, close_case, "Closed.", reason=reason, who=user)


@router.post("/cases/{case_id}/resolve")
def case_resolve(
    request: Request,
    case_id: str,
    user: User,
    resolution: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    from alerts.cases.service import resolve_case

    if resolution not in RESOLUTIONS and resolution != "other":
        resolution = "other"
    return _act(request, case_id, csrf_token_, resolve_case, "Resolved.", resolution=resolution, note=note, who=user)


@router.post("/cases/{case_id}/reopen")
def case_reopen(
    request: Request, case_id: str, user: User, csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""
) -> Response:
    from alerts.cases.service import reopen_case

    return _act(request, case_id, csrf_token_, reopen_case, "Reopened.", who=user)


@router.get("/cases/{case_id}/dossier.{fmt}")
def case_dossier(request: Request, case_id: str, fmt: str, user: User) -> Response:
    """The dossier as a download (built on request: the evidence may have changed since)."""
    from starlette.background import BackgroundTask

    from alerts.cases.dossier import build_dossier, export_pdf, export_zip
    from markwatch.services.dossier_opts import dossier_options
    from matcher.marksfile import MarksFileError, load_marks

    if fmt not in ("pdf", "zip"):
        raise HTTPException(404, "No such format.")
    case = _case(request, case_id)
    settings = request.app.state.settings
    alerts = request.app.state.store.get_many(case.alert_ids)
    try:
        marks = load_marks(settings.marks.path)
    except MarksFileError:
        marks = []
    tmp = tempfile.TemporaryDirectory(prefix="markwatch-dossier-")
    try:
        now = datetime.now(UTC)
        opts = dossier_options(settings)
        folder = build_dossier(
            case, alerts, request.app.state.evidence(), marks, Path(tmp.name) / "d", opts=opts, now=now
        )
        out = Path(tmp.name) / f"{case.id}.{fmt}"
        if fmt == "zip":
            export_zip(folder, out)
        else:
            export_pdf(folder, out, case_id=case.id, created_at=now, stamp_post=opts.stamp_post)
    except CaseError as exc:
        tmp.cleanup()
        raise HTTPException(503, f"The dossier could not be made: {exc}") from None
    except BaseException:
        tmp.cleanup()
        raise
    media = "application/zip" if fmt == "zip" else "application/pdf"
    return FileResponse(out, media_type=media, filename=out.name, background=BackgroundTask(tmp.cleanup))


@router.get("/shared/alerts/{token}")
def shared_alert(request: Request, token: str) -> Response:
    """One alert, read-only, for a brand owner without an account: opened by the signed link in a digest.

    No sign-in: the link is the credential (alerts.notify.links: signed, expiring, revocable by
    ``[notify] links_valid_after`` or a new ``[review] secret_key``). It shows that alert only.
    """
    from html import escape

    from alerts.notify.links import LinkError, parse_time, read_token

    settings = request.app.state.settings
    key = settings.review.secret_key
    if key is None or len(token) > 2000:
        raise HTTPException(404, "No such link.")
    try:
        alert_id, _recipient = read_token(
            key.get_secret_value(),
            token,
            max_days=settings.notify.link_days,
            valid_after=parse_time(settings.notify.links_valid_after),
        )
    except LinkError as exc:
        raise HTTPException(410, str(exc)) from None
    found = request.app.state.store.get_many([alert_id])
    if not found:
        raise HTTPException(404, "This alert no longer exists.")
    a = found[0]
    from alerts.cases.authority import authority_for
    from alerts.cases.model import alert_url
    from alerts.notify.sanitize import display_text

    ent = a.entity or ""
    uscc = str(ent[5:] if ent.startswith("uscc:") else (a.item or {}).get("uscc") or "")
    auth = authority_for(uscc) if a.subject.kind == "enterprise" and uscc else None
    rows = [
        ("商标 Mark", a.mark),
        ("名称或商品 Name or title", a.subject.text),
        ("统一社会信用代码 Credit code", uscc),
        ("登记机关 Registering authority", auth.name if auth and auth.known else ""),
        ("来源 Source", ", ".join(a.sources) or a.source),
        ("链接 Page", alert_url(a)),
        ("首次发现 First seen", a.first_seen.isoformat(timespec="minutes")),
        ("状态 Status", a.status),
    ]
    reasons = "".join(f"<li>{escape(display_text(r.zh or r.en, 300))}</li>" for r in a.reasons)
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(display_text(str(v), 500))}</td></tr>" for k, v in rows if v)
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        '<title>markwatch</title></head><body style="font-family:sans-serif;max-width:760px">'
        f'<h1 style="font-size:18px">{escape(display_text(a.subject.text, 200))}</h1>'
        f'<table style="border-collapse:collapse">{table}</table><ul>{reasons}</ul>'
        '<p style="color:#666;font-size:12px">只读链接，由 markwatch 摘要邮件发出；名称和标题由第三方填写，按原样显示。'
        " Read-only link from a markwatch digest; names were written by third parties.</p></body></html>"
    )
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex",
        },
    )
