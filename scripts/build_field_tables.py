"""Field tables: GB/T 4754-2017 industries and CNIPA's 类似商品和服务区分表 similar groups.

Run by hand when a source changes; the output in matcher/data/ is committed:

    git clone https://github.com/xovel/trademark-classification /tmp/tc
    git clone https://github.com/Czsx-525/Vue-init /tmp/gbt    # commit d112c559a70a3e54adccd99c34fa2c5f0e9dc25c
    .venv/bin/python scripts/build_field_tables.py /tmp/tc /tmp/gbt/src/components/industry/IndustryPicker.vue

Sources:
- similar_groups.tsv: xovel/trademark-classification (MIT licence, © 2018 Sanapoint), `data/d/NN.json`:
  the 区分表 as CNIPA's trademark office site (sbj.cnipa.gov.cn) publishes it: per Nice class its
  similar groups (code 0501, name) and the goods and services listed in each.
- gbt4754.tsv: the codes and names of GB/T 4754-2017 国民经济行业分类 (National Bureau of Statistics),
  20 sectors, 97 divisions, 473 groups, 1,377 of its 1,382 classes, read from the table shipped in
  Czsx-525/Vue-init (`src/components/industry/IndustryPicker.vue`). That repository states no licence:
  only the standard's own codes and names are taken (a public classification), not its code.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "matcher" / "data"
_HAN = re.compile(r"^[\u4e00-\u9fff]{2,8}$")
_PAREN = re.compile(r"[（(][^）)]*[）)]")


def goods_words(name: str) -> list[str]:
    """The words of a goods or service entry: brackets dropped, split at 、，；, each 2 to 8 Chinese characters."""
    out = []
    for part in re.split(r"[、，,；;]", _PAREN.sub("", name)):
        part = part.strip()
        if _HAN.match(part):
            out.append(part)
    return out


def similar_groups(repo: Path) -> list[tuple[str, str, list[str]]]:
    rows = []
    for k in range(1, 46):
        items = json.loads((repo / "data" / "d" / f"{k:02d}.json").read_text(encoding="utf-8"))
        groups = {it["id"]: (it["code"], it["name"], []) for it in items if it["isParent"] == "true"}
        for it in items:
            if it["isParent"] != "true" and it["pid"] in groups:
                groups[it["pid"]][2].extend(goods_words(it["name"]))
        for code, name, goods in groups.values():
            rows.append((code, name, sorted(set(goods) | set(goods_words(name)))))
    return sorted(rows)


def gbt(vue: Path) -> list[tuple[str, str, str]]:
    """(code as published: A, 01, 011, 0111; its sector letter; name)."""
    text = vue.read_text(encoding="utf-8")
    rows = []
    for code, name in re.findall(r"itemno: '([A-Z][0-9]{0,4})',\s*itemname: '([^']+)'", text):
        rows.append((code[1:] or code, code[0], name))
    return rows


def main(tc: str, vue: str) -> None:
    groups = similar_groups(Path(tc))
    with (OUT / "similar_groups.tsv").open("w", encoding="utf-8") as fh:
        fh.write(
            "# group\tname\tgoods and services words  (类似商品和服务区分表, from xovel/trademark-classification,"
            " MIT; scripts/build_field_tables.py)\n"
        )
        for code, name, goods in groups:
            fh.write(f"{code}\t{name}\t{' '.join(goods)}\n")
    ind = gbt(Path(vue))
    with (OUT / "gbt4754.tsv").open("w", encoding="utf-8") as fh:
        fh.write("# code\tsector\tname  (GB/T 4754-2017 国民经济行业分类; scripts/build_field_tables.py)\n")
        for code, sector, name in ind:
            fh.write(f"{code}\t{sector}\t{name}\n")
    print(f"similar groups: {len(groups)}, goods words: {sum(len(g) for _, _, g in groups)}; GB/T 4754: {len(ind)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
