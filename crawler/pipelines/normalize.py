"""Clean every text field for screening and keep what was crawled in `raw`; check the credit code.

Also computes, once, what the later stages need about the item: its identity and the matcher's subject.
"""

from __future__ import annotations

import hashlib

from alerts.model import MAX_ITEM_STR as RAW_KEPT  # what an alert keeps of any one string: longer raw is cut there
from crawler import uscc
from crawler.items import Listing, Registration, TrademarkApplication, identity, subject_of
from crawler.pipelines.stage import Stage
from crawler.text import clean_cut, parse_price
from crawler.trademarks import parse_classes, parse_groups

_LONG = {"scope": 4000, "address": 500}


def cut_record(raw: object, kept: str) -> dict:
    """What the record says of a value it holds only part of: sizes and the SHA-256 of the part kept."""
    return {
        "original_chars": len(str(raw)),
        "kept_chars": len(kept),
        "sha256": hashlib.sha256(kept.encode("utf-8", "surrogatepass")).hexdigest(),
    }


class NormalizePipeline(Stage):
    STAGE = "parse"

    def process(self, item):
        fields = type(item).CONTENT_FIELDS
        raw = {k: item[k] for k in fields if k in item}
        item["raw"] = raw
        cuts: dict[str, dict] = {}
        for k, v in raw.items():
            if k == "images":
                values = v if isinstance(v, list) else [v]
                item[k] = []
                for i, x in enumerate(values):
                    text, cut = clean_cut(x, strip_tags=False, limit=2000)
                    item[k].append(text)
                    if cut or len(str(x)) > RAW_KEPT:
                        cuts[f"{k}[{i}]"] = cut_record(x, text)
                continue
            if k == "price" or (k in ("classes", "groups") and isinstance(item, TrademarkApplication)):
                continue
            if k == "seller_url":
                item[k], cut = clean_cut(v, strip_tags=False, limit=2000)
            else:
                item[k], cut = clean_cut(v, limit=_LONG.get(k, 1000))
            if cut or len(str(v)) > RAW_KEPT:
                cuts[k] = cut_record(v, item[k])
        if cuts:  # the record holds part of these values: it says so, with the size of the whole
            item["truncated"] = cuts
            if self.stats is not None:
                self.stats.inc_value("markwatch/items_truncated")
        if isinstance(item, Listing):
            price, cur = parse_price(raw.get("price"))
            item["price"] = price
            item["currency"] = item.get("currency") or cur or ("CNY" if price is not None else None)
        if isinstance(item, Registration):
            # The one cleanup of the credit code; a valid code is at most 35 characters with spaces, so the
            # generic cap above never cuts one.
            code = item.get("uscc")
            if code:
                item["uscc"] = code = code.replace(" ", "").upper()
            item["uscc_valid"] = uscc.is_valid(code)
            if code and not item["uscc_valid"] and self.stats is not None:
                self.stats.inc_value("markwatch/uscc_invalid")
        if isinstance(item, TrademarkApplication):
            item["classes"] = parse_classes(raw.get("classes"))
            item["groups"] = parse_groups(raw.get("groups"))
            if item.get("announced"):
                from alerts.deadlines import parse_announced

                day = parse_announced(item["announced"])
                item["announced"] = day.isoformat() if day else None
        item["identity"] = identity(item)
        item["subject"] = subject_of(item)
        return item
