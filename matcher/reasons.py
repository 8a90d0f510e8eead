"""Human-readable reasons, in Chinese and English, for a hit."""

from __future__ import annotations

from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from pypinyin.pinyin_dict import pinyin_dict

from matcher.marks import Mark
from matcher.notes import Note, NoteKind
from matcher.types import Reason

from .align import HOMOPHONE, NEAR_SOUND, SAME, SHAPE, SOUND_SHAPE, Alignment
from .normalize import Traced, fold, unmarked


def _nearest_form(mark: Mark, window: str) -> str:
    """The mark's Latin form (an alias as registered, else its pinyin) a misspelt window is closest to."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    from .candidates import latin_compact, pinyin_forms

    forms = {latin_compact(fold(a)): a for a in mark.aliases}
    for p in pinyin_forms(fold(mark.name)).get("pinyin", ()):
        forms.setdefault(p, p)
    best = process.extractOne(latin_compact(window), list(forms), scorer=OSA.distance) if forms else None
    return forms[best[0]] if best else mark.name


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


def build_reasons(mark: Mark, traced: Traced, al: Alignment, notes: list[Note], original: str) -> list[Reason]:
    """The evidence for a hit, in the order reviewers read it: how the text was disguised,
    how it resembles the mark, then what the context adds (notes)."""
    m = mark.name
    out: list[Reason] = []
    s, e = traced.span(al.start, al.end)
    raw = original[s:e]
    shown = al.window

    whys = set(traced.why[al.start : al.end])
    if "traditional" in whys:
        out.append(Reason("traditional", f"{raw} 是“{m}”的繁体写法", f"{raw} is {m} written in traditional characters"))
    if "variant" in whys:
        out.append(Reason("variant", f"{raw} 使用了“{m}”的异体字", f"{raw} writes {m} with variant characters"))
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
    elif al.edit == "latin" and al.kinds == ("misspelt",):
        form = _nearest_form(mark, al.window)
        out.append(
            Reason(
                "misspelt",
                f"{raw} 与“{m}”的外文或拼音形式 {form} 只差一个字母",
                f"{raw} is {form}, a Latin or pinyin form of {m}, misspelt by one letter",
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
    elif al.edit == "latin":
        alias = next((a for a in mark.aliases), m)
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
        out.append(Reason("insertion", f"{shown} 在“{m}”中插入了“{ins}”", f"{shown} inserts {ins} into {m}"))
    else:
        sound_pos = [k for k, kind in enumerate(al.kinds) if kind in (HOMOPHONE, SOUND_SHAPE)]
        shape_pos = [k for k, kind in enumerate(al.kinds) if kind in (SHAPE, SOUND_SHAPE)]
        near_pos = [k for k, kind in enumerate(al.kinds) if kind == NEAR_SOUND]
        if sound_pos:
            out.append(
                Reason(
                    "homophone",
                    f"{shown}（{_py(shown)}）与“{m}”（{_py(m)}）读音相同",
                    f"homophone: {shown} ({_py(shown)}) sounds like {m} ({_py(m)})",
                )
            )
        if near_pos:
            out.append(
                Reason(
                    "near_sound",
                    f"{shown}（{_py(shown)}）与“{m}”（{_py(m)}）读音相近",
                    f"near sound: {shown} ({_py(shown)}) sounds close to {m} ({_py(m)})",
                )
            )
        if shape_pos:
            pairs = "、".join(f"{shown[k]}/{m[k]}" for k in shape_pos if k < len(m))
            out.append(
                Reason(
                    "shape",
                    f"{shown} 与“{m}”字形相近（{pairs}）",
                    f"look-alike characters: {shown} looks like {m} ({pairs})",
                )
            )
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
        elif kind is NoteKind.EVASIVE:
            out.append(
                Reason("evasion", "以变形写法规避平台关键词过滤", "spelled to slip past platform keyword filters")
            )
    return out
