"""The queue's filters as URL parameters, shared by the pages, the CSV export and ``/api/alerts``.

Parameters: ``mark``, ``owner``, ``status``, ``kind``, ``source`` (each repeatable), ``min_score``,
``max_score``, ``min_probability`` (the calibrated probability worth a look, 0 to 1), ``since``,
``until`` (YYYY-MM-DD or ISO 8601; until is exclusive), ``date_field``
(first_seen or last_seen), ``q`` (words in the name, title or seller), ``sort``, ``page``, ``size``.
Empty values are ignored, so the filter form can submit every field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import Query

from alerts.present import QueryError, build_query, parse_when
from alerts.store import MAX_PAGE, AlertQuery

SORTS = {
    "-probability": "Most likely worth a look",
    "probability": "Least likely worth a look",
    "-score": "Score, high first",
    "score": "Score, low first",
    "-last_seen": "Last seen, newest",
    "last_seen": "Last seen, oldest",
    "-first_seen": "First seen, newest",
    "first_seen": "First seen, oldest",
    "mark": "Mark",
    "-times_seen": "Times seen",
}


FilterError = QueryError  # a filter value that cannot be used; the message names the parameter


@dataclass
class Filters:
    mark: list[str] = field(default_factory=list)
    owner: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    min_score: str = ""
    max_score: str = ""
    min_probability: str = ""
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
        """The store query (``alerts.present.build_query``, shared with the CLI); FilterError if bad."""
        return build_query(
            mark=self.mark,
            owner=self.owner,
            status=self.status,
            kind=self.kind,
            source=self.source,
            min_score=self.min_score,
            max_score=self.max_score,
            min_probability=self.min_probability,
            since=self.since,
            until=self.until,
            date_field=self.date_field,
            text=self.q,
            sort=self.sort,
            page=self.page if paged else None,
            size=self.size if paged else None,
            default_size=default_size,
            until_day_inclusive=True,
        )

    @classmethod
    def from_qs(cls, qs: str) -> Filters:
        """The filters of a saved query string (the review form's ``ctx``), paging left out."""
        raw = parse_qs(qs, keep_blank_values=False)
        lists = {k: [v for v in raw.get(k, []) if v.strip()] for k in ("mark", "owner", "status", "kind", "source")}
        one = ("min_score", "max_score", "min_probability", "since", "until", "date_field", "q", "sort")
        values: dict[str, Any] = {**lists, **{k: (raw.get(k) or [""])[0] for k in one}}
        return cls(**values)


def parse_date(name: str, raw: str, end: bool = False) -> datetime | None:
    """A day or an instant (UTC unless it says otherwise); a plain ``until`` day includes that day."""
    return parse_when(name, raw, day_inclusive_end=end)


Many = Annotated[list[str], Query()]


def filters(
    mark: Many = [],  # noqa: B006 - FastAPI copies defaults
    owner: Many = [],  # noqa: B006
    status: Annotated[list[str], Query(description="new, confirmed, dismissed, escalated, resolved")] = [],  # noqa: B006
    kind: Annotated[list[str], Query(description="enterprise or listing")] = [],  # noqa: B006
    source: Many = [],  # noqa: B006
    min_score: Annotated[str, Query(description="0 to 1")] = "",
    max_score: Annotated[str, Query(description="0 to 1")] = "",
    min_probability: Annotated[str, Query(description="0 to 1: calibrated probability worth a look, at least")] = "",
    since: Annotated[str, Query(description="YYYY-MM-DD or ISO 8601, inclusive (UTC)")] = "",
    until: Annotated[str, Query(description="YYYY-MM-DD (that day included) or ISO 8601 instant, exclusive")] = "",
    date_field: Annotated[str, Query(description="first_seen or last_seen (default)")] = "",
    q: Annotated[str, Query(description="words in the name, title or seller (all must match)")] = "",
    sort: Annotated[str, Query(description=", ".join(SORTS))] = "",
    page: Annotated[str, Query(description=f"1 to {MAX_PAGE}")] = "",
    size: Annotated[str, Query(description="1 to 1000")] = "",
) -> Filters:
    """FastAPI dependency: the filter parameters of a request (documented in the OpenAPI schema)."""
    marks, owners, statuses, kinds, sources = (
        [v for v in lst if v.strip()] for lst in (mark, owner, status, kind, source)
    )
    return Filters(
        marks,
        owners,
        statuses,
        kinds,
        sources,
        min_score,
        max_score,
        min_probability,
        since,
        until,
        date_field,
        q[:500],
        sort,
        page,
        size,
    )
