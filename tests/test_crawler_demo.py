"""The demo world's server over real HTTP: the hostile web the spiders must survive."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from crawler_fixtures import TODAY, small_world

from crawler.demo.server import DemoServer


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def srv():
    with DemoServer(small_world(fail_every=3, slow_every=0)) as s:
        yield s


def test_startup_is_fast_for_the_full_size_world():
    t = time.perf_counter()
    with DemoServer(small_world(companies=5000, listings=5000)) as s:
        assert get(s.url + "/robots.txt")[0] == 200
    assert time.perf_counter() - t < 2.5


def get_ok(url: str) -> bytes:
    """GET, retrying a page that fails once (as some do on purpose)."""
    for _ in range(3):
        status, _, body = get(url)
        if status == 200:
            return body
    raise AssertionError(f"{url} never answered 200")


def test_robots_search_pagination_and_detail(srv):
    assert b"Disallow: /market/cart/" in get_ok(srv.url + "/robots.txt")
    page1 = get_ok(srv.url + "/market/search?q=&page=1").decode()
    assert page1.count('class="item"') == 20 and "page=2" in page1
    last = -(-len(srv.state.world.listings) // 20)
    assert "下一页" not in get_ok(f"{srv.url}/market/search?q=&page={last}").decode()
    assert "湖北一正药业有限公司" in get_ok(srv.url + "/registry/search?q=%E4%B8%80%E6%AD%A3").decode()
    detail = get_ok(srv.url + "/registry/company/C00000").decode()
    assert "914" in detail and 'class="scope"' in detail


def test_some_pages_fail_once_then_succeed(srv):
    statuses = []
    for i in range(1, 30):
        path = f"/market/item/L{i:05d}"
        first = get(srv.url + path)[0]
        statuses.append((first, get(srv.url + path)[0]))
    assert any(a == 500 for a, _ in statuses)
    assert all(b == 200 for _, b in statuses)


def test_daily_section_is_gbk_without_declared_charset(srv):
    for _ in range(3):
        status, headers, body = get(f"{srv.url}/registry/daily?date={TODAY.isoformat()}")
        if status == 200:
            break
    assert headers["Content-Type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "新设立登记企业公告" in body.decode("gbk")


def test_json_api_highlights_query_in_titles(srv):
    for _ in range(3):
        status, _, body = get(srv.url + "/market/api/search?q=%E4%B9%9D%E9%98%B3&size=5")
        if status == 200:
            break
    data = json.loads(body)
    assert data["items"] and all("<em>九阳</em>" in x["title"] or "九阳" not in x["title"] for x in data["items"])


def test_burst_gets_a_captcha_page():
    with DemoServer(small_world(fail_every=0, slow_every=0, burst_limit={"registry": 5}, penalty_seconds=60)) as s:
        bodies = [get(s.url + "/registry/search?q=a")[2].decode() for _ in range(8)]
        assert "安全验证" not in bodies[0]
        assert "安全验证" in bodies[-1]
        assert "安全验证" not in get(s.url + "/market/search?q=a")[2].decode()  # other section unaffected
