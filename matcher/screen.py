"""Screen a subject against every protected mark at once: the `Matcher` facade.

Two stages, so that the common case (no mark anywhere near) costs a few
C-level passes: (1) candidates.py projects the folded text into characters,
sound codes and a Latin skeleton and scans all marks' keys at once; (2) only
for the marks found, align.py aligns the mark against the text character by
character (same, homophone, near sound, look-alike, inserted, reordered) and
judge.py weighs the context the way CNIPA examination practice does.

The candidate index is the C++ one (matcher._accel) when the compiled
implementation runs, else the reference in candidates.py: matcher._impl decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

import ahocorasick_rs as ac

from matcher import _impl
from matcher.fields import field_text
from matcher.marks import Mark
from matcher.splits import SplitIndex
from matcher.types import Hit, Subject

from . import candidates, phonetic
from .align import Alignment, aligner
from .candidates import IndexPlan, MarkPlan, has_latin
from .judge import MAX_TEXT, Context, LatinView, find_mixed, judge
from .latin_fuzzy import LatinFuzzyIndex, misspelt_alignment
from .normalize import fold, trace
from .segment import Segmenter

DEFAULT_THRESHOLD = 0.6

if TYPE_CHECKING:
    from typing import Protocol

    class Index(Protocol):
        def scan(self, folded: str) -> candidates.Found | None: ...

    class KeySet(Protocol):
        """_accel.KeySet: where an overlapping Aho-Corasick scan finds its patterns."""

        def find(self, text: str) -> list[int]: ...

    class CompiledIndex(Index, Protocol):
        """The compiled index also filters by field (the reference does it in candidates.in_field)."""

        def in_field(
            self, folded: str, category: str, info: list[MarkPlan], classes_in: Callable[..., set[int]]
        ) -> set[int]: ...

        def in_field_sorted(
            self, folded: str, category: str, info: list[MarkPlan], classes_in: Callable[..., set[int]]
        ) -> tuple[list[int], bool]: ...


_accel = _impl.accel()
_classes_in = candidates.context.classes_in
CandidateIndex: Callable[[IndexPlan], Index] = candidates.CandidateIndex if _accel is None else _accel.CandidateIndex
"""The index class of the implementation that runs (both take an IndexPlan)."""


class Matcher:
    """Screens enterprise names and listings against a list of protected marks."""

    def __init__(self, marks: Iterable[Mark], threshold: float = DEFAULT_THRESHOLD) -> None:
        self.marks = list(marks)
        self.threshold = threshold
        self.segmenter = Segmenter([fold(m.name) for m in self.marks])
        self.sound = phonetic.SoundCodes()
        self.sound.build()
        self.info = [MarkPlan.of(m, self.segmenter.is_common_word(fold(m.name))) for m in self.marks]
        self.plan = IndexPlan.build(self.info, self.sound)
        self.index = CandidateIndex(self.plan)
        self._aligner = aligner([info.folded for info in self.info])
        # Each mark's whitelist as one tuple of prefixes: str.startswith tries them all in C.
        self._whitelists = [tuple(w for w in info.whitelist if w) for info in self.info]
        # Marks written part in pinyin (一zheng): scanned only in text with Latin
        # letters, so the candidate index and Chinese-only text pay nothing.
        mixed: dict[str, set[int]] = {}
        for i, info in enumerate(self.info):
            for form in info.mixed:
                mixed.setdefault(form, set()).add(i)
        self._mixed_owners = [frozenset(v) for v in mixed.values()]
        # (compiled: the same scan in C++, _accel.KeySet, without a list of tuples per text)
        self._mixed = (ac.AhoCorasick if _accel is None else _accel.KeySet)(list(mixed)) if mixed else None
        # Latin aliases and pinyin misspelt by one letter (JOYONG): also only for Latin text.
        self._splits = SplitIndex([info.folded for info in self.info])
        self._fuzzy = LatinFuzzyIndex(
            (form, i) for i, info in enumerate(self.info) for form in (*info.aliases, *info.pinyin)
        )

    def candidates(self, folded: str, category: str = "") -> set[int]:
        """Marks worth aligning against folded text (indexes into self.info)."""
        if _accel is not None:  # the same answer, filtered in C++ (tests/test_matcher_accel.py)
            index = cast("CompiledIndex", self.index)
            return index.in_field(folded, category, self.info, candidates.context.classes_in)
        return candidates.in_field(self.index.scan(folded), self.info, folded, category)

    def screen(self, subject: Subject) -> list[Hit]:
        """All marks the subject imitates, best first. Never raises on odd text."""
        text = subject.text if isinstance(subject.text, str) else str(subject.text)
        text = text[:MAX_TEXT]
        folded = fold(text)
        category = field_text(subject)  # the category, and the names of a GB/T 4754 industry
        if _accel is not None:  # sorted(self.candidates(...)) and has_latin(folded), in one call
            index = cast("CompiledIndex", self.index)
            cands, any_latin = index.in_field_sorted(folded, category, self.info, _classes_in)
        else:
            cands, any_latin = sorted(self.candidates(folded, category)), has_latin(folded)
        misspelt = None
        if any_latin:
            extra: set[int] = set()
            if self._mixed is not None:
                if _accel is None:
                    forms = [m[0] for m in self._mixed.find_matches_as_indexes(folded, overlapping=True)]
                else:
                    forms = cast("KeySet", self._mixed).find(folded)
                for idx in forms:
                    extra |= self._mixed_owners[idx]
            if self._fuzzy:
                misspelt = self._fuzzy.find(folded)
                extra.update(misspelt)
            if extra:
                cands = sorted(extra.union(cands))
        # A character written as its two components (弓长 for 张): matcher/splits.py (markwatch matcher-text)
        splits = self._splits.find(folded) if self._splits else None
        if splits:
            cands = sorted(set(splits).union(cands))
        if not cands:
            return []
        # Align first, on the folded text alone: most candidates stop here, before
        # the costlier context (trace, name structure, segmentation) is built.
        latin = LatinView(folded) if any_latin else None
        aligned: list[tuple[MarkPlan, list[Alignment], float]] = []
        uscc = subject.uscc.strip().upper() if isinstance(subject.uscc, str) else ""
        whitelists = self._whitelists
        infos = self.info
        # could_align() and align() of all the candidates left, in one call (in C++ when compiled)
        todo = [i for i in cands if not folded.startswith(whitelists[i]) and not (uscc and uscc in infos[i].uscc)]
        for i, found in zip(todo, self._aligner.align_each(todo, folded), strict=True):
            if not found and latin is None and not (splits and i in splits):
                continue
            info = infos[i]
            threshold = info.mark.threshold if info.mark.threshold is not None else self.threshold
            options = [a for a in found if a.similarity >= threshold]
            if latin is not None:
                alias = latin.find(info.aliases) if info.aliases else None
                if alias is None and info.pinyin:
                    alias = latin.find(info.pinyin, kind="pinyin")
                if alias is None and info.mixed:
                    alias = find_mixed(folded, info.mixed)
                if alias is None and misspelt and i in misspelt:
                    alias = misspelt_alignment(folded, *misspelt[i])
                if alias is not None:
                    options.append(alias)
            if splits and i in splits:
                options.extend(a for a in splits[i] if a.similarity >= threshold)
            if options:
                options.sort(key=lambda a: -a.similarity)
                aligned.append((info, options, threshold))
        if not aligned:
            return []
        ctx = Context(self.segmenter, subject, trace(text))
        hits = []
        for info, options, threshold in aligned:
            hit = judge(info, ctx, options, threshold)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: -h.score)
        return hits


def search_terms(mark: Mark, limit: int = 30) -> list[str]:
    """Queries a registry search spider should send for a mark: the mark, its
    aliases, traditional form, and its most likely homophones and look-alikes."""
    from matcher.variants import generate

    return generate(mark, limit=limit)
