"""What the matcher weighed for an alert's subject besides the alert's mark ("also considered").

An analyst deciding an alert wants to know whether the text is nearer another protected mark,
and which rule set that mark aside (`markwatch match --explain` on the same text): the alert
page shows it. The matcher is the one a scan would build now, cached per marks file.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from matcher.types import Subject

CACHE_SECONDS = 300.0  # stored exceptions change rarely; the marks file is checked on every use


@dataclass(frozen=True)
class Considered:
    mark: str
    rule: str  # the explain rule that dropped the mark's best alignment (or the mark, when none)
    score: float | None  # that alignment's score, or how near the mark came (no_key_in_text)
    window: str  # the part of the text aligned with the mark ("" when none was)


def subject_of(alert: Any) -> Subject:
    """The matcher's subject for a stored alert, with everything the store kept of it: what the scan
    weighed (a trademark's classes, an enterprise's credit code, industry and founding date) is
    weighed again, so that a rescreen or "also considered" reads the subject as the scan did."""
    s = alert.subject
    return Subject(
        text=s.text,
        kind=s.kind,
        seller=s.seller,
        price=s.price,
        category=s.category,
        uscc=s.uscc,
        industry=s.declared_industry,
        classes=tuple(s.classes),
        groups=tuple(s.groups),
        founded=s.founded,
        announced=s.announced.isoformat() if s.announced else None,
        applicant=s.applicant,
        number=s.number,
    )


def also_considered(matcher: Any, alert: Any, limit: int = 6) -> list[Considered]:
    """The other marks the matcher weighed for the alert's text, nearest first."""
    out = []
    for record in matcher.explain(subject_of(alert)):
        if record.get("mark") == alert.mark:
            continue
        tried = record.get("considered") or []
        best = max(tried, key=lambda c: c.get("score") or 0.0, default=None)
        score = best.get("score") if best is not None else record.get("score", record.get("nearest"))
        # the rule of the alignment shown, so that the row reads as one: else the mark's own
        rule = (best.get("rule") if best else None) or record.get("rule", "")
        window = best.get("window", "") if best else ""
        out.append(Considered(str(record.get("mark", "")), str(rule), score, str(window)))
    out.sort(key=lambda c: (-(c.score or 0.0), c.mark))
    return out[:limit]


class MatcherCache:
    """One matcher per process, rebuilt when the marks file changes or after CACHE_SECONDS."""

    def __init__(self, settings: Any, store: Any) -> None:
        self._settings, self._store = settings, store
        self._lock = threading.Lock()
        self._key: tuple[float, float] | None = None
        self._matcher: Any = None

    def get(self) -> Any:
        """The matcher, or None when the marks file cannot be read (the page then leaves the section out)."""
        from markwatch.services.rescreen import current_matcher
        from matcher.marksfile import MarksFileError

        try:
            mtime = os.stat(self._settings.marks.path).st_mtime
        except OSError:
            return None
        with self._lock:
            now = time.monotonic()
            if self._key is None or self._key[0] != mtime or now - self._key[1] > CACHE_SECONDS:
                try:
                    self._matcher = current_matcher(self._settings, self._store)
                except MarksFileError:
                    self._matcher = None
                self._key = (mtime, now)
            return self._matcher
