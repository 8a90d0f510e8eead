"""Human-readable reasons, in Chinese and English, for a hit."""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from pypinyin.pinyin_dict import pinyin_dict

from matcher.marks import Mark
from matcher.notes import Note, NoteKind
from matcher.types import Reason

from . import phonetic
from .align import DIFF, HOMOPHONE, NEAR_SOUND, SAME, SHAPE, SOUND_SHAPE, Alignment
from .initials import spelled
from .normalize import Traced, fold, unmarked


def _nearest_form(mark: Mark, window: str) -> str:
    """The mark's Latin form (an alias as registered, else its pinyin) a misspelt window is closest to."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    from .candidates import latin_compact, pinyin_forms

    forms = {latin_compact(fold(a)): a for a in mark.aliases}
    if fold(mark.name).isascii():
        forms.setdefault(latin_compact(fold(mark.name)), mark.name)
    written = _written_pinyin(fold(mark.name))
    for p in pinyin_forms(fold(mark.name)).get("pinyin", ()):
        forms.setdefault(p, written.get(p, p))
    best = process.extractOne(latin_compact(window), list(forms), scorer=OSA.distance) if forms else None
    return forms[best[0]] if best else mark.name


def _matched_alias(mark: Mark, window: str) -> str:
    """The alias the window spells (HONOR, not the first alias HUAWEI): LatinView.find's own test,
    the Latin skeletons equal. (A window read as the mark's pinyin gets the `pinyin` reason.)"""
    from .candidates import latin_compact

    compact = latin_compact(window)
    return next((a for a in mark.aliases if latin_compact(fold(a)) == compact), _nearest_form(mark, window))


def _written_pinyin(folded: str) -> dict[str, str]:
    """The mark's whole pinyin as written (haier), by its Latin skeleton (haler): pinyin_forms() keeps
    only skeletons, and a sentence must print the letters as they are."""
    from .candidates import latin_compact

    common = "".join(r[0] if (r := phonetic.readings(c)) else "" for c in folded)
    said = "".join(lazy_pinyin(folded, errors="ignore"))
    return {latin_compact(w): w for w in (said, common) if w}


def _letters(text: str) -> str:
    """Letters and digits of folded text as written (no look-alike skeleton: i stays i)."""
    return "".join(c for c in fold(text) if c.isascii() and c.isalnum())


SKELETON_NOTE = ("（把 i、1 读作 l，0 读作 o）", " (reading i and 1 as l, 0 as o)")
"""Added where an edit is one only in the Latin skeleton (daier read as daler): said, not hidden."""


def _one_edit_note(window: str, form: str) -> tuple[str, str]:
    """("", "") when the letters as written are one edit apart, else SKELETON_NOTE."""
    from rapidfuzz.distance import OSA

    return ("", "") if OSA.distance(_letters(window), _letters(form)) == 1 else SKELETON_NOTE


def _transposed_form(mark: Mark, window: str) -> tuple[str, str, tuple[str, str]]:
    """The mark's Latin or pinyin form the window is with two neighbouring letters swapped, those two
    letters as the form has them ("" when none is: then the sentence names no pair), and the note
    SKELETON_NOTE where the swap holds only in the Latin skeleton."""
    from .candidates import latin_compact, pinyin_forms
    from .latin_fuzzy import transposition

    written = _written_pinyin(fold(mark.name))
    forms = [*mark.aliases, mark.name, *(written.get(p, p) for p in pinyin_forms(fold(mark.name)).get("pinyin", ()))]
    for form in forms:
        got = transposition(_letters(window), _letters(form))
        if got is not None:
            return form, got[1], ("", "")
    for form in forms:
        got = transposition(latin_compact(window), latin_compact(fold(form)))
        if got is not None:
            return form, got[1], SKELETON_NOTE
    return mark.name, "", ("", "")


def _shaped_form(mark: Mark, window: str) -> tuple[str, list[tuple[str, str]]]:
    """The mark's Latin form (an alias as registered, or a Latin name) the window reads as by
    look-alike letters, and the (window letter, form letter) pairs that differ."""
    from .candidates import latin_compact
    from .latin_fuzzy import shape_swaps

    compact = latin_compact(window)
    for form in (*mark.aliases, mark.name):
        swaps = shape_swaps(compact, latin_compact(fold(form)))
        if swaps:
            return form, swaps
    return mark.name, []


def _py_reference(text: str) -> str:
    """Toned pinyin of a whole window, as pypinyin reads it (phrases included)."""
    return " ".join(lazy_pinyin(text, style=Style.TONE, errors="ignore"))


@cache
def _char_py(c: str) -> str | None:
    """pypinyin's toned reading of c on its own; None unless that is exactly one syllable."""
    if ord(c) not in pinyin_dict:
        return None
    got = lazy_pinyin(c, style=Style.TONE, errors="ignore")
    return got[0] if len(got) == 1 and got[0] else None


_MAX_PHRASE = max(map(len, PHRASES_DICT))


@lru_cache(maxsize=8192)
def _py(text: str) -> str:
    """_py_reference(text), without pypinyin's segmentation where it cannot matter.

    pypinyin reads a word of its phrase dictionary as a whole and every other
    character on its own, style conversion depending on the character and its
    reading alone. So when every character has one reading of its own and no
    stretch of two or more characters is a phrase, the answer is the characters'
    own readings: found per character once, the window costing a few dict
    lookups instead of ~50 µs in pypinyin (a window differs on nearly every hit).
    Cached by string, since mark names recur on every hit."""
    n = len(text)
    if n > 2 * _MAX_PHRASE:
        return _py_reference(text)
    out = []
    for c in text:
        r = _char_py(c)
        if r is None:
            return _py_reference(text)
        out.append(r)
    for i in range(n - 1):
        for j in range(i + 2, min(n, i + _MAX_PHRASE) + 1):
            if text[i:j] in PHRASES_DICT:
                return _py_reference(text)
    return " ".join(out)


@cache
def _toned(c: str) -> tuple[str, ...]:
    """Every toned reading of c in pypinyin's dictionary, the most common first."""
    raw = pinyin_dict.get(ord(c))
    return tuple(dict.fromkeys(r.strip() for r in raw.split(",") if r.strip())) if raw else ()


SAME_READING, TONE_ONLY, NEAR_READING = "same", "tone", "near"


@cache
def _bare(syllable: str) -> str:
    """A toned syllable without its tone, ü as v (phonetic.readings' spelling)."""
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def reading_pair(a: str, b: str, usual: str | None = None) -> tuple[str, str, str] | None:
    """The readings that make text character b sound like mark character a, polyphones
    included: (reading of a, reading of b, how alike: same, tone only, near), the closest
    relation first and, among equals, a's usual reading; None if no reading relates them."""
    ra, rb = _toned(a), _toned(b)
    if not ra or not rb:
        return None
    order = sorted(ra, key=lambda r: (r != usual, ra.index(r)))
    for x in order:
        if x in rb:
            return x, x, SAME_READING
    for x in order:
        bare = _bare(x)
        for y in rb:
            if _bare(y) == bare:
                return x, y, TONE_ONLY
    for x in order:
        fx = phonetic.fuzzy(_bare(x))
        for y in rb:
            if phonetic.fuzzy(_bare(y)) == fx:
                return x, y, NEAR_READING
    return None


_CLAIM_ZH = {SAME_READING: "读音相同", TONE_ONLY: "声母韵母相同、声调不同", NEAR_READING: "读音相近"}
_CLAIM_EN = {
    SAME_READING: "sounds the same as",
    TONE_ONLY: "sounds like, but in another tone,",
    NEAR_READING: "sounds close to",
}
_RANK = {SAME_READING: 0, TONE_ONLY: 1, NEAR_READING: 2}


def _syllables(text: str) -> list[str]:
    """pypinyin's toned reading of each character of text in context (phrases read as words)."""
    got = _py(text).split(" ")
    return got if len(got) == len(text) else [_char_py(c) or "" for c in text]


def _likeness(m: str, mark: str, shown: str, kinds: tuple[str, ...]) -> list[Reason]:
    """The sound and shape reasons for a window aligned position by position with the
    folded mark: each sound claim names the readings that justify it and says 读音相同 only
    where they are the same, tone included."""
    out: list[Reason] = []
    if len(shown) != len(mark) or len(kinds) != len(mark):
        return out
    usual = _syllables(mark)
    pairs: list[tuple[int, str, str, str]] = []
    for k, kind in enumerate(kinds):
        if kind in (HOMOPHONE, SOUND_SHAPE, NEAR_SOUND):
            got = reading_pair(mark[k], shown[k], usual[k])
            if got is not None:
                pairs.append((k, *got))
    if pairs:
        worst = max((p[3] for p in pairs), key=_RANK.__getitem__)
        code = "near_sound" if worst == NEAR_READING else "homophone"
        chosen = {k: (x, y) for k, x, y, _ in pairs}
        if all(kind != DIFF and (kind == SAME or k in chosen) for k, kind in enumerate(kinds)) and not any(
            kind == SHAPE for kind in kinds
        ):
            # every character the same or sounding alike: the whole window, read as justified
            # a character the window shares with the mark is read as in the mark
            wpy = " ".join(chosen[k][1] if k in chosen else usual[k] for k in range(len(shown)))
            mpy = " ".join(chosen[k][0] if k in chosen else usual[k] for k in range(len(mark)))
            zh = f"{shown}（{wpy}）与“{m}”（{mpy}）{_CLAIM_ZH[worst]}"
            en = f"{shown} ({wpy}) {_CLAIM_EN[worst]} {m} ({mpy})"
            other = [(mark[k], x, usual[k]) for k, x, _, _ in pairs if usual[k] and x != usual[k]]
            if other:
                zh += "（" + "、".join(f"{c} 按多音字读 {x}，常读 {u}" for c, x, u in other) + "）"
                en += " (" + ", ".join(f"{c} in its other reading {x}, usually {u}" for c, x, u in other) + ")"
        else:
            zh = f"{shown} 与“{m}”：" + "；".join(
                f"{shown[k]}（{y}）与{mark[k]}（{x}）{_CLAIM_ZH[how]}" for k, x, y, how in pairs
            )
            en = f"{shown} against {m}: " + "; ".join(
                f"{shown[k]} ({y}) {_CLAIM_EN[how]} {mark[k]} ({x})" for k, x, y, how in pairs
            )
        out.append(Reason(code, zh, en))
    shape_pos = [k for k, kind in enumerate(kinds) if kind in (SHAPE, SOUND_SHAPE)]
    if shape_pos:
        pairs_s = "、".join(f"{shown[k]}/{mark[k]}" for k in shape_pos)
        out.append(
            Reason(
                "shape",
                f"{shown} 与“{m}”字形相近（{pairs_s}）",
                f"look-alike characters: {shown} looks like {m} ({pairs_s})",
            )
        )
    return out


_NAME_USE = {
    "shop": ("以“{w}”作为店铺或招牌名称（或其一部分）", "uses {w} as (part of) a shop or sign name"),
    "brand": ("以“{w}”作为商品品牌或名称（或其一部分）", "uses {w} as (part of) a brand or product name"),
    "trademark": ("商标申请的文字含“{w}”", "the trademark application's text holds {w}"),
}
_GRADED = {
    "other_field_sound": (
        "仅读音近似，且不在“{m}”核定使用的行业：证据较弱，列出供复核",
        "sounds alike only, outside the field of {m}: weak evidence, listed for review",
    ),
    "latin_no_field": (
        "名称未表明所属行业，拼写近似只作弱证据：列出供复核",
        "the name states no field, so a near spelling is weak evidence: listed for review",
    ),
    "latin_field_unknown": (
        "“{m}”的核定使用行业未载明，拼写近似只作弱证据：列出供复核",
        "the field of {m} is not stated, so a near spelling is weak evidence: listed for review",
    ),
    "own_pinyin_other_field": (
        "不在“{m}”核定使用的行业，但同时写出“{m}”及其拼音，照搬了整个标识：证据较弱，列出供复核",
        "outside the field of {m}, but writes {m} and its pinyin together, copying the whole sign: "
        "weak evidence, listed for review",
    ),
    "variant_word": (
        "{w} 本身是常用词语或名称，又未表明属于“{m}”的行业，可能只是该词本义：证据较弱，列出供复核",
        "{w} is an everyday word or name of its own, not shown to be in the field of {m}, and may mean only "
        "that: weak evidence, listed for review",
    ),
    "inside_word": (
        "单字商标“{m}”出现在另一个词中：证据较弱，列出供复核",
        "the single-character mark {m} stands inside another word: weak evidence, listed for review",
    ),
}


def build_reasons(mark: Mark, traced: Traced, al: Alignment, notes: list[Note], original: str) -> list[Reason]:
    """The evidence for a hit, in the order reviewers read it: how the text was disguised,
    how it resembles the mark, then what the context adds (notes)."""
    m = mark.name
    out: list[Reason] = []
    s, e = traced.span(al.start, al.end)
    raw = original[s:e]
    shown = al.window

    whys = set(traced.why[al.start : al.end])
    whole = al.window == fold(m)  # the window reads as the mark itself, not a variant or part of it
    if "traditional" in whys:
        if whole:
            zh, en = f"{raw} 是“{m}”的繁体写法", f"{raw} is {m} written in traditional characters"
        else:
            zh, en = f"{raw} 用繁体字书写（即 {shown}）", f"{raw} is written in traditional characters ({shown})"
        out.append(Reason("traditional", zh, en))
    if "variant" in whys:
        if whole:
            zh, en = f"{raw} 使用了“{m}”的异体字", f"{raw} writes {m} with variant characters"
        else:
            zh, en = f"{raw} 使用了异体字（即 {shown}）", f"{raw} is written with variant characters ({shown})"
        out.append(Reason("variant", zh, en))
    if "numeral" in whys:
        out.append(Reason("numeral", f"{raw} 用大写数字写“{m}”", f"{raw} writes {m} with financial numerals"))
    if "digit" in whys:
        out.append(Reason("numeral", f"{raw} 用阿拉伯数字写“{m}”", f"{raw} writes {m} with Arabic digits"))
    plain = unmarked(raw)
    if plain != raw:
        out.append(
            Reason(
                "markup",
                f"{raw} 用网页标签或字符实体写“{m}”（读作 {plain}）",
                f"{raw} writes {m} with HTML tags or character entities (it reads {plain})",
            )
        )
    if "fullwidth" in whys or "confusable" in whys:
        out.append(
            Reason(
                "lookalike_script",
                f"{raw} 用全角或其他文字的形近字母冒充“{m}”",
                f"{raw} imitates {m} with full-width or look-alike letters from other scripts",
            )
        )
    if len(plain) > (al.end - al.start) and al.edit != "insertion":
        out.append(
            Reason(
                "separator",
                f"“{m}”的字之间插入了空格、符号或不可见字符",
                f"spaces, symbols or invisible characters inserted between the characters of {m}",
            )
        )

    if al.edit == "exact":
        out.append(Reason("exact", f"包含商标“{m}”", f"contains the mark {m}"))
    elif al.edit == "initials":
        said = spelled(fold(m), al.window)
        out.append(
            Reason(
                "pinyin_initials",
                f"{raw} 是“{m}”拼音（{said}）的首字母",
                f"{raw} is the initials of the pinyin of {m} ({said})",
            )
        )
    elif al.edit == "latin" and al.kinds == ("misspelt",):
        form = _nearest_form(mark, al.window)
        zh_note, en_note = _one_edit_note(al.window, form)
        out.append(
            Reason(
                "misspelt",
                f"{raw} 与“{m}”的外文或拼音形式 {form} 只差一个字母{zh_note}",
                f"{raw} is {form}, a Latin or pinyin form of {m}, misspelt by one letter{en_note}",
            )
        )
    elif al.edit == "latin" and al.kinds == ("transposed",):
        form, pair, (zh_note, en_note) = _transposed_form(mark, al.window)
        out.append(
            Reason(
                "transposed",
                f"{raw} 是“{m}”的外文或拼音形式 {form} 中相邻两个字母对调（{pair}→{pair[::-1]}）{zh_note}",
                f"{raw} is {form}, a Latin or pinyin form of {m}, with two neighbouring letters swapped "
                f"({pair} → {pair[::-1]}){en_note}",
            )
        )
    elif al.edit == "latin_short_edit":
        form = _nearest_form(mark, al.window)
        zh_note, en_note = _one_edit_note(al.window, form)
        out.append(
            Reason(
                "short_edit",
                f"{raw} 与“{m}”的外文或拼音形式 {form} 只差一个字母{zh_note}（形式较短，证据较弱，列出供复核）",
                f"{raw} is one letter away from {form}{en_note}, a short Latin or pinyin form of {m}: "
                "weak evidence, listed for review",
            )
        )
    elif al.edit == "latin" and al.kinds == ("letter_shape",):
        form, swaps = _shaped_form(mark, al.window)
        shown = "、".join(f"{a}/{b}" for a, b in swaps)
        out.append(
            Reason(
                "letter_shape",
                f"{raw} 与“{m}”的外文形式 {form} 字母形近（{shown}）",
                f"{raw} reads as {form}, a Latin form of {m}, with letters alike in shape ({shown})",
            )
        )
    elif al.edit == "latin" and al.kinds == ("pinyin",):
        out.append(
            Reason(
                "pinyin",
                f"{raw} 是“{m}”的拼音写法（全部或部分）",
                f"{raw} writes {m} in pinyin, wholly or in part",
            )
        )
    elif al.edit == "latin_run_on":
        # the letters as the text has them (the index holds skeletons: jluyang for jiuyang)
        out.append(
            Reason(
                "latin_run_on",
                f"{raw} 是“{m}”的外文或拼音形式，但前后连着其他字母；列出供复核",
                f"{raw} is a Latin or pinyin form of {m}, run on into other letters: listed for review",
            )
        )
    elif al.edit == "latin":
        alias = _matched_alias(mark, al.window)
        out.append(
            Reason(
                "alias",
                f"{raw} 与商标“{m}”的外文形式 {alias} 相同或形近",
                f"{raw} matches the mark's registered form {alias}",
            )
        )
    elif al.edit == "split":
        k = al.kinds.index("split")
        pair = shown[k : k + 2]
        out.append(
            Reason(
                "split",
                f"{shown} 把“{m}”的“{m[k]}”拆开写作“{pair}”",
                f"{shown} writes {m[k]} of {m} taken apart as {pair}",
            )
        )
    elif al.edit == "reorder":
        out.append(
            Reason(
                "reorder", f"{shown} 与“{m}”用字相同、顺序不同", f"{shown} uses the characters of {m} in another order"
            )
        )
    elif al.edit == "insertion":
        ins = shown[al.inserted]
        rest = shown[: al.inserted] + shown[al.inserted + 1 :]
        if all(k == SAME for k in al.kinds):
            out.append(Reason("insertion", f"{shown} 在“{m}”中插入了“{ins}”", f"{shown} inserts {ins} into {m}"))
        else:
            out.append(
                Reason(
                    "insertion",
                    f"{shown} 在“{m}”的近似写法 {rest} 中插入了“{ins}”",
                    f"{shown} inserts {ins} into {rest}, a look- or sound-alike of {m}",
                )
            )
            out.extend(_likeness(m, fold(m), rest, al.kinds))
    elif al.edit == "truncation":
        out.append(
            Reason(
                "truncated",
                f"{shown} 是“{m}”的前 {len(shown)} 个字（截去其余）；列出供复核",
                f"{shown} is the first {len(shown)} characters of {m} (the rest cut off): listed for review",
            )
        )
    elif al.edit == "deletion":
        gone = next(c for k, c in enumerate(fold(m)) if fold(m)[:k] + fold(m)[k + 1 :] == al.window)
        out.append(
            Reason(
                "char_deleted",
                f"{shown} 是“{m}”省去“{gone}”字；列出供复核",
                f"{shown} is {m} with {gone} left out: listed for review",
            )
        )
    else:
        out.extend(_likeness(m, fold(m), shown, al.kinds))
        if al.edit == "swap":
            similar = (SAME, HOMOPHONE, SHAPE, SOUND_SHAPE, NEAR_SOUND)
            k = next(i for i, kind in enumerate(al.kinds) if kind not in similar)
            out.append(
                Reason(
                    "one_char_swap",
                    f"{shown} 与“{m}”仅一字之差（{shown[k]}/{m[k]}）",
                    f"{shown} differs from {m} in one character only ({shown[k]} for {m[k]})",
                )
            )
        elif al.edit == "first_char":
            out.append(
                Reason(
                    "first_char_changed",
                    f"{shown} 与“{m}”首字不同（{shown[0]}/{m[0]}），其余相同或相近；"
                    "审查实践中首字不同一般不认定近似，列出供复核",
                    f"{shown} differs from {m} in its first character ({shown[0]} for {m[0]}), the rest alike; "
                    "examination practice rarely calls that similar: listed for review",
                )
            )
        elif al.edit == "two_char":
            pairs = "、".join(f"{shown[k]}/{m[k]}" for k, kind in enumerate(al.kinds) if kind == DIFF)
            out.append(
                Reason(
                    "two_char_changed",
                    f"{shown} 与“{m}”有两字不同（{pairs}），其余相同；列出供复核",
                    f"{shown} differs from {m} in two characters ({pairs}), the rest the same: listed for review",
                )
            )

    for note in notes:
        kind = note.kind
        if kind is NoteKind.WHOLE_TRADE_NAME:
            out.append(Reason("trade_name", f"以“{shown}”作为企业字号", f"uses {shown} as its trade name (字号)"))
        elif kind is NoteKind.CONTAINS_MARK:
            out.append(Reason("contains", f"字号包含商标“{m}”", f"the trade name contains the mark {m}"))
        elif kind is NoteKind.CROSS_CLASS:
            out.append(
                Reason(
                    "well_known_cross_class",
                    f"“{m}”为驰名商标，跨类保护",
                    f"{m} is a well-known mark (驰名商标), protected across industries",
                )
            )
        elif kind is NoteKind.SAME_FIELD:
            out.append(
                Reason(
                    "same_field", "与商标核定使用的行业相同或类似", f"same or similar field as the registration of {m}"
                )
            )
        elif kind is NoteKind.COUNTERFEIT_CUE:
            cue = note.value
            out.append(
                Reason(
                    "counterfeit_cue", f"商品标题含假冒提示词“{cue}”", f"counterfeit cue word {cue} next to the mark"
                )
            )
        elif kind is NoteKind.BRAND_AFFIX:
            brand = note.value
            out.append(
                Reason(
                    "brand_affix",
                    f"将商标扩展为另一品牌名“{brand}”",
                    f"the mark grown into another brand name, {brand}",
                )
            )
        elif kind is NoteKind.NAME_USE:
            what = _NAME_USE.get(note.value, _NAME_USE["brand"])
            out.append(Reason(f"{note.value}_name", what[0].format(w=raw), what[1].format(w=raw)))
        elif kind is NoteKind.PRIOR_USE:
            founded, _, rest = note.value.partition("|")
            date, _, which = rest.partition("|")
            zh_day, en_when = ("申请日", "applied for") if which == "applied" else ("注册日", "registered")
            out.append(
                Reason(
                    "prior_use_possible",
                    f"成立于 {founded}，早于“{m}”的{zh_day} {date}：可能享有在先权利（在先使用），"
                    "但仍可能构成仿冒，请核实",
                    f"founded {founded}, before {m} was {en_when} ({date}): it may have a prior right "
                    "(prior use), yet may still imitate the mark: check",
                )
            )
        elif kind is NoteKind.GRADED:
            graded = _GRADED.get(note.value)
            if graded is not None:
                out.append(Reason(note.value, graded[0].format(m=m, w=shown), graded[1].format(m=m, w=shown)))
        elif kind is NoteKind.EVASIVE:
            out.append(
                Reason("evasion", "以变形写法规避平台关键词过滤", "spelled to slip past platform keyword filters")
            )
    return out
