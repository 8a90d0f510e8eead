"""Exceptions: words an analyst or the marks file says are not a mark (老干部 is not 老干妈).

An entry of `Mark.exclude` (or of the marks file's top-level `exclude`, which
is added to every mark) is one of:

- ``WORD``: a plain word, folded like the subject (traditional, full-width and
  case do not matter);
- ``re:PATTERN``: a Python regular expression searched in the folded subject;
- either of them followed by ``;outside=C1,C2,…``: the exception holds only
  when the subject's field is not one of those Nice classes (华威 for 华为
  ``;outside=9,38,42``: a 华威 sign maker is not flagged, a 华威 phone shop is).
  An unknown field counts as outside.

An occurrence of the word (or a match of the pattern) suppresses an alignment
of the mark when one of the two spans contains the other: 老干部 covers the
window 老干部 aligned to 老干妈; excluding 干部 would suppress it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from matcher.marks import check_exclude
from matcher.normalize import fold


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One parsed `exclude` entry."""

    entry: str
    word: str = ""
    pattern: re.Pattern[str] | None = None
    outside: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, entry: str) -> Exclusion:
        entry = check_exclude(entry)
        body, _, limit = entry.partition(";")
        body = body.strip()
        outside = frozenset(int(c) for c in limit.partition("=")[2].split(",")) if limit else frozenset()
        if body.startswith("re:"):
            return cls(entry=entry, pattern=re.compile(body[3:]), outside=outside)
        return cls(entry=entry, word=fold(body), outside=outside)

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """Where the word or pattern occurs in folded text."""
        if self.pattern is not None:
            return [m.span() for m in self.pattern.finditer(folded) if m.end() > m.start()]
        out: list[tuple[int, int]] = []
        word = self.word
        if not word:
            return out
        start = folded.find(word)
        while start >= 0:
            out.append((start, start + len(word)))
            start = folded.find(word, start + 1)
        return out

    def covers(self, folded: str, start: int, end: int, classes: set[int] | frozenset[int]) -> bool:
        """Does this exception hold for the match folded[start:end] in a subject of these classes?"""
        if self.outside and classes & self.outside:
            return False
        for s, e in self.spans(folded):
            if (s <= start and end <= e) or (start <= s and e <= end):
                return True
        return False


def excluded(exclusions: tuple[Exclusion, ...], folded: str, start: int, end: int, classes: set[int]) -> str | None:
    """The first exception that holds for the match, as written in the marks file."""
    for ex in exclusions:
        if ex.covers(folded, start, end, classes):
            return ex.entry
    return None
