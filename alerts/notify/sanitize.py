"""Make hostile text safe for mail headers and for display.

Crawled names are written by infringers: they carry CR/LF (header injection),
zero-width and bidi characters (to dodge filters or flip text on screen), control
bytes and megabyte strings. HTML escaping is Jinja2's job (autoescape); this module
handles what autoescape does not: line breaks, invisible characters and length. The rules for
invisible characters and links are ``alerts.present``'s, shared with the review site.
"""

from __future__ import annotations

import re
import unicodedata

from alerts.present import invisible, notation, plain
from alerts.present import safe_href as safe_href

_SPACE_RUN = re.compile(r"\s+")


def _visible(ch: str) -> str:
    """For a non-printable character: separators and controls become a space, the rest a code."""
    cat = unicodedata.category(ch)
    if cat == "Cc" or cat.startswith("Z"):
        return " "
    # Zero-width characters, bidi overrides, private use: evidence of evasion, so show them.
    return notation(ch)


def display_text(value: object, limit: int = 200) -> str:
    """One line of text, invisible characters made visible, at most `limit` characters."""
    if value is None:
        return ""
    text = str(value)
    if len(text) > limit * 4:  # do not walk a megabyte string character by character
        text = text[: limit * 4]
    text = "".join(_visible(ch) if invisible(ch) else ch for ch in text)
    text = _SPACE_RUN.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def header_text(value: object, limit: int = 150) -> str:
    """Text for a header: no CR, LF or control characters; format (bidi, zero-width) ones written out.

    A bidi override in a subject would reorder what the reader sees, so it is shown as
    ``⟨U+202E⟩`` like everywhere else; line breaks and controls become spaces (header injection).
    """
    if value is None:
        return ""
    text = str(value)[: limit * 4]
    text = "".join(" " if unicodedata.category(ch) == "Cc" or ch.isspace() else ch for ch in text)
    text = plain(text)
    text = _SPACE_RUN.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
