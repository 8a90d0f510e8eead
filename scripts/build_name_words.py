"""Word lists for splitting enterprise names, from companynameparser's data (Apache-2.0).

Run by hand when the source changes; the output is committed (matcher/data/name_words.tsv):

    .venv/bin/pip download --no-deps companynameparser==0.1.8 -d /tmp/cnp
    .venv/bin/python scripts/build_name_words.py /tmp/cnp/companynameparser-0.1.8.tar.gz

Source: companynameparser 0.1.8 by XuMing (https://github.com/shibing624/companynameparser,
Apache License 2.0): `data/trade.txt` (industry words, 行业词), `data/suffix.txt` (organisation forms and
shop words, 后缀). Its `brand.txt` (trade names) is deliberately not used: the parser is measured
on the same project's gold trade names, and most of them are in that list.

Kept as published, except words the parser cannot use: single characters (an industry word must
leave a trade name of two characters, and single-character forms are in enterprise.yaml), words with
non-Chinese characters, and industry words that are also region names (regions.tsv decides those).
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "matcher" / "data" / "name_words.tsv"


def _is_han(w: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in w)


def main(sdist: str) -> None:
    with tarfile.open(sdist) as tar:

        def read(name: str) -> list[str]:
            member = next(m for m in tar.getmembers() if m.name.endswith(f"companynameparser/data/{name}"))
            fh = tar.extractfile(member)
            assert fh is not None
            return [line.split()[0] for line in fh.read().decode("utf-8").splitlines() if line.split()]

        trade, suffix = read("trade.txt"), read("suffix.txt")
    regions = set()
    for line in (OUT.parent / "regions.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, short, _ = line.split("\t")
            regions.update({name, short})
    rows = []
    for w in sorted(set(trade)):
        if len(w) >= 2 and _is_han(w) and w not in regions:
            rows.append((w, "industry"))
    for w in sorted(set(suffix)):
        if len(w) >= 2 and _is_han(w):
            rows.append((w, "suffix"))
    with OUT.open("w", encoding="utf-8") as fh:
        fh.write(
            "# word\tkind (industry: 行业词; suffix: organisation form or shop word)\n"
            "# from companynameparser 0.1.8 data/trade.txt and data/suffix.txt (Apache-2.0,\n"
            "# https://github.com/shibing624/companynameparser) by scripts/build_name_words.py\n"
        )
        for w, kind in rows:
            fh.write(f"{w}\t{kind}\n")
    print(f"{len(rows)} words → {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
