"""Stage 2 of screening: is an aligned candidate an imitation, and why.

For each mark the candidate stage (candidates.py) raised and align.py placed
in the text, weigh the context the way CNIPA examination practice does: the
subject's field against the mark's classes, place names, descriptive use,
counterfeit cues and evasive spellings in listings, the enterprise name's
structure, and words that merely contain the mark's characters. What was
noticed travels to reasons.py as typed `Note`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from matcher.calibration import FIELD, GRADED, NO_FIELD, probability
from matcher.exclude import excluded
from matcher.fields import subject_field
from matcher.notes import Note, NoteKind
from matcher.resources import enterprise_words, lookalikes, regions
from matcher.types import Hit, NameParts, Reason, Subject
from matcher.words import ORDINARY_ZIPF, reads_as_other_word, word_zipf

from . import context
from .align import Alignment, relation
from .candidates import MarkPlan, digits_as_numerals
from .enterprise import industry_words, looks_like_enterprise, parse_name
from .normalize import Traced, fold, is_han, skeleton
from .reasons import build_reasons
from .segment import Segmenter

MAX_TEXT = 2000  # characters of a subject that are screened; the rest is noise
_SEGMENT_MARGIN = 6  # characters either side of a match given to jieba


@cache
def _generic_industries() -> frozenset[str]:
    return frozenset(fold(w) for w in enterprise_words()["generic_industries"])


def _says_no_field(parts: NameParts) -> bool:
    """The name's industry word is missing or generic (科技, 贸易): it shows no field."""
    return not parts.industry or parts.industry in _generic_industries()


@cache
def _field_words() -> frozenset[str]:
    return frozenset(industry_words())


class LatinView:
    """The Latin skeleton of folded text with the way back to folded positions."""

    def __init__(self, folded: str) -> None:
        self.folded = folded
        sk = skeleton(folded)
        keep = [k for k, ch in enumerate(sk) if ch.isascii() and ch.isalnum()]
        self.compact = "".join(sk[k] for k in keep)
        self.origin = keep

    def find(self, aliases: tuple[str, ...], kind: str = "latin") -> Alignment | None:
        """The first alias standing on word boundaries (HUAWEl, not HUAWEIXYZ)."""
        compact, origin, folded = self.compact, self.origin, self.folded
        for alias in aliases:
            start = compact.find(alias)
            while start >= 0:
                end = start + len(alias)
                fs, fe = origin[start], origin[end - 1] + 1
                before = folded[fs - 1] if fs else ""
                after = folded[fe] if fe < len(folded) else ""
                if not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha()):
                    return Alignment(
                        start=fs, end=fe, similarity=1.0, kinds=(kind,), edit="latin", window=folded[fs:fe]
                    )
                start = compact.find(alias, start + 1)
        return None

    def find_run_on(self, forms: tuple[str, ...]) -> Alignment | None:
        """A Latin form of at least five letters found only run on into other letters
        (JOYOUNGS, xjiuyang): what find() rules out, kept as graded evidence."""
        compact, origin, folded = self.compact, self.origin, self.folded
        for form in forms:
            if len(form) < 5:
                continue
            start = compact.find(form)
            if start >= 0:
                fs, fe = origin[start], origin[start + len(form) - 1] + 1
                return Alignment(
                    start=fs,
                    end=fe,
                    similarity=RUN_ON_SIMILARITY,
                    kinds=("run_on",),
                    edit="latin_run_on",
                    window=folded[fs:fe],
                )
        return None


RUN_ON_SIMILARITY = 0.5


def find_mixed(folded: str, forms: tuple[str, ...]) -> Alignment | None:
    """The mark written part in characters, part in pinyin (一zheng, jiu阳), its
    pinyin part not running on into other letters (一zhenghao is not 一正)."""
    for form in forms:
        start = folded.find(form)
        while start >= 0:
            end = start + len(form)
            before = folded[start - 1] if start else ""
            after = folded[end] if end < len(folded) else ""
            latin_head, latin_tail = form[0].isascii(), form[-1].isascii()
            if not (latin_head and before.isascii() and before.isalpha()) and not (
                latin_tail and after.isascii() and after.isalpha()
            ):
                return Alignment(
                    start=start, end=end, similarity=1.0, kinds=("pinyin",), edit="latin", window=folded[start:end]
                )
            start = folded.find(form, start + 1)
    return None


