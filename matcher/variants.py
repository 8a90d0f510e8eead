"""Variants of a mark to search for: a registry search spider sends these.

A table of generators in the manner of dnstwist: each turns a mark into the
forms an imitator is likely to register, ranked so that a spider with a query
budget sends the likeliest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import opencc

from matcher import phonetic
from matcher.marks import Mark
from matcher.normalize import fold, is_han
from matcher.resources import lookalikes

_S2T = opencc.OpenCC("s2t")


def _traditional(name: str) -> Iterator[str]:
    yield _S2T.convert(name)


def _homophones(name: str) -> Iterator[str]:
    """Common characters with the same reading, one position at a time (衣正 for 一正)."""
    for k, c in enumerate(name):
        if not is_han(c):
            continue
        for other in phonetic.common_homophones(c)[:6]:
            yield name[:k] + other + name[k + 1 :]


def _lookalikes(name: str) -> Iterator[str]:
    for k, c in enumerate(name):
        ranked = sorted(lookalikes().get(c, {}).items(), key=lambda kv: -kv[1])
        for other, _s in ranked[:4]:
            yield name[:k] + other + name[k + 1 :]


def _reordered(name: str) -> Iterator[str]:
    if len(name) >= 3:
        yield name[1] + name[0] + name[2:]


GENERATORS: list[tuple[str, Callable[[str], Iterator[str]]]] = [
    ("traditional", _traditional),
    ("homophone", _homophones),
    ("lookalike", _lookalikes),
    ("reorder", _reordered),
]


def _round_robin(
    first: Iterable[str], generators: Iterable[Callable[[str], Iterator[str]]], name: str, limit: int
) -> list[str]:
    """*first* in order, then one term from each generator of *name* in turn, distinct, at most *limit*."""
    out: list[str] = []
    seen: set[str] = set()

    def take(term: str) -> None:
        if term and term not in seen and len(out) < limit:
            seen.add(term)
            out.append(term)

    for term in first:
        take(term)
    streams = [gen(name) for gen in generators]
    while streams and len(out) < limit:
        for stream in list(streams):
            try:
                take(next(stream))
            except StopIteration:
                streams.remove(stream)
    return out


def generate(mark: Mark, limit: int = 30) -> list[str]:
    """The mark, its aliases, then variants from each generator in turn (round-robin)."""
    return _round_robin([mark.name, *mark.aliases], (gen for _, gen in GENERATORS), fold(mark.name), limit)


def _numerals(name: str) -> Iterator[str]:
    """Financial numerals for the plain ones (壹正 for 一正), from the matcher's own character map."""
    from matcher.resources import charmap

    by_plain: dict[str, list[str]] = {}
    for c, (canon, why) in charmap().items():
        if why == "numeral":
            by_plain.setdefault(canon, []).append(c)
    for k, c in enumerate(name):
        for other in sorted((x for x in by_plain.get(c, ()) if x in _DAXIE), key=_DAXIE.find):
            yield name[:k] + other + name[k + 1 :]


_DAXIE = "零壹贰叁肆伍陆柒捌玖拾佰仟萬億"  # the financial numerals in use (大写), before rarer forms


def _tone(c: str) -> str:
    from pypinyin import Style, pinyin

    r = pinyin(c, style=Style.TONE3, heteronym=False)
    return r[0][0] if r and r[0] else ""


def _level1(c: str) -> bool:
    """A GB 2312 level-1 character: the 3,755 in everyday use (an imitator's likely pick)."""
    try:
        return c.encode("gb2312")[0] < 0xD8
    except UnicodeEncodeError:
        return False


def _homophones_ranked(name: str) -> Iterator[str]:
    """Homophones with the same tone and in everyday use first (依正 before 乙正 for 一正)."""
    for k, c in enumerate(name):
        if not is_han(c):
            continue
        tone = _tone(c)
        cands = phonetic.common_homophones(c)
        ranked = sorted(cands, key=lambda x: (_tone(x) != tone, not _level1(x)))
        for other in ranked[:6]:
            yield name[:k] + other + name[k + 1 :]


# Which forms a substring-matching search API must be asked for, likeliest first: a financial
# numeral is a near-certain imitation, then the commonest homophones, look-alikes, traditional.
RANKED: list[tuple[str, Callable[[str], Iterator[str]]]] = [
    ("numeral", _numerals),
    ("homophone", _homophones_ranked),
    ("lookalike", _lookalikes),
    ("traditional", _traditional),
    ("reorder", _reordered),
]


def ranked_terms(mark: Mark, limit: int = 8) -> list[str]:
    """Search terms for a budget: the mark, its Han aliases, then variants round-robin across RANKED.

    Unlike `generate` (the matcher's registry search, unchanged), Latin aliases come after the Han
    variants, since a Chinese enterprise search rarely matches them, and each stream gives its best first.
    """
    han = [a for a in mark.aliases if any(is_han(c) for c in a)]
    out = _round_robin([mark.name, *han], (gen for _, gen in RANKED), fold(mark.name), limit)
    for a in mark.aliases:  # Latin aliases last, within the budget
        if a and a not in out and len(out) < limit:
            out.append(a)
    return out
