"""The crawler: a Scrapy project that gathers registrations and listings for markwatch to screen.

Sources are YAML files (crawler/sources/, or the user's own); the spiders are
generic and read selectors from them. `crawler.run.crawl_sources` runs them
in-process for `markwatch scan`; `scrapy crawl registry -a source=NAME` runs one.
"""
