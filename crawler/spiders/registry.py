"""`scrapy crawl registry -a source=NAME`: enterprise registrations, by search or by daily feed."""

from crawler.spiders.base import SourceSpider


class RegistrySpider(SourceSpider):
    name = "registry"
    kind = "registry"
