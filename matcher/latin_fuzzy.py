"""Latin aliases and pinyin forms misspelt by one edit (JOYONG for JOYOUNG, SUPRO
for SUPOR, SU BO ER for supoer).

Sellers respell a brand's Latin form just enough to pass a keyword filter. An
exact search (LatinView in judge.py) misses that, and aligning every Latin word
against every mark's forms would cost O(words × marks). Instead each form's
one-deletion neighbourhood is indexed (the symmetric-delete idea of SymSpell):
a text word's own deletions look up the few forms within reach, and rapidfuzz's
optimal-string-alignment distance confirms each (one substitution, insertion,
deletion or swap of neighbours). Only Latin text pays anything.

What counts, measured on the labelled sets and real names (docs/matching.md):
forms of at least 6 letters take any one edit; 5-letter forms only a swap of
two neighbours (SUPER is one substitution from SUPOR, and an English word); the
first letter and every digit must be kept; a common English word (SUPER, POWER: SCOWL's list,
matcher/data/english_words.tsv) misspells nothing. The judgement (judge.py)
keeps such a hit only in the mark's own field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from rapidfuzz.distance import OSA, Levenshtein

from matcher.resources import english_words, latin_lookalikes

from .align import Alignment
from .normalize import skeleton
from .phonetic import by_reading

MIN_FORM = 5  # shorter forms (ANTA, LIBY) are one edit from too many words
MIN_ANY_EDIT = 6  # below this only a swap of neighbours (SUPRO) counts
MAX_JOIN = 4  # words joined across spaces: SU BO ER, JIU YANG
MAX_WORD = 24


@dataclass(frozen=True, slots=True)
class LatinWord:
    """A Latin word of folded text (or words joined across separators): its letters
    as a skeleton and its span in the folded text."""

    compact: str
    start: int
    end: int


_RUN = re.compile("[a-z0-9]+")
_LETTER = re.compile("[a-z]")
_DIGIT = re.compile("[0-9]")
_NOT_LETTER = re.compile("[^a-z]+")


@cache
def _syllables() -> frozenset[str]:
    """Pinyin syllables as Latin skeletons (jiu → jlu): only these are joined across spaces."""
    return frozenset(skeleton(r) for r in by_reading())


def latin_words(folded: str) -> Iterator[tuple[str, int, int]]:
    """Runs of Latin letters and digits (skeleton, start, end), alone, and pinyin
    syllables joined up to MAX_JOIN across separators (SU BO ER), not across Chinese."""
    sk = skeleton(folded)
    runs = [(r.start(), r.end()) for r in _RUN.finditer(sk)]
    syllables = _syllables()
    for i, (s, e) in enumerate(runs):
        compact = sk[s:e]
        yield compact, s, e
        if compact not in syllables:
            continue
        for j in range(i + 1, min(i + MAX_JOIN, len(runs))):
            js, je = runs[j]
            gap = sk[runs[j - 1][1] : js]
            if sk[js:je] not in syllables or any(c.isalnum() or not c.isascii() for c in gap):
                break  # not pinyin, or Chinese or another script in between
            compact += sk[js:je]
            if len(compact) > MAX_WORD:
                break
            yield compact, s, je


def _deletions(word: str) -> set[str]:
    """The word with one letter dropped, the first kept (close_enough keeps it too)."""
    return {word[:k] + word[k + 1 :] for k in range(1, len(word))}


def close_enough(word: str, form: str) -> bool:
    """One edit apart under the rules above (the first letter kept)."""
    if word == form or word[:1] != form[:1]:
        return False
    if [c for c in word if c.isdigit()] != [c for c in form if c.isdigit()]:
        return False  # a model or code number changed (BRAND0002 for BRAND0001) is another code
    if OSA.distance(word, form, score_cutoff=1) > 1:
        return False
    if len(form) >= MIN_ANY_EDIT:
        return True
    # A 5-letter form: only two neighbours swapped (OSA 1, but two edits apart otherwise).
    return len(word) == len(form) and Levenshtein.distance(word, form, score_cutoff=2) == 2


class LatinFuzzyIndex:
    """Every mark's Latin forms (alias skeletons and pinyin), searchable by one edit."""

    def __init__(self, forms: Iterable[tuple[str, int]]) -> None:
        self._owners: dict[str, set[int]] = {}
        for form, mark in forms:
            if len(form) >= MIN_FORM and form.isascii():
                self._owners.setdefault(form, set()).add(mark)
        self._lengths = frozenset(len(f) + d for f in self._owners for d in (-1, 0, 1))
        self._firsts = frozenset(f[0] for f in self._owners)
        self._digits = any(_DIGIT.search(f) for f in self._owners)
        self._by_key: dict[str, set[str]] = {}
        for form in self._owners:
            for key in (form, *_deletions(form)):
                self._by_key.setdefault(key, set()).add(form)

    def __bool__(self) -> bool:
        return bool(self._owners)

    def find(self, folded: str) -> dict[int, tuple[LatinWord, str]]:
        """Mark → (the first text word that misspells one of its forms, that form).
        A word that is itself some mark's exact form misspells nothing."""
        out: dict[int, tuple[LatinWord, str]] = {}
        if len(_LETTER.findall(folded)) < MIN_FORM - 2:
            return out  # units and model numbers (500ml, X5): no form is one edit away
        owners, by_key, english = self._owners, self._by_key, english_words()
        lengths, firsts, digits = self._lengths, self._firsts, self._digits
        seen: set[str] = set()
        for w, start, end in latin_words(folded):
            if len(w) not in lengths or w[0] not in firsts or w in owners or w in seen:
                continue
            seen.add(w)  # a title repeating its words (SU BO ER SU BO ER…) pays once per word
            if not digits and _DIGIT.search(w):
                continue  # 256gb, x5: no form has digits
            if _NOT_LETTER.sub("", folded[start:end]) in english:
                continue
            near: set[str] = set()
            for key in (w, *_deletions(w)):
                got = by_key.get(key)
                if got:
                    near |= got
            for form in sorted(near):
                if close_enough(w, form):
                    for mark in owners[form]:
                        if mark not in out:
                            out[mark] = (LatinWord(w, start, end), form)
        return out


