"""Word boundaries with jieba, the protected marks added to its dictionary.

A match that cuts through a dictionary word (成立白云 for 立白, 十九阳光 for
九阳, 老板娘 for 老板) is a coincidence of characters, not a use of the mark.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import cache
from importlib.resources import files
from math import log
from types import ModuleType

import jieba

from matcher import _impl

jieba.setLogLevel(logging.WARNING)

_CACHE_SIZE = 1 << 16  # segmented texts remembered (trade names and windows recur across names)

_PROPER = {"nr", "ns", "nt", "nz", "nrt", "nrfg"}
_BASES: list[tuple[dict[str, int], object]] = []
"""(jieba's FREQ, compiled as accel.WordFreq): the last two dictionaries seen, so that each
Segmenter compiles only the words its marks added (~0.2 s saved a Matcher)."""


@cache
def _frequent_pos() -> dict[str, str]:
    """Part of speech of jieba's frequent words (freq ≥ 100), from its own dictionary file."""
    out: dict[str, str] = {}
    with files("jieba").joinpath("dict.txt").open("r", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) >= 100:
                out[parts[0]] = parts[2]
    return out


class Segmenter:
    def __init__(self, marks: Iterable[str]) -> None:
        self._tok = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._tok.initialize()
        self._freq_before = dict(self._tok.FREQ)
        self._pos = _frequent_pos()
        added = [m for m in marks if len(m) >= 2]
        for m in added:
            self._tok.add_word(m)
        self._freq = self._tok.FREQ
        self._logtotal = log(self._tok.total)
        self._cache: dict[str, list[str]] = {}
        self._cut = self._dag_cut if _impl.IMPLEMENTATION == "compiled" else self.jieba_cut
        accel = _impl.accel()
        self._block = self._cut_block if accel is None else self.compiled_block(accel, added)

    def compiled_block(self, accel: ModuleType, added: list[str]) -> Callable[[str, list[str]], None]:
        """_cut_block in C++ (accel.DagCut): jieba's dictionary compiled once per process, and
        beside it what add_word changed (the marks and their prefixes)."""
        before = self._freq_before
        base = next((compiled for freq, compiled in _BASES if freq == before), None)
        if base is None:
            base = accel.WordFreq(before)
            _BASES[:] = [*_BASES[-1:], (before, base)]
        absent = object()
        extra = {}
        for m in added:
            for k in range(1, len(m) + 1):
                w = m[:k]
                if before.get(w, absent) != self._freq[w]:
                    extra[w] = self._freq[w]
        return accel.DagCut(base, accel.WordFreq(extra), self._logtotal).cut_block

    def dictionary_freq(self, word: str) -> int:
        """jieba's own frequency for a word, before the marks were added (0 if absent)."""
        return self._freq_before.get(word, 0)

    def is_common_word(self, word: str, min_freq: int = 200) -> bool:
        """A frequent dictionary word that is not a proper noun, so likely to carry
        its own meaning (老板, 小米, 三元), unlike 华为 or 伊利."""
        return self.dictionary_freq(word) >= min_freq and self._pos.get(word, "") not in _PROPER

    def tokens(self, text: str) -> list[str]:
        """jieba's words of text (HMM off), remembered: the same text always cuts the same way,
        as the dictionary is fixed once the marks are added. The list is shared: do not change it."""
        got = self._cache.get(text)
        if got is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            got = self._cache[text] = self._cut(text)
        return got

    def jieba_cut(self, text: str) -> list[str]:
        """The reference: jieba's own `lcut(text, HMM=False)`."""
        with self._lock:
            return self._tok.lcut(text, HMM=False)

    def _dag_cut(self, text: str) -> list[str]:
        """jieba's `cut(text, HMM=False)` step for step (the same blocks, word graph, route and
        ties, the same floating-point sums), without its generators and lock: the compiled
        implementation's cut, ~4× faster (tests/test_matcher_segment.py holds it to jieba's)."""
        out: list[str] = []
        re_han, re_skip = jieba.re_han_default, jieba.re_skip_default
        for blk in re_han.split(text):
            if not blk:
                continue
            if re_han.match(blk):
                self._block(blk, out)
            else:
                for x in re_skip.split(blk):
                    if re_skip.match(x):
                        out.append(x)
                    else:
                        out.extend(x)
        return out

    def _cut_block(self, s: str, out: list[str]) -> None:
        """Tokenizer.__cut_DAG_NO_HMM: get_DAG, calc (max of (score, end) tuples: ties go to the
        longer word), then single ASCII letters and digits run together."""
        freq = self._freq
        logtotal = self._logtotal
        n = len(s)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for idx in range(n - 1, -1, -1):
            best = 0.0
            best_x = -1
            i = idx
            frag = s[idx]
            while i < n and frag in freq:
                f = freq[frag]
                if f:
                    sc = log(f) - logtotal + score[i + 1]
                    if best_x < 0 or sc >= best:
                        best, best_x = sc, i
                i += 1
                frag = s[idx : i + 1]
            if best_x < 0:  # no word starts here: the character alone (get_DAG's [k])
                f = freq.get(s[idx]) or 1
                best, best_x = log(f) - logtotal + score[idx + 1], idx
            score[idx] = best
            end[idx] = best_x
        x = 0
        buf = ""
        while x < n:
            y = end[x] + 1
            word = s[x:y]
            if y - x == 1 and ("a" <= word <= "z" or "A" <= word <= "Z" or "0" <= word <= "9"):
                buf += word
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(word)
            x = y
        if buf:
            out.append(buf)

    def crossing_word(self, text: str, start: int, end: int, tokens: list[str] | None = None) -> str | None:
        """The dictionary word that straddles the edge of text[start:end], if any."""
        pos = 0
        if tokens is None:
            tokens = self.tokens(text)
        for t in tokens:
            t_start, t_end = pos, pos + len(t)
            pos = t_end
            if len(t) < 2 or t_end <= start or t_start >= end:
                continue
            if (t_start < start < t_end) or (t_start < end < t_end):
                return t
        return None
