"""A Chinese mark written as the initials of its pinyin (jy for 九阳, yz for 一正).

Two to four letters are a shorthand that sellers use for the brand they lean on, and
also any abbreviation at all: so a token counts only when it stands alone (no letters
or digits beside it) and, in the judge, only where the rest of the text points to the
mark's goods (rule `initials_outside_field` otherwise).
"""

from __future__ import annotations

import re
from functools import cache
from itertools import islice, product

from pypinyin import Style, pinyin

from .align import Alignment
from .normalize import is_han

MIN_CHARS, MAX_CHARS = 2, 4
MAX_FORMS = 16  # polyphones multiply the spellings: 重庆 is cq or zq; enough for any real mark
SIMILARITY = {2: 0.7, 3: 0.8, 4: 0.85}  # more letters, less chance of meaning something else

_TOKEN = re.compile(r"(?<![a-z0-9])[a-z]{2,4}(?![a-z0-9])")


@cache
def readings(c: str) -> tuple[str, ...]:
    """The tone-marked readings pypinyin knows for one character, the usual one first."""
    return tuple(pinyin(c, style=Style.TONE, heteronym=True)[0])


def initials_of(mark: str) -> list[str]:
    """Every spelling of the mark's initials its characters' readings allow (九阳 → jy)."""
    if not MIN_CHARS <= len(mark) <= MAX_CHARS or not all(is_han(c) for c in mark):
        return []
    letters = [sorted({r[0] for r in readings(c) if r and r[0].isascii() and r[0].isalpha()}) for c in mark]
    if not all(letters):
        return []
    return ["".join(p) for p in islice(product(*letters), MAX_FORMS)]


def spelled(mark: str, token: str) -> str:
    """The readings that give these initials, one per character (九阳, jy → jiǔ yáng)."""
    out = []
    for c, letter in zip(mark, token, strict=True):
        out.append(next((r for r in readings(c) if r.startswith(letter)), ""))
    return " ".join(out)


class InitialsIndex:
    """Initials → the marks (indexes) they spell, and a scan of folded text for them."""

    def __init__(self, marks: list[tuple[int, str]]) -> None:
        self._by_initials: dict[str, list[int]] = {}
        for i, folded in marks:
            for form in initials_of(folded):
                self._by_initials.setdefault(form, []).append(i)

    def __bool__(self) -> bool:
        return bool(self._by_initials)

    def find(self, folded: str) -> dict[int, list[Alignment]]:
        """Mark index → an alignment for each standalone token of the text that spells its initials."""
        out: dict[int, list[Alignment]] = {}
        for m in _TOKEN.finditer(folded):
            for i in self._by_initials.get(m[0], ()):
                al = Alignment(m.start(), m.end(), SIMILARITY[len(m[0])], ("initials",), "initials", m[0])
                out.setdefault(i, []).append(al)
        return out