class Context:
    """Facts about one subject, computed once and only when some mark is a candidate."""

    def __init__(self, segmenter: Segmenter, subject: Subject, traced: Traced) -> None:
        self.subject = subject
        self.original = subject.text[:MAX_TEXT] if isinstance(subject.text, str) else str(subject.text)
        self.traced = traced
        self.folded = traced.text
        self.seller = fold(subject.seller) if subject.seller else ""
        self.is_enterprise = subject.kind == "enterprise"
        self.is_listing = subject.kind == "listing"
        # A shop or brand name is a name of its own, not an offer of the genuine product.
        self.is_name = subject.kind in ("shop", "brand")
        self.is_trademark = subject.kind == "trademark"
        self.uscc = subject.uscc.strip().upper() if isinstance(subject.uscc, str) else ""
        self.parts: NameParts | None = parse_name(self.folded) if self.is_enterprise else None
        self.enterprise_like = (
            self.is_enterprise
            and self.parts is not None
            and (bool(self.parts.industry) or looks_like_enterprise(self.folded))
        )
        scope = self.folded
        if self.parts is not None and self.enterprise_like:
            scope = self.parts.industry or ""
        cat = fold(subject.category) if subject.category else ""
        self.groups: frozenset[str] = frozenset(str(g) for g in subject.groups)
        if self.is_trademark:
            # An application states its goods: its own classes and similar groups, read exactly.
            self.classes = set(subject.classes) | {int(g[:2]) for g in self.groups if g[:2].isdigit()}
            scope = cat = ""
        else:
            self.classes = context.classes_in(scope + " " + cat) if (scope or cat) else set()
        self._field_from_text = scope is self.folded  # read from the whole text, the mark's part too
        self._cat = cat
        if not self.classes and self.parts is not None and self.parts.trade_name and not self.parts.industry:
            # No industry part (小熊培训学校): read the field from whole words in the rest of the name.
            self.classes = context.classes_in(self.parts.trade_name, min_len=2)
            self._field_from_text = False
        if self.is_enterprise and not self.classes and not self.enterprise_like:
            self.classes = context.classes_in(self.folded)
            self._field_from_text = True
        self._declared = subject_field(subject).classes  # industry, category, groups, classes
        self.classes = self.classes | self._declared
        self._outside: dict[tuple[int, int, int], tuple[set[int], str]] = {}
        self.cue = context.counterfeit_cue(self.folded) if self.is_listing else None
        self.segmenter = segmenter
        self._tokens: dict[str, list[str]] = {}

    def field_outside(self, start: int, end: int, keep: int = -1) -> tuple[set[int], str]:
        """The subject's classes, and the text to look for industry words in, read without the
        characters at start:end (where the mark stands) but the one at *keep* (a character inserted
        into the mark: the second 鸭 of 周黑鸭鸭翅). The 鸭 of 周黑鸭 in 周黑鸭同款手机壳 is the mark's own
        character, not duck meat the title offers: the 手机壳 beside it says the field. Only when
        nothing besides the mark names a field do the mark's own characters count (云南黑药: 药)."""
        if not self.classes or not self._field_from_text or start >= end:
            return self.classes, self.folded  # no field at all, or none read from the mark's part
        key = (start, end, keep)
        got = self._outside.get(key)
        if got is None:
            t = self.folded
            if start <= keep < end:
                blanked = f"{t[:start]}{' ' * (keep - start)}{t[keep]}{' ' * (end - keep - 1)}{t[end:]}"
            else:
                blanked = f"{t[:start]}{' ' * (end - start)}{t[end:]}"
            classes = context.classes_in(blanked + " " + self._cat) | self._declared
            got = self._outside[key] = (classes, blanked) if classes else (self.classes, t)
        return got

    def tokens(self, text: str) -> list[str]:
        got = self._tokens.get(text)
        if got is None:
            got = self._tokens[text] = self.segmenter.tokens(text)
        return got

    def region_span(self) -> tuple[int, int] | None:
        if self.parts is None or not self.parts.region:
            return None
        start = self.folded.find(self.parts.region)
        return (start, start + len(self.parts.region)) if start >= 0 else None

    def trade_span(self) -> tuple[int, int] | None:
        if self.parts is None or not self.parts.trade_name or not self.enterprise_like:
            return None
        start = self.folded.find(self.parts.trade_name, len(self.parts.region))
        return (start, start + len(self.parts.trade_name)) if start >= 0 else None


def _kept_index(al: Alignment) -> int:
    """Where in the text the alignment's inserted character stands (it is the text's own), or -1."""
    return al.start + al.inserted if al.inserted >= 0 else -1


def _relevant(info: MarkPlan, ctx: Context, al: Alignment) -> bool:
    """The subject names one of the mark's classes or industries, outside the alignment's window
    (the mark's own characters name no field). A trademark application is placed by its own goods
    alone: by similar group where both list groups, else by class."""
    if ctx.is_trademark:
        if ctx.groups and info.groups:
            return bool(ctx.groups & info.groups)
        return bool(ctx.classes & info.classes)
    if not (ctx.classes & info.classes) and not any(w and w in ctx.folded for w in info.industries):
        return False
    classes, text = ctx.field_outside(al.start, al.end, _kept_index(al))
    return bool(classes & info.classes) or any(w and w in text for w in info.industries)


Verdict = tuple[float, list[Note]] | str
"""What _weigh makes of an alignment: a score and notes, or the name of the rule that dropped it."""

GRADED_EDITS = ("first_char", "two_char", "latin_run_on", "latin_short_edit", "truncation", "deletion")
"""Alignments CNIPA practice would not call similar (graded_alignments), kept as weak evidence."""
PRIOR_USE_FACTOR = 0.55
"""An enterprise founded before the mark was registered: its score falls below the default
threshold, so it is shown in `review` mode with the prior_use_possible reason, not alerted."""
WORD_VARIANT_FACTOR = 0.6
"""A variant that is an everyday word outside the mark's field (graded `variant_word`): as weak
as a sound-alike there."""
GRADED_CAP = 0.55
"""The highest score graded evidence reaches (below the default threshold 0.6): whether it
becomes an alert is the threshold's decision (the `review` mode)."""


