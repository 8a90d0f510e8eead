"""Field knowledge from published tables: how a mark's field relates to a subject's.

A mark lists its field as Nice `classes`, 类似商品和服务区分表 similar-group codes (`groups`: 0501) and
`industries` (GB/T 4754-2017 sectors, divisions, groups or classes by code, C27 or 2710, or by name,
医药制造业; or trade words). A subject may carry an `industry` (GB/T 4754 code or name, as
enterprise-data APIs return it), a `category` (a marketplace's category path) and, for a trademark
application, `classes` and `groups`. Both are read into Nice classes and similar groups:

- a GB/T 4754 entry through the names of its subdivisions (医药制造业 → 中成药生产, 化学药品制剂制造…),
  a category path through its own words;
- words → groups through the goods and services the 区分表 lists in each group (中成药 → 0501), and
  words → classes through the matcher's industry words (context.class_words);
- a group → its class (0501 → 5).

Tables: matcher/data/gbt4754.tsv and similar_groups.tsv (scripts/build_field_tables.py says where from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

import ahocorasick_rs as ac

from matcher import context
from matcher.marks import Mark
from matcher.normalize import fold
from matcher.resources import _tsv
from matcher.types import Subject

Relation = Literal["same", "related", "unrelated", "unknown"]
_CODE = re.compile(r"^([A-T])?([0-9]{2,4})?$")
_MIN_GOODS = 2  # characters of the shortest goods word read in a name or path
_MAX_CLASSES_A_WORD = 2  # a goods word listed in more classes than this names no field
_SUPPORT = 0.2  # an industry reaches a class named by at least this share of its subdivisions' names
_SECTOR_SUPPORT = 0.5  # a sector (制造业) reaches a class only where more than half of its divisions do
# The 区分表's catch-all group 0924 is named 其他 ("other"), and the table lists the name among its goods:
# a word of every "其他…" industry and category name (其他食品制造, 零食>其他), not a good (hand-written).
_NOT_GOODS = frozenset({"其他", "其它"})


@dataclass(frozen=True, slots=True)
class Field:
    """Nice classes and similar groups a mark or subject is known to be in, and how that was read."""

    classes: frozenset[int] = frozenset()
    groups: frozenset[str] = frozenset()
    evidence: tuple[str, ...] = ()

    def __or__(self, other: Field) -> Field:
        return Field(self.classes | other.classes, self.groups | other.groups, self.evidence + other.evidence)

    @property
    def known(self) -> bool:
        return bool(self.classes or self.groups)


@cache
def gbt() -> dict[str, tuple[str, str]]:
    """GB/T 4754-2017 code (A, 27, 271, 2710) → (sector letter, name)."""
    return {row[0]: (row[1], row[2]) for row in _tsv("gbt4754.tsv")}


@cache
def _gbt_names() -> dict[str, str]:
    """Folded GB/T name → its code (the first, broadest, where a name recurs at several levels)."""
    out: dict[str, str] = {}
    for code, (_, name) in gbt().items():
        out.setdefault(fold(name), code)
    return out


@cache
def similar_groups() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Similar-group code (0501) → (name, goods and services words)."""
    return {row[0]: (row[1], tuple(row[2].split())) for row in _tsv("similar_groups.tsv")}


@cache
def _goods_automaton() -> tuple[ac.AhoCorasick, list[frozenset[str]]]:
    by_word: dict[str, set[str]] = {}
    for code, (_, goods) in similar_groups().items():
        for w in goods:
            if len(w) >= _MIN_GOODS and w not in _NOT_GOODS:
                by_word.setdefault(fold(w), set()).add(code)
    # A word listed in several classes (设备, 器具, 其他) names no field.
    words = sorted(w for w, gs in by_word.items() if len({group_class(g) for g in gs}) <= _MAX_CLASSES_A_WORD)
    return ac.AhoCorasick(words, matchkind=ac.MatchKind.LeftmostLongest), [frozenset(by_word[w]) for w in words]


def groups_in(folded: str) -> set[str]:
    """Similar groups whose listed goods or services are named in folded text (longest words win)."""
    automaton, groups = _goods_automaton()
    found: set[str] = set()
    for idx, _s, _e in automaton.find_matches_as_indexes(folded):
        found |= groups[idx]
    return found


def group_class(code: str) -> int:
    return int(code[:2])


def _words_field(folded: str, why: str) -> Field:
    groups = groups_in(folded)
    classes = context.classes_in(folded, min_len=2) | {group_class(g) for g in groups}
    if not classes and not groups:
        return Field()
    return Field(frozenset(classes), frozenset(groups), (f"{why} → classes {sorted(classes)}",))


def industry_code(value: str) -> str | None:
    """The GB/T 4754 code an industry value names: a code (C27, 27, C2710, 2710, F) or a name
    (医药制造业, 医药制造); None when the table does not know it."""
    v = fold(value).strip().upper().replace(" ", "")
    m = _CODE.match(v)
    if m and (m.group(1) or m.group(2)):
        digits, letter = m.group(2), m.group(1)
        code = digits or letter
        if code in gbt() and (not letter or not digits or gbt()[code][0] == letter):
            return code
        return None
    names = _gbt_names()
    key = fold(value).strip()
    return names.get(key) or names.get(key + "业")


def _descendants(code: str) -> list[str]:
    """The names read for an entry: a sector through its divisions, a division or group through
    everything below it, a class itself."""
    table = gbt()
    if code.isalpha():
        return [name for c, (sector, name) in table.items() if sector == code and len(c) == 2]
    return [name for c, (_, name) in table.items() if c.startswith(code) and not c.isalpha()]


