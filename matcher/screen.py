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
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick_rs as ac

from matcher import context, phonetic
from matcher.align import Alignment, align
from matcher.enterprise import looks_like_enterprise, parse_name
from matcher.marks import Mark
from matcher.normalize import Traced, fold, is_han, skeleton, trace
from matcher.reasons import build_reasons
from matcher.resources import lookalikes, regions
from matcher.segment import Segmenter
from matcher.types import Hit, NameParts, Subject

DEFAULT_THRESHOLD = 0.6
_MAX_TEXT = 2000  # characters of a subject that are screened; the rest is noise
_SHAPE_INDEX_MIN = 0.8


@dataclass(slots=True)
class _MarkInfo:
    mark: Mark
    folded: str
    aliases: tuple[str, ...]  # skeletons of Latin aliases, letters and digits only
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


def _latin_compact(folded: str) -> str:
    return "".join(ch for ch in skeleton(folded) if ch.isascii() and ch.isalnum())


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
            self.info.append(_MarkInfo(
                mark=m, folded=folded, aliases=aliases, whitelist=wl,
                common_word=self.segmenter.is_common_word(folded),
                classes=frozenset(m.classes), industries=tuple(fold(w) for w in m.industries),
            ))
        self._build_index()

    # -- stage 1: candidates -------------------------------------------------

    def _build_index(self) -> None:
        chars: dict[str, set[int]] = {}
        sounds: dict[str, set[int]] = {}
        latin: dict[str, set[int]] = {}
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
            else:
                keys = set()
                for k in range(n - 1):
                    a, b = name[k], name[k + 1]
                    keys.add(a + b)
                    keys.add(b + a)
                    keys |= {x + b for x, s in la.get(a, {}).items() if s >= _SHAPE_INDEX_MIN}
                    keys |= {a + y for y, s in la.get(b, {}).items() if s >= _SHAPE_INDEX_MIN}
                for k in range(n - 2):
                    keys.add(name[k] + name[k + 2])  # one character dropped or swapped
            for key in keys:
                chars.setdefault(key, set()).add(i)
            options = [sorted(self.sound.variants(c))[:3] for c in name]
            for combo in itertools.islice(itertools.product(*options), 16):
                sounds.setdefault("".join(combo), set()).add(i)
        self._chars = _Automaton(chars)
        self._sounds = _Automaton(sounds)
        self._latin = _Automaton(latin)

    def candidates(self, folded: str) -> set[int]:
        found: set[int] = set()
        self._chars.scan(folded, found)
        self._sounds.scan(self.sound.project(folded), found)
        if any("a" <= ch <= "z" for ch in folded):
            self._latin.scan(_latin_compact(folded), found)
        return found

    # -- stage 2: judgement --------------------------------------------------

    def screen(self, subject: Subject) -> list[Hit]:
        """All marks the subject imitates, best first. Never raises on odd text."""
        text = subject.text if isinstance(subject.text, str) else str(subject.text)
        text = text[:_MAX_TEXT]
        folded = fold(text)
        cands = self.candidates(folded)
        if not cands:
            return []
        traced = trace(text)
        folded = traced.text
        ctx = _Context(self, subject, traced)
        hits = []
        for i in sorted(cands):
            hit = self._judge(self.info[i], ctx)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: -h.score)
        return hits

    def _judge(self, info: _MarkInfo, ctx: _Context) -> Hit | None:
        folded = ctx.folded
        if any(folded.startswith(w) for w in info.whitelist if w):
            return None
        if ctx.subject.kind == "listing" and ctx.seller and any(ctx.seller.startswith(w) for w in info.whitelist):
            return None
        options = align(info.folded, folded)
        latin_hit = self._latin_alignment(info, ctx)
        if latin_hit is not None:
            options.append(latin_hit)
        options.sort(key=lambda a: -a.similarity)
        threshold = info.mark.threshold if info.mark.threshold is not None else self.threshold
        chosen = None
        for al in options:
            if al.similarity < threshold:
                break
            verdict = _weigh(self, info, ctx, al)
            if verdict is not None and verdict[0] >= threshold:
                chosen = (al, verdict)
                break
        if chosen is None:
            return None
        best, (score, notes) = chosen
        span = ctx.traced.span(best.start, best.end)
        reasons = build_reasons(info.mark, ctx.traced, best, notes, ctx.original)
        return Hit(mark=info.mark.name, owner=info.mark.owner, score=round(min(score, 1.0), 4), span=span,
                   matched=ctx.original[span[0]:span[1]], reasons=tuple(reasons), parts=ctx.parts,
                   well_known=info.mark.well_known)

    def _latin_alignment(self, info: _MarkInfo, ctx: _Context) -> Alignment | None:
        if not info.aliases or not ctx.has_latin:
            return None
        compact, origin = ctx.latin
        for alias in info.aliases:
            start = compact.find(alias)
            while start >= 0:
                end = start + len(alias)
                fs, fe = origin[start], origin[end - 1] + 1
                before = ctx.folded[fs - 1] if fs else ""
                after = ctx.folded[fe] if fe < len(ctx.folded) else ""
                if not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha()):
                    return Alignment(start=fs, end=fe, similarity=1.0, kinds=("latin",), edit="latin",
                                     window=ctx.folded[fs:fe])
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
        self.enterprise_like = self.is_enterprise and self.parts is not None and (
            looks_like_enterprise(self.folded) or bool(self.parts.industry))
        scope = self.folded
        if self.parts is not None and self.enterprise_like:
            scope = self.parts.industry or ""
        cat = fold(subject.category) if subject.category else ""
        self.classes = context.classes_in(scope + " " + cat) if (scope or cat) else set()
        if self.is_enterprise and not self.classes and not self.enterprise_like:
            self.classes = context.classes_in(self.folded)
        self.cue = context.counterfeit_cue(self.folded) if subject.kind == "listing" else None
        self.has_latin = any("a" <= ch <= "z" for ch in self.folded)
        self._latin: tuple[str, list[int]] | None = None

    @property
    def latin(self) -> tuple[str, list[int]]:
        if self._latin is None:
            sk = skeleton(self.folded)
            keep = [k for k, ch in enumerate(sk) if ch.isascii() and ch.isalnum()]
            self._latin = ("".join(sk[k] for k in keep), keep)
        return self._latin

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
    # A word that merely contains the mark's characters (成立白云, 老板娘).
    if not latin:
        # In an enterprise name the parsed structure outranks jieba: segment only
        # the trade name, so 一正|大药房 is not read as 一|正大|药房.
        ts = ctx.trade_span()
        if ts and ts[0] <= al.start and al.end <= ts[1]:
            crossing = matcher.segmenter.crossing_word(ctx.folded[ts[0]:ts[1]], al.start - ts[0], al.end - ts[0])
        else:
            crossing = matcher.segmenter.crossing_word(ctx.folded, al.start, al.end)
        if crossing and crossing != window:
            return None
    # Compatibility and descriptive use (适用于九阳豆浆机, 小米手机壳) is fair use.
    if ctx.cue is None and context.descriptive_use(ctx.folded, al.start, al.end):
        return None

    # Industry: well-known marks reach across classes, ordinary marks do not.
    relevant = bool(ctx.classes & info.classes) or any(w and w in ctx.folded for w in info.industries)
    known = bool(ctx.classes)
    own_meaning = (not exact and not latin and matcher.segmenter.is_common_word(window, 100))
    if known and not relevant:
        if not mark.well_known or info.common_word or own_meaning:
            return None
        notes.append("cross_class")
        score *= 0.95 if exact or latin else 0.72
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
        evasive = al.edit in ("separator",) or any(
            w in ("fullwidth", "confusable", "numeral", "variant") for w in ctx.traced.why[al.start:al.end]
        ) or _invisible_inside(ctx, al)
        if ctx.cue:
            notes.append("counterfeit_cue:" + ctx.cue)
            score = max(score, 0.9) if exact or latin else min(1.0, score + 0.15)
        elif (exact or latin) and not evasive:
            return None  # the genuine product resold under its own name
        elif evasive:
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
    return score, notes


def _invisible_inside(ctx: _Context, al: Alignment) -> bool:
    s, e = ctx.traced.span(al.start, al.end)
    raw = ctx.original[s:e]
    return len(raw) != (al.end - al.start) and fold(raw) == ctx.folded[al.start:al.end]


def search_terms(mark: Mark, limit: int = 30) -> list[str]:
    """Queries a registry search spider should send for a mark: the mark, its
    aliases, traditional form, and its most likely homophones and look-alikes."""
    from matcher.variants import generate

    return generate(mark, limit=limit)
