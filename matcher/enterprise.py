"""Split an enterprise name into region + trade name (字号) + industry + form.

企业名称登记管理规定 Art. 6: 行政区划 + 字号 + 行业或经营特点 + 组织形式,
e.g. 浙江|九阳|小家电|有限公司; trade-name-first names put the region in
brackets after the trade name (九阳（上海）小家电有限公司); branches append
分公司/分店; partnerships and sole proprietorships end in their own forms.
Works on folded text (see matcher.normalize), where brackets are ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache, lru_cache

from matcher.resources import _tsv, enterprise_words, nice_classes, region_codes, regions
from matcher.types import NameParts
from matcher.words import name_words

_BRACKET = re.compile(r"[(（]([^()（）]{2,12})[)）]")


@cache
def _forms() -> tuple[str, ...]:
    from .normalize import fold

    own = {fold(f) for f in enterprise_words()["forms"]}
    # companynameparser's suffixes that end in an organisation form (大药房 is not one, 书店 is): 集团 or
    # 股份 alone is how a listed company's short name ends, not a registered name.
    more = {w for w in map(fold, name_words("suffix")) if any(w.endswith(f) for f in own)}
    return tuple(sorted((own | more) - set(_branches()), key=len, reverse=True))


@cache
def _branches() -> tuple[str, ...]:
    return tuple(sorted(enterprise_words()["branches"], key=len, reverse=True))


@cache
def industry_words() -> tuple[str, ...]:
    words = set(enterprise_words()["generic_industries"])
    for ws in nice_classes().values():
        words.update(w for w in ws if len(w) >= 2)
    words.update(name_words("industry"))
    return tuple(sorted(words, key=len, reverse=True))


@cache
def _folded_regions() -> frozenset[str]:
    """Region names as folded text shows them: the parser reads folded text, where 伍家岗 is 五家岗
    (伍 is the financial numeral of 五), so the lists are folded the same way."""
    from .normalize import fold

    return frozenset(fold(r) for r in regions())


@cache
def _folded_region_codes() -> dict[str, tuple[str, ...]]:
    from .normalize import fold

    out: dict[str, set[str]] = {}
    for name, codes in region_codes().items():
        out.setdefault(fold(name), set()).update(codes)
    return {k: tuple(sorted(v)) for k, v in out.items()}


@cache
def _folded_industry_words() -> tuple[str, ...]:
    from .normalize import fold

    return tuple(sorted({fold(w) for w in industry_words()}, key=len, reverse=True))


def _lengths_by(words: Iterable[str], key: Callable[[str], str]) -> dict[str, tuple[int, ...]]:
    """key(word) → lengths of the words with that key, longest first: only these
    lengths can match a string with the same key, so the rest are never sliced."""
    out: dict[str, set[int]] = {}
    for w in words:
        out.setdefault(key(w), set()).add(len(w))
    return {k: tuple(sorted(v, reverse=True)) for k, v in out.items()}


@cache
def _region_starts() -> dict[str, tuple[int, ...]]:
    """First two characters → lengths of the region names starting so (all have ≥ 2)."""
    assert all(len(r) >= 2 for r in _folded_regions())
    return _lengths_by(_folded_regions(), lambda r: r[:2])


@cache
def _suffix_index() -> tuple[frozenset[str], tuple[int, ...], frozenset[str], tuple[int, ...], frozenset[str]]:
    """Forms and branches as sets with their lengths, longest first, for suffix lookups."""
    forms, branches = _forms(), _branches()
    assert all(forms) and all(branches)
    return (
        frozenset(forms),
        tuple(sorted({len(f) for f in forms}, reverse=True)),
        frozenset(branches),
        tuple(sorted({len(b) for b in branches}, reverse=True)),
        frozenset(forms) | frozenset(branches),
    )


@lru_cache(maxsize=16384)
def _inside(cand: str, within: tuple[str, ...]) -> tuple[str, ...]:
    """The adcodes cand can stand for that lie strictly inside one of within."""
    return tuple(c for c in _folded_region_codes().get(cand, ("",)) if any(c.startswith(w) and c != w for w in within))


@lru_cache(maxsize=4096)
def _prefecture(cand: str) -> tuple[str, ...]:
    """The adcodes of a province or prefecture cand names (4 digits or fewer): after another region
    it is still a place (山西咸阳…, a registrant's mistake), where a county's short name is more often
    a trade name (唐山市三元…)."""
    return tuple(c for c in _folded_region_codes().get(cand, ()) if len(c) <= 4)


def _provinces_only(pieces: list[str]) -> bool:
    """Every division peeled so far is a province: after one, a city of another province is still a
    place (山西咸阳…, 山西 for 陕西, a registrant's slip); after a city or county it is a trade name
    (佛山阿里斯顿: 阿里斯顿, not the prefecture 阿里)."""
    return all(all(len(c) == 2 for c in _folded_region_codes().get(p, ("",))) for p in pieces)


def _longest_prefix(s: str, names: frozenset[str], lengths: tuple[int, ...]) -> str | None:
    for n in lengths:
        if len(s) - n >= 2 and s[:n] in names:
            return s[:n]
    return None


@cache
def _place_words() -> frozenset[str]:
    """Landmarks named as a region plus what they are (栖霞山, a mountain by 栖霞; 龙潭湖): a name that starts
    so takes the landmark as its trade name (栖霞山|综合开发), not the region 栖霞 and a trade name 山综合
    (landmarks.tsv, scripts/build_landmarks.py)."""
    from .normalize import fold

    return frozenset(fold(row[0]) for row in _tsv("landmarks.tsv"))


def _strip_region_prefix(s: str) -> tuple[list[str], str]:
    """Peel administrative divisions off the front (湖北省|武汉市|江夏区…): the divisions, and the rest.

    Each further division must lie inside the one before it (by adcode), so
    that 唐山市三元… keeps 三元 (a district of 三明, not of 唐山) as a trade name.
    """
    names = _folded_regions()
    starts = _region_starts()
    pieces: list[str] = []
    within: tuple[str, ...] = ("",)
    while True:
        r = None
        for n in starts.get(s[:2], ()):
            cand = s[:n]
            if len(s) - n < 2 or cand not in names:
                continue
            if s[: n + 1] in _place_words():
                continue  # 栖霞山…: the place is the trade name, not the region 栖霞
            inside = _inside(cand, within)
            if inside or cand == "中国" or (pieces and _prefecture(cand) and _provinces_only(pieces)):
                r = cand
                break
        if r is None:
            return pieces, s
        pieces.append(r)
        s = s[len(r) :]
        if inside:
            within = inside
        elif _prefecture(r):
            within = _prefecture(r)


@cache
def _industry_index() -> tuple[frozenset[str], tuple[int, ...]]:
    words = _folded_industry_words()
    return frozenset(words), tuple(sorted({len(w) for w in words}, reverse=True))


@cache
def _industry_ends() -> dict[str, tuple[int, ...]]:
    """Last character → lengths of the industry words ending in it (all have ≥ 2)."""
    assert all(len(w) >= 2 for w in _folded_industry_words())
    return _lengths_by(_folded_industry_words(), lambda w: w[-1])


def _longest_suffix(s: str, names: frozenset[str], lengths: tuple[int, ...]) -> str | None:
    for n in lengths:
        if len(s) - n >= 2 and s[-n:] in names:
            return s[-n:]
    return None


_PLACE_ENDS = ("街道", "镇", "乡", "区")
"""A place below the county (千灯镇, 保税区, 开发区) between the region and the trade name ends so
(companynameparser's place_single.txt, less 市, 村 and 街, which end trade names as often)."""


_ZONE_ENDS = (
    "高新技术产业开发区",
    "经济技术开发区",
    "高新技术开发区",
    "经济开发区",
    "工业园区",
    "产业园区",
    "开发区",
    "保税区",
    "高新区",
    "经济区",
    "试验区",
    "示范区",
    "合作区",
    "园区",
    "新区",
    "新城",
)
"""How the kinds of development zone end (经济技术开发区, 高新区, 新区): a zone's name may be longer than a
town's (辽河口生态经济区), follow the region directly (江北|新区), or open a name that names no region
(西咸新区|沣东新城|未科诚)."""


@cache
def _place_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """_strip_one_place's searches as regular expressions, each tried in the loops' order (the
    shortest place first, then the ends in list order): one compiled scan instead of ~150 slices."""
    zones = "|".join(map(re.escape, _ZONE_ENDS))
    zones_no_town = "|".join(re.escape(z) for z in _ZONE_ENDS if z != "新城")
    ends = "|".join(map(re.escape, _PLACE_ENDS))
    rest = r"(?=.{2})"  # a trade name of two characters or more follows
    return (
        re.compile(rf"(?:{zones_no_town}){rest}", re.S),  # 江北|新区
        re.compile(rf".{{2,4}}?(?:{ends}){rest}", re.S),  # 千灯镇
        re.compile(rf".{{2,8}}?(?:{zones}){rest}", re.S),
        re.compile(rf".{{2,8}}?(?:{zones_no_town}){rest}", re.S),
    )


def _strip_one_place(s: str, after_region: bool) -> tuple[str, str]:
    """(rest, place) for one town, township or zone at the front of s, leaving a trade name of two
    characters or more; (s, "") if none."""
    zone_first, town, zone, zone_no_town = _place_patterns()
    if after_region:
        m = zone_first.match(s) or town.match(s)
        if m:
            return s[m.end() :], m[0]
    m = (zone if after_region else zone_no_town).match(s)
    if m:
        return s[m.end() :], m[0]
    return s, ""


def _strip_place(s: str, after_region: bool) -> tuple[str, str]:
    """(rest, places): towns, townships and zones right after the region (千灯镇, 保税区, 经济技术开发区,
    辽河口生态经济区|石新镇), or zones opening a name without one (西咸新区|沣东新城), when a trade name of two
    characters or more follows."""
    place = ""
    while True:
        rest, one = _strip_one_place(s, after_region or bool(place))
        if not one:
            return s, place
        s, place = rest, place + one


def _covered_from(s: str, words: frozenset[str], lengths: tuple[int, ...], places: bool = True) -> list[bool]:
    """ok[i]: s[i:] is a run of industry words and (with places) region names, nothing else; one pass
    from the right gives every suffix at once."""
    n_s = len(s)
    ok = [False] * (n_s + 1)
    ok[n_s] = True
    names = _folded_regions()
    starts = _region_starts()
    for i in range(n_s - 1, -1, -1):
        for n in lengths:
            if i + n <= n_s and ok[i + n] and s[i : i + n] in words:
                ok[i] = True
                break
        else:
            if places:
                for n in starts.get(s[i : i + 2], ()):
                    if i + n <= n_s and ok[i + n] and s[i : i + n] in names:
                        ok[i] = True
                        break
    return ok


def _covered(s: str, words: frozenset[str], lengths: tuple[int, ...], places: bool = True) -> bool:
    """s is a run of industry words and (with places) region names, nothing else (环境能源, 能源石家庄)."""
    return _covered_from(s, words, lengths, places)[0]


def _industry_start(s: str) -> int:
    """Where the industry part begins: the first position, leaving a trade name of two characters or
    more, from which the rest is all industry words and places (明州|环境能源, 新月|能源石家庄, 泽信|控股邯郸;
    not 十九阳|光电器, where 光电 leaves 器 over); failing that, the first industry word (大山|苗圃业务部);
    len(s) if none."""
    words, lengths = _industry_index()
    covered = _covered_from(s, words, lengths)  # covered[p] is _covered(s[p:])
    n_s = len(s)
    first = n_s
    for p in range(2, n_s - 1):
        if any(p + n <= n_s and s[p : p + n] in words for n in lengths):
            if covered[p]:
                return p
            first = min(first, p)
        elif covered[p] and any(_prefecture(s[p : p + n]) for n in _region_starts().get(s[p : p + 2], ())):
            return p  # a province or city in the industry part's place (泽信|邯郸, 新月|石家庄能源)
    return first


@cache
def _region_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(r) for r in _folded_regions()}, reverse=True))


