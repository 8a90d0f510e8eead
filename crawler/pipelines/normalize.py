"""Clean every text field for screening and keep what was crawled in `raw`."""

from __future__ import annotations

from crawler.items import Listing, Registration
from crawler.text import clean, parse_price

_LONG = {"scope": 4000, "address": 500}


class NormalizePipeline:
    def process_item(self, item, spider=None):
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
        if isinstance(item, Registration) and item.get("uscc"):
            item["uscc"] = item["uscc"].replace(" ", "").upper()
        return item
