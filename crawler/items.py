"""What the spiders yield: a registry `Registration` or a marketplace `Listing`.

Both carry the same bookkeeping fields, filled by the spider (source, url,
response) and the pipelines (raw, identity, subject, fingerprint, hits, alert ids).
What every later stage needs about an item (its identity, the matcher's subject) is
computed once, by the normalise stage, and read from the item after that.
"""

from __future__ import annotations

import scrapy

from matcher.dates import read_date
from matcher.types import Subject


class _Common(scrapy.Item):
    source = scrapy.Field()
    url = scrapy.Field()
    fetched_at = scrapy.Field()
    raw = scrapy.Field()  # field values as crawled, before normalisation
    fingerprint = scrapy.Field()  # SHA-256 of the normalised content fields
    changed = scrapy.Field()  # "new", "updated" or "unchanged" (set by the seen pipeline)
    hits = scrapy.Field()  # list of Hit.to_dict(), best first
    alert_ids = scrapy.Field()
    evidence_id = scrapy.Field()
    response = scrapy.Field()  # {status, headers, body, url, fetched_at}: evidence material, dropped at the end
    request_fp = scrapy.Field()  # fingerprint of the request that produced the item (resume journal)
    identity = scrapy.Field()  # identity(item), set once by the normalise stage
    subject = scrapy.Field()  # matcher Subject, set once by the normalise stage, dropped at the end
    key = scrapy.Field()  # the site's stable id for the item, when its source declares `identity`
    truncated = scrapy.Field()  # field → {original_chars, kept_chars, sha256 of the kept text}: values cut to size
    kept = scrapy.Field()  # "queued" / "no" / "no evidence" when the store could not keep its alerts (pipelines.alert)


class Registration(_Common):
    """A registered enterprise (企业登记信息)."""

    KEY_FIELDS = ("name",)
    CONTENT_FIELDS = (
        "name", "uscc", "legal_rep", "capital", "established", "status", "authority", "address", "scope", "industry",
    )  # fmt: skip
    LATER_FIELDS = ("industry",)  # added after the first release: left out of a fingerprint while absent

    name = scrapy.Field()
    uscc = scrapy.Field()  # 统一社会信用代码
    uscc_valid = scrapy.Field()
    legal_rep = scrapy.Field()
    capital = scrapy.Field()
    established = scrapy.Field()  # 成立日期 as the source writes it; the matcher reads it (matcher.dates)
    status = scrapy.Field()
    authority = scrapy.Field()
    address = scrapy.Field()
    scope = scrapy.Field()  # 经营范围
    industry = scrapy.Field()  # 所属行业 as enterprise-data APIs give it: GB/T 4754 code or name (医药制造业)


class Listing(_Common):
    """A marketplace listing."""

    KEY_FIELDS = ("title", "url")
    CONTENT_FIELDS = ("title", "price", "currency", "seller", "seller_url", "category", "images")

    title = scrapy.Field()
    price = scrapy.Field()
    currency = scrapy.Field()
    seller = scrapy.Field()
    seller_url = scrapy.Field()
    category = scrapy.Field()
    images = scrapy.Field()


class TrademarkApplication(_Common):
    """A trademark application as announced in the gazette (初步审定公告) or found by a provider."""

    KEY_FIELDS = ("number",)
    CONTENT_FIELDS = (
        "number", "text", "mark_type", "classes", "groups", "goods", "applicant", "applicant_address",
        "agent", "filed", "announcement", "announced", "status",
    )  # fmt: skip

    number = scrapy.Field()  # 申请号 / 注册号
    text = scrapy.Field()  # the mark's words (商标名称)
    mark_type = scrapy.Field()  # 文字 / 图形 / 组合 (words, device, both), as the source says
    classes = scrapy.Field()  # Nice classes, list of int (normalised from "5", "第5类", "5,35")
    groups = scrapy.Field()  # 类似群 codes, list of str ("0501")
    goods = scrapy.Field()  # 商品/服务项目
    applicant = scrapy.Field()
    applicant_address = scrapy.Field()
    agent = scrapy.Field()  # 代理机构
    filed = scrapy.Field()  # 申请日期
    announcement = scrapy.Field()  # 公告期号
    announced = scrapy.Field()  # 初审公告日期 (ISO), the start of the opposition period
    status = scrapy.Field()  # 商标状态


ItemClass = type[Registration] | type[Listing] | type[TrademarkApplication]


def item_class(kind: str) -> ItemClass:
    classes: dict[str, ItemClass] = {"registry": Registration, "trademark": TrademarkApplication}
    return classes.get(kind, Listing)


def identity(item: scrapy.Item) -> str:
    """What makes two crawls of the same thing the same: the credit code, the source's stable id, else the URL.

    A listing's URL includes host and port; a source that declares `identity` gives an id that
    does not, so the same listing fetched from a moved site (or the demo on another port) is not new.
    """
    key = item.get("key")
    if isinstance(key, str) and key.strip():
        return f"id:{key.strip()[:500]}"
    if isinstance(item, TrademarkApplication) and str(item.get("number") or "").strip():
        return f"tm:{str(item['number']).strip()[:100]}"
    if isinstance(item, Registration):
        if item.get("uscc") and item.get("uscc_valid"):
            return f"uscc:{item['uscc']}"
        return f"name:{item.get('name', '')}"
    return f"url:{item.get('url', '')}"


def subject_of(item: scrapy.Item) -> Subject:
    """What the matcher screens: the enterprise name with its credit code, declared industry and founding
    date, the listing title with its seller, price and category, or the trademark application."""
    if isinstance(item, Listing):
        return Subject(
            text=item.get("title") or "",
            kind="listing",
            seller=item.get("seller"),
            price=item.get("price"),
            category=item.get("category"),
        )
    if isinstance(item, TrademarkApplication):
        return Subject(
            text=item.get("text") or "",
            kind="trademark",
            classes=tuple(item.get("classes") or ()),
            groups=tuple(item.get("groups") or ()),
            applicant=item.get("applicant") or None,
            announced=item.get("announced") or None,
            number=str(item.get("number") or "") or None,
        )
    uscc = item.get("uscc") if item.get("uscc_valid") else None
    return Subject(
        text=item.get("name") or "",
        kind="enterprise",
        uscc=uscc,
        industry=item.get("industry") or None,
        founded=read_date(item.get("established")),  # a company older than the mark: prior_use_possible
    )


def page_url(item: scrapy.Item) -> str | None:
    """The page an analyst or owner should open for the item: its detail page, else the result page.

    The spider sets ``url`` for every item (a row's own link, made absolute, or the page it came from).
    """
    url = item.get("url")
    return url if isinstance(url, str) and url else None


def key_from_url(pattern: str, url: str) -> str | None:
    """The stable id in *url* by a source's `identity: {url: REGEX}`: the first group, else the match."""
    import re

    m = re.search(pattern, url or "")
    if not m:
        return None
    return m.group(1) if m.groups() else m.group(0)
