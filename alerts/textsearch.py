"""How free text becomes search tokens, shared so both stores find the same alerts.

Elasticsearch's built-in ``standard`` analyzer (the only one in the minimal distribution) makes
every Han character a token; SQLite's FTS5 ``unicode61`` tokenizer would keep a run of Han
characters as one token. Spacing out Han characters before FTS5 sees them gives it the same
unigram tokens, and a phrase query over unigrams behaves like a substring search.
"""

from __future__ import annotations

import re

_HAN = re.compile(
    "([\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f])"
)


def spaced(text: str | None) -> str:
    """Han characters separated by spaces, everything else as it was."""
    return _HAN.sub(r" \1 ", text or "")


def search_terms(text: str | None) -> list[str]:
    """Whitespace-separated terms with at least one letter or digit (at most 20).

    Control and zero-width characters separate terms, so hostile input cannot build an
    operator or an empty phrase.
    """
    if not text:
        return []
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    return [t for t in cleaned.split() if any(c.isalnum() for c in t)][:20]


def fts5_query(text: str | None) -> str | None:
    """An FTS5 MATCH expression: each term a quoted phrase of its tokens, ANDed."""
    phrases = []
    for term in search_terms(text):
        tokens = re.findall(r"\w+", spaced(term))
        if tokens:
            phrases.append('"' + " ".join(tokens).replace('"', '""') + '"')
    return " AND ".join(phrases) if phrases else None


def fts5_phrase(term: str) -> str | None:
    """One term as an FTS5 phrase of its tokens (None when it has none)."""
    tokens = re.findall(r"\w+", spaced(term))
    return '"' + " ".join(tokens).replace('"', '""') + '"' if tokens else None


def field_needles(term: str) -> dict[str, str]:
    """What one term looks for in the identity fields (a part of each), normalised as they are stored
    (``alerts.facets``): the credit code upper-cased, authority and legal representative as NFKC
    without spaces. Both stores match these as substrings, so they find the same alerts."""
    from alerts.facets import norm

    clean = norm(term, 200)
    return {"uscc": clean.upper(), "authority": clean, "legal_rep": clean}
