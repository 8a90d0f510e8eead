"""How crawled text is shown anywhere: one rule for invisible characters, links and CSV cells.

Infringers write names with zero-width joiners, bidi overrides (U+202E flips the rest of a line),
control bytes and spreadsheet formulas. The review site (markwatch/web), the CLI and the email
digests (alerts/notify) all show the same text, so they share these helpers: ``invisible`` is the
one definition of a character an analyst cannot see, ``plain`` shows each as ``⟨U+XXXX⟩`` (for
``<title>``, CSV, terminals and mail), ``safe_href`` the one rule for links, ``csv_cell`` and
``csv_writer`` the one defused CSV.
"""

from __future__ import annotations

import csv
import unicodedata
from typing import Any, TextIO
from urllib.parse import urlsplit

MAX_URL = 2048  # longer URLs are not made links (browsers and mail clients differ above this)


def invisible(ch: str) -> bool:
    """Controls, format characters (zero-width, bidi), surrogates, private use, unassigned, odd spaces."""
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Zs" and ch != " ")


def code(ch: str) -> str:
    """The notation every surface uses for an invisible character: ``U+200B``."""
    return f"U+{ord(ch):04X}"


def plain(value: Any, limit: int | None = None) -> str:
    """Text with each invisible character written ``⟨U+XXXX⟩`` (tabs and line breaks included).

    For places that cannot show a badge and must not pass the character on: a page ``<title>``,
    CSV cells, terminals. Cut at ``limit`` characters of the input (then ``…``).
    """
    s = "" if value is None else str(value)
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]
    out = "".join(f"⟨{code(ch)}⟩" if invisible(ch) else ch for ch in s)
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
    ]
