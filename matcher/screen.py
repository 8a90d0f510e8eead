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
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from matcher import _impl
from matcher.fields import field_text
from matcher.marks import Mark
from matcher.splits import SplitIndex
from matcher.types import Hit, Subject

from . import candidates, phonetic
from .align import Alignment, aligner
from .candidates import IndexPlan, MarkPlan, has_latin, latin_compact
from .initials import InitialsIndex
from .judge import GRADED_CAP, MAX_TEXT, Considered, Context, LatinView, find_mixed, graded_alignments, judge
from .latin_fuzzy import MIN_FORM, SHORT_EDIT, LatinFuzzyIndex, LatinShapeIndex, misspelt_alignment, shape_alignment
from .normalize import fold, trace
from .segment import Segmenter

DEFAULT_THRESHOLD = 0.6
REVIEW_THRESHOLD = 0.3
"""`review` mode flags from here: graded evidence (GRADED_CAP and under) becomes visible, ranked low."""
MODES = ("default", "review", "strict")
NEAREST = 3
NEAREST_FLOOR = 70.0
"""`--explain` on a text no mark was raised for lists the NEAREST marks at or above this partial ratio
(and, when none reaches it, the one nearest mark at or above NEAREST_FALLBACK)."""
NEAREST_FALLBACK = 66.0  # two thirds: under it the nearest mark is chance (毫不相干的名字 is 0.6 from 蓝湖)


