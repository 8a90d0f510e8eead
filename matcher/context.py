"""What surrounds a match: the subject's industry, cue words, word boundaries.

CNIPA practice and the law (see docs/matching.md) decide with these whether a
similar name is an imitation: ordinary marks are protected only in their own
field, descriptive and compatibility uses are fair, counterfeit cue words next
to a mark in a listing are not.
"""

from __future__ import annotations

from functools import cache

import ahocorasick_rs as ac

from matcher.normalize import fold
from matcher.resources import enterprise_words, nice_classes


@cache
def _class_automaton() -> tuple[ac.AhoCorasick, list[frozenset[int]]]:
    """Industry words → the Nice classes they show, scanned leftmost-longest in one pass."""
    by_word: dict[str, set[int]] = {}
    for cls, words in nice_classes().items():
        for w in words:
            by_word.setdefault(w, set()).add(cls)
    patterns = sorted(by_word)
    return ac.AhoCorasick(patterns, matchkind=ac.MatchKind.LeftmostLongest), [frozenset(by_word[p]) for p in patterns]


def classes_in(text: str, min_len: int = 1) -> set[int]:
    """Nice classes named by industry words in folded text (longest words win)."""
    automaton, classes = _class_automaton()
    found: set[int] = set()
    for idx, s, e in automaton.find_matches_as_indexes(text):
        if e - s >= min_len:
            found |= classes[idx]
    return found


@cache
def _words(key: str) -> tuple[str, ...]:
    return tuple(sorted({fold(str(w)) for w in enterprise_words()[key]}, key=len, reverse=True))


def counterfeit_cue(text: str) -> str | None:
    """The first counterfeit cue word (高仿, A货, 1:1, 原单, 同款…) in folded text."""
    for w in _words("counterfeit_cues"):
        if w in text:
            return w
    return None


def descriptive_use(text: str, start: int, end: int) -> str | None:
    """A compatibility or descriptive word right before or after the match (适用于…, …手机壳)."""
    before = text[max(0, start - 6):start].rstrip(" ")
    after = text[end:end + 6].lstrip(" ")
    for w in _words("descriptive_before"):
        if before.endswith(w):
            return w
    for w in _words("descriptive_after"):
        if after.startswith(w):
            return w
    return None

