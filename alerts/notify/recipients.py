"""Who gets told about which mark: the marks file's `notify` lists plus per-address preferences."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.notify.model import Recipient
from alerts.notify.settings import NotifySettings
from matcher.marks import Mark


def recipients_for(marks: Iterable[Mark], settings: NotifySettings) -> list[Recipient]:
    """One Recipient per address, in first-seen order, with a minimum score for each of its marks.

    The minimum is the owner's own `min_score` if set, else the mark's `threshold`, else the
    `[notify] min_score` default. Addresses compare case-insensitively.
    """
    by_addr: dict[str, tuple[str, list[str], dict[str, float]]] = {}
    for mark in marks:
        for raw in mark.notify:
            addr = raw.strip()
            key = addr.lower()
            prefs = settings.recipients.get(key)
            if prefs is not None and not prefs.enabled:
                continue
            if prefs is not None and prefs.min_score is not None:
                floor = prefs.min_score
            elif mark.threshold is not None:
                floor = mark.threshold
            else:
                floor = settings.min_score
            _, names, floors = by_addr.setdefault(key, (addr, [], {}))
            if mark.name not in names:
                names.append(mark.name)
                floors[mark.name] = floor
    out = []
    for key, (addr, names, floors) in by_addr.items():
        prefs = settings.recipients.get(key)
        statuses = prefs.statuses if prefs is not None and prefs.statuses else settings.statuses
        language = prefs.language if prefs is not None and prefs.language else settings.language
        out.append(
            Recipient(
                address=addr,
                marks=tuple(names),
                min_score=floors,
                statuses=frozenset(statuses),
                language=language,
                timezone=(prefs.timezone if prefs is not None and prefs.timezone else settings.timezone),
                csv=prefs.csv if prefs is not None and prefs.csv is not None else settings.csv,
                links=prefs.links if prefs is not None and prefs.links is not None else settings.links,
            )
        )
    return out
