"""Clean every text field for screening and keep what was crawled in `raw`; check the credit code.

Also computes, once, what the later stages need about the item: its identity and the matcher's subject.
"""

from __future__ import annotations

from crawler import uscc
from crawler.items import Listing, Registration, identity, subject_of
from crawler.pipelines.stage import Stage
from crawler.text import clean, parse_price

_LONG = {"scope": 4000, "address": 500}


class NormalizePipeline(Stage):
    STAGE = "parse"

    def process(self, item):
        fields = type(item).CONTENT_FIELDS
        raw = {k: item[k] for k in fields if k in item}
        item["raw"] = raw
        for k, v in raw.items():
            if k == "images":
                item[k] = [clean(x, strip_tags=False, limit=2000) for x in (v if isinstance(v, list) else [v])]
            elif k == "price":
                continue
            elif k in ("seller_url",):
                item[k] = clean(v, strip_tags=False, limit=2000)
            else:
                item[k] = clean(v, limit=_LONG.get(k, 1000))
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
        item["identity"] = identity(item)
        item["subject"] = subject_of(item)
        return item
