"""Toneless and near-sound (fuzzy) pinyin of single characters.

pypinyin is slow per string, so readings are taken per character from its
dictionary once and cached; phrase-dependent readings are lost, which is
acceptable for trade names and titles.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from itertools import islice, product

from pypinyin.pinyin_dict import pinyin_dict

# Mergers common in Chinese speech (and so in look-alike names): z/zh, c/ch,
# s/sh, n/l, and the front/back nasals an/ang, en/eng, in/ing.
_INITIAL_MERGERS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINAL_MERGERS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


_TONELESS = str.maketrans({"ü": "v"})


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_TONELESS)


@cache
def readings(c: str) -> tuple[str, ...]:
    """All toneless readings of a character, the most common first; () if none.

    Read straight from pypinyin's character dictionary: calling pypinyin per
    character is ten times slower and gives the same readings.
    """
    raw = pinyin_dict.get(ord(c))
    if not raw:
        return ()
    seen: list[str] = []
    for r in raw.split(","):
        r = _strip_tone(r.strip())
        if r and r not in seen:
            seen.append(r)
    return tuple(seen)


@cache
def fuzzy(syllable: str) -> str:
    s = syllable
    for a, b in _INITIAL_MERGERS:
        if s.startswith(a):
            s = b + s[len(a) :]
            break
    for a, b in _FINAL_MERGERS:
        if s.endswith(a):
            s = s[: -len(a)] + b
            break
    return s


def same_sound(a: str, b: str) -> bool:
    ra, rb = readings(a), readings(b)
    return bool(ra and rb and set(ra) & set(rb))


def near_sound(a: str, b: str) -> bool:
    ra, rb = readings(a), readings(b)
    return bool(ra and rb and {fuzzy(x) for x in ra} & {fuzzy(x) for x in rb})


class SoundCodes:
    """Maps each character to one private-use code point per fuzzy syllable.

    Projecting text through this table gives a string in which homophones and
    near-homophones are the same character, so one Aho-Corasick pass finds them.
    """

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}
        self.table: dict[int, str] = {}

    def code(self, syllable: str) -> str:
        key = fuzzy(syllable)
        got = self._codes.get(key)
        if got is None:
            got = chr(0xF0000 + len(self._codes))
            self._codes[key] = got
        return got

    def build(self) -> None:
        for cp, raw in pinyin_dict.items():
            main = _strip_tone(raw.split(",", 1)[0].strip())
            if main:
                self.table[cp] = self.code(main)

    def project(self, folded: str) -> str:
        return folded.translate(self.table)

    def variants(self, c: str) -> set[str]:
        """Codes of every reading of a mark's character (heteronyms included)."""
        return {self.code(r) for r in readings(c)} or {c}


@cache
def by_reading() -> dict[str, tuple[str, ...]]:
    """Toneless reading → common (GB 2312) characters that have it as main reading."""
    out: dict[str, list[str]] = {}
    for cp in range(0x4E00, 0xA000):
        c = chr(cp)
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        r = readings(c)
        if r:
            out.setdefault(r[0], []).append(c)
    return {k: tuple(v) for k, v in out.items()}


def common_homophones(c: str) -> tuple[str, ...]:
    """Common characters that read like c (its main reading), c excluded."""
    r = readings(c)
    return tuple(x for x in by_reading().get(r[0], ()) if x != c) if r else ()


@cache
def homophones_of(c: str) -> tuple[str, ...]:
    """Common characters sharing any reading of c (heteronyms included), c excluded."""
    out: list[str] = []
    for r in readings(c):
        out.extend(x for x in by_reading().get(r, ()) if x != c and x not in out)
    return tuple(out)


@cache
def _by_fuzzy() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for r, chars in by_reading().items():
        out.setdefault(fuzzy(r), []).extend(chars)
    return {k: tuple(v) for k, v in out.items()}


@cache
def near_homophones_of(c: str) -> tuple[str, ...]:
    """Common characters whose reading is near one of c's (z/zh, n/l, an/ang…), c excluded."""
    out: set[str] = set()
    for r in readings(c):
        out.update(_by_fuzzy().get(fuzzy(r), ()))
    out.discard(c)
    return tuple(sorted(out))


@cache
def common_chars() -> tuple[str, ...]:
    """The GB 2312 characters, among which homophones are looked for."""
    return tuple(c for chars in by_reading().values() for c in chars)


def numbered_pinyin(word: str) -> tuple[str, ...]:
    """The word in numbered pinyin as typed without tone marks (yi1zheng4): each character's
    commonest reading, and the word as pypinyin's phrase dictionary says it (chang2cheng2)."""
    from pypinyin import Style, lazy_pinyin

    if not word or not all(readings(c) for c in word):
        return ()
    each = "".join(_tone3(c) for c in word)
    said = "".join(lazy_pinyin(word, style=Style.TONE3, errors="ignore"))
    # and with any reading of a polyphone (华为 is hua2wei2 as the brand says it, hua2wei4 by 为's
    # commonest reading), a few forms at most
    every = ("".join(p) for p in islice(product(*(_tones3(c) for c in word)), MAX_NUMBERED))
    return tuple(dict.fromkeys(w for w in (each, said, *every) if w))


MAX_NUMBERED = 8


@cache
def _tones3(c: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    got = pinyin(c, style=Style.TONE3, heteronym=True, errors="ignore")
    return tuple(got[0]) if got and got[0] else ("",)


@cache
def _tone3(c: str) -> str:
    from pypinyin import Style, pinyin

    got = pinyin(c, style=Style.TONE3, heteronym=False, errors="ignore")
    return got[0][0] if got and got[0] else ""