def _cut(s: str) -> int:
    """_industry_start, reading past a group in brackets inside the name (民族|酒业(集团)销售)."""
    idx = s.find(_GROUP_IN_BRACKETS)
    if idx < 0:
        return _industry_start(s)
    cut = _industry_start(s[:idx] + s[idx + len(_GROUP_IN_BRACKETS) :])
    return cut if cut <= idx else cut + len(_GROUP_IN_BRACKETS)


def _weak(s: str, cut: int) -> bool:
    """The trade name s[:cut] cannot stand alone: none at all, or nothing but industry words (安居|机电,
    双塔|专业). (One character before industry words, 宝丰|隆|摄影, is no sign: 成都|好房屋|网络科技.)"""
    words, lengths = _industry_index()
    trade = s[:cut]
    return len(trade) < 2 or _covered(trade, words, lengths, places=False)


def _one_before_industry(pieces: list[str], s: str) -> bool:
    """The name opens with a county's bare short name and one character before industry words
    (宝丰|隆|摄影, 白沙|溪|皮草): the county's name and the character are the trade name (宝丰隆)."""
    if len(pieces) != 1 or len(s) < 3:
        return False
    codes = _folded_region_codes().get(pieces[0], ())
    if not codes or any(len(c) < 6 for c in codes) or pieces[0][-1] in _DIVISION_ENDS:
        return False
    words, lengths = _industry_index()
    return _covered(s[1:], words, lengths, places=False)


