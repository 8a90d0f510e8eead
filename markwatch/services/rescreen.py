"""Re-judge open alerts with the current matcher, marks and stored exceptions.

When an analyst adds an exception or an owner changes the marks file, alerts already in the queue
were judged by the old rules. ``rescreen`` screens each open alert's subject again (all the alert
kept of it: text, kind, seller, price, category, a trademark's classes and groups, an enterprise's
credit code, declared industry and founding date) and finds those the matcher no longer flags for
the alert's mark. A dry run only reports them; ``apply`` closes them (status ``dismissed``) with
the review event "rescreened: no longer matches", so the history says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerts.model import Alert
from alerts.store import AlertQuery, AlertStore

NOTE = "rescreened: no longer matches"


@dataclass
class RescreenReport:
    checked: int = 0
    still: int = 0
    closing: list[Alert] = field(default_factory=list)
    applied: bool = False


def current_matcher(settings: Any, store: AlertStore) -> Any:
    """The matcher a scan would build now: the configured marks plus the active stored exceptions."""
    from markwatch.services.exclusions import with_exceptions
    from matcher import Matcher
    from matcher.marksfile import load_marks

    marks = load_marks(settings.marks.path)
    return Matcher(with_exceptions(marks, store.exception_list(active_only=True)))


def still_flags(matcher: Any, alert: Alert) -> bool:
    """Does the matcher flag the alert's subject for the alert's mark?"""
    from markwatch.services.considered import subject_of

    return any(h.mark == alert.mark for h in matcher.screen(subject_of(alert)))


def rescreen(
    settings: Any,
    store: AlertStore,
    *,
    statuses: list[str],
    marks: list[str] | None = None,
    apply: bool = False,
    who: str = "rescreen",
    matcher: Any = None,
) -> RescreenReport:
    matcher = matcher or current_matcher(settings, store)
    report = RescreenReport(applied=apply)
    q = AlertQuery(statuses=statuses, marks=list(marks or []), sort="-score")  # type: ignore[arg-type]
    for alert in store.export(q):
        report.checked += 1
        if still_flags(matcher, alert):
            report.still += 1
        else:
            report.closing.append(alert)
    if apply and report.closing:
        ids = [a.id for a in report.closing]
        for i in range(0, len(ids), 500):
            store.review(ids[i : i + 500], "dismissed", NOTE, who=who)
    return report
