"""Fold the tricks infringers use on text into one canonical form.

Every character is folded on its own (NFKC, CJK radicals, traditional → simplified, Unihan
variants, financial numerals, cross-script look-alikes, Latin diacritics, lower case), invisible
characters are dropped, and separators between Chinese characters are removed. Then the text is
read as a person reads it: HTML tags are dropped and character entities decoded (九&#38451;,
一<span>正</span>), and a lone Arabic digit among Chinese characters is its numeral (1正).
Folding keeps, for each folded character, where it came from, so that a hit's span can be mapped
back to the original text; the fast path (`fold`) and the traced path (`trace`) agree.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

from matcher import _impl
from matcher.resources import _tsv, charmap

# Reasons a character was changed, in the order they are reported.
FULLWIDTH, TRADITIONAL, VARIANT, NUMERAL, CONFUSABLE = "fullwidth", "traditional", "variant", "numeral", "confusable"
MARKUP, DIGIT = "markup", "digit"
"""A character written as an HTML entity or among tags; an Arabic digit read as a Chinese numeral."""

LATIN_SKELETON = {"i": "l", "1": "l", "|": "l", "0": "o"}
_SEPARATORS = " \t\r\n\u3000-_·•・.,，。、/\\|*~+=#@!！:：;；'\"`^&…—–"
_SEP_CLASS = re.escape(_SEPARATORS)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEP_RE = re.compile(f"(?<=[{_HAN}])[{_SEP_CLASS}]+(?=[{_HAN}])")


@lru_cache(maxsize=1)
def _radicals() -> dict[str, str]:
    """CJK radical → the ideograph it stands for (⻓ → 长): Unicode's EquivalentUnifiedIdeograph.txt."""
    return {row[0]: row[1] for row in _tsv("radicals.tsv")}


def _strip_diacritics(ch: str) -> str:
    """A Latin letter without its tone or accent marks (ī → i, è → e); ü is v, as pinyin is typed."""
    if ch.isascii() or not unicodedata.name(ch, "").startswith("LATIN"):
        return ch
    base = unicodedata.normalize("NFD", ch)
    if base[:1] in ("u", "U") and "\u0308" in base:
        return "v"
    kept = "".join(x for x in base if not unicodedata.combining(x))
    return kept if kept.isascii() and kept.isalpha() else ch


@lru_cache(maxsize=65536)
def _fold_char(c: str) -> tuple[str, str]:
    """(folded text for one character, reason or '')."""
    cat = unicodedata.category(c)
    if cat in ("Cf", "Cc", "Mn", "Me", "Cs", "Co", "Cn") and c not in "\t\n\r":
        return "", ""
    if c in "\t\n\r":
        return " ", ""
    radical = _radicals().get(c)
    if radical is not None:
        # A radical character standing for its ideograph (⻓城): read as the ideograph, folded as it is.
        folded, why = _fold_char(radical)
        return folded, why or VARIANT
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
        ch = _strip_diacritics(ch.lower())
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
    """Per-character folding and separators (the C++ Folder does the same); `fold` reads markup
    and digits on top of it."""
    return _SEP_RE.sub("", text.translate(_TABLE))


# On folded (lower-case) text: a tag, an HTML comment, or a character entity (named or numeric).
_MARKUP_RE = re.compile(
    r"<!--.{0,2000}?-->|</?[a-z][a-z0-9-]{0,20}(?:\s[^<>]{0,500})?/?>|&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});?",
    re.S,
)
_MARKUP_ROUNDS = 3  # &amp;lt;b&amp;gt; is decoded in turn, to this depth
_DIGIT_RE = re.compile("[0-9]")
_MAYBE_LONE_DIGIT = re.compile(r"[0-9](?<![0-9A-Za-z][0-9])(?![0-9A-Za-z])")
"""A digit with no ASCII letter or digit beside it: every lone digit (_lone_digits) is one. Asked
first, so a title's sizes and counts (999ml, 2024年, 3M) skip the per-digit loop: 0.75 → 0.17 µs
a name on the benchmark's mix."""
_CN_DIGITS = "零一二三四五六七八九"  # 〇 would fold on to the letter o (confusables)


def _decoded(entity: str) -> str | None:
    """The folded text of one entity, or None when it is no entity (&foo;)."""
    got = html.unescape(entity)
    if got == entity:
        return None
    return "".join(_fold_char(ch)[0] for ch in got)


def _lone_digits(text: str) -> list[int]:
    """Positions of single Arabic digits read as Chinese numerals: a Chinese character on one side,
    a Chinese character or the edge (or a space) on the other (1正, 九1): never in 1:1, 3M, 2024年."""
    out = []
    n = len(text)
    for m in _DIGIT_RE.finditer(text):
        k = m.start()
        before = text[k - 1] if k else ""
        after = text[k + 1] if k + 1 < n else ""
        if (is_han(before) or is_han(after)) and _edge_or_han(before) and _edge_or_han(after):
            out.append(k)
    return out


