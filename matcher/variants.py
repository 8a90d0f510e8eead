"""Variants of a mark to search for: a registry search spider sends these.

A table of generators in the manner of dnstwist: each turns a mark into the
forms an imitator is likely to register, ranked so that a spider with a query
budget sends the likeliest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


def generate(mark: Mark, limit: int = 30) -> list[str]:
    """The mark, its aliases, then variants from each generator in turn (round-robin)."""
    out: list[str] = []
    seen: set[str] = set()

    def take(term: str) -> None:
        if term and term not in seen and len(out) < limit:
            seen.add(term)
            out.append(term)

    take(mark.name)
    for a in mark.aliases:
        take(a)
    name = fold(mark.name)
    streams = [gen(name) for _, gen in GENERATORS]
    while streams and len(out) < limit:
        for stream in list(streams):
            try:
                take(next(stream))
            except StopIteration:
                streams.remove(stream)
    return out
