"""Light cleanup of crawled text before screening: the raw value is kept beside it as evidence.

Infringers hide marks with zero-width characters, split them with CRLF, or wrap
them in HTML; this undoes that without guessing (no NFKC: full-width brackets in
enterprise names are meaningful).
"""

from __future__ import annotations

import html
import re
import unicodedata

from price_parser import Price

MAX_LEN = 1000
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?-->", re.S)
_WS = re.compile(r"\s+")


def _drop_invisible(s: str) -> str:
    # Cf: zero-width space/joiners, BOM, bidi marks; Cc: controls (line breaks become spaces first).
    return "".join(ch for ch in s if unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co"))


def clean(value, *, strip_tags: bool = True, limit: int = MAX_LEN) -> str:
    """Unescape entities, drop scripts/tags and invisible characters, collapse whitespace, cap length."""
    return clean_cut(value, strip_tags=strip_tags, limit=limit)[0]


def clean_cut(value, *, strip_tags: bool = True, limit: int = MAX_LEN) -> tuple[str, bool]:
    """`clean`, and whether the cap cut the cleaned text (so the record can say it holds only a part)."""
    if value is None:
        return "", False
    s = value if isinstance(value, str) else str(value)
    pre_cut = len(s) > limit * 20
    s = s[: limit * 20]  # a huge string is cut before any regex runs over it
    s = html.unescape(s)
    if strip_tags:
        s = _TAG.sub(" ", _SCRIPT.sub(" ", s))
    s = _WS.sub(" ", s.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    s = _WS.sub(" ", _drop_invisible(s)).strip()
    return s[:limit], pre_cut or len(s) > limit


_CURRENCIES = {"¥": "CNY", "￥": "CNY", "元": "CNY", "RMB": "CNY", "CNY": "CNY", "$": "USD", "US$": "USD", "USD": "USD"}


def parse_price(value: object) -> tuple[float | None, str | None]:
    """'¥1,299.00' → (1299.0, 'CNY'); unparseable → (None, None). The reading is price-parser's.

    Numbers from a JSON API pass through; text is cleaned first (tags, invisible characters), and
    price-parser's currency (the symbol or code as written) is mapped to the two listings show.
    """
    if value is None:
        return None, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value), None) if value == value and abs(value) < 1e12 else (None, None)
    s = clean(value, limit=100)
    price = Price.fromstring(s)
    cur = _CURRENCIES.get((price.currency or "").upper()) or ("CNY" if "元" in s else None)
    if price.amount is None:
        return None, cur
    v = float(price.amount)
    return (v if 0 <= v < 1e12 else None), cur
