"""The JSON API under /api/ for analysts' scripts: the queue's filters, one alert, reviews, counts.

Authentication: the site's session cookie (then every POST needs ``X-CSRF-Token``) or HTTP Basic
credentials of a configured analyst. The reviewer recorded is always the authenticated analyst.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts.model import Alert, Status
from alerts.sessions import AUDIT_ACTIONS, AuditEvent, AuditQuery
from markwatch.web.deps import ApiAdmin, FilterDep, Reader, Writer, evidence_for
from markwatch.web.filters import parse_date
from markwatch.web.security import audit, check_csrf

router = APIRouter(prefix="/api", tags=["alerts"])


class AlertPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[Alert]


class EvidenceInfo(BaseModel):
    id: str
    url: str | None = None
    fetched_at: datetime | None = None
    http_status: int | None = None
    size: int | None = None
    verified: bool
    problem: str | None = None
    body_url: str | None = None


class AlertDetail(BaseModel):
    alert: Alert
    evidence: EvidenceInfo | None = None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    note: str = Field(default="", max_length=4000)


class BulkReviewIn(ReviewIn):
    ids: list[Annotated[str, Field(pattern=r"^[0-9a-f]{8,64}$")]] = Field(min_length=1, max_length=1000)


class ReviewOut(BaseModel):
    count: int
    items: list[Alert]


class CountsOut(BaseModel):
    by_mark: dict[str, int]
    by_status: dict[str, int]
    by_day: dict[str, int]


@router.get("/alerts", response_model=AlertPage, summary="Search alerts (the queue's filters)")
def list_alerts(request: Request, auth: Reader, f: FilterDep) -> Any:
    page = request.app.state.store.search(f.to_query())
    return AlertPage(total=page.total, page=page.page, size=page.size, items=page.items)


@router.get("/alerts/{alert_id}", response_model=AlertDetail, summary="One alert with its evidence")
def get_alert(request: Request, alert_id: str, auth: Reader) -> Any:
    alert = request.app.state.store.get(alert_id)
    info = None
    if alert.evidence_id:
        ev, problem = evidence_for(request, alert)
        info = EvidenceInfo(
            id=alert.evidence_id,
            verified=ev is not None,
            problem=problem,
            url=ev.url if ev else None,
            fetched_at=ev.fetched_at if ev else None,
            http_status=ev.status if ev else None,
            size=ev.size if ev else None,
            body_url=f"/evidence/{alert.evidence_id}" if ev else None,
        )
    return AlertDetail(alert=alert, evidence=info)


@router.post("/alerts/{alert_id}/review", response_model=Alert, summary="Review one alert")
def review_alert(request: Request, alert_id: str, body: ReviewIn, auth: Writer) -> Any:
    """409 when other analysts kept reviewing the same alert meanwhile (nothing is lost; retry)."""
    return _review(request, [alert_id], body, auth)[0]


@router.post("/reviews", response_model=ReviewOut, summary="Review many alerts at once (all or none)")
def review_many(request: Request, body: BulkReviewIn, auth: Writer) -> Any:
    done = _review(request, body.ids, body, auth)
    return ReviewOut(count=len(done), items=done)


def _review(request: Request, ids: list[str], body: ReviewIn, auth: Any) -> list[Alert]:
    from alerts.store import ReviewConflict

    try:
        done = request.app.state.store.review(ids, body.status, body.note, who=auth.user)
    except ReviewConflict:
        audit(
            request, "review", user=auth.user, ok=False, targets=ids, detail=f"{body.status}: conflict", note=body.note
        )
        raise
    audit(request, "review", user=auth.user, targets=ids, detail=body.status, note=body.note)
    return done


@router.get("/counts", response_model=CountsOut, summary="Alerts per mark, status and day (first seen, UTC)")
def counts(request: Request, auth: Reader, f: FilterDep) -> Any:
    c = request.app.state.store.counts(f.to_query(paged=False))
    return CountsOut(by_mark=c.by_mark, by_status=c.by_status, by_day=c.by_day)


@router.get("/audit", response_model=list[AuditEvent], summary="The audit log, newest first (admins only)")
def audit_log(
    request: Request,
    auth: ApiAdmin,
    user: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(description=", ".join(AUDIT_ACTIONS))] = "",
    since: Annotated[str, Query(description="YYYY-MM-DD or ISO 8601 (UTC)")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    from markwatch.web.filters import FilterError

    if action and action not in AUDIT_ACTIONS:
        raise FilterError(f"action: one of {', '.join(AUDIT_ACTIONS)}")
    q = AuditQuery(user=user or None, action=action or None, since=parse_date("since", since), limit=limit)
    return request.app.state.store.audit_search(q)


@router.post("/users/{name}/sign-out", summary="End every session of an analyst (admins only)")
def sign_out_user(request: Request, name: str, auth: ApiAdmin) -> dict[str, int]:
    if auth.via == "session":
        check_csrf(request, request.headers.get("x-csrf-token"))
    n = request.app.state.store.session_delete_user(name[:64])
    audit(request, "sign_out_everywhere", user=auth.user, targets=[f"user:{name[:64]}"], detail=f"{n} session(s)")
    return {"ended": n}