_RAW_MARKUP_RE = re.compile(_MARKUP_RE.pattern, re.S | re.I)


def unmarked(raw: str) -> str:
    """Original text with HTML tags dropped and entities decoded, not folded: what a reason quotes
    beside the raw text (九&#38451; reads 九阳)."""
    if "<" not in raw and "&" not in raw:
        return raw
    for _ in range(_MARKUP_ROUNDS):
        new = _RAW_MARKUP_RE.sub(lambda m: "" if m.group()[0] == "<" else html.unescape(m.group()), raw)
        if new == raw:
            break
        raw = new
    return raw


def _edge_or_han(c: str) -> bool:
    return c in ("", " ") or is_han(c)


def _unmarked(m: re.Match[str]) -> str:
    got = m.group()
    if got[0] == "<":
        return ""
    decoded = _decoded(got)
    return got if decoded is None else decoded


def _read(text: str) -> str:
    """Folded text as a person reads it: markup decoded, lone digits as numerals."""
    if "<" in text or "&" in text:
        for _ in range(_MARKUP_ROUNDS):
            new = _MARKUP_RE.sub(_unmarked, text)
            if new == text:
                break
            text = _SEP_RE.sub("", new)
    if _MAYBE_LONE_DIGIT.search(text):
        digits = _lone_digits(text)
        if digits:
            chars = list(text)
            for k in digits:
                chars[k] = _CN_DIGITS[int(chars[k])]
            text = _SEP_RE.sub("", "".join(chars))
    return text


def _reason(c: str) -> str:
    return _fold_char(c)[1]


def compiled_folder(accel: ModuleType) -> Any:
    """matcher._accel.Folder over this module's table: fold() and trace() in C++."""
    return accel.Folder(_TABLE, _SEPARATORS, _reason)


_accel = _impl.accel()
FOLDER = None if _accel is None else compiled_folder(_accel)
"""The C++ folder when the compiled implementation runs (matcher._impl), else None."""

_fold_chars: Callable[[str], str] = fold_python if FOLDER is None else FOLDER.fold


def fold(text: str) -> str:
    """Canonical form used for matching; idempotent."""
    return _read(_fold_chars(text))


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
    ends: tuple[int, ...] = ()
    """Where each folded character ends in the original, when one stands for several (an entity);
    empty when each ends right after its origin."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of folded [start, end)."""
        if not self.origin:
            return (0, 0)
        return (self.origin[start], self.ends[end - 1] if self.ends else self.origin[end - 1] + 1)


def trace(text: str) -> Traced:
    """fold() with the way back: each folded character's index in text, and why it changed."""
    base = Traced(*FOLDER.trace(text)) if FOLDER is not None else trace_python(text)
    if "<" not in base.text and "&" not in base.text and not _MAYBE_LONE_DIGIT.search(base.text):
        return base
    return _trace_read(base)


def _trace_read(base: Traced) -> Traced:
    """_read() on traced text, each character keeping where it came from."""
    text, origin, why = base.text, list(base.origin), list(base.why)
    ends = [o + 1 for o in origin]
    if "<" in text or "&" in text:
        for _ in range(_MARKUP_ROUNDS):
            chars: list[str] = []
            o2: list[int] = []
            e2: list[int] = []
            w2: list[str] = []
            pos = 0
            for m in _MARKUP_RE.finditer(text):
                got = m.group()
                decoded = _decoded(got) if got[0] == "&" else ""
                if decoded is None:
                    continue
                chars.extend(text[pos : m.start()])
                o2.extend(origin[pos : m.start()])
                e2.extend(ends[pos : m.start()])
                w2.extend(why[pos : m.start()])
                for ch in decoded:
                    chars.append(ch)
                    o2.append(origin[m.start()])
                    e2.append(ends[m.end() - 1])
                    w2.append(MARKUP)
                pos = m.end()
            if pos == 0:
                break
            chars.extend(text[pos:])
            o2.extend(origin[pos:])
            e2.extend(ends[pos:])
            w2.extend(why[pos:])
            text, origin, ends, why = _drop_separators("".join(chars), o2, e2, w2)
    if _MAYBE_LONE_DIGIT.search(text):
        digits = _lone_digits(text)
        if digits:
            chars = list(text)
            for k in digits:
                chars[k] = _CN_DIGITS[int(chars[k])]
                why[k] = DIGIT
            text, origin, ends, why = _drop_separators("".join(chars), origin, ends, why)
    return Traced(text, tuple(origin), tuple(why), tuple(ends))


def _drop_separators(
    text: str, origin: list[int], ends: list[int], why: list[str]
) -> tuple[str, list[int], list[int], list[str]]:
    drop = {k for m in _SEP_RE.finditer(text) for k in range(m.start(), m.end())}
    if not drop:
        return text, origin, ends, why
    keep = [k for k in range(len(text)) if k not in drop]
    return (
        "".join(text[k] for k in keep),
        [origin[k] for k in keep],
        [ends[k] for k in keep],
        [why[k] for k in keep],
    )


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