def mode_threshold(mode: str, threshold: float) -> float:
    """The threshold a mode screens at: `review` lowers it to REVIEW_THRESHOLD at most."""
    return min(threshold, REVIEW_THRESHOLD) if mode == "review" else threshold


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

    def __init__(self, marks: Iterable[Mark], threshold: float = DEFAULT_THRESHOLD, mode: str = "default") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.marks = list(marks)
        self.threshold = threshold
        self.mode = mode
        names = {fold(m.name) for m in self.marks}
        # a form that is another protected mark (四只松鼠 beside 三只松鼠) is that mark's, not an alias
        aliases = [
            (m, a)
            for m in self.marks
            for a in candidates.chinese_aliases(m)
            if a[1] != "numeral_changed" or fold(a[0]) not in names
        ]
        self.segmenter = Segmenter([fold(m.name) for m in self.marks] + [fold(a) for _, (a, _) in aliases])
        self.sound = phonetic.SoundCodes()
        self.sound.build()
        self.info = [MarkPlan.of(m, self.segmenter.is_common_word(fold(m.name))) for m in self.marks]
        # A Chinese alias (国电投 for 国家电投) is screened as a form of its own, reported under the mark.
        self.info += [
            MarkPlan.of(m, self.segmenter.is_common_word(fold(a)), alias=a, alias_kind=why) for m, (a, why) in aliases
        ]
        self.plan = IndexPlan.build(self.info, self.sound)
        self.index = CandidateIndex(self.plan)
        self._aligner = aligner([info.folded for info in self.info])
        # Each mark's threshold and mode (its own, else the matcher's), and whether graded
        # evidence can reach its threshold (then graded_alignments() runs for it).
        self._modes = [info.mark.mode or mode for info in self.info]
        self._thresholds = [
            mode_threshold(md, info.mark.threshold if info.mark.threshold is not None else threshold)
            for md, info in zip(self._modes, self.info, strict=True)
        ]
        self._graded = [md != "strict" and t <= GRADED_CAP for md, t in zip(self._modes, self._thresholds, strict=True)]
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
        # A character written as its two components (弓长 for 张), asked of the compiled KeySet first.
        self._splits = SplitIndex([info.folded for info in self.info], None if _accel is None else _accel.KeySet)
        # Latin aliases and pinyin misspelt by one letter (JOYONG): also only for Latin text.
        # Latin mark names (vivo, TauRx) are Latin forms too.
        latin_names = [[latin_compact(info.folded)] if info.folded.isascii() else [] for info in self.info]
        self._latin_names = [n[0] if n else "" for n in latin_names]
        self._fuzzy = LatinFuzzyIndex(
            (form, i)
            for i, info in enumerate(self.info)
            # a 4-letter pinyin form (dali, anta) is two syllables many names and codes spell: 5 letters up
            for form in (*info.aliases, *(p for p in info.pinyin if len(p) > MIN_FORM), *latin_names[i])
        )
        # Chinese marks written as their pinyin initials (jy for 九阳): also only for Latin text.
        self._initials = InitialsIndex([(i, info.folded) for i, info in enumerate(self.info)])
        # Latin aliases and Latin mark names with letters read as look-alikes (CPPC for OPPO).
        self._shapes = LatinShapeIndex(
            (form, i) for i, info in enumerate(self.info) for form in (*info.aliases, *latin_names[i])
        )

    def candidates(self, folded: str, category: str = "") -> set[int]:
        """Marks worth aligning against folded text (indexes into self.info)."""
        if _accel is not None:  # the same answer, filtered in C++ (tests/test_matcher_accel.py)
            index = cast("CompiledIndex", self.index)
            return index.in_field(folded, category, self.info, candidates.context.classes_in)
        return candidates.in_field(self.index.scan(folded), self.info, folded, category)

    def screen(self, subject: Subject) -> list[Hit]:
        """All marks the subject imitates, best first. Never raises on odd text."""
        return self._screen(subject, None)

    def explain(self, subject: Subject) -> list[dict]:
        """For every candidate mark of the subject: the alignments found and the named rule
        that kept or dropped each (`markwatch match --explain`)."""
        out: dict[int, dict] = {}
        self._screen(subject, out)
        if not out:  # no mark raised at all: say which were nearest, so a miss is not silent
            return self._nearest(subject)
        return [out[i] for i in sorted(out, key=lambda i: (self.info[i].name, self.info[i].mark.name))]

    def _nearest(self, subject: Subject, limit: int = NEAREST) -> list[dict]:
        """The marks nearest a text the candidate stage raised none for (rule `no_key_in_text`):
        rapidfuzz's partial ratio of the folded text to each mark's folded name, of the text's
        toneless pinyin to the mark's, and of its letters to the mark's Latin aliases: the best.
        Only for `--explain`: one pass over every mark, never on the screening path."""
        text = subject.text if isinstance(subject.text, str) else str(subject.text)
        folded = fold(text[:MAX_TEXT])
        if not folded.strip():
            return []
        sound = latin_compact("".join(lazy_pinyin(folded, errors="ignore")))
        letters = latin_compact(folded)
        best: list[tuple[float, int]] = []
        closest: tuple[float, int] | None = None
        for i, info in enumerate(self.info):
            near = fuzz.partial_ratio(folded, info.folded)
            if sound and info.pinyin:
                near = max(near, max(fuzz.partial_ratio(sound, p) for p in info.pinyin))
            if letters and info.aliases:  # Latin aliases (GREE for 格力), as skeletons
                near = max(near, max(fuzz.partial_ratio(letters, a) for a in info.aliases))
            if near >= NEAREST_FLOOR:
                best.append((near, i))
            elif near >= NEAREST_FALLBACK and (
                closest is None or (-near, info.name) < (-closest[0], self.info[closest[1]].name)
            ):
                closest = (near, i)
        if not best and closest is not None:  # none near: still say which came nearest, so a miss is never blank
            best = [closest]
        best.sort(key=lambda x: (-x[0], self.info[x[1]].name))
        return [
            {
                "mark": self.info[i].name,
                "stage": "candidates",
                "rule": "no_key_in_text",
                "nearest": round(near / 100, 4),
                "alignments": [],
            }
            for near, i in best[:limit]
        ]

    def _trademark_candidates(self, folded: str, subject: Subject) -> list[int]:
        """The candidate stage for a trademark application: its field is its own classes and
        groups, not words in its text, so a sound-alike is kept when they meet the mark's."""
        scanned = self.index.scan(folded)
        if scanned is None:
            return []
        strong, by_homophone, by_sound = scanned
        groups = frozenset(str(g) for g in subject.groups)
        classes = set(subject.classes) | {int(g[:2]) for g in groups if g[:2].isdigit()}
        out = set(strong)
        for i in (by_homophone | by_sound) - strong:
            plan = self.info[i]
            # a mark whose marks file states no field cannot be placed outside the application's goods
            unplaced = not classes or not plan.has_field
            if (unplaced and i in by_homophone) or not classes.isdisjoint(plan.classes) or groups & plan.groups:
                out.add(i)
        return sorted(out)

    def _explain_candidates(self, folded: str, category: str, cands: list[int], explain: dict[int, dict]) -> None:
        """A record for every mark the candidate stage raised: those it kept, and those its
        field filter dropped (a sound-alike or weak look-alike where the text names no field of the mark)."""
        for i in cands:
            explain[i] = {"mark": self.info[i].name, "stage": "aligned", "rule": "", "alignments": []}
            if self.info[i].alias_of:
                explain[i]["alias"] = self.info[i].mark.name
        scanned = self.index.scan(folded)
        if scanned is None:
            return
        for i in set().union(*scanned) - set(cands):
            explain[i] = {
                "mark": self.info[i].name,
                "stage": "candidates",
                "rule": "sound_or_weak_lookalike_outside_field",
                "alignments": [],
            }

    def _screen(self, subject: Subject, explain: dict[int, dict] | None) -> list[Hit]:
        text = subject.text if isinstance(subject.text, str) else str(subject.text)
        text = text[:MAX_TEXT]
        folded = fold(text)
        category = field_text(subject)  # the category, and the names of a GB/T 4754 industry
        if subject.kind == "trademark":
            cands, any_latin = self._trademark_candidates(folded, subject), has_latin(folded)
        elif _accel is not None:  # sorted(self.candidates(...)) and has_latin(folded), in one call
            index = cast("CompiledIndex", self.index)
            cands, any_latin = index.in_field_sorted(folded, category, self.info, _classes_in)
        else:
            cands, any_latin = sorted(self.candidates(folded, category)), has_latin(folded)
        misspelt = shaped = initials = None
        if any_latin:
            extra: set[int] = set()
            if self._initials:  # jy for 九阳: matcher/initials.py
                initials = self._initials.find(folded)
                extra.update(initials)
            if self._mixed is not None:
                if _accel is None:
                    forms = [m[0] for m in self._mixed.find_matches_as_indexes(folded, overlapping=True)]
                else:
                    forms = cast("KeySet", self._mixed).find(folded)
                for idx in forms:
                    extra |= self._mixed_owners[idx]
            if self._fuzzy:
                misspelt = self._fuzzy.find(folded)
                if misspelt and explain is None:
                    # a short form's changed letter is graded: no candidate where grading is off (the default)
                    graded = self._graded
                    misspelt = {i: v for i, v in misspelt.items() if v[2] != SHORT_EDIT or graded[i]}
                extra.update(misspelt)
            if self._shapes:
                shaped = self._shapes.find(folded)
                extra.update(shaped)
            if extra:
                cands = sorted(extra.union(cands))
        # A character written as its two components (弓长 for 张): matcher/splits.py
        splits = self._splits.find(folded) if self._splits else None
        if splits:
            cands = sorted(set(splits).union(cands))
        if explain is not None:
            self._explain_candidates(folded, category, cands, explain)
        if not cands:
            return []
        # Align first, on the folded text alone: most candidates stop here, before
        # the costlier context (trace, name structure, segmentation) is built.
        latin = LatinView(folded) if any_latin else None
        aligned: list[tuple[int, list[Alignment], float]] = []
        uscc = subject.uscc.strip().upper() if isinstance(subject.uscc, str) else ""
        whitelists = self._whitelists
        infos = self.info
        # could_align() and align() of all the candidates left, in one call (in C++ when compiled)
        todo = [i for i in cands if not folded.startswith(whitelists[i]) and not (uscc and uscc in infos[i].uscc)]
        if explain is not None:
            for i in set(cands) - set(todo):
                explain[i]["rule"] = "whitelist"
        graded_on = self._graded
        latin_names = self._latin_names
        for i, found in zip(todo, self._aligner.align_each(todo, folded), strict=True):
            if found and latin_names[i]:
                # A Latin mark (vivo) is read letter by letter only by the Latin rules (latin_fuzzy.py), whose
                # thresholds know its length: the character aligner would take vivi as one character swapped,
                # and OPPO inside opportunity, vivo inside survivor as exact copies.
                found = [a for a in found if a.edit == "exact" and _stands_alone(folded, a.start, a.end)]
            if not found and latin is None and not graded_on[i] and explain is None and not (splits and i in splits):
                continue
            info = infos[i]
            threshold = self._thresholds[i]
            options = [a for a in found if a.similarity >= threshold]
            if graded_on[i] and not latin_names[i]:
                options.extend(
                    a for a in graded_alignments(info.folded, folded, aligned=found) if a.similarity >= threshold
                )
            if explain is not None:
                record = explain[i]
                record["alignments"] = [_alignment_dict(a) for a in found]
                record["considered"] = []
                below = [a for a in found if a.similarity < threshold]
                record["considered"].extend(
                    {**_alignment_dict(a), "rule": "below_threshold", "score": a.similarity} for a in below
                )
                if not graded_on[i] and not latin_names[i]:
                    # what review mode would weigh, shown but not used
                    why = "strict_mode" if self._modes[i] == "strict" else "graded_below_threshold"
                    record["considered"].extend(
                        {**_alignment_dict(a), "rule": why, "score": a.similarity}
                        for a in graded_alignments(info.folded, folded, aligned=found)
                    )
                if not found:
                    record["rule"] = "no_alignment"
            if latin is not None:
                alias = latin.find(info.aliases) if info.aliases else None
                if alias is None and (info.pinyin or info.numbered):
                    alias = latin.find((*info.pinyin, *info.numbered), kind="pinyin")
                if alias is None and info.mixed:
                    alias = find_mixed(folded, info.mixed)
                if alias is None and misspelt and i in misspelt and misspelt[i][2] != SHORT_EDIT:
                    alias = misspelt_alignment(folded, *misspelt[i])
                if alias is None and shaped and i in shaped:
                    alias = shape_alignment(folded, *shaped[i])
                if alias is None and misspelt and i in misspelt:
                    # one letter of a short form changed (vivi for vivo): graded, after what reads as the form
                    alias = misspelt_alignment(folded, *misspelt[i])
                    if not (graded_on[i] and alias.similarity >= threshold):
                        if explain is not None:  # what review mode would weigh, shown but not used
                            why = "strict_mode" if self._modes[i] == "strict" else "graded_below_threshold"
                            explain[i]["considered"].append(
                                {**_alignment_dict(alias), "rule": why, "score": alias.similarity}
                            )
                        alias = None
                if alias is None and graded_on[i] and (info.aliases or info.pinyin or latin_names[i]):
                    # a Latin form run on into other letters (jiuyangs): graded, not vetoed
                    alias = latin.find_run_on(
                        (*info.aliases, *info.pinyin, *([latin_names[i]] if latin_names[i] else []))
                    )
                    if alias is not None and alias.similarity < threshold:
                        alias = None
                if alias is not None:
                    options.append(alias)
            if splits and i in splits:
                options.extend(a for a in splits[i] if a.similarity >= threshold)
            if initials and i in initials:
                options.extend(a for a in initials[i] if a.similarity >= threshold)
            if options:
                options.sort(key=lambda a: -a.similarity)
                aligned.append((i, options, threshold))
            elif explain is not None and found:
                explain[i]["rule"] = "below_threshold"
        if not aligned:
            return []
        ctx = Context(self.segmenter, subject, trace(text))
        hits = []
        for i, options, threshold in aligned:
            considered: Considered | None = [] if explain is not None else None
            hit = judge(infos[i], ctx, options, threshold, graded_on[i] or self._modes[i] == "review", considered)
            if hit is not None:
                hits.append(hit)
            if explain is not None and considered is not None:
                record = explain[i]
                record["considered"].extend({**_alignment_dict(a), "rule": r, "score": sc} for a, r, sc in considered)
                record["rule"] = (
                    "kept"
                    if hit is not None
                    else next((r for _, r, _ in reversed(considered) if r != "kept"), "no_alignment")
                )
                if hit is not None:
                    record["score"] = hit.score
        if len(hits) > 1:
            hits = _drop_overshadowed(_best_per_mark(hits))
        hits.sort(key=lambda h: -h.score)
        return hits


