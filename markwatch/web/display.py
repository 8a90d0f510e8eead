"""How crawled text reaches a page: always escaped, invisible characters made visible.

Infringers write names with zero-width joiners, bidi overrides and HTML. Jinja2 autoescapes every
``{{ }}``; ``reveal`` additionally shows control, format and odd space characters as a small
``U+200B`` badge so an analyst sees what the crawler saw; ``plain`` writes them ``⟨U+200B⟩`` where
no markup is possible (``<title>``); ``highlight`` marks the matched span; ``safe_href`` lets only
http(s) URLs become links. The rules themselves are ``alerts.present``, shared with the digests.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from alerts.model import Alert
from alerts.present import code, invisible, percent, plain, safe_href, worth_a_look

HERE = Path(__file__).parent

STATUS_LABELS = {
    "new": "New",
    "confirmed": "Confirmed",
    "dismissed": "Dismissed",
    "escalated": "Escalated",
    "resolved": "Resolved",
}


def reveal(text: Any, limit: int | None = None) -> Markup:
    """Escaped text with invisible characters shown as badges; cut at ``limit`` characters."""
    s = "" if text is None else str(text)
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]
    out: list[str] = []
    plain: list[str] = []
    for ch in s:
        if invisible(ch):
            if plain:
                out.append(str(escape("".join(plain))))
                plain = []
            out.append(f'<span class="cc" title="invisible character">{code(ch)}</span>')
        else:
            plain.append(ch)
    if plain:
        out.append(str(escape("".join(plain))))
    if cut:
        out.append('<span class="cut">…</span>')
    return Markup("".join(out))


def highlight(alert: Alert, limit: int | None = None) -> Markup:
    """The subject's name or title with the matched text (or the trade name) in ``<mark>``."""
    text = alert.subject.text
    if limit is not None and len(text) > limit:
        text = text[:limit]
        tail = Markup('<span class="cut">…</span>')
    else:
        tail = Markup("")
    span = _stored_span(alert, text)
    if span is None:
        # Alerts stored before the match span was kept (or whose span does not fit the shown text):
        # find the matched text, else the trade name or the mark, as the first occurrence.
        for needle in (alert.matched, alert.subject.trade_name, alert.mark):
            if needle and needle in text:
                i = text.index(needle)
                span = (i, i + len(needle))
                break
    if span is None:
        return reveal(text) + tail
    i, j = span
    return reveal(text[:i]) + Markup("<mark>") + reveal(text[i:j]) + Markup("</mark>") + reveal(text[j:]) + tail


def _stored_span(alert: Alert, text: str) -> tuple[int, int] | None:
    """The matcher's span when it is stored, lies in ``text`` and covers the matched text."""
    i, j = alert.span_start, alert.span_end
    if i is None or j is None or not 0 <= i < j <= len(text):
        return None
    return (i, j) if text[i:j] == alert.matched else None


def when(dt: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.strftime(fmt) + " UTC" if dt else "—"


def as_json(value: Any) -> str:
    """A source-item value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    env = t.env
    env.autoescape = True  # every template, whatever its extension
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        reveal=reveal,
        when=when,
        as_json=as_json,
        safe_href=safe_href,
        plain=plain,
        percent=percent,
        worth_a_look=worth_a_look,
    )
    env.globals.update(highlight=highlight, STATUS_LABELS=STATUS_LABELS, safe_href=safe_href)
    return t
