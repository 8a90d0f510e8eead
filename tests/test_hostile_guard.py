"""The host guard refuses before connecting: other hosts, and private addresses unless the source lives on one."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawler import health
from crawler.middlewares import HostGuardMiddleware
from crawler.sources import parse_source

SOURCE = """name: guard
kind: marketplace
mode: browse
base_url: {base}
allowed_hosts: [{allowed}]
pages:
  url: "{{base}}/list?page={{page}}"
  rows: li
  fields: {{title: a::text}}
"""


class _Spider:
    def __init__(self, base: str, allowed: str = "") -> None:
        self.source = parse_source(SOURCE.format(base=base, allowed=allowed))
        self.base_url = base


def _guard(base: str, allowed: str = "", addrs: dict[str, list[str]] | None = None) -> HostGuardMiddleware:
    crawler = get_crawler()
    crawler.spider = _Spider(base, allowed)
    crawler.stats.open_spider()
    mw = HostGuardMiddleware.from_crawler(crawler)
    mw._addrs.update(addrs or {})
    return mw


def _run(mw: HostGuardMiddleware, url: str, redirected: bool = False):
    meta = {"redirect_urls": ["http://93.184.215.14/list"]} if redirected else {}
    return asyncio.run(mw.process_request(Request(url, meta=meta)))


def test_public_source_redirected_to_loopback_or_private_is_refused():
    mw = _guard("http://93.184.215.14", allowed="10.1.2.3, 169.254.169.254, '[::1]'")
    assert _run(mw, "http://93.184.215.14/list?page=2") is None
    for url in ("http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x"):
        with pytest.raises(IgnoreRequest):
            _run(mw, url, redirected=True)
    with pytest.raises(IgnoreRequest):
        _run(mw, "http://127.0.0.1:8700/x", redirected=True)  # not its host at all
    probs = health.problems(mw.crawler.stats.get_stats())
    assert probs["offsite"]["count"] == 4
    assert probs["offsite"]["first"] == "private or loopback address (10.1.2.3)"
    assert probs["offsite"]["last"] == "redirect to another host (127.0.0.1)"


def test_a_name_resolving_to_a_private_address_is_refused():
    mw = _guard("http://93.184.215.14", allowed="shop.example", addrs={"shop.example": ["192.168.1.20"]})
    with pytest.raises(IgnoreRequest, match="private or loopback"):
        _run(mw, "http://shop.example/item/1")
    mw = _guard("http://93.184.215.14", allowed="shop.example", addrs={"shop.example": ["93.184.215.15"]})
    assert _run(mw, "http://shop.example/item/1") is None


def test_a_loopback_source_may_fetch_its_own_loopback_host_only():
    mw = _guard("http://127.0.0.1:8700")
    assert _run(mw, "http://127.0.0.1:8700/list?page=1") is None
    with pytest.raises(IgnoreRequest, match="another host"):
        _run(mw, "http://127.0.0.1:8701/list", redirected=True)  # another port is another host
    with pytest.raises(IgnoreRequest, match="another host"):
        _run(mw, "http://evil.example/")
    assert _run(mw, "file:///tmp/data.jsonl") is None  # the operator's own files are not the web