@lru_cache(maxsize=4096)
def industry_field(value: str) -> Field:
    """The classes and groups a GB/T 4754 industry (code or name) reaches, read from its names;
    an unknown value is read as words (a trade word such as 药业).

    A class whose own names name no goods (5251 西药零售) reads as the entry above it (525 医药及医疗
    器材专门零售 → 5), up to its division; a sector reads as what most of its divisions share, so
    that 制造业, which 天眼查 gives as a company's industry, names no field rather than the one
    its divisions' 加工 happens to name (40)."""
    code = industry_code(value)
    if code is None:
        return _words_field(fold(value), f"industry {value}")
    if code.isalpha():
        return _sector_field(code)
    at = code
    while True:
        f = _code_field(at)
        if f.known or len(at) <= 2:
            break
        at = at[:-1]
    if not f.known:
        return f
    via = f" (as {at} {gbt()[at][1]})" if at != code else ""
    return Field(f.classes, f.groups, (f"GB/T 4754 {code} {gbt()[code][1]}{via} → classes {sorted(f.classes)}",))


@cache
def _code_field(code: str) -> Field:
    """A division, group or class read from the names of everything below it (and its own)."""
    names = _descendants(code) or [gbt()[code][1]]
    # Each subdivision votes: 医药制造业's names nearly all name medicines (class 5); a class named by
    # one name in twenty (a by-product, a machine used there) is not the industry's field.
    votes: dict[int, int] = {}
    groups: set[str] = set()
    for name in names:
        f = _words_field(fold(name), "")
        for c in f.classes:
            votes[c] = votes.get(c, 0) + 1
        groups |= f.groups
    classes = frozenset(c for c, v in votes.items() if v >= max(1.0, _SUPPORT * len(names)))
    kept = frozenset(g for g in groups if group_class(g) in classes)
    return Field(classes, kept) if classes else Field()


@cache
def _sector_field(letter: str) -> Field:
    divisions = [c for c, (sector, _) in gbt().items() if sector == letter and len(c) == 2]
    known = [f for f in map(_code_field, divisions) if f.known]
    votes: dict[int, int] = {}
    for f in known:
        for c in f.classes:
            votes[c] = votes.get(c, 0) + 1
    classes = frozenset(c for c, v in votes.items() if v > _SECTOR_SUPPORT * len(divisions))
    if not classes:
        return Field()
    groups = frozenset(g for f in known for g in f.groups if group_class(g) in classes)
    return Field(classes, groups, (f"GB/T 4754 {letter} {gbt()[letter][1]} → classes {sorted(classes)}",))


@lru_cache(maxsize=4096)
def category_field(category: str) -> Field:
    return _words_field(fold(category), f"category {category}")


def _groups_field(groups: tuple[str, ...], classes: tuple[int, ...], who: str) -> Field:
    known = tuple(g for g in groups if g in similar_groups())
    cls = frozenset(classes) | {group_class(g) for g in known}
    if not cls and not known:
        return Field()
    shown = ", ".join(f"{g} {similar_groups()[g][0]}" for g in known)
    return Field(cls, frozenset(known), (f"{who} classes {sorted(cls)}" + (f", groups {shown}" if shown else ""),))


def mark_field(mark: Mark) -> Field:
    """The mark's field: its classes, similar groups and industries, and the class of every
    registration it lists (a registration certificate names its class; a marks file that gives
    only `registrations` still says where the mark is protected)."""
    classes = (*mark.classes, *(r.class_ for r in getattr(mark, "registrations", ()) or ()))
    field = _groups_field(tuple(getattr(mark, "groups", ()) or ()), tuple(dict.fromkeys(classes)), f"mark {mark.name}")
    for value in mark.industries:
        if industry_code(value) is not None:
            field = field | industry_field(value)
    return field


def subject_field(subject: Subject) -> Field:
    """What the subject's own fields say (industry, category, a trademark's classes and groups); the
    text's words are read by the judge as before."""
    field = _groups_field(tuple(subject.groups or ()), tuple(subject.classes or ()), "subject")
    if isinstance(subject.industry, str) and subject.industry.strip():
        field = field | industry_field(subject.industry.strip())
    if isinstance(subject.category, str) and subject.category.strip():
        field = field | category_field(subject.category.strip())
    return field


def field_text(subject: Subject) -> str:
    """Folded words naming the subject's field (its category, the names of its GB/T 4754 industry):
    what the candidate stage reads, with the text, to keep a sound-alike in the mark's own field."""
    parts = []
    if isinstance(subject.category, str) and subject.category:
        parts.append(fold(subject.category))
    if isinstance(subject.industry, str) and subject.industry.strip():
        code = industry_code(subject.industry.strip())
        parts.append(fold(" ".join(_descendants(code))) if code else fold(subject.industry))
    return " ".join(parts)


def relation(mark: Mark, subject: Subject) -> tuple[Relation, tuple[str, ...]]:
    """How the subject's declared field relates to the mark's: same (a shared similar group, or a
    shared class where either side gives no groups), related (a shared class, different groups),
    unrelated (both known, no class shared), unknown (either side unknown); with the evidence."""
    m, s = mark_field(mark), subject_field(subject)
    evidence = m.evidence + s.evidence
    if not m.known or not s.known:
        return "unknown", evidence
    shared_groups = m.groups & s.groups
    if shared_groups:
        return "same", evidence + (f"shared similar groups {sorted(shared_groups)}",)
    shared = m.classes & s.classes
    if shared:
        if m.groups and s.groups:
            return "related", evidence + (f"shared classes {sorted(shared)}, different similar groups",)
        return "same", evidence + (f"shared classes {sorted(shared)}",)
    return "unrelated", evidence
