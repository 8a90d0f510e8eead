"""The fields analysts filter, count and link alerts by, derived once from what the sources gave.

Both stores keep these beside the alert (SQLite columns, an Elasticsearch ``facets`` object) so
that facets, searches and "related entities" give the same answers on both. Everything comes
from the alert itself: the credit code (the crawler's identity or the item's ``uscc``), the item's
own ``authority``, ``legal_rep``, ``address``, ``phone``/``tel``/``email`` fields, the listing's
seller. Nothing is looked up elsewhere or guessed.

- ``uscc``: the unified social credit code when its check digit is right, else "".
- ``region``: the code's administrative division (characters 3–8, GB/T 2260), e.g. ``310115``.
- ``band``: the likelihood band of the calibrated probability (``high`` ≥ 0.9, ``medium`` ≥ 0.7,
  ``low``), the same thresholds the queue colours by.
- ``legal_rep``, ``address``, ``contacts`` (phones as digits, e-mails lower-cased), ``shop``: the
  values related entities share, normalised so that spacing and full-width forms do not hide a match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from alerts.model import Alert, sightings_of, valid_uscc

BANDS = ("high", "medium", "low")
FACETS = ("mark", "kind", "source", "region", "authority", "status", "band")
# What related entities may share, with the field that holds it.
RELATIONS = ("legal_rep", "address", "contact", "shop")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def band(probability: float) -> str:
    if probability >= 0.9:
        return "high"
    if probability >= 0.7:
        return "medium"
    return "low"


def band_range(name: str) -> tuple[float, float]:
    """[low, high) of a band's probability."""
    return {"high": (0.9, 2.0), "medium": (0.7, 0.9), "low": (-1.0, 0.7)}[name]


def norm(value: Any, limit: int = 300) -> str:
    """A shared value as an identity: NFKC, no whitespace or invisible characters, at most ``limit``."""
    if value is None or isinstance(value, dict | list):
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    s = "".join(c for c in s if not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc"))
    return s[:limit]


def _phone(value: str) -> str:
    """A Chinese phone number as digits, written one way: ``+86 21 5811 0001`` and
    ``021-5811 0001`` are both ``02158110001``; mobiles keep their 11 digits."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) >= 11:
        digits = digits[2:]
    if digits and not digits.startswith(("0", "1")):
        digits = "0" + digits  # an area code written without its trunk 0 (+86 21 …)
    return digits if 7 <= len(digits) <= 15 else ""


def contacts(item: dict[str, Any]) -> list[str]:
    """Phones (digits) and e-mail addresses (lower case) from the item's own contact fields."""
    out: list[str] = []
    for key in ("phone", "tel", "telephone", "mobile", "contact_phone", "电话"):
        raw = item.get(key)
        for part in raw if isinstance(raw, list) else [raw]:
            if isinstance(part, str | int):
                for piece in re.split(r"[;,，；/、]+", str(part)):
                    p = _phone(piece)
                    if p:
                        out.append(p)
    for key in ("email", "e_mail", "mail", "contact_email", "邮箱"):
        raw = item.get(key)
        for part in raw if isinstance(raw, list) else [raw]:
            if isinstance(part, str):
                out.extend(m.lower() for m in _EMAIL.findall(unicodedata.normalize("NFKC", part)))
    return list(dict.fromkeys(out))[:10]


def uscc_of(alert: Alert) -> str:
    if alert.entity.startswith("uscc:") and valid_uscc(alert.entity[5:]):
        return alert.entity[5:]
    if alert.subject.kind != "enterprise":
        return ""
    code = alert.item.get("uscc")
    if isinstance(code, str):
        code = code.replace(" ", "").upper()
        if valid_uscc(code):
            return code
    return ""


def index_fields(alert: Alert) -> dict[str, Any]:
    """What the stores keep beside the alert for facets, search and relations (see the module doc)."""
    code = uscc_of(alert)
    item = alert.item
    shop = norm(alert.subject.seller, 200) if alert.subject.kind == "listing" else ""
    return {
        "uscc": code,
        "region": code[2:8] if code else "",
        "authority": norm(item.get("authority"), 200),
        "legal_rep": norm(item.get("legal_rep"), 100),
        "address": norm(item.get("address"), 300),
        "contacts": contacts(item),
        "shop": shop,
        "sources": list(dict.fromkeys(sg.source for sg in sightings_of(alert))),
        "band": band(alert.chance),
    }


@cache
def _division_names() -> dict[str, str]:
    from matcher.resources import region_codes

    best: dict[str, str] = {}
    for name, prefixes in region_codes().items():
        for p in prefixes:
            if len(name) > len(best.get(p, "")):
                best[p] = name
    return best


def region_name(code: str) -> str:
    """``310115`` → ``上海市 浦东新区`` (province, prefecture, county as far as known), or ""."""
    if not re.fullmatch(r"\d{6}", code or ""):
        return ""
    names = _division_names()
    parts = [names.get(code[:2], "")]
    if code[2:4] != "00":
        pref = names.get(code[:4], "")
        if pref and pref not in parts:
            parts.append(pref)
    if code[4:] != "00":
        county = names.get(code, "")
        if county and county not in parts:
            parts.append(county)
    return " ".join(p for p in parts if p)
