"""Screen a subject against every protected mark at once.

Two stages, so that the common case (no mark anywhere near) costs a few
C-level passes: (1) project the folded text into characters, sound codes and
a Latin skeleton and scan all marks' keys with Aho-Corasick automata; (2) only
for the marks found, align the mark against the text character by character
(same, homophone, near sound, look-alike, inserted, reordered) and weigh the
context the way CNIPA examination practice does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property

import ahocorasick_rs as ac

from matcher import context, phonetic
from matcher.align import Alignment, align, prepare
from matcher.enterprise import looks_like_enterprise, parse_name
from matcher.marks import Mark
from matcher.normalize import FOLDER, LATIN_SKELETON, Traced, fold, is_han, skeleton, trace
from matcher.reasons import build_reasons
from matcher.resources import lookalikes, regions
from matcher.segment import Segmenter
from matcher.types import Hit, NameParts, Subject

_HAS_LATIN = re.compile("[a-z]")
DEFAULT_THRESHOLD = 0.6
_SEGMENT_MARGIN = 6  # characters either side of a match given to jieba
_MAX_TEXT = 2000  # characters of a subject that are screened; the rest is noise
_SHAPE_INDEX_MIN = 0.8


@cache
def _field_words() -> frozenset[str]:
    from matcher.enterprise import industry_words

    return frozenset(industry_words())


@dataclass(slots=True)
class _MarkInfo:
    mark: Mark
    folded: str
    aliases: tuple[str, ...]  # skeletons of Latin aliases, letters and digits only
    raw_aliases: frozenset[str]  # folded aliases without spaces: written exactly so
    whitelist: tuple[str, ...]
    common_word: bool
    classes: frozenset[int]
    industries: tuple[str, ...]


class _Automaton:
    """Patterns → marks, scanned with one Aho-Corasick automaton."""

    def __init__(self, keyed: dict[str, set[int]]) -> None:
        self.patterns = list(keyed)
        self.owners = [frozenset(keyed[p]) for p in self.patterns]
        self.ac = ac.AhoCorasick(self.patterns) if self.patterns else None

    def scan(self, text: str, into: set[int]) -> None:
        if self.ac is None or not text:
            return
        for idx, _s, _e in self.ac.find_matches_as_indexes(text, overlapping=True):
            into |= self.owners[idx]


_NOT_LATIN = re.compile("[^a-z0-9]+")


def _latin_compact(folded: str) -> str:
    return _NOT_LATIN.sub("", skeleton(folded))


class Matcher:
    """Screens enterprise names and listings against a list of protected marks."""

    def __init__(self, marks: Iterable[Mark], threshold: float = DEFAULT_THRESHOLD) -> None:
        self.marks = list(marks)
        self.threshold = threshold
        self.segmenter = Segmenter([fold(m.name) for m in self.marks])
        self.sound = phonetic.SoundCodes()
        self.sound.build()
        self.info: list[_MarkInfo] = []
        for m in self.marks:
            folded = fold(m.name)
            aliases = tuple(a for a in (_latin_compact(fold(x)) for x in m.aliases) if len(a) >= 3)
            wl = tuple(fold(w) for w in [m.owner, *m.whitelist])
            raw = frozenset(fold(a).replace(" ", "") for a in m.aliases)
            self.info.append(
                _MarkInfo(
                    mark=m,
                    folded=folded,
                    aliases=aliases,
                    raw_aliases=raw,
                    whitelist=wl,
                    common_word=self.segmenter.is_common_word(folded),
                    classes=frozenset(m.classes),
                    industries=tuple(fold(w) for w in m.industries),
                )
            )
        self._build_index()
        prepare(info.folded for info in self.info)

    # -- stage 1: candidates -------------------------------------------------

    def _build_index(self) -> None:
        chars: dict[str, set[int]] = {}
        sounds: dict[str, set[int]] = {}
        latin: dict[str, set[int]] = {}
        skips: dict[str, set[int]] = {}
        homos: dict[str, set[int]] = {}
        la = lookalikes()
        for i, info in enumerate(self.info):
            name = info.folded
            for a in info.aliases:
                latin.setdefault(a, set()).add(i)
            han = [c for c in name if is_han(c)]
            if len(han) < 2:
                if name:
                    chars.setdefault(name, set()).add(i)
                continue
            n = len(name)
            if n == 2:
                a, b = name
                keys = {name, b + a}
                keys |= {x + b for x, s in la.get(a, {}).items() if s >= _SHAPE_INDEX_MIN}
                keys |= {a + y for y, s in la.get(b, {}).items() if s >= _SHAPE_INDEX_MIN}
                # one character kept, the other a homophone (衣正 for 一正)
                for key in {x + b for x in phonetic.homophones_of(a)} | {a + y for y in phonetic.homophones_of(b)}:
                    homos.setdefault(key, set()).add(i)
            else:
                keys = set()
                for k in range(n - 1):
                    a, b = name[k], name[k + 1]
                    keys.add(a + b)
                    keys.add(b + a)
                    keys |= {x + b for x, s in la.get(a, {}).items() if s >= _SHAPE_INDEX_MIN}
                    keys |= {a + y for y, s in la.get(b, {}).items() if s >= _SHAPE_INDEX_MIN}
                for k in range(n - 2):
                    keys.add(name[k] + name[k + 2])  # one character dropped
                    skips.setdefault(name[k] + name[k + 2], set()).add(i)  # one swapped (康斯傅)
            for key in keys:
                chars.setdefault(key, set()).add(i)
            options = [sorted(self.sound.variants(c))[:3] for c in name]
            for combo in itertools.islice(itertools.product(*options), 16):
                sounds.setdefault("".join(combo), set()).add(i)
        for i, info in enumerate(self.info):
            if len(info.folded) == 2 and all(is_han(c) for c in info.folded):
                skips.setdefault(info.folded, set()).add(i)  # one inserted (卫小龙)
        # One automaton for everything scanned on Chinese text: each pattern says
        # which marks it raises outright and which only as a sound-alike.
        strong: dict[str, set[int]] = {}
        for table in (chars, skips):
            for k, v in table.items():
                strong.setdefault(k, set()).update(v)
        keyed: dict[str, tuple[frozenset[int], frozenset[int], frozenset[int]]] = {}
        for k in set(strong) | set(homos) | set(sounds):
            keyed[k] = (
                frozenset(strong.get(k, ())),
                frozenset(homos.get(k, ())) - frozenset(strong.get(k, ())),
                frozenset(sounds.get(k, ())),
            )
        self._patterns = list(keyed)
        self._owners = [keyed[k] for k in self._patterns]
        self._latin = _Automaton(latin)
        self._scan = self._scan_python
        if FOLDER is not None:
            from matcher._accel import CandidateIndex

            index = CandidateIndex(
                FOLDER,
                self._patterns,
                self._owners,
                self.sound.table,
                self._latin.patterns,
                self._latin.owners,
                {ord(k): v for k, v in LATIN_SKELETON.items()},
            )
            self._scan = index.scan

    @cached_property
    def _automaton(self) -> ac.AhoCorasick | None:
        """The keys for the pure-Python scan, built only when that scan runs."""
        return ac.AhoCorasick(self._patterns) if self._patterns else None

    def _scan_python(self, folded: str) -> tuple[set[int], set[int], set[int]] | None:
        """(strong, homophone-only, sound-only) marks whose keys occur, Latin alias hits
        among the strong; None when none do. matcher._accel does the same in C++."""
        found: set[int] = set()
        by_homophone: set[int] = set()
        by_sound: set[int] = set()
        if self._automaton is not None and folded:
            hay = "\x00".join((folded, folded[0::2], folded[1::2], self.sound.project(folded)))
            owners = self._owners
            for idx, _s, _e in self._automaton.find_matches_as_indexes(hay, overlapping=True):
                st, ho, so = owners[idx]
                found |= st
                by_homophone |= ho
                by_sound |= so
        if _HAS_LATIN.search(folded):
            self._latin.scan(_latin_compact(folded), found)
        if not (found or by_homophone or by_sound):
            return None
        return found, by_homophone, by_sound

    def candidates(self, folded: str, category: str = "") -> set[int]:
        """Marks worth aligning against folded text: one pass over the text, its
        characters two apart (the even and odd slices: one character inserted or
        swapped) and its sound projection; no Python loop per mark."""
        keys = self._scan(folded)
        if keys is None:
            return set()
        found, by_homophone, by_sound = keys
        by_sound -= found
        by_homophone -= found
        if by_sound or by_homophone:
            # Sound confuses only among the same goods: keep a sound-alike only when
            # the text names the mark's field (or, with one character kept, no field).
            field = folded + " " + category if category else folded
            classes = context.classes_in(field)
            info = self.info
            found |= {i for i in by_sound if (classes & info[i].classes) or any(w in field for w in info[i].industries)}
            found |= {
                i
                for i in by_homophone
                if not classes or (classes & info[i].classes) or any(w in field for w in info[i].industries)
            }
        return found

    # -- stage 2: judgement --------------------------------------------------

    def screen(self, subject: Subject) -> list[Hit]:
        """All marks the subject imitates, best first. Never raises on odd text."""
        text = subject.text if isinstance(subject.text, str) else str(subject.text)
        text = text[:_MAX_TEXT]
        folded = fold(text)
        cands = self.candidates(folded, fold(subject.category) if subject.category else "")
        if not cands:
            return []
        # Align first, on the folded text alone: most candidates stop here, before
        # the costlier context (trace, name structure, segmentation) is built.
        latin = _LatinView(folded) if _HAS_LATIN.search(folded) else None
        aligned: list[tuple[_MarkInfo, list[Alignment], float]] = []
        for i in sorted(cands):
            info = self.info[i]
            if any(folded.startswith(w) for w in info.whitelist if w):
                continue
            threshold = info.mark.threshold if info.mark.threshold is not None else self.threshold
            options = [a for a in align(info.folded, folded) if a.similarity >= threshold]
            if latin is not None and info.aliases:
                hit = latin.find(info.aliases)
                if hit is not None:
                    options.append(hit)
            if options:
                options.sort(key=lambda a: -a.similarity)
                aligned.append((info, options, threshold))
        if not aligned:
            return []
        traced = trace(text)
        ctx = _Context(self, subject, traced)
        hits = []
        for info, options, threshold in aligned:
            hit = self._judge(info, ctx, options, threshold)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: -h.score)
        return hits

    def _judge(self, info: _MarkInfo, ctx: _Context, options: list[Alignment], threshold: float) -> Hit | None:
        if ctx.subject.kind == "listing" and ctx.seller and any(ctx.seller.startswith(w) for w in info.whitelist):
            return None
        chosen = None
        for al in options:
            verdict = _weigh(self, info, ctx, al)
            if verdict is not None and verdict[0] >= threshold:
                chosen = (al, verdict)
                break
        if chosen is None:
            return None
        best, (score, notes) = chosen
        span = ctx.traced.span(best.start, best.end)
        reasons = build_reasons(info.mark, ctx.traced, best, notes, ctx.original)
        return Hit(
            mark=info.mark.name,
            owner=info.mark.owner,
            score=round(min(score, 1.0), 4),
            span=span,
            matched=ctx.original[span[0] : span[1]],
            reasons=tuple(reasons),
            parts=ctx.parts,
            well_known=info.mark.well_known,
        )


class _LatinView:
    """The Latin skeleton of folded text with the way back to folded positions."""

    def __init__(self, folded: str) -> None:
        self.folded = folded
        sk = skeleton(folded)
        keep = [k for k, ch in enumerate(sk) if ch.isascii() and ch.isalnum()]
        self.compact = "".join(sk[k] for k in keep)
        self.origin = keep

    def find(self, aliases: tuple[str, ...]) -> Alignment | None:
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
                        start=fs, end=fe, similarity=1.0, kinds=("latin",), edit="latin", window=folded[fs:fe]
                    )
                start = compact.find(alias, start + 1)
        return None


class _Context:
    """Facts about one subject, computed once and only when some mark is a candidate."""

    def __init__(self, matcher: Matcher, subject: Subject, traced: Traced) -> None:
        self.subject = subject
        self.original = subject.text[:_MAX_TEXT] if isinstance(subject.text, str) else str(subject.text)
        self.traced = traced
        self.folded = traced.text
        self.seller = fold(subject.seller) if subject.seller else ""
        self.is_enterprise = subject.kind == "enterprise"
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
        self.classes = context.classes_in(scope + " " + cat) if (scope or cat) else set()
        if not self.classes and self.parts is not None and self.parts.trade_name and not self.parts.industry:
            # No industry part (小熊培训学校): read the field from whole words in the rest of the name.
            self.classes = context.classes_in(self.parts.trade_name, min_len=2)
        if self.is_enterprise and not self.classes and not self.enterprise_like:
            self.classes = context.classes_in(self.folded)
        self.cue = context.counterfeit_cue(self.folded) if subject.kind == "listing" else None
        self._segmenter = matcher.segmenter
        self._tokens: dict[str, list[str]] = {}

    def tokens(self, text: str) -> list[str]:
        got = self._tokens.get(text)
        if got is None:
            got = self._tokens[text] = self._segmenter.tokens(text)
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


def _weigh(matcher: Matcher, info: _MarkInfo, ctx: _Context, al: Alignment) -> tuple[float, list[str]] | None:
    """Turn an alignment into a score and context notes, or reject it."""
    mark = info.mark
    notes: list[str] = []
    window = al.window
    exact = al.edit == "exact"
    latin = al.edit == "latin"
    score = al.similarity

    # A place name is not a mark: 伊犁 is not 伊利, a 三原县 company is not 三元.
    rs = ctx.region_span()
    own_trade_name = exact and ctx.parts is not None and ctx.parts.trade_name == info.folded
    if rs and al.start >= rs[0] and al.end <= rs[1] and not own_trade_name:
        return None
    if not exact and not latin and window in regions():
        return None
    relevant = bool(ctx.classes & info.classes) or any(w and w in ctx.folded for w in info.industries)
    # Sound alone, with no character in common and none alike in shape, confuses
    # only among the same goods (CNIPA: same sound *with* similar shape → similar).
    if not relevant and not exact and not latin and not any(k in ("same", "shape", "sound_shape") for k in al.kinds):
        return None
    # Compatibility and descriptive use (适用于九阳豆浆机, 小米手机壳) is fair use.
    if ctx.cue is None and context.descriptive_use(ctx.folded, al.start, al.end):
        return None

    # Industry: well-known marks reach across classes, ordinary marks do not.
    known = bool(ctx.classes)
    own_meaning = not exact and not latin and matcher.segmenter.is_common_word(window, 100)
    if known and not relevant:
        if not mark.well_known or info.common_word or own_meaning:
            return None
        # Across classes only a copy or a visual imitation misleads, not a mere sound-alike.
        # One character of a longer mark swapped is similar only in the same field.
        if not (exact or latin) and (al.edit == "swap" or any(k in ("homophone", "near_sound") for k in al.kinds)):
            return None
        notes.append("cross_class")
        score *= 0.95 if exact or latin else 0.8
    elif not known and not relevant:
        if not mark.well_known:
            score *= 0.85
        if info.common_word and ctx.subject.kind == "listing":
            return None
        if own_meaning:
            score *= 0.8
    else:
        notes.append("same_field")
        if own_meaning:
            score *= 0.9

    if ctx.subject.kind == "listing":
        evasive = (
            any(w in ("fullwidth", "confusable", "numeral") for w in ctx.traced.why[al.start : al.end])
            or _invisible_inside(ctx, al)
            or _mixed_script(ctx, al)
            or (latin and al.window.replace(" ", "") not in info.raw_aliases)
        )
        affix = _brand_affix(matcher, ctx, al) if exact else None
        if ctx.cue:
            notes.append("counterfeit_cue:" + ctx.cue)
            score = max(score, 0.9) if exact or latin else min(1.0, score + 0.15)
        elif affix:
            notes.append("brand_affix:" + affix)
            score *= 0.9
        elif (exact or latin) and not evasive:
            return None  # the genuine product resold under its own name
        if evasive and not ctx.cue:
            notes.append("evasive")
    else:
        ts = ctx.trade_span()
        if ts and al.start >= ts[0] and al.end <= ts[1]:
            notes.append("trade_name")
            if (al.end - al.start) == (ts[1] - ts[0]):
                notes.append("whole_trade_name")
            elif exact:
                notes.append("contains_mark")
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
            crossing = matcher.segmenter.crossing_word(seg, al.start - lo, al.end - lo, ctx.tokens(seg))
        if crossing and crossing != window and not _compound_of(crossing, window):
            return None
    return score, notes


def _compound_of(word: str, window: str) -> bool:
    """A dictionary word that is the mark plus a field word (格力空调) or a place before it."""
    if word.startswith(window):
        rest = word[len(window) :]
        return rest in _field_words()
    if word.endswith(window):
        return word[: -len(window)] in regions()
    return False


_BRAND_SUFFIXES = frozenset("王记牌氏坊轩阁斋哥嫂仔")
_BRAND_PREFIXES = ("正宗", "新", "老", "小", "真", "金", "大")


def _brand_affix(matcher: Matcher, ctx: _Context, al: Alignment) -> str | None:
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
    return None


def _mixed_script(ctx: _Context, al: Alignment) -> bool:
    """The mark alone is in traditional or variant characters, the rest of the title is not."""
    inside = ctx.traced.why[al.start : al.end]
    if not any(w in ("traditional", "variant") for w in inside):
        return False
    outside = ctx.traced.why[: al.start] + ctx.traced.why[al.end :]
    return not any(w in ("traditional", "variant") for w in outside)


def _invisible_inside(ctx: _Context, al: Alignment) -> bool:
    s, e = ctx.traced.span(al.start, al.end)
    raw = ctx.original[s:e]
    return len(raw) != (al.end - al.start) and fold(raw) == ctx.folded[al.start : al.end]


def search_terms(mark: Mark, limit: int = 30) -> list[str]:
    """Queries a registry search spider should send for a mark: the mark, its
    aliases, traditional form, and its most likely homophones and look-alikes."""
    from matcher.variants import generate

    return generate(mark, limit=limit)