_SHORTENED_OR_CHANGED = ("first_char", "two_char", "truncation", "deletion")


def _graded(score: float, notes: list[Note], why: str, factor: float) -> tuple[float, list[Note]]:
    notes.append(Note(NoteKind.GRADED, why))
    return min(score * factor, GRADED_CAP), notes


def graded_alignments(mark: str, folded: str, limit: int = 2, aligned: Sequence[Alignment] = ()) -> list[Alignment]:
    """What align() rules out by CNIPA practice and a brand owner still wants ranked low:
    a mark of three or more characters with only its first changed (the rest the same or
    related; or the first related only by a rare reading or a weak look-alike, which align()
    does not accept there: 于 read xū for 徐, the rest the same), and one of four or more with
    two characters changed (the rest the same; of four characters, the first kept). Windows
    align() placed (*aligned*) are not graded again.

    Windows are found from the mark's own bigrams (str.find, in C), so a name that shares
    none costs a few lookups. Scores stay at or under GRADED_CAP."""
    n = len(mark)
    if n < 3:
        return []
    if len(folded) < n:
        return sorted(_shortened(mark, folded), key=lambda a: (-a.similarity, a.start))[:limit]
    starts: set[int] = set()
    for k in range(1, n - 1):
        pair = mark[k : k + 2]
        at = folded.find(pair)
        while at >= 0:
            if 0 <= at - k <= len(folded) - n:
                starts.add(at - k)
            at = folded.find(pair, at + 1)
    if n >= 4:
        at = folded.find(mark[:2])
        while at >= 0:
            if at <= len(folded) - n:
                starts.add(at)
            at = folded.find(mark[:2], at + 1)
    weights = [1.5] + [1.0] * (n - 1)
    total = sum(weights)
    found = []
    for i in sorted(starts):
        w = folded[i : i + n]
        if w == mark or not all(is_han(c) for c in w):
            continue
        rels = [relation(a, b) for a, b in zip(mark, w, strict=True)]
        kinds = tuple(r[1] for r in rels)
        diffs = [k for k, kind in enumerate(kinds) if kind == "diff"]
        if kinds[0] == "diff" and len(diffs) == 1:
            edit, factor = "first_char", 0.9
        elif kinds[0] != "same" and all(k == "same" for k in kinds[1:]):
            if any(a.start == i and a.end == i + n for a in aligned):
                continue  # align() accepted this first character: not graded evidence
            edit, factor = "first_char", 0.9
        elif n >= 4 and len(diffs) == 2 and (n >= 5 or diffs[0] > 0) and all(k in ("same", "diff") for k in kinds):
            edit, factor = "two_char", 0.8
        else:
            continue  # a plain alignment (align() found it) or too little of the mark left
        sim = sum(wt * r[0] for wt, r in zip(weights, rels, strict=True)) / total * factor
        found.append(Alignment(i, i + n, round(min(sim, GRADED_CAP), 4), kinds, edit, w))
    if mark not in folded:
        found.extend(_shortened(mark, folded))
    found.sort(key=lambda a: (-a.similarity, a.start))
    return found[:limit]


