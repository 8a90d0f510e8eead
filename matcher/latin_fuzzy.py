"""Latin aliases and pinyin forms misspelt by one edit (JOYONG for JOYOUNG, SUPRO
for SUPOR, SU BO ER for supoer).

Sellers respell a brand's Latin form just enough to pass a keyword filter. An
exact search (LatinView in judge.py) misses that, and aligning every Latin word
against every mark's forms would cost O(words × marks). Instead each form's
one-deletion neighbourhood is indexed (the symmetric-delete idea of SymSpell):
a text word's own deletions look up the few forms within reach, and rapidfuzz's
optimal-string-alignment distance confirms each (one substitution, insertion,
deletion or swap of neighbours). Only Latin text pays anything.

What counts, by the form's length (docs/matching.md): forms of at least 6 letters
take any one edit; 4- and 5-letter forms take two neighbours swapped, full strength
(readers see a word with two inner letters swapped as the word itself: the
transposed-letter effect); any other single edit of a 4- or 5-letter form (vivi for
vivo, 4 letters: a substitution only) is graded evidence (`short_edit`, review mode),
as such a word is one letter from too many names. The first letter and every digit
must be kept; a common English word (SUPER, POWER: SCOWL's list,
matcher/data/english_words.tsv) misspells nothing. The judgement (judge.py) keeps a
misspelling only in the mark's own field, a swap unless the subject names another field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from rapidfuzz.distance import OSA

from matcher.resources import english_words, latin_lookalikes

from .align import Alignment
from .normalize import skeleton
from .phonetic import by_reading

MIN_FORM = 4  # shorter forms (MK, QQ, RIO) are one edit from too many codes and words
MIN_ANY_EDIT = 6  # below this a swap of neighbours (SUPRO, GERE) counts, another edit only graded
SHORT_EDIT_SIMILARITY = 0.5
"""A single edit of a 4- or 5-letter form other than a swap: graded, at most GRADED_CAP (judge.py)."""

MISSPELT, TRANSPOSED, SHORT_EDIT = "misspelt", "transposed", "short_edit"
"""What a text word is to a form: one edit apart, two neighbours swapped, one edit of a short form."""
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


def transposition(word: str, form: str) -> tuple[int, str] | None:
    """(k, the two letters of *form* at k, k+1) when *word* is *form* with those two neighbours swapped."""
    if len(word) != len(form) or word == form:
        return None
    diffs = [k for k, (a, b) in enumerate(zip(word, form, strict=True)) if a != b]
    if (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and word[diffs[0]] == form[diffs[1]]
        and word[diffs[1]] == form[diffs[0]]
    ):
        return diffs[0], form[diffs[0] : diffs[1] + 1]
    return None


def latin_edit(word: str, form: str) -> str | None:
    """MISSPELT, TRANSPOSED or SHORT_EDIT when *word* is one edit from *form* under the rules
    above (the first letter and the digits kept), else None."""
    if word == form or word[:1] != form[:1] or len(form) < MIN_FORM:
        return None
    if [c for c in word if c.isdigit()] != [c for c in form if c.isdigit()]:
        return None  # a model or code number changed (BRAND0002 for BRAND0001) is another code
    if OSA.distance(word, form, score_cutoff=1) > 1:
        return None
    if transposition(word, form) is not None:
        return TRANSPOSED
    if len(form) >= MIN_ANY_EDIT:
        return MISSPELT
    if len(form) == MIN_FORM and len(word) != len(form):
        return None  # vivoo, viv: a 4-letter form only takes a letter changed
    return SHORT_EDIT


def close_enough(word: str, form: str) -> bool:
    """One edit apart at full strength (a misspelling of a form of 6+ letters, or a swap)."""
    return latin_edit(word, form) in (MISSPELT, TRANSPOSED)


class LatinFuzzyIndex:
    """Every mark's Latin forms (alias skeletons and pinyin), searchable by one edit."""

    def __init__(self, forms: Iterable[tuple[str, int]]) -> None:
        self._owners: dict[str, set[int]] = {}
        for form, mark in forms:
            if len(form) >= MIN_FORM and form.isascii():
                self._owners.setdefault(form, set()).add(mark)
        self._lengths = frozenset(len(f) + d for f in self._owners for d in (-1, 0, 1))
        # the fewest letters a text needs: a form's letters less one (a 4-letter form: none, no deletion), and
        # never under 3 (numbered pinyin such as e2da4 has 3 letters: a title with "ml" pays nothing)
        self._min_letters = max(
            MIN_FORM - 1,
            min((sum(c.isalpha() for c in f) - (len(f) > MIN_FORM) for f in self._owners), default=0),
        )
        self._firsts = frozenset(f[0] for f in self._owners)
        self._digits = any(_DIGIT.search(f) for f in self._owners)
        self._by_key: dict[str, set[str]] = {}
        for form in self._owners:
            for key in (form, *_deletions(form)):
                self._by_key.setdefault(key, set()).add(form)

    def __bool__(self) -> bool:
        return bool(self._owners)

    def find(self, folded: str) -> dict[int, tuple[LatinWord, str, str]]:
        """Mark → (the text word that misspells one of its forms, that form, latin_edit's kind), the
        first at full strength, else the first graded. A word that is some mark's own form misspells nothing."""
        out: dict[int, tuple[LatinWord, str, str]] = {}
        if len(_LETTER.findall(folded)) < self._min_letters:
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
                kind = latin_edit(w, form)
                if kind is not None:
                    for mark in owners[form]:
                        if mark not in out or (out[mark][2] == SHORT_EDIT and kind != SHORT_EDIT):
                            out[mark] = (LatinWord(w, start, end), form, kind)
        return out


def misspelt_alignment(folded: str, word: LatinWord, form: str, kind: str = MISSPELT) -> Alignment:
    """The word as an alignment of kind `misspelt` or `transposed` (edit `latin`, similarity by
    optimal string alignment: a swap is one edit), or `short_edit` (edit `latin_short_edit`, graded);
    reasons.py names the form."""
    if kind == SHORT_EDIT:
        sim, edit = SHORT_EDIT_SIMILARITY, "latin_short_edit"
    else:
        sim, edit = OSA.normalized_similarity(word.compact, form), "latin"
    return Alignment(
        start=word.start,
        end=word.end,
        similarity=round(sim, 4),
        kinds=(kind,),
        edit=edit,
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
