"""Split an enterprise name into region + trade name (字号) + industry + form.

企业名称登记管理规定 Art. 6: 行政区划 + 字号 + 行业或经营特点 + 组织形式,
e.g. 浙江|九阳|小家电|有限公司; trade-name-first names put the region in
brackets after the trade name (九阳（上海）小家电有限公司); branches append
分公司/分店; partnerships and sole proprietorships end in their own forms.
Works on folded text (see matcher.normalize), where brackets are ASCII.
"""

from __future__ import annotations

import re
from functools import cache

from matcher.resources import enterprise_words, nice_classes, region_codes, regions
from matcher.types import NameParts

_BRACKET = re.compile(r"[(（]([^()（）]{2,12})[)）]")


@cache
def _forms() -> tuple[str, ...]:
    from matcher.normalize import fold

    return tuple(sorted({fold(f) for f in enterprise_words()["forms"]}, key=len, reverse=True))


@cache
def _branches() -> tuple[str, ...]:
    return tuple(sorted(enterprise_words()["branches"], key=len, reverse=True))


@cache
def industry_words() -> tuple[str, ...]:
    words = set(enterprise_words()["generic_industries"])
    for ws in nice_classes().values():
        words.update(w for w in ws if len(w) >= 2)
    return tuple(sorted(words, key=len, reverse=True))


@cache
def _region_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(r) for r in regions()}, reverse=True))


def _longest_prefix(s: str, names: frozenset[str], lengths: tuple[int, ...]) -> str | None:
    for n in lengths:
        if len(s) - n >= 2 and s[:n] in names:
            return s[:n]
    return None


def _strip_region_prefix(s: str) -> tuple[str, str]:
    """Peel administrative divisions off the front (湖北省武汉市江夏区…).

    Each further division must lie inside the one before it (by adcode), so
    that 唐山市三元… keeps 三元 (a district of 三明, not of 唐山) as a trade name.
    """
    codes = region_codes()
    names = regions()
    lengths = _region_lengths()
    region = ""
    within: tuple[str, ...] = ("",)
    while True:
        r = None
        for n in lengths:
            cand = s[:n]
            if len(s) - n < 2 or cand not in names:
                continue
            inside = tuple(c for c in codes.get(cand, ("",)) if any(c.startswith(w) and c != w for w in within))
            if inside or cand == "中国":
                r = cand
                break
        if r is None:
            return region, s
        region += r
        s = s[len(r):]
        if inside:
            within = inside


@cache
def _industry_index() -> tuple[frozenset[str], tuple[int, ...]]:
    words = industry_words()
    return frozenset(words), tuple(sorted({len(w) for w in words}, reverse=True))


def _longest_suffix(s: str, names: frozenset[str], lengths: tuple[int, ...]) -> str | None:
    for n in lengths:
        if len(s) - n >= 2 and s[-n:] in names:
            return s[-n:]
    return None


def parse_name(folded: str) -> NameParts:
    """Parse a folded enterprise name; parts that are absent are ''."""
    s = folded.strip()
    branch = ""
    # A branch: "<whole name of the parent>…分公司" → keep the parent, note the branch.
    for b in _branches():
        if s.endswith(b) and len(s) > len(b) + 2:
            head = s[: -len(b)]
            for f in _forms():
                idx = head.rfind(f)
                if idx > 0 and f in ("有限公司", "有限责任公司", "股份有限公司", "公司", "集团有限公司"):
                    branch = head[idx + len(f):] + b
                    s = head[: idx + len(f)]
                    break
            else:
                branch = b
                s = head
            break
    form = ""
    for f in _forms():
        if s.endswith(f) and len(s) > len(f):
            form = f
            s = s[: -len(f)]
            break
    region, s = _strip_region_prefix(s)
    bracket_region = ""
    m = _BRACKET.search(s)
    if m and (m.group(1) in regions() or m.group(1) in ("中国", "国际")):
        bracket_region = m.group(1)
        s = s[: m.start()] + s[m.end():]
    industry = ""
    words, lengths = _industry_index()
    while (w := _longest_suffix(s, words, lengths)) is not None:
        industry = w + industry
        s = s[: -len(w)]
    trade = s
    return NameParts(region=region, trade_name=trade, industry=industry, form=form,
                     branch=branch, bracket_region=bracket_region)


def looks_like_enterprise(folded: str) -> bool:
    return any(folded.endswith(f) for f in _forms()) or any(folded.endswith(b) for b in _branches())