def _shortened(mark: str, folded: str) -> list[Alignment]:
    """The mark cut short (特仑 for 特仑苏, 蜜雪 for 蜜雪冰城: its first half or more, not going on with
    the mark's next character) or with one character after the first left out (营养线 for 营养快线,
    marks of four or more). Similarity: the share of the mark kept, times 0.8, at most GRADED_CAP."""
    n = len(mark)
    out = []
    for keep in range(n - 1, max(2, (n + 1) // 2) - 1, -1):
        head = mark[:keep]
        at = folded.find(head)
        while at >= 0:
            if folded[at + keep : at + keep + 1] != mark[keep]:
                sim = round(min(keep / n * 0.8, GRADED_CAP), 4)
                out.append(Alignment(at, at + keep, sim, ("same",) * keep, "truncation", head))
                break
            at = folded.find(head, at + 1)
    if n >= 4:
        for k in range(1, n - 1):
            short = mark[:k] + mark[k + 1 :]
            at = folded.find(short)
            if at >= 0:
                sim = round(min((n - 1) / n * 0.8, GRADED_CAP), 4)
                out.append(Alignment(at, at + n - 1, sim, ("same",) * (n - 1), "deletion", short))
    return out


def _weak_positions(mark: str, al: Alignment) -> tuple[int, ...]:
    """The mark's positions where the alignment rests on a weak look-alike only (尨 for
    龙, 枚 for 牧: align.py's loose tier), not on a listed look-alike of that character."""
    if "shape" not in al.kinds or al.edit not in ("variant", "swap", "insertion"):
        return ()
    w = al.window
    if al.inserted >= 0:
        w = w[: al.inserted] + w[al.inserted + 1 :]
    if len(w) != len(mark) or len(al.kinds) != len(mark):
        return ()
    strong = lookalikes()
    return tuple(
        k
        for k, (kind, a, b) in enumerate(zip(al.kinds, mark, w, strict=True))
        if kind == "shape" and strong.get(a, {}).get(b, 0.0) < 0.8
    )


def _as_swap(mark: str, al: Alignment, weak: tuple[int, ...]) -> Alignment | None:
    """An alignment resting on a weak look-alike at `weak`, read with that character as
    a different one: what align() gives without the weak tier. Only a mark of three or
    more characters, its first kept, tolerates one (one_char_swap); else None."""
    n = len(mark)
    if al.edit != "variant" or n < 3 or len(weak) != 1 or weak[0] == 0:
        return None
    if any(kind != "same" for k, kind in enumerate(al.kinds) if k != weak[0]):
        return None
    kinds = tuple("diff" if k == weak[0] else "same" for k in range(n))
    # align()'s own sum: the first weighs 1.5, the others 1, the different one 0
    return Alignment(al.start, al.end, (1.5 + (n - 2)) / (1.5 + (n - 1)), kinds, "swap", al.window)


def _weigh(info: MarkPlan, ctx: Context, al: Alignment, graded: bool = True) -> Verdict:
    """Turn an alignment into a score and context notes, or name the rule that rejects it.
    With *graded*, weak evidence (sound alone in another field, a single-character mark
    inside a word) is kept with a low score instead of rejected (not in `strict` mode)."""
    mark = info.mark
    notes: list[Note] = []
    window = al.window
    exact = al.edit == "exact"
    latin = al.edit in ("latin", "latin_run_on", "latin_short_edit", "initials")
    score = al.similarity
    latin_weak: str | None = None  # Latin evidence kept only as graded (why: a _GRADED note)

    # A place name is not a mark: 伊犁 is not 伊利, a 三原县 company is not 三元.
    if info.exclude and excluded(info.exclude, ctx.folded, al.start, al.end, ctx.classes):
        return "excluded"  # an exception: the marks file or an analyst says this word is not the mark
    rs = ctx.region_span()
    own_trade_name = exact and ctx.parts is not None and ctx.parts.trade_name == info.folded
    if rs and al.start >= rs[0] and al.end <= rs[1] and not own_trade_name:
        return "in_region"
    if not exact and not latin and window in regions():
        return "place_name"
    if al.edit in _SHORTENED_OR_CHANGED:
        # What is left of the mark must still point to it: not a place (云南 of 云南白药)
        # nor a word of its own (师傅 of 康师傅, 农夫 of 农夫山泉, 营养 of 营养快线).
        if al.edit == "first_char":  # its first character changed, or related only weakly
            rest = window[1:]
        else:
            rest = "".join(c for c, k in zip(window, al.kinds, strict=True) if k != "diff")
        if rest in regions() or ctx.segmenter.dictionary_freq(rest) >= 100:
            return "graded_rest_is_a_word"
        if al.edit in ("truncation", "deletion") and word_zipf().get(rest, 0.0) >= ORDINARY_ZIPF:
            return "graded_rest_is_a_word"
    relevant = _relevant(info, ctx, al)
    # the field the subject shows besides the mark itself (asked only where the mark's field is not shown)
    shown = ctx.classes if relevant else ctx.field_outside(al.start, al.end, _kept_index(al))[0]
    # A Latin form misspelt by one letter (JOYONG) is an English word or a name as
    # often as an evasion: it counts only among the mark's own goods.
    # Where no field can be compared (a bare brand or shop name, a mark whose field the marks file does
    # not state) it is kept as graded evidence.
    if not relevant and al.kinds in (("misspelt",), ("short_edit",)):
        if not graded or (shown and info.has_field):
            return "misspelt_outside_field"
        latin_weak = "latin_no_field" if not shown else "latin_field_unknown"
    # Letters read as their look-alikes (CPPC for OPPO) or two inner letters swapped (GERE for GREE):
    # a visual imitation of the Latin form, read as the form at a glance, kept unless the subject
    # names a field that is not the mark's.
    if not relevant and shown and info.has_field:
        if al.kinds == ("letter_shape",):
            return "letter_shape_other_field"
        if al.kinds == ("transposed",):
            return "transposed_other_field"
    # Two to four initials (jy for 九阳) abbreviate anything: only the mark's own goods make them the mark.
    if not relevant and al.edit == "initials":
        return "initials_outside_field"
    # Sound alone, with no character in common and none alike in shape, confuses
    # only among the same goods (CNIPA: same sound *with* similar shape → similar).
    sound_only = not exact and not latin and not any(k in ("same", "shape", "sound_shape") for k in al.kinds)
    if not relevant and sound_only and not graded:
        return "sound_only_outside_field"
    # Compatibility and descriptive use (适用于九阳豆浆机, 小米手机壳) is fair use.
    if ctx.cue is None and not ctx.is_trademark and context.descriptive_use(ctx.folded, al.start, al.end):
        return "descriptive_use"

    # Industry: well-known marks reach across classes, ordinary marks do not. A mark whose
    # field the marks file does not state cannot be placed outside it, well known or not: the
    # subject's field says nothing either way (an exact copy of a well-known one is kept anyway).
    known = bool(shown) and info.has_field
    # A variant that is an everyday word (卫衣 for 卫龙, 美白 for 美的: wordfreq, matcher/words.py) is that word.
    other_word = not exact and not latin and reads_as_other_word(window, info.folded)
    own_meaning = other_word or (not exact and not latin and ctx.segmenter.is_common_word(window, 100))
    # Two characters of a two-character mark read the other way round (天海 for 海天)
    # are another word; like one character inserted into it (海蓝天), similar only
    # among the same goods.
    short_edit = len(info.folded) == 2 and al.edit in ("reorder", "insertion")
    weak: str | None = "other_field_sound" if not relevant and sound_only else None
    # A variant that is itself a frequent word or name (小白兔 for 大白兔, 海关 for 海天), outside the
    # mark's field: vetoed in strict mode, else kept ranked low, as it may mean only that word.
    word_variant = False
    if known and not relevant:
        if al.edit in _SHORTENED_OR_CHANGED:
            return "graded_other_field"  # weak evidence needs the goods to lean on
        if not mark.well_known:
            # An ordinary mark is protected for its own goods; a text that also spells it in its own
            # pinyin beside it (鲍师傅 BAO SHI FU) copies the owner's whole sign, not just a word:
            # graded evidence, not a veto.
            if not (graded and exact and _own_pinyin_beside(info, ctx, al)):
                return "ordinary_mark_other_field"
            latin_weak = "own_pinyin_other_field"
        else:
            if info.common_word or own_meaning:
                return "ordinary_word_other_field"
            if short_edit:
                return "short_edit_other_field"
            # A look-alike that is itself a frequent word or name (海大 for 海天) means
            # that word in another field; a widely used trade word (海天) copied exactly
            # outside the field is that word, not the well-known mark.
            if not (exact or latin) and (other_word or ctx.segmenter.dictionary_freq(window) >= 100):
                if not graded:
                    return "variant_is_a_word"
                word_variant = True
            if exact and ctx.is_enterprise and info.widely_used:
                return "widely_used_trade_word"
            # Across classes only a copy or a visual imitation misleads, not a mere sound-alike.
            # One character of a longer mark swapped is similar only in the same field.
            if not (exact or latin) and (al.edit == "swap" or any(k in ("homophone", "near_sound") for k in al.kinds)):
                if not graded:
                    return "sound_alike_other_field"
                weak = "other_field_sound"
            notes.append(Note(NoteKind.CROSS_CLASS))
            score *= 0.95 if exact or latin else 0.8
    elif not known and not relevant:
        if short_edit:
            return "short_edit_other_field"
        if exact and ctx.is_enterprise and info.widely_used:
            return "widely_used_trade_word"
        # An unknown field is no evidence of relatedness: a bare name (no organisation
        # form, no specific industry word: 华纬科技, 美迪凯, 亿利达) that only sounds like
        # the mark gives nothing to weigh. A registered name whose industry word the
        # lexicon cannot place (老版集成灶有限公司) keeps the benefit of the doubt.
        if (
            ctx.is_enterprise
            and ctx.parts is not None
            and not ctx.parts.form
            and _says_no_field(ctx.parts)
            and not (exact or latin)
            and (al.edit == "swap" or any(k in ("homophone", "near_sound") for k in al.kinds))
        ):
            return "bare_name_sound_alike"
        if (
            ctx.is_enterprise
            and len(info.folded) == 2
            and al.edit == "variant"
            and all(k in ("same", "shape") for k in al.kinds)
            and ctx.parts is not None
            and _says_no_field(ctx.parts)
        ):
            # One character of a two-character mark replaced by a look-alike that does
            # not sound like it (小木, 立日 for 小米, 立白), in a name that shows no
            # field: half the mark is gone, and nothing else points to the mark.
            return "half_mark_lookalike_no_field"
        if not (exact or latin):
            # A variant that is itself a frequent word or name (海关, 海大 for 海天)
            # has a meaning of its own: outside the mark's field it is that word.
            if other_word or ctx.segmenter.dictionary_freq(window) >= 100:
                if not graded:
                    return "variant_is_a_word"
                word_variant = True
            # An ordinary mark is protected only for its own goods (丰元 for 三元).
            if not mark.well_known and ctx.is_enterprise and info.has_field:
                return "ordinary_mark_variant_no_field"
        if not mark.well_known:
            # An ordinary mark is protected for its own goods: a bare name (no form,
            # no industry word: 三元桥, 大白象) gives nothing to place it there. A
            # registered name keeps the doubt, as its industry word may only be
            # missing from the lexicon (白象面业有限公司: 面业 is not placed).
            if ctx.is_enterprise and ctx.parts is not None and not ctx.parts.form and not ctx.parts.industry:
                return "ordinary_mark_bare_name"
            score *= 0.85
        if info.common_word and not ctx.is_enterprise and not _digits_as_the_mark(info, ctx, al):
            return "ordinary_word_no_field"
        if own_meaning:
            score *= 0.8
    else:
        notes.append(Note(NoteKind.SAME_FIELD))
        if own_meaning:
            score *= 0.9

    if ctx.is_listing:
        evasive = (
            any(
                w in ("fullwidth", "confusable", "numeral", "digit", "markup")
                for w in ctx.traced.why[al.start : al.end]
            )
            or _invisible_inside(ctx, al)
            or _mixed_script(ctx, al)
            or (latin and al.window.replace(" ", "") not in info.raw_aliases)
        )
        affix = _brand_affix(ctx, al, info.mark.owner) if exact else None
        if ctx.cue:
            notes.append(Note(NoteKind.COUNTERFEIT_CUE, ctx.cue))
            score = max(score, 0.9) if exact or latin else min(1.0, score + 0.15)
        elif affix:
            notes.append(Note(NoteKind.BRAND_AFFIX, affix))
            score *= 0.9
        elif (exact or latin) and not evasive and al.edit != "latin_run_on":
            # An offer naming the genuine product by its brand: resale, not imitation
            # (the reading holds for offers alone, not for shop or brand names; a form run
            # on into other letters is no longer the brand's own name).
            return "resale_of_genuine_goods"
        if evasive and not ctx.cue:
            notes.append(Note(NoteKind.EVASIVE))
    elif ctx.is_name or ctx.is_trademark:
        # A shop sign, a brand on goods or a trademark application is a name of its own:
        # the mark in it, alone or with other words, is used as that name.
        notes.append(Note(NoteKind.NAME_USE, ctx.subject.kind))
    else:
        ts = ctx.trade_span()
        if ts and al.start >= ts[0] and al.end <= ts[1]:
            notes.append(Note(NoteKind.TRADE_NAME))
            if (al.end - al.start) == (ts[1] - ts[0]):
                notes.append(Note(NoteKind.WHOLE_TRADE_NAME))
            elif exact:
                notes.append(Note(NoteKind.CONTAINS_MARK))
                score *= 0.95
        elif ts and ctx.parts and ctx.parts.industry and window in ctx.parts.industry:
            score *= 0.8
    # Last, as it is the costliest: a word that merely contains the mark's characters (成立白云, 老板娘).
    if not latin:
        # In an enterprise name the parsed structure outranks jieba: segment only
        # the trade name, so 一正|大药房 is not read as 一|正大|药房.
        ts = ctx.trade_span()
        if ts and ts[0] <= al.start and al.end <= ts[1]:
            lo, hi = ts
        else:
            # Only words touching the match matter: segment a few characters around it.
            lo, hi = max(0, al.start - _SEGMENT_MARGIN), al.end + _SEGMENT_MARGIN
        seg = ctx.folded[lo:hi]
        if al.start == lo and al.end - lo == len(seg):
            crossing = None  # the match is the whole segment: no word can straddle its edges
        else:
            crossing = ctx.segmenter.crossing_word(seg, al.start - lo, al.end - lo, ctx.tokens(seg))
        if (
            crossing
            and crossing != window
            and not _compound_of(crossing, window)
            and not _grown_by_suffix(crossing, ctx.folded, al.start, al.end)
        ):
            # A single-character mark inside a word is weak evidence, not none.
            if not (graded and len(info.folded) == 1):
                return "inside_a_word"
            weak = "inside_word"
    if al.edit in GRADED_EDITS:
        weak = al.edit
    if latin_weak is not None:
        weak = latin_weak
    registered = info.registered
    founded = ctx.subject.founded
    if registered is not None and isinstance(founded, str) and _earlier(founded, registered):
        # Founded before the mark was registered: the name may rest on a prior right
        # (商标法 Art. 59(3), prior use), though it may still be an imitation.
        filed = "|applied" if info.registered_is_filing else ""
        notes.append(Note(NoteKind.PRIOR_USE, f"{founded.strip()[:10]}|{registered}{filed}"))
        score *= PRIOR_USE_FACTOR
    if word_variant:
        score, notes = _graded(score, notes, "variant_word", WORD_VARIANT_FACTOR)
    if weak is not None:
        return _graded(score, notes, weak, 0.6 if weak in ("other_field_sound", "inside_word") else 1.0)
    return score, notes


def _own_pinyin_beside(info: MarkPlan, ctx: Context, al: Alignment) -> bool:
    """The text also writes the mark in its own pinyin (all of it, as one run of letters or one per
    syllable) outside the matched characters: 鲍师傅Bao Shi Fu."""
    if not info.pinyin:
        return False
    rest = ctx.folded[: al.start] + " " + ctx.folded[al.end :]
    letters = "".join(c for c in skeleton(rest) if c.isascii() and c.isalpha())
    return any(len(p) >= 4 and p in letters for p in info.pinyin)


def _digits_as_the_mark(info: MarkPlan, ctx: Context, al: Alignment) -> bool:
    """The mark is written with Arabic digits (1點點) and the text writes the same digits there: the
    everyday word its numerals spell (一点点, "a little") is not written so."""
    digits = "".join(c for c in info.mark.name if c.isascii() and c.isdigit())
    if not digits or not isinstance(ctx.subject.text, str):
        return False
    lo, hi = ctx.traced.span(al.start, al.end)
    return "".join(c for c in ctx.subject.text[lo:hi] if c.isascii() and c.isdigit()) == digits


def _earlier(founded: str, registered: str) -> bool:
    """An ISO date, or its year or month alone (2004, 2004-03), surely before the registration date."""
    founded = founded.strip()[:10]
    if not founded[:4].isdigit():
        return False
    return founded < registered[: len(founded)]


def _compound_of(word: str, window: str) -> bool:
    """A dictionary word that is the mark plus a field word (格力空调) or a place before it."""
    if word.startswith(window):
        rest = word[len(window) :]
        return rest in _field_words()
    if word.endswith(window):
        return word[: -len(window)] in regions()
    return False


_BRAND_SUFFIXES = frozenset("王记牌氏坊轩阁斋哥嫂仔")
# Characters that end a traditional trade name (字号): 一正堂, 九阳斋, 海天居.
_TRADE_NAME_SUFFIXES = frozenset("堂斋轩阁坊记号庄居园铺苑府楼馆")


def _grown_by_suffix(crossing: str, folded: str, start: int, end: int) -> bool:
    """The word straddling the mark's end is its last character(s) plus a trade-name
    suffix (正堂 in 一正堂): the mark grown into a trade name, not cut by a word."""
    if end >= len(folded) or folded[end] not in _TRADE_NAME_SUFFIXES:
        return False
    head = folded[end - len(crossing) + 1 : end]
    return len(crossing) >= 2 and start <= end - len(crossing) + 1 and crossing == head + folded[end]


_BRAND_PREFIXES = ("正宗", "新", "老", "小", "真", "金", "大")


_FOREIGN_ORIGINS = frozenset(
    ["德国", "日本", "美国", "英国", "法国", "意大利", "瑞士", "瑞典", "韩国", "荷兰", "丹麦", "澳洲", "澳大利亚"]
)


def _brand_affix(ctx: Context, al: Alignment, mark_owner: str = "") -> str | None:
    """In a listing, the mark grown into another brand name (安踏王, 海天记, 华为牌, 新九阳):
    a one-character brand word right after it, or a prefix word right before it."""
    pos = 0
    before = after = ""
    for tok in ctx.tokens(ctx.folded):
        if pos + len(tok) == al.start:
            before = tok
        if pos == al.end:
            after = tok
            break
        pos += len(tok)
    if after in _BRAND_SUFFIXES:
        return ctx.folded[al.start : al.end] + after
    if before in _BRAND_PREFIXES:
        return before + ctx.folded[al.start : al.end]
    if before in _FOREIGN_ORIGINS and before not in mark_owner and any(is_han(c) for c in mark_owner):
        # A Chinese owner's mark sold as foreign (德国苏泊尔): a false origin grown onto it.
        return before + ctx.folded[al.start : al.end]
    return None


def _mixed_script(ctx: Context, al: Alignment) -> bool:
    """The mark alone is in traditional or variant characters, the rest of the title is not."""
    inside = ctx.traced.why[al.start : al.end]
    if not any(w in ("traditional", "variant") for w in inside):
        return False
    outside = ctx.traced.why[: al.start] + ctx.traced.why[al.end :]
    return not any(w in ("traditional", "variant") for w in outside)


def _invisible_inside(ctx: Context, al: Alignment) -> bool:
    s, e = ctx.traced.span(al.start, al.end)
    raw = ctx.original[s:e]
    return len(raw) != (al.end - al.start) and fold(raw) == ctx.folded[al.start : al.end]


def _evidence(notes: list[Note]) -> str:
    """The calibration group: weak evidence apart; else, does anything show the subject's field
    (calibration.py)?"""
    if any(n.kind in (NoteKind.GRADED, NoteKind.PRIOR_USE) for n in notes):
        return GRADED
    return FIELD if any(n.kind in (NoteKind.SAME_FIELD, NoteKind.CROSS_CLASS) for n in notes) else NO_FIELD


Considered = list[tuple[Alignment, str, float]]
"""What judge() weighed, for `--explain`: each alignment, the rule that kept or dropped it
("kept", or a rule's name) and the score it reached (0.0 when dropped)."""


def _unbroken(ctx: Context, al: Alignment) -> bool:
    """The window was written as one run of characters: nothing folded away inside it."""
    s, e = ctx.traced.span(al.start, al.end)
    return e - s == al.end - al.start


def _prefer_insertion(options: list[Alignment], ctx: Context, considered: Considered | None) -> list[Alignment]:
    """An inserted character (茅大台 for 茅台: every character of the mark there, in order) is
    what the text shows; a shorter window inside it that only resembles the mark (茅大) is not.
    Unless the writer set the window apart (周黑丫 鸭脖: a space before 鸭)."""
    inserted = [a for a in options if a.edit == "insertion" and all(k == "same" for k in a.kinds) and _unbroken(ctx, a)]
    if not inserted:
        return options
    out = []
    for al in options:
        if al.edit in ("variant", "swap") and any(i.start <= al.start and al.end <= i.end for i in inserted):
            if considered is not None:
                considered.append((al, "insertion_explains_it", 0.0))
            continue
        out.append(al)
    return out


# A numeral changed to its neighbour (七个核桃 for 六个核桃) keeps the mark's shape and rhythm but
# says another number: below the same text with the mark's own numeral, above a graded change.
NUMERAL_CHANGED_WEIGHT = 0.85


def _numeral_changed(form: str, mark: str) -> Reason:
    """The reason for a hit through a neighbouring-numeral form: which numeral became which."""
    written = fold(digits_as_numerals(mark))
    was, now = next(((x, y) for x, y in zip(written, form, strict=False) if x != y), ("", ""))
    return Reason(
        "numeral_changed",
        f"“{form}”把“{mark}”中的数字“{was}”换成了相邻的“{now}”",
        f"{form} changes the numeral {was} of {mark} to its neighbour {now}",
    )


def judge(
    info: MarkPlan,
    ctx: Context,
    options: list[Alignment],
    threshold: float,
    graded: bool = True,
    considered: Considered | None = None,
) -> Hit | None:
    """The hit for one mark: its first alignment (best first) that the context keeps
    at or above the threshold; None when none does. *graded*: keep weak evidence with a
    low score (not in `strict` mode). *considered*, when given, receives every alignment
    weighed and the rule that kept or dropped it."""
    rule = _owner_rule(info, ctx)
    if rule is not None:
        if considered is not None:
            considered.extend((al, rule, 0.0) for al in options)
        return None
    weak = [_weak_positions(info.folded, al) for al in options]
    if any(weak):
        # A weak look-alike (卫尨, 九枚, 安蹈) leans on the goods to finish the deception:
        # outside the mark's field (安路 for 安踏), or for the first character, which
        # weighs most, it is no evidence; there it reads as a different character.
        kept = [
            al if not w or (_relevant(info, ctx, al) and 0 not in w) else _as_swap(info.folded, al, w)
            for al, w in zip(options, weak, strict=True)
        ]
        if considered is not None:
            considered.extend(
                (al, "weak_lookalike_first_or_other_field", 0.0)
                for al, k in zip(options, kept, strict=True)
                if k is None
            )
        options = sorted(
            (al for al in kept if al is not None and al.similarity >= threshold),
            key=lambda al: (-al.similarity, al.start),
        )
    if len(options) > 1:
        options = _prefer_insertion(options, ctx, considered)
    chosen = None
    for al in options:
        verdict = _weigh(info, ctx, al, graded)
        if isinstance(verdict, str):
            if considered is not None:
                considered.append((al, verdict, 0.0))
            continue
        if info.alias_kind == "numeral_changed":
            verdict = (verdict[0] * NUMERAL_CHANGED_WEIGHT, verdict[1])
        score = verdict[0]
        if score >= threshold:
            chosen = (al, verdict)
            if considered is not None:
                considered.append((al, "kept", round(min(score, 1.0), 4)))
            break
        if considered is not None:
            considered.append((al, "below_threshold", round(score, 4)))
    if chosen is None:
        return None
    best, (score, notes) = chosen
    span = ctx.traced.span(best.start, best.end)
    reasons = build_reasons(info.mark, ctx.traced, best, notes, ctx.original)
    if info.alias_of:
        a = info.mark.name
        if info.alias_kind == "numeral_changed":
            said = _numeral_changed(a, info.alias_of)
            # the form is not the mark: "包含商标" would say it is
            reasons = [Reason("exact", f"包含“{a}”", f"contains {a}") if r.code == "exact" else r for r in reasons]
        elif info.alias_kind == "numerals":
            said = Reason(
                "numeral_form",
                f"“{a}”是“{info.alias_of}”的数字用汉字写成的形式",
                f"{a} is {info.alias_of} with its digits written as Chinese numerals",
            )
        else:
            said = Reason(
                "chinese_alias",
                f"“{a}”是“{info.alias_of}”的别称（商标档案所列）",
                f"{a} is an alias of {info.alias_of} listed in the marks file",
            )
        reasons.insert(0, said)
    prob = probability(round(min(score, 1.0), 4), _evidence(notes))
    return Hit(
        mark=info.name,
        owner=info.mark.owner,
        score=round(min(score, 1.0), 4),
        probability=prob,
        span=span,
        matched=ctx.original[span[0] : span[1]],
        reasons=tuple(reasons),
        parts=ctx.parts,
        well_known=info.mark.well_known,
    )


def _owner_rule(info: MarkPlan, ctx: Context) -> str | None:
    """The owner's own (a listing's seller, a trademark's applicant on the whitelist) or a
    company the marks file says coexists lawfully: the rule's name, else None."""
    if ctx.is_listing and ctx.seller and any(ctx.seller.startswith(w) for w in info.whitelist):
        return "whitelist_seller"
    applicant = ctx.subject.applicant
    if ctx.is_trademark and isinstance(applicant, str) and applicant:
        folded = fold(applicant)
        if any(w and folded.startswith(w) for w in info.whitelist):
            return "whitelist_applicant"
    if ctx.uscc and ctx.uscc in info.coexist:
        return "coexist"
    return None
