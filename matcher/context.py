"""What surrounds a match: the subject's industry, cue words, word boundaries.

CNIPA practice and the law (see docs/matching.md) decide with these whether a
similar name is an imitation: ordinary marks are protected only in their own
field, descriptive and compatibility uses are fair, counterfeit cue words next
to a mark in a listing are not.
"""

from __future__ import annotations

from functools import cache

import ahocorasick_rs as ac

from matcher.resources import enterprise_words, nice_classes

from .normalize import fold


@cache
def class_words() -> tuple[tuple[str, frozenset[int]], ...]:
    """Industry words, sorted, each with the Nice classes it shows: what classes_in looks
    for (and the compiled in_field too, through IndexPlan.class_words)."""
    by_word: dict[str, set[int]] = {}
    for cls, words in nice_classes().items():
        for w in words:
            by_word.setdefault(w, set()).add(cls)
    return tuple((w, frozenset(by_word[w])) for w in sorted(by_word))


@cache
def _class_automaton() -> tuple[ac.AhoCorasick, list[frozenset[int]]]:
    """Industry words → the Nice classes they show, scanned leftmost-longest in one pass."""
    words = class_words()
    return ac.AhoCorasick([w for w, _ in words], matchkind=ac.MatchKind.LeftmostLongest), [c for _, c in words]


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
    """The first counterfeit cue word (高仿, A货, 1:1, 原单, 同款…) in folded text,
    the longest where two start together: the same every run."""
    found = [(text.find(w), -len(w), w) for w in _words("counterfeit_cues") if w in text]
    return min(found)[2] if found else None


def descriptive_use(text: str, start: int, end: int) -> str | None:
    """A compatibility or descriptive word right before or after the match (适用于…, …手机壳)."""
    before = text[max(0, start - 6) : start].rstrip(" ")
    after = text[end : end + 6].lstrip(" ")
    words, lengths = _affix_index("descriptive_before")
    for n in lengths:
        if before[-n:] in words and len(before) >= n:
            return before[-n:]
    words, lengths = _affix_index("descriptive_after")
    for n in lengths:
        if after[:n] in words and len(after) >= n:
            return after[:n]
    return None


@cache
def _affix_index(key: str) -> tuple[frozenset[str], tuple[int, ...]]:
    """A word list as a set and its lengths, longest first: looking up the suffix (or
    prefix) of each length finds the word a scan in _words() order would, since two
    words of one length cannot both end the same text."""
    words = _words(key)
    assert all(words), key
    return frozenset(words), tuple(sorted({len(w) for w in words}, reverse=True))
