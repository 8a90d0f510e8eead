"""`scrapy crawl marketplace -a source=NAME`: marketplace listings, from HTML result pages or a JSON API."""

from crawler.spiders.base import SourceSpider


class MarketplaceSpider(SourceSpider):
    name = "marketplace"
    kind = "marketplace"
