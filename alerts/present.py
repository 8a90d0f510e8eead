"""How crawled text is shown anywhere: one rule for invisible characters, links and CSV cells.

Infringers write names with zero-width joiners, bidi overrides (U+202E flips the rest of a line),
control bytes and spreadsheet formulas. The review site (markwatch/web), the CLI and the email
digests (alerts/notify) all show the same text, so they share these helpers: ``invisible`` is the
one definition of a character an analyst cannot see, ``plain`` shows each as ``⟨U+XXXX⟩`` (for
``<title>``, CSV, terminals and mail), ``safe_href`` the one rule for links, ``csv_cell`` and
``csv_writer`` the one defused CSV, and ``build_query`` the one way typed filters become an
``AlertQuery``.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from urllib.parse import urlsplit

from pydantic import ValidationError

from alerts.store import AlertQuery

MAX_URL = 2048  # longer URLs are not made links (browsers and mail clients differ above this)


def invisible(ch: str) -> bool:
    """Controls, format characters (zero-width, bidi), surrogates, private use, unassigned, odd spaces."""
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Zs" and ch != " ")


def code(ch: str) -> str:
    """The notation every surface uses for an invisible character: ``U+200B``."""
    return f"U+{ord(ch):04X}"


def notation(ch: str) -> str:
    """An invisible character written out where no badge can show it: ``⟨U+200B⟩``."""
    return f"⟨{code(ch)}⟩"


def plain(value: Any, limit: int | None = None) -> str:
    """Text with each invisible character written ``⟨U+XXXX⟩`` (tabs and line breaks included).

    For places that cannot show a badge and must not pass the character on: a page ``<title>``,
    CSV cells, terminals. Cut at ``limit`` characters of the input (then ``…``).
    """
    s = "" if value is None else str(value)
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]
    out = "".join(notation(ch) if invisible(ch) else ch for ch in s)
    return out + "…" if cut else out


def safe_href(url: Any) -> str | None:
    """The URL when it may become a link: http(s), a host, no whitespace, quotes or invisible characters."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        return None
    if any(invisible(c) or c.isspace() or c in "<>\"'`\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: invisible characters written out, formulas defused.

    A leading ``=``, ``+``, ``-``, ``@`` (also after spaces, which some programs skip) gets a ``'``
    in front, the OWASP advice for CSV injection; numbers we write ourselves are not affected
    because scores and counts are never negative.
    """
    s = plain(value)
    return "'" + s if s.lstrip(" ")[:1] in _FORMULA_START else s


class CsvWriter:
    """``csv.writer`` whose every cell goes through ``csv_cell``."""

    def __init__(self, out: TextIO) -> None:
        self._w = csv.writer(out)

    def writerow(self, row: list[Any]) -> None:
        self._w.writerow([csv_cell(v) for v in row])


def csv_writer(out: TextIO) -> CsvWriter:
    return CsvWriter(out)


CSV_FIELDS = [
    "id",
    "status",
    "mark",
    "owner",
    "score",
    "probability",
    "likelihood",
    "kind",
    "source",
    "text",
    "uscc",
    "authority",
    "region",
    "trade_name",
    "industry",
    "form",
    "seller",
    "reasons",
    "first_seen",
    "last_seen",
    "times_seen",
    "notified_at",
    "evidence_id",
    "url",
]
CSV_BOM = "\ufeff"  # first in every CSV we write: Excel on a Chinese Windows reads UTF-8 only with it


def csv_header(loc: Any = None) -> list[str]:
    """The CSV's first row: the column names in the reader's language (``alerts.i18n.Localizer``);
    in English the field names scripts read (``CSV_FIELDS``)."""
    if loc is None or not loc.locale.startswith("zh"):
        return list(CSV_FIELDS)
    return [loc.gettext(CSV_HEADINGS[f]) for f in CSV_FIELDS]


def _n(message: str) -> str:
    return message


CSV_HEADINGS = {
    "id": _n("id"),
    "status": _n("status"),
    "mark": _n("mark"),
    "owner": _n("owner"),
    "score": _n("score"),
    "probability": _n("probability"),
    "likelihood": _n("likelihood"),
    "kind": _n("kind"),
    "source": _n("source"),
    "text": _n("name or title"),
    "uscc": _n("credit code"),
    "authority": _n("registering authority"),
    "region": _n("region"),
    "trade_name": _n("trade name"),
    "industry": _n("industry"),
    "form": _n("form"),
    "seller": _n("shop"),
    "reasons": _n("reasons"),
    "first_seen": _n("first seen"),
    "last_seen": _n("last seen"),
    "times_seen": _n("times seen"),
    "notified_at": _n("notified"),
    "evidence_id": _n("evidence"),
    "url": _n("url"),
}


def reason_text(reason: Any, locale: str = "zh_CN") -> str:
    """A reason as people read it: its Chinese or English wording (the code when it has neither)."""
    zh, en = getattr(reason, "zh", "") or "", getattr(reason, "en", "") or ""
    first, second = (zh, en) if str(locale).startswith("zh") else (en, zh)
    return first or second or getattr(reason, "code", "")


def csv_row(alert: Any, loc: Any = None) -> list[Any]:
    """One alert as the CSV export's row (``CSV_FIELDS``), raw: ``CsvWriter`` defuses it.

    With ``loc`` (an ``alerts.i18n.Localizer``) times are local (ISO with the offset), the
    likelihood a percentage and the reasons their wording in its language; without, as stored.
    """
    from alerts.facets import index_fields

    d = alert.to_doc()
    s = d["subject"]
    fx = index_fields(alert)
    locale = loc.locale if loc is not None else "en"

    def when(key: str) -> Any:
        value = getattr(alert, key)
        if loc is None or value is None:
            return d[key]
        return loc.local(value).isoformat(timespec="seconds")

    return [
        d["id"],
        loc.gettext(STATUS_NAMES[d["status"]]) if loc is not None else d["status"],
        d["mark"],
        d["owner"],
        f"{d['score']:.3f}",
        f"{alert.chance:.4f}",
        loc.percent(alert.chance) if loc is not None else percent(alert.chance),
        s["kind"],
        " ".join(alert.sources),
        s["text"],
        fx["uscc"],
        fx["authority"],
        s["region"],
        s["trade_name"],
        s["industry"],
        s["form"],
        s["seller"],
        "；".join(reason_text(r, locale) for r in alert.reasons)
        if loc is not None
        else " ".join(r["code"] for r in d["reasons"]),
        when("first_seen"),
        when("last_seen"),
        d["times_seen"],
        when("notified_at"),
        d["evidence_id"],
        d["url"],
    ]


STATUS_NAMES = {
    "new": _n("New"),
    "confirmed": _n("Confirmed"),
    "dismissed": _n("Dismissed"),
    "escalated": _n("Escalated"),
    "resolved": _n("Resolved"),
}


def percent(probability: float) -> str:
    """A calibrated probability as an analyst reads it: ``93 %`` (never a flat 0 or 100)."""
    p = min(1.0, max(0.0, float(probability)))
    if p > 0.995:
        return ">99 %"
    if p < 0.005:
        return "<1 %"
    return f"{round(p * 100)} %"


def worth_a_look(probability: float) -> str:
    """``est. 93 % worth a look``: of hits scored like this, the share that were worth a look."""
    return f"est. {percent(probability)} worth a look"


# -- one alert-query builder for the site, its API and the CLI -----------------------------------


class QueryError(ValueError):
    """A filter value that cannot be used; the message names the parameter as the user wrote it."""


def parse_when(
    name: str, raw: Any, *, day_inclusive_end: bool = False, time_zone: str | None = None
) -> datetime | None:
    """A day or an instant. A plain day ``YYYY-MM-DD`` is that day in ``time_zone`` (UTC when not
    given); with ``day_inclusive_end`` it means the end of that day (an "until" that includes the
    day). An instant without an offset is read in ``time_zone`` too."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(time_zone) if time_zone else UTC
    if raw is None or isinstance(raw, datetime):
        return raw if raw is None or raw.tzinfo else raw.replace(tzinfo=zone)
    text = str(raw).strip()
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    if day_inclusive_end and len(text) == 10:
        dt += timedelta(days=1)
    return (dt if dt.tzinfo else dt.replace(tzinfo=zone)).astimezone(UTC)


def _number(name: str, raw: Any, kind: type) -> Any:
    if raw is None or isinstance(raw, int | float):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise QueryError(f"{name}: {text[:40]!r} is not a number") from None


_FIELDS = {
    "marks": "mark",
    "owners": "owner",
    "statuses": "status",
    "kinds": "kind",
    "sources": "source",
    "text": "q",
}


def build_query(
    *,
    mark: Iterable[str] = (),
    owner: Iterable[str] = (),
    status: Iterable[str] = (),
    kind: Iterable[str] = (),
    source: Iterable[str] = (),
    min_score: Any = None,
    max_score: Any = None,
    min_probability: Any = None,
    since: Any = None,
    until: Any = None,
    date_field: str | None = None,
    text: str | None = None,
    sort: str | None = None,
    page: Any = None,
    size: Any = None,
    default_size: int = 50,
    until_day_inclusive: bool = True,
    names: dict[str, str] | None = None,
    time_zone: str | None = None,
    extra: dict[str, Iterable[str]] | None = None,
) -> AlertQuery:
    """An ``AlertQuery`` from what a user typed (strings or values); empty values are ignored.

    The review site's filters, its API and ``markwatch alerts search/export/counts`` all build their
    query here, so a filter means the same everywhere: a plain day is a day in ``time_zone`` (the
    configured zone, default UTC) and an ``until`` day is included. ``names`` maps our parameter
    names (``mark``, ``q``, ``min_score``…) to how the caller spells them (``--mark``…) for messages.
    ``extra`` holds the facet and relation lists by AlertQuery field (``regions``, ``usccs``…).
    """
    label = (names or {}).get
    values: dict[str, Any] = {
        "marks": [m for m in mark if str(m).strip()],
        "owners": [o for o in owner if str(o).strip()],
        "statuses": [s for s in status if str(s).strip()],
        "kinds": [k for k in kind if str(k).strip()],
        "sources": [s for s in source if str(s).strip()],
        "min_score": _number(label("min_score", "min_score"), min_score, float),
        "max_score": _number(label("max_score", "max_score"), max_score, float),
        "min_probability": _number(label("min_probability", "min_probability"), min_probability, float),
        "since": parse_when(label("since", "since"), since, time_zone=time_zone),
        "until": parse_when(label("until", "until"), until, day_inclusive_end=until_day_inclusive, time_zone=time_zone),
        "text": (text or "").strip() or None,
        "time_zone": time_zone or "UTC",
    }
    for key, vals in (extra or {}).items():
        values[key] = [v.strip() for v in vals if str(v).strip()]
    if values.get("usccs"):
        values["usccs"] = [v.upper() for v in values["usccs"]]
    if date_field:
        values["date_field"] = date_field
    if sort:
        values["sort"] = sort
    p, s = _number(label("page", "page"), page, int), _number(label("size", "size"), size, int)
    values["page"] = 1 if p is None else p
    values["size"] = default_size if s is None else s
    try:
        return AlertQuery(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0])
        name = _FIELDS.get(field, field)
        raise QueryError(f"{label(name, name)}: {err['msg']}") from None
