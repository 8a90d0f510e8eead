"""The queue's filters as URL parameters, shared by the pages, the CSV export and ``/api/alerts``.

Parameters: ``mark``, ``owner``, ``status``, ``kind``, ``source`` (each repeatable), ``min_score``,
``max_score``, ``since``, ``until`` (YYYY-MM-DD or ISO 8601; until is exclusive), ``date_field``
(first_seen or last_seen), ``q`` (words in the name, title or seller), ``sort``, ``page``, ``size``.
Empty values are ignored, so the filter form can submit every field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query
from pydantic import ValidationError

from alerts.store import MAX_PAGE, AlertQuery

SORTS = {
    "-score": "Score, high first",
    "score": "Score, low first",
    "-last_seen": "Last seen, newest",
    "last_seen": "Last seen, oldest",
    "-first_seen": "First seen, newest",
    "first_seen": "First seen, oldest",
    "mark": "Mark",
    "-times_seen": "Times seen",
}


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the parameter."""


@dataclass
class Filters:
    mark: list[str] = field(default_factory=list)
    owner: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    min_score: str = ""
    max_score: str = ""
    since: str = ""
    until: str = ""
    date_field: str = ""
    q: str = ""
    sort: str = ""
    page: str = ""
    size: str = ""

    def params(self, **override: Any) -> list[tuple[str, str]]:
        """Non-empty parameters as (name, value) pairs, for links that keep the filter."""
        values = asdict(self)
        values.update(override)
        out: list[tuple[str, str]] = []
        for k, v in values.items():
            for item in v if isinstance(v, list) else [v]:
                if item not in ("", None):
                    out.append((k, str(item)))
        return out

    def qs(self, **override: Any) -> str:
        return urlencode(self.params(**override))

    def to_query(self, *, default_size: int = 50, paged: bool = True) -> AlertQuery:
        values: dict[str, Any] = {
            "marks": self.mark,
            "owners": self.owner,
            "statuses": self.status,
            "kinds": self.kind,
            "sources": self.source,
            "min_score": _number("min_score", self.min_score, float),
            "max_score": _number("max_score", self.max_score, float),
            "since": parse_date("since", self.since),
            "until": parse_date("until", self.until, end=True),
            "text": self.q.strip() or None,
        }
        if self.date_field:
            values["date_field"] = self.date_field
        if self.sort:
            values["sort"] = self.sort
        if paged:
            page, size = _number("page", self.page, int), _number("size", self.size, int)
            values["page"] = 1 if page is None else page
            values["size"] = default_size if size is None else size
        try:
            return AlertQuery(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = {
                "marks": "mark",
                "owners": "owner",
                "statuses": "status",
                "kinds": "kind",
                "sources": "source",
                "text": "q",
            }.get(str(err["loc"][0]), str(err["loc"][0]))
            raise FilterError(f"{name}: {err['msg']}") from None


def _number(name: str, raw: str, kind: type) -> Any:
    if not raw.strip():
        return None
    try:
        return kind(raw.strip())
    except ValueError:
        raise FilterError(f"{name}: {raw[:40]!r} is not a number") from None


def parse_date(name: str, raw: str, end: bool = False) -> datetime | None:
    """A day or an instant (UTC unless it says otherwise); a plain ``until`` day includes that day."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"{name}: {raw[:40]!r} is not a date (YYYY-MM-DD)") from None
    if end and len(raw) == 10:
        dt += timedelta(days=1)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


Many = Annotated[list[str], Query()]


def filters(
    mark: Many = [],  # noqa: B006 - FastAPI copies defaults
    owner: Many = [],  # noqa: B006
    status: Annotated[list[str], Query(description="new, confirmed, dismissed, escalated, resolved")] = [],  # noqa: B006
    kind: Annotated[list[str], Query(description="enterprise or listing")] = [],  # noqa: B006
    source: Many = [],  # noqa: B006
    min_score: Annotated[str, Query(description="0 to 1")] = "",
    max_score: Annotated[str, Query(description="0 to 1")] = "",
    since: Annotated[str, Query(description="YYYY-MM-DD or ISO 8601, inclusive (UTC)")] = "",
    until: Annotated[str, Query(description="YYYY-MM-DD (that day included) or ISO 8601 instant, exclusive")] = "",
    date_field: Annotated[str, Query(description="first_seen or last_seen (default)")] = "",
    q: Annotated[str, Query(description="words in the name, title or seller (all must match)")] = "",
    sort: Annotated[str, Query(description=", ".join(SORTS))] = "",
    page: Annotated[str, Query(description=f"1 to {MAX_PAGE}")] = "",
    size: Annotated[str, Query(description="1 to 1000")] = "",
) -> Filters:
    """FastAPI dependency: the filter parameters of a request (documented in the OpenAPI schema)."""
    clean = [[v for v in lst if v.strip()] for lst in (mark, owner, status, kind, source)]
    return Filters(*clean, min_score, max_score, since, until, date_field, q[:500], sort, page, size)
