"""How crawled text reaches a page: always escaped, invisible characters made visible.

Infringers write names with zero-width joiners, bidi overrides and HTML. Jinja2 autoescapes every
``{{ }}``; ``reveal`` additionally shows control, format and odd space characters as a small
``U+200B`` badge so an analyst sees what the crawler saw; ``plain`` writes them ``⟨U+200B⟩`` where
no markup is possible (``<title>``); ``highlight`` marks the matched span; ``safe_href`` lets only
http(s) URLs become links. The rules themselves are ``alerts.present``, shared with the digests.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from alerts import i18n
from alerts.facets import index_fields, region_name
from alerts.model import Alert
from alerts.present import STATUS_NAMES, code, invisible, percent, plain, reason_text, safe_href, worth_a_look
from alerts.relations import page_key

HERE = Path(__file__).parent

STATUS_LABELS = STATUS_NAMES  # msgids: templates show them through _()


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    return message


FACET_LABELS = {
    "mark": N_("Mark"),
    "kind": N_("Kind"),
    "source": N_("Source"),
    "region": N_("Region"),
    "authority": N_("Registering authority"),
    "status": N_("Status"),
    "band": N_("Likelihood"),
    "uscc": N_("Credit code"),
    "entity": N_("Entity"),
    "shop": N_("Shop"),
    "legal_rep": N_("Legal representative"),
    "address": N_("Address"),
    "contact": N_("Phone / e-mail"),
    "owner": N_("Owner"),
}
BAND_LABELS = {"high": N_("high (≥ 0.9)"), "medium": N_("medium (0.7–0.9)"), "low": N_("low (< 0.7)")}
KIND_LABELS = {"enterprise": N_("Enterprise name"), "listing": N_("Listing")}
ACTION_LABELS = {
    "sign_in": N_("sign in"),
    "sign_in_failed": N_("failed sign-in"),
    "sign_out": N_("sign out"),
    "sign_out_everywhere": N_("sign out everywhere"),
    "review": N_("review"),
    "exception": N_("exception"),
    "export": N_("export"),
    "case": N_("case"),
    "error": N_("error"),
}


def entity_label(key: str) -> str:
    loc = i18n.current()
    kind, _, value = key.partition(":")
    if kind == "uscc":
        return loc._("Company %(code)s", code=value)
    if kind == "shop":
        return loc._("Shop %(name)s", name=plain(value, 40))
    return loc._("Entity page")


def localized_reason(reason: Any) -> str:
    return reason_text(reason, i18n.current().locale)


def other_reason(reason: Any) -> str:
    """The reason's wording in the other language, shown beside it when it differs."""
    other = "en" if i18n.current().locale.startswith("zh") else "zh_CN"
    text = reason_text(reason, other)
    return "" if text == localized_reason(reason) else text


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


def when(dt: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A stored time in the reader's zone, named (``alerts.i18n``)."""
    return i18n.current().when(dt, fmt)


def as_json(value: Any) -> str:
    """A source-item value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def days_left(deadline: date | None) -> str:
    """A trademark alert's opposition deadline as days left from today in China (the deadline's calendar)."""
    if deadline is None:
        return ""
    from alerts.deadlines import today_in

    left = (deadline - today_in()).days
    loc = i18n.current()
    if left == 0:
        return loc._("Due today")
    if left == 1:
        return loc._("1 day left")
    if left > 1:
        return loc._("%(n)s days left", n=left)
    if left == -1:
        return loc._("Passed 1 day ago")
    return loc._("Passed %(n)s days ago", n=-left)


def _today_cn() -> date:
    from alerts.deadlines import today_in

    return today_in()


def deadline_facts(alert: Any) -> dict[str, Any]:
    """How the alert's deadline was found (alerts.deadlines): the three months' end, moved past rest days?"""
    from alerts.deadlines import opposition_deadline

    if alert.deadline is None or alert.subject.announced is None:
        return {}
    d = opposition_deadline(alert.subject.announced)
    return {"period_end": d.period_end, "moved": d.moved, "holidays_known": d.holidays_known}


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
        days_left=days_left,
    )
    env.globals.update(
        highlight=highlight,
        STATUS_LABELS=STATUS_LABELS,
        safe_href=safe_href,
        entity_key=page_key,  # the alert's entity page (alerts.relations)
        entity_label=entity_label,
        facet_fields=index_fields,
        reason_text=localized_reason,
        reason_other=other_reason,
        region_name=region_name,
        languages=i18n.LANGUAGE_NAMES,
        deadline_facts=deadline_facts,
        today_cn=_today_cn,
    )
    i18n.install(env)
    return t
