"""Fold the tricks infringers use on text into one canonical form.

Every character is folded on its own (NFKC, traditional → simplified, Unihan
variants, financial numerals, cross-script look-alikes, lower case), invisible
characters are dropped, and separators between Chinese characters are removed.
Folding is per character so that a hit's span can be mapped back to the
original text, and the fast path (`fold`) and the traced path (`trace`) agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

from matcher import _impl
from matcher.resources import charmap

# Reasons a character was changed, in the order they are reported.
FULLWIDTH, TRADITIONAL, VARIANT, NUMERAL, CONFUSABLE = "fullwidth", "traditional", "variant", "numeral", "confusable"

LATIN_SKELETON = {"i": "l", "1": "l", "|": "l", "0": "o"}
_SEPARATORS = " \t\r\n\u3000-_·•・.,，。、/\\|*~+=#@!！:：;；'\"`^&…—–"
_SEP_CLASS = re.escape(_SEPARATORS)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEP_RE = re.compile(f"(?<=[{_HAN}])[{_SEP_CLASS}]+(?=[{_HAN}])")


@lru_cache(maxsize=65536)
def _fold_char(c: str) -> tuple[str, str]:
    """(folded text for one character, reason or '')."""
    cat = unicodedata.category(c)
    if cat in ("Cf", "Cc", "Mn", "Me", "Cs", "Co", "Cn") and c not in "\t\n\r":
        return "", ""
    if c in "\t\n\r":
        return " ", ""
    if cat == "So" and all(unicodedata.category(x) == "So" for x in unicodedata.normalize("NFKC", c)):
        # Pictographs, dingbats and emoji (九✿阳, 一🔥正) separate like spaces: between
        # two Chinese characters they are dropped, as a dot is. Symbols with a
        # compatibility form (the Kangxi radical ⽼ is 老, ™ is TM) fold to it instead.
        return " ", ""
    reason = ""
    n = unicodedata.normalize("NFKC", c)
    if n != c:
        reason = FULLWIDTH
    out = []
    for ch in n:
        mapped = charmap().get(ch)
        if mapped and mapped[0] == "l" and unicodedata.category(ch).startswith("S"):
            # A bar (|, ∣) reads as l only among letters (the Latin skeleton does that);
            # between two Chinese characters it is a separator (九|阳).
            ch, reason = "|", ""
        elif mapped:
            ch, why = mapped
            reason = reason or why
            if why != CONFUSABLE:
                reason = why
        ch = ch.lower()
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        out.append(ch)
    return "".join(out), reason


class _Table(dict):
    """str.translate table that folds each character the first time it is seen."""

    def __missing__(self, cp: int) -> str:
        folded = _fold_char(chr(cp))[0]
        self[cp] = folded
        return folded


_TABLE = _Table()


def fold_python(text: str) -> str:
    """Canonical form used for matching; idempotent. `fold` is this, or the same in C++."""
    return _SEP_RE.sub("", text.translate(_TABLE))


def _reason(c: str) -> str:
    return _fold_char(c)[1]


def compiled_folder(accel: ModuleType) -> Any:
    """matcher._accel.Folder over this module's table: fold() and trace() in C++."""
    return accel.Folder(_TABLE, _SEPARATORS, _reason)


_accel = _impl.accel()
FOLDER = None if _accel is None else compiled_folder(_accel)
"""The C++ folder when the compiled implementation runs (matcher._impl), else None."""

fold: Callable[[str], str] = fold_python if FOLDER is None else FOLDER.fold


def skeleton(text: str) -> str:
    """Latin look-alike skeleton (I/l/1/|, O/0) of folded text, for alias matching."""
    return text.translate(_SKELETON_TABLE)


_SKELETON_TABLE = str.maketrans(LATIN_SKELETON)


@dataclass(frozen=True, slots=True)
class Traced:
    """Folded text with, for each folded character, its index in the original and why it changed."""

    text: str
    origin: tuple[int, ...]
    why: tuple[str, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of folded [start, end)."""
        if not self.origin:
            return (0, 0)
        return (self.origin[start], self.origin[end - 1] + 1)


def trace(text: str) -> Traced:
    """fold() with the way back: each folded character's index in text, and why it changed."""
    if FOLDER is not None:
        return Traced(*FOLDER.trace(text))
    return trace_python(text)


def trace_python(text: str) -> Traced:
    chars: list[str] = []
    origin: list[int] = []
    why: list[str] = []
    for i, c in enumerate(text):
        folded, reason = _fold_char(c)
        for ch in folded:
            chars.append(ch)
            origin.append(i)
            why.append(reason)
    joined = "".join(chars)
    # Drop separators between Chinese characters, exactly as fold() does.
    keep = [True] * len(joined)
    for m in _SEP_RE.finditer(joined):
        for k in range(m.start(), m.end()):
            keep[k] = False
    if not all(keep):
        kept = [k for k in range(len(joined)) if keep[k]]
        return Traced("".join(joined[k] for k in kept), tuple(origin[k] for k in kept), tuple(why[k] for k in kept))
    return Traced(joined, tuple(origin), tuple(why))


def is_han(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"
