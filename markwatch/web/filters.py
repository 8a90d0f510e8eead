"""The queue's filters as URL parameters, shared by the pages, the CSV export and ``/api/alerts``.

Parameters: ``mark``, ``owner``, ``status``, ``kind``, ``source``, and the facets ``region`` (the
credit code's division code), ``authority``, ``band`` (high, medium, low), plus ``uscc``, ``entity``,
``shop``, ``legal_rep``, ``address``, ``contact`` (each repeatable: values of one parameter are
alternatives, parameters combine), ``min_score``, ``max_score``, ``min_probability`` (the calibrated
probability worth a look, 0 to 1), ``since``, ``until`` (YYYY-MM-DD, days in the site's time zone,
both days included; or ISO 8601 instants, until exclusive), ``date_field`` (first_seen or
last_seen), ``q`` (words in the name, title or seller, or part of a credit code, authority or legal
representative), ``sort``, ``page``, ``size``. Empty values are ignored, so the filter form can
submit every field. ``density`` (compact or comfortable) is the queue's row height.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import Query, Request

from alerts.present import QueryError, build_query, parse_when
from alerts.store import MAX_PAGE, AlertQuery


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate where shown"
    """Marks a string for the catalogue (``make i18n``); templates translate it with ``_()``."""
    return message


SORTS = {
    "-probability": N_("Most likely worth a look"),
    "probability": N_("Least likely worth a look"),
    "-score": N_("Score, high first"),
    "score": N_("Score, low first"),
    "-last_seen": N_("Last seen, newest"),
    "last_seen": N_("Last seen, oldest"),
    "-first_seen": N_("First seen, newest"),
    "first_seen": N_("First seen, oldest"),
    "mark": N_("Mark"),
    "-times_seen": N_("Times seen"),
    "deadline": N_("Opposition deadline, nearest first"),
}
PAGE_SIZES = (25, 50, 100, 200)
# URL parameter → AlertQuery field, for the lists beyond the original five.
EXTRA_LISTS = {
    "region": "regions",
    "authority": "authorities",
    "band": "bands",
    "uscc": "usccs",
    "entity": "entities",
    "shop": "shops",
    "legal_rep": "legal_reps",
    "address": "addresses",
    "contact": "contacts",
}
# Lists the filter form has no field for: carried as hidden inputs so a new search keeps them.
HIDDEN_LISTS = ("status", "source", *EXTRA_LISTS)


FilterError = QueryError  # a filter value that cannot be used; the message names the parameter


@dataclass
class Filters:
    mark: list[str] = field(default_factory=list)
    owner: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    authority: list[str] = field(default_factory=list)
    band: list[str] = field(default_factory=list)
    uscc: list[str] = field(default_factory=list)
    entity: list[str] = field(default_factory=list)
    shop: list[str] = field(default_factory=list)
    legal_rep: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    contact: list[str] = field(default_factory=list)
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
    density: str = ""
    time_zone: str = "UTC"  # the site's zone: what a plain day means (not a URL parameter)

    def hidden_lists(self) -> list[tuple[str, list[str]]]:
        return [(name, getattr(self, name)) for name in HIDDEN_LISTS if getattr(self, name)]

    def toggled(self, name: str, value: str) -> str:
        """The query string with ``value`` added to (or, when there, removed from) list ``name``, page 1."""
        current = list(getattr(self, name))
        new = [v for v in current if v != value] if value in current else [*current, value]
        return self.qs(**{name: new, "page": ""})

    def params(self, **override: Any) -> list[tuple[str, str]]:
        """Non-empty parameters as (name, value) pairs, for links that keep the filter."""
        values = asdict(self)
        values.pop("time_zone")
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
            time_zone=self.time_zone,
            extra={field: getattr(self, name) for name, field in EXTRA_LISTS.items()},
        )

    @classmethod
    def from_qs(cls, qs: str) -> Filters:
        """The filters of a saved query string (the review form's ``ctx``), paging left out."""
        raw = parse_qs(qs, keep_blank_values=False)
        lists = {
            k: [v for v in raw.get(k, []) if v.strip()]
            for k in ("mark", "owner", "status", "kind", "source", *EXTRA_LISTS)
        }
        one = ("min_score", "max_score", "min_probability", "since", "until", "date_field", "q", "sort")
        values: dict[str, Any] = {**lists, **{k: (raw.get(k) or [""])[0] for k in one}}
        return cls(**values)


def parse_date(name: str, raw: str, end: bool = False, time_zone: str | None = None) -> datetime | None:
    """A day (in ``time_zone``, UTC when not given) or an instant; a plain ``until`` day includes that day."""
    return parse_when(name, raw, day_inclusive_end=end, time_zone=time_zone)


Many = Annotated[list[str], Query()]


def filters(
    request: Request,
    mark: Many = [],  # noqa: B006 - FastAPI copies defaults
    owner: Many = [],  # noqa: B006
    status: Annotated[list[str], Query(description="new, confirmed, dismissed, escalated, resolved")] = [],  # noqa: B006
    kind: Annotated[list[str], Query(description="enterprise or listing")] = [],  # noqa: B006
    source: Many = [],  # noqa: B006
    region: Annotated[list[str], Query(description="division code of the credit code (6 digits)")] = [],  # noqa: B006
    authority: Annotated[list[str], Query(description="registering authority")] = [],  # noqa: B006
    band: Annotated[list[str], Query(description="likelihood band: high, medium, low")] = [],  # noqa: B006
    uscc: Annotated[list[str], Query(description="unified social credit code")] = [],  # noqa: B006
    entity: Annotated[list[str], Query(description="entity key (uscc:…, name:…, listing:…)")] = [],  # noqa: B006
    shop: Annotated[list[str], Query(description="a listing's shop (seller)")] = [],  # noqa: B006
    legal_rep: Annotated[list[str], Query(description="legal representative")] = [],  # noqa: B006
    address: Annotated[list[str], Query(description="registered address")] = [],  # noqa: B006
    contact: Annotated[list[str], Query(description="phone (digits) or e-mail")] = [],  # noqa: B006
    min_score: Annotated[str, Query(description="0 to 1")] = "",
    max_score: Annotated[str, Query(description="0 to 1")] = "",
    min_probability: Annotated[str, Query(description="0 to 1: calibrated probability worth a look, at least")] = "",
    since: Annotated[str, Query(description="YYYY-MM-DD (a day in the site's time zone) or ISO 8601, inclusive")] = "",
    until: Annotated[
        str, Query(description="YYYY-MM-DD (that day included, in the site's time zone) or ISO 8601 instant, exclusive")
    ] = "",
    date_field: Annotated[str, Query(description="first_seen or last_seen (default)")] = "",
    q: Annotated[str, Query(description="words in the name, title or seller (all must match)")] = "",
    sort: Annotated[str, Query(description=", ".join(SORTS))] = "",
    page: Annotated[str, Query(description=f"1 to {MAX_PAGE}")] = "",
    size: Annotated[str, Query(description="1 to 1000")] = "",
    density: Annotated[str, Query(description="the queue's rows: compact or comfortable")] = "",
) -> Filters:
    """FastAPI dependency: the filter parameters of a request (documented in the OpenAPI schema)."""
    lists = (
        mark,
        owner,
        status,
        kind,
        source,
        region,
        authority,
        band,
        uscc,
        entity,
        shop,
        legal_rep,
        address,
        contact,
    )
    clean = [[v.strip() for v in lst if v.strip()][:50] for lst in lists]
    f = Filters(*clean, min_score, max_score, min_probability, since, until, date_field, q[:500], sort, page, size)  # type: ignore[arg-type,call-arg]
    f.density = density if density in ("compact", "comfortable") else ""
    f.time_zone = request.app.state.settings.review.timezone
    return f
