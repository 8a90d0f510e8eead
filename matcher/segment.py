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

import jieba

jieba.setLogLevel(logging.WARNING)

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

    def dictionary_freq(self, word: str) -> int:
        """jieba's own frequency for a word, before the marks were added (0 if absent)."""
        return self._freq_before.get(word, 0)

    def is_common_word(self, word: str, min_freq: int = 200) -> bool:
        """A frequent dictionary word that is not a proper noun, so likely to carry
        its own meaning (老板, 小米, 三元), unlike 华为 or 伊利."""
        return self.dictionary_freq(word) >= min_freq and self._pos.get(word, "") not in _PROPER

    def tokens(self, text: str) -> list[str]:
        with self._lock:
            return self._tok.lcut(text, HMM=False)

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
