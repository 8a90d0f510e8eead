"""Word boundaries with jieba, the protected marks added to its dictionary.

A match that cuts through a dictionary word (成立白云 for 立白, 十九阳光 for
九阳, 老板娘 for 老板) is a coincidence of characters, not a use of the mark.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from math import log

import jieba

jieba.setLogLevel(logging.WARNING)

# jieba's own block, whitespace and Latin patterns, so Segmenter._cut splits as it does.
_RE_HAN = jieba.re_han_default
_RE_SKIP = jieba.re_skip_default
_RE_ENG = jieba.re_eng
# Texts on which Segmenter._cut must agree with jieba.lcut (else jieba is used):
# a guard against a jieba release that segments differently.
_SELF_CHECK = ("成立白云日化有限公司", "老板娘的店", "十九阳光 abc12 A货1:1 \r\n 高仿-t恤 x.y_z%#&+",
               "一正大药房", "新九阳豆浆机 包邮 99ml", "")

_PROPER = {"nr", "ns", "nt", "nz", "nrt", "nrfg"}


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
        for m in marks:
            if len(m) >= 2:
                self._tok.add_word(m)
        self._fast = False
        self._fast = all(self._cut(t) == self._tok.lcut(t, HMM=False) for t in _SELF_CHECK)

    def dictionary_freq(self, word: str) -> int:
        """jieba's own frequency for a word, before the marks were added (0 if absent)."""
        return self._freq_before.get(word, 0)

    def is_common_word(self, word: str, min_freq: int = 200) -> bool:
        """A frequent dictionary word that is not a proper noun, so likely to carry
        its own meaning (老板, 小米, 三元), unlike 华为 or 伊利."""
        return self.dictionary_freq(word) >= min_freq and self._pos.get(word, "") not in _PROPER

    def tokens(self, text: str) -> list[str]:
        """jieba's accurate segmentation without HMM, i.e. ``lcut(text, HMM=False)``."""
        if self._fast:
            return self._cut(text)
        with self._lock:
            return self._tok.lcut(text, HMM=False)

    def _cut(self, text: str) -> list[str]:
        """jieba's ``cut(HMM=False)`` in one function: the same blocks, prefix DAG and
        max-probability route, computed with the same float operations in the same
        order, without its generators (three times faster on short texts). The
        dictionary is only read here, so no lock is needed once it is loaded."""
        out: list[str] = []
        for blk in _RE_HAN.split(text):
            if not blk:
                continue
            if _RE_HAN.match(blk):
                self._cut_block(blk, out)
            else:
                for x in _RE_SKIP.split(blk):
                    if _RE_SKIP.match(x):
                        out.append(x)
                    else:
                        out.extend(x)
        return out

    def _cut_block(self, s: str, out: list[str]) -> None:
        freq = self._tok.FREQ
        logtotal = log(self._tok.total)
        n = len(s)
        score = [0.0] * (n + 1)  # route[x][0] of jieba's calc
        nxt = list(range(1, n + 1))  # route[x][1] + 1
        for k in range(n - 1, -1, -1):
            best = None
            best_end = k
            i = k
            frag = s[k]
            while i < n and frag in freq:
                if freq[frag]:
                    v = log(freq.get(frag) or 1) - logtotal + score[i + 1]
                    if best is None or v >= best:
                        best, best_end = v, i
                i += 1
                frag = s[k:i + 1]
            if best is None:  # no word starts here: the character alone
                best = log(freq.get(s[k]) or 1) - logtotal + score[k + 1]
            score[k] = best
            nxt[k] = best_end + 1
        x = 0
        buf = ""
        while x < n:
            y = nxt[x]
            word = s[x:y]
            if y - x == 1 and _RE_ENG.match(word):
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