def _stands_alone(folded: str, start: int, end: int) -> bool:
    """No Latin letter right before or after the span: OPPO in OPPO手机 or "OPPO R17", not in opportunity."""
    before = folded[start - 1] if start else ""
    after = folded[end] if end < len(folded) else ""
    return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())


def _best_per_mark(hits: list[Hit]) -> list[Hit]:
    """One hit per mark: the mark and its Chinese aliases are screened apart, the best of them is kept."""
    best: dict[str, Hit] = {}
    for h in hits:
        if h.mark not in best or h.score > best[h.mark].score:
            best[h.mark] = h
    return hits if len(best) == len(hits) else [h for h in hits if best[h.mark] is h]


def _drop_overshadowed(hits: list[Hit]) -> list[Hit]:
    """Graded evidence for one mark where the same characters are another mark's plain hit
    (白象 read as two characters changed from 云南白药): the text is explained by that mark."""
    strong = [h.span for h in hits if not _is_graded(h)]
    if not strong:
        return hits
    return [h for h in hits if not _is_graded(h) or not any(s < h.span[1] and h.span[0] < e for s, e in strong)]


def _is_graded(hit: Hit) -> bool:
    return any(r.code in GRADED_CODES for r in hit.reasons)


GRADED_CODES = frozenset(
    {
        "first_char_changed",
        "two_char_changed",
        "other_field_sound",
        "inside_word",
        "latin_run_on",
        "short_edit",
        "latin_no_field",
        "latin_field_unknown",
        "own_pinyin_other_field",
        "variant_word",
        "truncated",
        "char_deleted",
    }
)


def _alignment_dict(a: Alignment) -> dict:
    return {
        "window": a.window,
        "span": [a.start, a.end],
        "edit": a.edit,
        "kinds": list(a.kinds),
        "similarity": round(a.similarity, 4),
    }


def search_terms(mark: Mark, limit: int = 30) -> list[str]:
    """Queries a registry search spider should send for a mark: the mark, its
    aliases, traditional form, and its most likely homophones and look-alikes."""
    from matcher.variants import generate

    return generate(mark, limit=limit)
