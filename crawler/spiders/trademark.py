"""`scrapy crawl trademark -a source=NAME`: trademark applications, from a gazette feed or a provider's search."""

from crawler.spiders.base import SourceSpider


class TrademarkSpider(SourceSpider):
    name = "trademark"
    kind = "trademark"