_DIVISION_ENDS = "省市县区旗州盟"
"""How a division's full name ends: written so (雁塔区, not 雁塔) it is a region, never a trade name."""
_STORE_ENDS = ("店", "馆", "部", "厂", "中心", "站", "所")
"""How a store, workshop or office named after its company ends (…有限公司豫园店, …有限公司第一门市部)."""
_GROUP_IN_BRACKETS = "(集团)"
"""As folded text writes （集团）."""


def parse_name(folded: str) -> NameParts:
    """Parse a folded enterprise name; parts that are absent are ''."""
    s = folded.strip()
    branch = ""
    form_set, form_lengths, branch_set, branch_lengths, _ = _suffix_index()
    # A branch: "<whole name of the parent>…分公司" → keep the parent, note the branch.
    # (Suffixes are looked up by length, longest first: two words of one length
    # cannot both end s, so this finds the same word as a scan in _branches() order.)
    for n in branch_lengths:
        if len(s) > n + 2 and s[-n:] in branch_set:
            b = s[-n:]
            head = s[: -len(b)]
            for f in _forms():
                idx = head.rfind(f)
                if idx > 0 and f in ("有限公司", "有限责任公司", "股份有限公司", "公司", "集团有限公司"):
                    branch = head[idx + len(f) :] + b
                    s = head[: idx + len(f)]
                    break
            else:
                branch = b
                s = head
            break
    else:
        # A store named after its company: "<company>有限公司" + the store's own name (…有限公司豫园店).
        for f in ("股份有限公司", "有限责任公司", "有限公司"):
            idx = s.rfind(f)
            tail = s[idx + len(f) :] if idx > 0 else ""
            if 2 <= len(tail) <= 10 and any(tail.endswith(e) for e in _STORE_ENDS):
                branch, s = tail, s[: idx + len(f)]
                break
    form = ""
    for n in form_lengths:
        if len(s) > n and s[-n:] in form_set:
            form = s[-n:]
            s = s[:-n]
            break
    if form and s.endswith(_GROUP_IN_BRACKETS):
        # 云南利他实业（集团）有限公司: the group in brackets belongs to the form.
        form, s = _GROUP_IN_BRACKETS + form, s[: -len(_GROUP_IN_BRACKETS)]
    pieces, s = _strip_region_prefix(s)
    bracket_region = ""
    m = _BRACKET.search(s)
    if m and (m.group(1) in _folded_regions() or m.group(1) in ("中国", "国际")):
        bracket_region = m.group(1)
        s = s[: m.start()] + s[m.end() :]
    s, place = _strip_place(s, bool(pieces))
    cut = _cut(s)
    # A region or place the registrant took into the trade name (白玉|机电, 宝丰|隆|摄影, 稻珍乡|软件): what is
    # left after peeling it cannot be a trade name on its own, so it was no region there. Put back one at a time.
    while (place or pieces) and (_weak(s, cut) or (not place and _one_before_industry(pieces, s))):
        back = place or pieces[-1]
        cut_back = _cut(back + s)
        if cut_back <= len(back) and not place and (_prefecture(back) or back[-1] in _DIVISION_ENDS):
            break  # the region alone would be the trade name (贵州|民族酒业, 雁塔区|创意网络): it stays the region
        if place:
            place = ""
        else:
            pieces.pop()
        s, cut = back + s, cut_back
    region = "".join(pieces) + place
    trade, industry = s[:cut], s[cut:]
    return NameParts(
        region=region, trade_name=trade, industry=industry, form=form, branch=branch, bracket_region=bracket_region
    )


def parse(text: str) -> NameParts:
    """Parse an enterprise name as written: the parts are the original characters (陆地港 stays
    陆地港, 九陽 stays 九陽), found by parsing the folded text and mapping each part back."""
    from .normalize import trace

    traced = trace(text)
    folded = traced.text
    parts = parse_name(folded)
    out: dict[str, str] = {}
    pos = len(folded) - len(folded.lstrip())
    for key in ("region", "trade_name", "bracket_region", "industry", "form", "branch"):
        value = getattr(parts, key)
        if not value:
            out[key] = ""
            continue
        start = folded.find(value, pos)
        if start < 0:
            out[key] = value
            continue
        s, e = traced.span(start, start + len(value))
        out[key] = text[s:e]
        pos = start + len(value)
    return NameParts(**out)


def looks_like_enterprise(folded: str) -> bool:
    """Ends in an organisation form or a branch word."""
    _, form_lengths, _, branch_lengths, suffixes = _suffix_index()
    return any(folded[-n:] in suffixes for n in form_lengths) or any(folded[-n:] in suffixes for n in branch_lengths)
