"""Stage 1 of screening: which marks are worth aligning against a text.

Most texts are near no mark, so this stage must cost a few C-level passes, not
a Python loop per mark: each mark is reduced to keys (character bigrams, look-
alike and homophone bigrams, characters two apart, sound codes, Latin alias
skeletons), collected in an `IndexPlan`, and a `CandidateIndex` scans the
folded text, its even and odd characters and its sound projection for them.

`CandidateIndex` here is the reference; matcher._accel.CandidateIndex is the
same in C++ (same constructor, same `scan` results) and is used when the
compiled implementation runs (matcher._impl).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import ahocorasick_rs as ac
from pypinyin import lazy_pinyin

from matcher.exclude import Exclusion
from matcher.fields import industry_code, mark_field
from matcher.marks import USCC_RE, Mark
from matcher.resources import lookalikes, loose_lookalikes, trade_word_counts

from . import context
from .normalize import LATIN_SKELETON, fold, is_han, skeleton
from .phonetic import SoundCodes, homophones_of, numbered_pinyin, readings

_HAS_LATIN = re.compile("[a-z]")
_NOT_LATIN = re.compile("[^a-z0-9]+")
_SHAPE_INDEX_MIN = 0.8
# A mark contained in at least this many of ~270,000 registered trade names
# (matcher/data/trade_words.tsv) is a word many unrelated companies use: 海天 46,
# 小熊 57, 老板 54, 小米 49, against 美的 24, 格力 19, 华为 11, 九阳 8.
WIDELY_USED = 40

Owners = tuple[frozenset[int], frozenset[int], frozenset[int]]
"""Marks a key raises: outright, as a homophone only, as a sound-alike or weak look-alike only
(the last kept only in the mark's field)."""

Found = tuple[set[int], set[int], set[int]]
"""What a scan found: (strong, homophone-only, sound-only) mark indexes."""


def latin_compact(folded: str) -> str:
    """The Latin skeleton of folded text, letters and digits only (H U A W E l → huawel)."""
    return _NOT_LATIN.sub("", skeleton(folded))


def pinyin_forms(folded: str) -> dict[str, tuple[str, ...]]:
    """The mark as sellers write it to slip past keyword filters: wholly in pinyin
    (jiuyang, JIU YANG: skeletons, at least 4 letters) and partly (一zheng, jiu阳),
    each character in its most common reading."""
    if len(folded) < 2 or not all(is_han(c) for c in folded):
        return {}
    syllables = [readings(c)[0] if readings(c) else "" for c in folded]
    if not all(syllables):
        return {}
    whole = latin_compact("".join(syllables))
    # pypinyin's phrase dictionary reads 长城 as changcheng where each character's
    # commonest reading gives zhangcheng: sellers write the word as it is said.
    said = (
        latin_compact("".join(lazy_pinyin(folded, errors="ignore")))
        if any(len(readings(c)) > 1 for c in folded)
        else whole
    )
    # and in numbered pinyin (yi1zheng4), as typed without tone marks (markwatch matcher-text)
    numbered = [latin_compact(w) for w in numbered_pinyin(folded)]
    wholes = tuple(dict.fromkeys(w for w in (whole, said) if len(w) >= 4))
    # kept apart: read exactly (tone digits), never misspelt or run on (the misspelling index stays small)
    numbered_forms = tuple(dict.fromkeys(w for w in numbered if len(w) >= 4 and w not in wholes))
    mixed = set()
    for k in range(1, len(folded)):
        mixed.add(folded[:k] + "".join(syllables[k:]))
        mixed.add("".join(syllables[:k]) + folded[k:])
    return {"pinyin": wholes, "numbered": numbered_forms, "mixed": tuple(sorted(mixed))}


_CN_DIGITS = "零一二三四五六七八九"


def digits_as_numerals(name: str) -> str:
    """The name with its Arabic digits written as Chinese numerals (际华3515 → 际华三五一五)."""
    return "".join(_CN_DIGITS[int(c)] if c.isascii() and c.isdigit() else c for c in name)


_NUMERAL_ORDER = "一二三四五六七八九十"  # a numeral's neighbours: the one before and the one after


def neighbour_numerals(form: str) -> list[str]:
    """The form with one of its Chinese numerals changed to a neighbouring one (七个核桃, 五个核桃
    for 六个核桃), where at least two other characters stay to carry the mark: changing a numeral
    of 三九 or 九阳 leaves another number or a two-character name, not this mark changed."""
    rest = sum(1 for c in form if is_han(c) and c not in _NUMERAL_ORDER)
    if rest < 2 or len(form) < 3:
        return []
    out = []
    for i, c in enumerate(form):
        k = _NUMERAL_ORDER.find(c)
        if k < 0:
            continue
        for j in (k - 1, k + 1):
            if 0 <= j < len(_NUMERAL_ORDER):
                out.append(form[:i] + _NUMERAL_ORDER[j] + form[i + 1 :])
    return out


def chinese_aliases(mark: Mark) -> list[tuple[str, str]]:
    """Other forms of the mark in Chinese characters, each screened as a form of its own, with why:
    ``alias``, an alias written in characters (a registered short name, another script's spelling:
    国电投, 滴滴, 南门涮肉); ``numerals``, the mark's Arabic digits written as Chinese numerals
    (际华三五一五 for 际华3515); ``numeral_changed``, one numeral of the mark changed to a neighbouring
    one (七个核桃 for 六个核桃). Latin aliases are read through the Latin skeleton (MarkPlan.aliases)."""
    own = fold(mark.name)
    out: list[tuple[str, str]] = []
    seen = {own}

    def add(form: str, why: str) -> None:
        f = fold(form).replace(" ", "")
        if f not in seen and sum(is_han(c) for c in f) >= 2 and all(is_han(c) for c in f):
            seen.add(f)
            out.append((form, why))

    for a in mark.aliases:
        add(a, "alias")
    for name in (mark.name, *mark.aliases):
        if any(c.isascii() and c.isdigit() for c in name) and any(is_han(c) for c in fold(name)):
            add(digits_as_numerals(name), "numerals")
    for changed in neighbour_numerals(fold(digits_as_numerals(mark.name))):
        add(changed, "numeral_changed")
    return out


def has_latin(folded: str) -> bool:
    return _HAS_LATIN.search(folded) is not None


@dataclass(slots=True)
class MarkPlan:
    """One mark as the matcher screens for it: its folded forms and its field."""

    mark: Mark
    folded: str
    aliases: tuple[str, ...]  # skeletons of Latin aliases, letters and digits only
    raw_aliases: frozenset[str]  # folded aliases without spaces: written exactly so
    whitelist: tuple[str, ...]
    common_word: bool  # a frequent dictionary word with a meaning of its own (老板, 小米)
    widely_used: bool  # in many unrelated registered trade names (海天): weakly distinctive
    classes: frozenset[int]
    industries: tuple[str, ...]
    pinyin: tuple[str, ...] = ()  # Latin skeletons of the mark written in pinyin (jiuyang)
    numbered: tuple[str, ...] = ()  # the same in numbered pinyin (yi1zheng4, every reading: hua2wei2)
    mixed: tuple[str, ...] = ()  # the mark part in characters, part in pinyin (一zheng, jiu阳)
    uscc: frozenset[str] = frozenset()  # the owner's companies by credit code (judge side)
    exclude: tuple[Exclusion, ...] = ()  # words that are not this mark (judge side)
    groups: frozenset[str] = frozenset()  # 区分表 similar groups of the registration (judge side)
    coexist: dict[str, str] = field(default_factory=dict)  # credit code → why it lawfully coexists (judge)
    registered: str | None = None  # ISO date (or year, year-month) the owner had surely applied by (judge: prior use)
    registered_is_filing: bool = False  # `registered` is a filing date (申请日), not a registration date
    alias_of: str = ""  # for a Chinese alias screened as a form of its own (国电投): the mark's name
    alias_kind: str = ""  # why that form is the mark's: alias (the marks file lists it), numerals, numeral_changed

    @property
    def name(self) -> str:
        """The protected mark a hit names: the mark itself, also when this plan screens its alias."""
        return self.alias_of or self.mark.name

    @property
    def has_field(self) -> bool:
        """The marks file states the mark's field (classes, similar groups or industry words)."""
        return bool(self.classes or self.groups or self.industries)

    @classmethod
    def of(cls, mark: Mark, common_word: bool, alias: str | None = None, alias_kind: str = "alias") -> MarkPlan:
        """*common_word* is the dictionary's view; the mark's `ordinary_word`, when set, overrides
        it and the trade-name count. *alias*: plan a Chinese alias of the mark (国电投 for 国家电投,
        滴滴 for 嘀嘀) as a form of its own, judged like the mark and reported under its name."""
        alias_of = ""
        if alias is not None:
            alias_of = mark.name
            mark = mark.model_copy(update={"name": alias, "aliases": []})
        ordinary = mark.ordinary_word
        widely_used = trade_word_counts().get(fold(mark.name), 0) >= WIDELY_USED
        return cls(
            mark=mark,
            folded=fold(mark.name),
            aliases=tuple(a for a in (latin_compact(fold(x)) for x in mark.aliases) if len(a) >= 3),
            raw_aliases=frozenset(fold(a).replace(" ", "") for a in mark.aliases),
            whitelist=tuple(fold(w) for w in [mark.owner, *mark.whitelist]),
            common_word=common_word if ordinary is None else ordinary,
            widely_used=widely_used if ordinary is None else ordinary,
            # with the classes its similar groups and GB/T 4754 industries reach (matcher/fields.py)
            classes=frozenset(mark.classes) | mark_field(mark).classes,
            industries=tuple(fold(w) for w in mark.industries if industry_code(w) is None),
            uscc=frozenset(w.strip().upper() for w in mark.whitelist if USCC_RE.match(w.strip().upper())),
            exclude=tuple(Exclusion.parse(e) for e in mark.exclude),
            groups=frozenset(mark.groups),
            coexist={c.uscc: c.reason for c in mark.coexist},
            registered=mark.priority_date,
            registered_is_filing=mark.priority_date is not None and mark.priority_date != mark.registration_date,
            alias_of=alias_of,
            alias_kind=alias_kind if alias_of else "",
            **pinyin_forms(fold(mark.name)),
        )


@dataclass(frozen=True, slots=True)
class IndexPlan:
    """Every key of every mark, ready to be scanned for (by either CandidateIndex).

    `patterns[k]` raises the marks `owners[k]`; the Chinese patterns are looked
    for in the folded text, its even and odd characters and its sound projection
    (`sound_table`), the Latin ones in its skeleton (`skeleton`, letters and digits).
    """

    patterns: tuple[str, ...]
    owners: tuple[Owners, ...]
    latin_patterns: tuple[str, ...]
    latin_owners: tuple[frozenset[int], ...]
    sound_table: dict[int, str]
    skeleton: dict[int, str]
    class_words: tuple[tuple[str, frozenset[int]], ...] = ()  # context.classes_in's (compiled in_field)

    @classmethod
    def build(cls, plans: Sequence[MarkPlan], sound: SoundCodes) -> IndexPlan:
        """Collect every mark's keys. At 10,000 marks there are ~600,000 keys, so owners are
        gathered in lists and each key's owner sets are shared frozensets (one per mark for
        the common single-owner key), not three fresh sets per key: that kept the build's
        peak memory at 3/4 GB."""
        chars: dict[str, list[int]] = {}
        sounds: dict[str, list[int]] = {}
        latin: dict[str, set[int]] = {}
        homos: dict[str, list[int]] = {}
        la = lookalikes()
        shapes: dict[str, tuple[str, ...]] = {}  # per character: its look-alikes >= _SHAPE_INDEX_MIN
        codes: dict[str, list[str]] = {}  # per character: up to three sound codes
        loose = loose_lookalikes()

        def shapes_of(c: str) -> tuple[str, ...]:
            got = shapes.get(c)
            if got is None:
                got = shapes[c] = tuple(x for x, s in la.get(c, {}).items() if s >= _SHAPE_INDEX_MIN)
            return got

        def codes_of(c: str) -> list[str]:
            got = codes.get(c)
            if got is None:
                got = codes[c] = sorted(sound.variants(c))[:3]
            return got

        for i, plan in enumerate(plans):
            name = plan.folded
            for a in (*plan.aliases, *plan.pinyin, *plan.numbered):
                latin.setdefault(a, set()).add(i)
            han = [c for c in name if is_han(c)]
            if len(han) < 2:
                if name:
                    chars.setdefault(name, []).append(i)
                continue
            n = len(name)
            if n == 2:
                a, b = name[0], name[1]
                keys = {name, b + a}
                keys.update(x + b for x in shapes_of(a))
                keys.update(a + y for y in shapes_of(b))
                # one character kept, the other a homophone (衣正 for 一正)
                for key in {x + b for x in homophones_of(a)} | {a + y for y in homophones_of(b)}:
                    homos.setdefault(key, []).append(i)
            else:
                keys = set()
                for k in range(n - 1):
                    a, b = name[k], name[k + 1]
                    keys.add(a + b)
                    keys.add(b + a)
                    keys.update(x + b for x in shapes_of(a))
                    keys.update(a + y for y in shapes_of(b))
                for k in range(n - 2):
                    # one character dropped, or two swapped around it (康斯傅)
                    keys.add(name[k] + name[k + 2])
            # (a two-character mark's own name is also its key for one character inserted: 卫小龙)
            for key in keys:
                chars.setdefault(key, []).append(i)
            options = [codes_of(c) for c in name]
            field_keys = {"".join(combo) for combo in itertools.islice(itertools.product(*options), 16)}
            # one character but the first a weak look-alike (卫尨 for 卫龙): like sound,
            # evidence only in the field (judge.py)
            for k in range(n - 1):
                a, b = name[k], name[k + 1]
                if k:
                    field_keys.update(x + b for x in loose.get(a, ()))
                field_keys.update(a + y for y in loose.get(b, ()))
            for key in field_keys:
                sounds.setdefault(key, []).append(i)
        # One automaton for everything scanned on Chinese text: each pattern says
        # which marks it raises outright, which only as a homophone, which only as a sound-alike.
        empty: frozenset[int] = frozenset()
        single = [frozenset((i,)) for i in range(len(plans))]

        def owner_set(ids: list[int] | None) -> frozenset[int]:
            if not ids:
                return empty
            if len(ids) == 1:
                return single[ids[0]]
            return frozenset(ids)

        patterns: list[str] = []
        owners: list[Owners] = []
        for key in chars.keys() | homos.keys() | sounds.keys():
            strong = owner_set(chars.get(key))
            homo = owner_set(homos.get(key))
            if homo and strong:
                homo = homo - strong or empty
            patterns.append(key)
            owners.append((strong, homo, owner_set(sounds.get(key))))
        return cls(
            patterns=tuple(patterns),
            owners=tuple(owners),
            latin_patterns=tuple(latin),
            latin_owners=tuple(frozenset(v) for v in latin.values()),
            sound_table=sound.table,
            skeleton={ord(k): v for k, v in LATIN_SKELETON.items()},
            class_words=context.class_words(),
        )


class CandidateIndex:
    """The reference scan: Aho-Corasick over the projections of the folded text."""

    def __init__(self, plan: IndexPlan) -> None:
        self._owners = plan.owners
        self._sound = plan.sound_table
        self._skeleton = str.maketrans(plan.skeleton)
        self._keys = ac.AhoCorasick(list(plan.patterns)) if plan.patterns else None
        self._latin_owners = plan.latin_owners
        self._latin = ac.AhoCorasick(list(plan.latin_patterns)) if plan.latin_patterns else None

    def scan(self, folded: str) -> Found | None:
        """(strong, homophone-only, sound-only) marks whose keys occur, Latin alias hits
        among the strong; None when none do."""
        found: set[int] = set()
        by_homophone: set[int] = set()
        by_sound: set[int] = set()
        if self._keys is not None and folded:
            hay = "\x00".join((folded, folded[0::2], folded[1::2], folded.translate(self._sound)))
            owners = self._owners
            for idx, _s, _e in self._keys.find_matches_as_indexes(hay, overlapping=True):
                st, ho, so = owners[idx]
                found |= st
                by_homophone |= ho
                by_sound |= so
        if self._latin is not None and has_latin(folded):
            compact = _NOT_LATIN.sub("", folded.translate(self._skeleton))
            for idx, _s, _e in self._latin.find_matches_as_indexes(compact, overlapping=True):
                found |= self._latin_owners[idx]
        if not (found or by_homophone or by_sound):
            return None
        return found, by_homophone, by_sound


def in_field(scanned: Found | None, plans: Sequence[MarkPlan], folded: str, category: str = "") -> set[int]:
    """The marks worth aligning, given what a scan found: sound confuses only among
    the same goods, so a sound-alike is kept only when the text names the mark's
    field (or, with one character kept, names no field at all, or the marks file
    states no field of the mark: then it cannot be placed outside it).

    Every scan at 10,000 marks and a third at 1,000 raise some sound-alike, so this
    runs for most texts: plain loops, and the field's words looked for only in
    marks that list industries."""
    if scanned is None:
        return set()
    found, by_homophone, by_sound = scanned
    out = set(found)
    by_sound = by_sound - found
    by_homophone = by_homophone - found
    if not (by_sound or by_homophone):
        return out
    field = folded + " " + category if category else folded
    classes = context.classes_in(field)
    for i in by_sound:
        plan = plans[i]
        if (classes and not classes.isdisjoint(plan.classes)) or (
            plan.industries and any(w in field for w in plan.industries)
        ):
            out.add(i)
    for i in by_homophone:
        plan = plans[i]
        if (
            not classes
            or not plan.has_field
            or not classes.isdisjoint(plan.classes)
            or (plan.industries and any(w in field for w in plan.industries))
        ):
            out.add(i)
    return out
