"""The search terms a scan sends to a search source, per mark: one function for the spider and `sources check --terms`.

Search APIs match substrings, so an imitation is found only when it is asked for by name (壹正 for
一正). Every search source, keyed or keyless, gets the ranked list (`matcher.variants.ranked_terms`:
the mark, its Han aliases, then round-robin financial numerals, same-tone homophones, look-alikes,
traditional forms; Latin aliases last), cut to the source's budget (docs/sources.md "Search terms").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crawler.sources import Source


def budget(source: Source, cap: int = 0) -> int:
    """Terms per mark: the source's `max_terms` (else 8 for a keyed source, 30 for a keyless one),
    capped by `[scan] terms_per_mark` unless the file sets `max_terms` itself."""
    own = source.term_budget()
    return min(own, cap) if cap and not source.max_terms else own


@dataclass
class MarkTerms:
    mark: str
    terms: list[str]  # this mark's ranked terms, within the budget
    new: list[str] = field(default_factory=list)  # those not already asked for by an earlier mark


def plan(source: Source, marks_path: str | Path, cap: int = 0) -> tuple[list[str], list[MarkTerms]]:
    """(every term the scan sends, in order: the file's `keywords` first; the terms of each mark)."""
    from crawler.marks import marks_for
    from matcher.variants import ranked_terms

    n = budget(source, cap)
    sent: dict[str, None] = dict.fromkeys(k for k in source.keywords if k.strip())
    per_mark: list[MarkTerms] = []
    for mark in marks_for(marks_path):
        terms = [t.strip() for t in ranked_terms(mark, n)[:n] if t and t.strip()]
        mt = MarkTerms(mark.name, terms, [t for t in terms if t not in sent])
        sent.update(dict.fromkeys(terms))
        per_mark.append(mt)
    return list(sent), per_mark
