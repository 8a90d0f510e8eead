"""Make hostile text safe for mail headers and for display.

Crawled names are written by infringers: they carry CR/LF (header injection),
zero-width and bidi characters (to dodge filters or flip text on screen), control
bytes and megabyte strings. HTML escaping is Jinja2's job (autoescape); this module
handles what autoescape does not: line breaks, invisible characters and length.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_SPACE_RUN = re.compile(r"\s+")


def _visible(ch: str) -> str:
    """For a non-printable character: separators and controls become a space, the rest a code."""
    cat = unicodedata.category(ch)
    if cat == "Cc" or cat.startswith("Z"):
        return " "
    # Zero-width characters, bidi overrides, private use: evidence of evasion, so show them.
    return f"⟨U+{ord(ch):04X}⟩"


def display_text(value: object, limit: int = 200) -> str:
    """One line of text, invisible characters made visible, at most `limit` characters."""
    if value is None:
        return ""
    text = str(value)
    if len(text) > limit * 4:  # do not walk a megabyte string character by character
        text = text[: limit * 4]
    text = "".join(ch if ch.isprintable() else _visible(ch) for ch in text)
    text = _SPACE_RUN.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def header_text(value: object, limit: int = 150) -> str:
    """Text for a header: no CR, LF or other control or format characters at all."""
    if value is None:
        return ""
    text = str(value)[: limit * 4]
    text = "".join(" " if not ch.isprintable() else ch for ch in text)
    text = _SPACE_RUN.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def safe_href(url: object) -> str | None:
    """The URL if it may become a link (http/https, no whitespace or control characters)."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        return None
    if any(not ch.isprintable() or ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
