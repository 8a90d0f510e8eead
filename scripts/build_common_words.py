"""Everyday Chinese words and how common they are, from wordfreq (matcher/data/common_words.tsv).

Run by hand when wordfreq's data changes; the output is committed so that the matcher loads a small
table, not wordfreq's 330,000-word list (a second at start-up):

    .venv/bin/pip install 'wordfreq>=3.1,<4'     # in the `data` extra of pyproject.toml
    .venv/bin/python scripts/build_common_words.py

Source: wordfreq 3.1 (https://github.com/rspeer/wordfreq; code Apache-2.0, data CC-BY-SA 4.0), its
Chinese list built from Wikipedia, subtitles (OpenSubtitles), news, web text (OSCAR) and social media
(Weibo): modern usage that jieba's 2013 dictionary lacks (卫衣, 美白). The table is a derived work of
that data and is under CC-BY-SA 4.0 likewise. Kept: words of 2 to 4 Chinese characters, Zipf
frequency ≥ 2.5 (about 3 per million words), folded as the matcher folds text.
"""

from __future__ import annotations

import math
from importlib.metadata import version
from pathlib import Path

import wordfreq

from matcher.normalize import fold

OUT = Path(__file__).resolve().parent.parent / "matcher" / "data" / "common_words.tsv"
MIN_ZIPF = 2.5


def main() -> None:
    rows: dict[str, float] = {}
    for word, freq in wordfreq.get_frequency_dict("zh").items():
        zipf = math.log10(freq * 1e9)
        if zipf < MIN_ZIPF or not 2 <= len(word) <= 4 or not all("\u4e00" <= c <= "\u9fff" for c in word):
            continue
        key = fold(word)
        if len(key) == len(word):
            rows[key] = max(rows.get(key, 0.0), zipf)
    with OUT.open("w", encoding="utf-8") as fh:
        fh.write(
            f"# word\tZipf frequency  (wordfreq {version('wordfreq')} Chinese data, CC-BY-SA 4.0;"
            " by scripts/build_common_words.py)\n"
        )
        for word in sorted(rows):
            fh.write(f"{word}\t{rows[word]:.2f}\n")
    print(f"{len(rows)} words → {OUT}")


if __name__ == "__main__":
    main()
