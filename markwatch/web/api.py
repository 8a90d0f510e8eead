"""The JSON API under /api/ for analysts' scripts: the queue's filters, one alert, reviews, counts.

Authentication: the site's session cookie (then every POST needs ``X-CSRF-Token``) or HTTP Basic
credentials of a configured analyst. The reviewer recorded is always the authenticated analyst.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts.model import Alert, Status
from markwatch.web.filters import Filters, filters
from markwatch.web.security import basic_credentials, check_csrf, session_user

router = APIRouter(prefix="/api", tags=["alerts"])


class Auth(BaseModel):
    user: str
    via: str  # "session" or "basic"


def api_user(request: Request) -> Auth:
    user = session_user(request)
    if user:
        return Auth(user=user, via="session")
    creds = basic_credentials(request)
    if creds:
        throttle = request.app.state.throttle
        keys = (f"user:{creds[0]}", f"ip:{request.client.host if request.client else '?'}")
        if throttle.blocked(*keys):
            raise HTTPException(429, "too many failed sign-ins; wait a few minutes")
        if request.app.state.users.verify_cached(*creds):
            return Auth(user=creds[0], via="basic")
        throttle.failed(*keys)
    raise HTTPException(401, "sign in: session cookie or HTTP Basic credentials of a configured analyst")


def api_writer(request: Request, auth: Annotated[Auth, Depends(api_user)]) -> Auth:
    """Like ``api_user``; a cookie session must also prove it is our page (X-CSRF-Token)."""
    if auth.via == "session":
        check_csrf(request, request.headers.get("x-csrf-token"))
    return auth


Reader = Annotated[Auth, Depends(api_user)]
Writer = Annotated[Auth, Depends(api_writer)]


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


FilterDep = Annotated[Filters, Depends(filters)]


@router.get("/alerts", response_model=AlertPage, summary="Search alerts (the queue's filters)")
def list_alerts(request: Request, auth: Reader, f: FilterDep) -> Any:
    page = request.app.state.store.search(f.to_query())
    return AlertPage(total=page.total, page=page.page, size=page.size, items=page.items)


@router.get("/alerts/{alert_id}", response_model=AlertDetail, summary="One alert with its evidence")
def get_alert(request: Request, alert_id: str, auth: Reader) -> Any:
    from markwatch.web.pages import _evidence

    alert = request.app.state.store.get(alert_id)
    info = None
    if alert.evidence_id:
        ev, problem = _evidence(request, alert)
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
    return request.app.state.store.review([alert_id], body.status, body.note, who=auth.user)[0]


@router.post("/reviews", response_model=ReviewOut, summary="Review many alerts at once (all or none)")
def review_many(request: Request, body: BulkReviewIn, auth: Writer) -> Any:
    done = request.app.state.store.review(body.ids, body.status, body.note, who=auth.user)
    return ReviewOut(count=len(done), items=done)


@router.get("/counts", response_model=CountsOut, summary="Alerts per mark, status and day (first seen, UTC)")
def counts(request: Request, auth: Reader, f: FilterDep) -> Any:
    c = request.app.state.store.counts(f.to_query(paged=False))
    return CountsOut(by_mark=c.by_mark, by_status=c.by_status, by_day=c.by_day)