def misspelt_alignment(folded: str, word: LatinWord, form: str) -> Alignment:
    """The misspelt word as an alignment of kind `misspelt` (reasons.py names the form)."""
    return Alignment(
        start=word.start,
        end=word.end,
        similarity=Levenshtein.normalized_similarity(word.compact, form),
        kinds=("misspelt",),
        edit="latin",
        window=folded[word.start : word.end],
    )


MIN_SHAPE_FORM = 4
"""Shorter Latin forms (MK, QQ, RIO) are a letter's shape away from too many codes."""
MAX_SHAPE_SWAPS = 2
SHAPE_STEP = 0.12
"""Similarity lost per letter read as its look-alike (one: 0.88, two: 0.76)."""


@cache
def _shape_groups() -> dict[str, str]:
    """Each letter of latin_lookalikes.tsv → one letter of its connected group (a lookup key only;
    shape_swaps() checks each pair against the table)."""
    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.get(c, c) != c:
            c = parent[c]
        return c

    for a, b in sorted(latin_lookalikes()):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {c: root(c) for pair in latin_lookalikes() for c in pair}


def _shape_key(word: str) -> str:
    groups = _shape_groups()
    return "".join(groups.get(c, c) for c in word)


def shape_swaps(word: str, form: str) -> list[tuple[str, str]] | None:
    """The (word letter, form letter) pairs where *word* differs from *form*, when every one is
    a pair of latin_lookalikes.tsv and there are one or two of them, at most half the letters."""
    if len(word) != len(form) or word == form:
        return None
    pairs = latin_lookalikes()
    out = []
    for a, b in zip(word, form, strict=True):
        if a != b:
            if (a, b) not in pairs:
                return None
            out.append((a, b))
    if len(out) > MAX_SHAPE_SWAPS or 2 * len(out) > len(form):
        return None
    return out


class LatinShapeIndex:
    """Latin aliases (and Latin mark names) with letters read as their look-alikes: CPPC or UPPO
    for OPPO (open and closed bowls), a mirrored b for d. A whole Latin word of the text, the same
    length as the form; an English word or some mark's own form reads as itself."""

    def __init__(self, forms: Iterable[tuple[str, int]]) -> None:
        self._owners: dict[str, set[int]] = {}
        for form, mark in forms:
            if len(form) >= MIN_SHAPE_FORM and form.isascii() and form.isalpha():
                self._owners.setdefault(form, set()).add(mark)
        self._by_key: dict[str, set[str]] = {}
        for form in self._owners:
            self._by_key.setdefault(_shape_key(form), set()).add(form)
        self._lengths = frozenset(len(f) for f in self._owners)

    def __bool__(self) -> bool:
        return bool(self._owners)

    def find(self, folded: str) -> dict[int, tuple[LatinWord, str]]:
        """Mark → (the first text word that reads as one of its forms by look-alike letters, that form)."""
        out: dict[int, tuple[LatinWord, str]] = {}
        if len(_LETTER.findall(folded)) < MIN_SHAPE_FORM:
            return out
        owners, by_key, english, lengths = self._owners, self._by_key, english_words(), self._lengths
        sk = skeleton(folded)
        for r in _RUN.finditer(sk):
            w = r.group()
            if len(w) not in lengths or w in owners or not w.isalpha():
                continue
            if _NOT_LETTER.sub("", folded[r.start() : r.end()]) in english:
                continue
            for form in sorted(by_key.get(_shape_key(w), ())):
                if shape_swaps(w, form):
                    for mark in owners[form]:
                        out.setdefault(mark, (LatinWord(w, r.start(), r.end()), form))
        return out


def shape_alignment(folded: str, word: LatinWord, form: str) -> Alignment:
    """The word as an alignment of kind `letter_shape` (reasons.py names the letters)."""
    swaps = shape_swaps(word.compact, form) or []
    return Alignment(
        start=word.start,
        end=word.end,
        similarity=round(1.0 - SHAPE_STEP * len(swaps), 4),
        kinds=("letter_shape",),
        edit="latin",
        window=folded[word.start : word.end],
    )
