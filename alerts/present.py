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
    "kind",
    "source",
    "text",
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


def csv_row(alert: Any) -> list[Any]:
    """One alert as the CSV export's row (``CSV_FIELDS``), raw: ``CsvWriter`` defuses it."""
    d = alert.to_doc()
    s = d["subject"]
    return [
        d["id"],
        d["status"],
        d["mark"],
        d["owner"],
        f"{d['score']:.3f}",
        f"{alert.chance:.4f}",
        s["kind"],
        d["source"],
        s["text"],
        s["region"],
        s["trade_name"],
        s["industry"],
        s["form"],
        s["seller"],
        " ".join(r["code"] for r in d["reasons"]),
        d["first_seen"],
        d["last_seen"],
        d["times_seen"],
        d["notified_at"],
        d["evidence_id"],
        d["url"],
    ]


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


def parse_when(name: str, raw: Any, *, day_inclusive_end: bool = False) -> datetime | None:
    """A day or an instant (UTC unless it says otherwise). With ``day_inclusive_end`` a plain
    day ``YYYY-MM-DD`` means the end of that day (the site's "until", which includes the day)."""
    if raw is None or isinstance(raw, datetime):
        return raw if raw is None or raw.tzinfo else raw.replace(tzinfo=UTC)
    text = str(raw).strip()
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    if day_inclusive_end and len(text) == 10:
        dt += timedelta(days=1)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


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
    until_day_inclusive: bool = False,
    names: dict[str, str] | None = None,
) -> AlertQuery:
    """An ``AlertQuery`` from what a user typed (strings or values); empty values are ignored.

    The review site's filters, its API and ``markwatch alerts search/export/counts`` all build their
    query here, so a filter means the same everywhere. ``names`` maps our parameter names
    (``mark``, ``q``, ``min_score``…) to how the caller spells them (``--mark``…) for messages.
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
        "since": parse_when(label("since", "since"), since),
        "until": parse_when(label("until", "until"), until, day_inclusive_end=until_day_inclusive),
        "text": (text or "").strip() or None,
    }
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
