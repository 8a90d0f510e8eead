"""The other shapes of issue 22 end to end through `markwatch scan --source`: a token step, JSONP, a GBK
query, XML (namespaces, GBK prolog), XML inside a text node, a bureau's daily files, a dead host."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
from platform_replay import OAUTH_SECRET, PlatformServer
from test_sources_api import everything_written
from test_sources_platforms import run


@pytest.fixture()
def server():
    with PlatformServer() as srv:
        yield srv


OAUTH = """
name: oauth-goods
kind: marketplace
mode: search
pages:
  url: "{base}/v1/goods/search"
  params: {q: "{keyword}"}
  format: json
  rows: items
  fields:
    title: {json: name}
    price: {json: price}
    seller: {json: shop}
    url: {json: id, template: "https://shop.example/item/{}"}
token:
  url: "{base}/oauth/token"
  client_id: "${OAUTH_CLIENT_ID}"
  client_secret: "${OAUTH_CLIENT_SECRET}"
max_terms: 2
rate_limit: {delay: 0, concurrency: 1}
"""


def test_token_step_fetches_once_and_sends_bearer(tmp_path, server):
    p, src, alerts = run(tmp_path, server.url, "oauth-goods", OAUTH)
    assert src["state"] == "ok" and src["items"] > 0, (src, p.stderr[-2000:])
    grants = [e for e in server.log if e["api"] == "token"]
    calls = [e for e in server.log if e["api"] == "oauth"]
    assert len(grants) == 1 and len(calls) == 4 and len({c["token"] for c in calls}) == 1
    token = calls[0]["token"]
    assert token.encode() not in everything_written(tmp_path) + p.stderr.encode()
    assert OAUTH_SECRET.encode() not in everything_written(tmp_path)


def test_expired_token_is_renewed_once(tmp_path):
    with PlatformServer(token_uses=2) as srv:  # a token is revoked after two calls, before its stated expiry
        p, src, _ = run(tmp_path, srv.url, "oauth-goods", OAUTH)
        assert src["state"] == "ok" and src["items"] > 0, (src, p.stderr[-2000:])
        assert len([e for e in srv.log if e["api"] == "token"]) == 2  # renewed once on the 401, not refused
        assert len({e["token"] for e in srv.log if e["api"] == "oauth"}) == 2 and src["refused"] == 0


def test_wrong_client_secret_is_refused_with_the_challenge(tmp_path, server):
    p, src, _ = run(tmp_path, server.url, "oauth-goods", OAUTH, OAUTH_CLIENT_SECRET="wrong")
    assert src["state"] == "failed" and "token step: HTTP 401" in src["reason"], src
    assert 'WWW-Authenticate: Basic realm="oauth"' in src["reason"] and "invalid_client" in src["reason"]
    assert [e["api"] for e in server.log] == ["token"]  # no search call went out


JSONP = """
name: jsonp-goods
kind: marketplace
mode: search
pages:
  url: "{base}/jsonp/search?q={keyword}&callback=jQuery123_456"
  format: jsonp
  rows: list
  fields: {title: {json: t}, price: {json: p}, seller: {json: s}, url: {json: u}}
max_terms: 2
"""

GBK = """
name: gbk-registry
kind: registry
mode: search
query_encoding: gbk
pages:
  url: "{base}/gbk/search?kw={keyword}"
  format: json
  rows: data
  fields: {name: {json: qymc}, uscc: {json: tyshxydm}}
error: {json: retCode, ok: ["0"]}
max_terms: 3
"""

XML = """
name: samr-xml
kind: registry
mode: search
pages:
  url: "{base}/samr/xml/search"
  params: {EntName: "{keyword}"}
  format: xml
  namespaces: {s: "http://www.samr.example/ent"}
  rows: "//s:EntList/s:Ent"
  fields:
    name: "s:EntName/text()"
    uscc: "s:UniScid/text()"
    status: "s:RegState/text()"
max_terms: 8
"""

ASMX = """
name: asmx-registry
kind: registry
mode: search
pages:
  url: "{base}/Service.asmx/QueryEnt?kw={keyword}"
  format: xml
  inner: {xpath: "//*[local-name()='string']/text()", format: xml}
  rows: "//Items/Item"
  fields:
    name: "EntName/text()"
    uscc: "CreditCode/text()"
max_terms: 8
"""


@pytest.mark.parametrize(
    ("name", "text", "field", "want"),
    [
        ("jsonp-goods", JSONP, "title", "壹正 感冒灵颗粒 家庭装"),
        ("gbk-registry", GBK, "name", "湖北壹正药业有限公司"),
        ("samr-xml", XML, "name", "广州伊正制药有限公司"),
        ("asmx-registry", ASMX, "name", "依正医药科技(上海)有限公司"),
    ],
)
def test_decoders(tmp_path, server, name, text, field, want):
    p, src, alerts = run(tmp_path, server.url, name, text)
    assert src["state"] == "ok" and src["items"] > 0, (src, p.stderr[-2000:])
    values = {a["item"][field] for a in alerts}
    assert want in values, values
    if name != "jsonp-goods":
        it = next(a["item"] for a in alerts if a["item"]["name"] == want)
        assert it["uscc"].startswith("91")
    if name == "gbk-registry":
        assert "壹正" in {e["q"] for e in server.log if e["api"] == "gbk"}  # read back as GBK bytes


DAILY = """
name: bureau-daily
kind: registry
mode: feed
pages:
  url: "{base}/xwgs/index.html"
  files:
    links: "ul.list a"
    match: "{date:%-m月%-d日}新设立企业名单"
  header_row: 2
  fields:
    name: {column: 企业名称}
    uscc: {column: 统一社会信用代码}
    legal_rep: {column: 法定代表人}
    established: {column: 成立日期}
    authority: {column: 登记机关}
  published_by: "23:59"
encoding: gbk
"""


def test_daily_files_from_an_index_page(tmp_path, server):
    server.publish("2026-12-06")
    p, src, alerts = run(tmp_path, server.url, "bureau-daily", DAILY, "--date", "2026-12-06")
    # 4 rows in the CSV, 4 in the XLSX (its 5th row is a formula with no cached value: never evaluated,
    # dropped, and a dropped row is a lost row: the source says so)
    assert src["state"] == "degraded" and "dropped" in src["reason"] and src["items"] == 8, (src, p.stderr[-2000:])
    names = [a["item"]["name"] for a in alerts]
    assert not any("HYPERLINK" in n or "evil" in n for n in names)
    assert names.count("湖北壹正药业有限公司") == 1  # one alert per entity, from two files
    it = next(a["item"] for a in alerts if a["item"]["name"] == "湖北壹正药业有限公司")
    assert it["uscc"] == "91420100MA4KXXXX0X" and it["established"] == "2026-12-06"


def test_a_day_not_published_yet_is_ok_with_a_note(tmp_path, server):
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    server.publish("2026-12-06")
    p, src, _ = run(tmp_path, server.url, "bureau-daily", DAILY, "--date", today)
    assert p.returncode == 0 and src["state"] == "ok" and src["items"] == 0, src
    assert "not published yet" in src["reason"] and today in src["reason"]
    late = DAILY.replace('published_by: "23:59"', 'published_by: "00:00"')
    p, src, _ = run(tmp_path / "late", server.url, "bureau-daily", late, "--date", "2026-12-05")
    assert src["state"] == "degraded" and "no link to the day's file" in src["reason"], src


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_dead_host_fails_fast_with_one_log_line(tmp_path):
    url = f"http://127.0.0.1:{_dead_port()}"
    t0 = time.monotonic()
    p, src, _ = run(tmp_path, url, "jsonp-goods", JSONP.replace("max_terms: 2", "max_terms: 8"))
    took = time.monotonic() - t0
    assert src["state"] == "failed" and "connection refused" in src["reason"], src
    assert took < 60, took
    log = (tmp_path / "var" / "scan.log").read_text("utf-8")
    assert log.count("connection refused (127.0.0.1") == 1, log[-3000:]
    assert log.count("Traceback") == 0


def test_a_token_refused_after_renewal_stops_with_the_challenge_quoted(tmp_path):
    with PlatformServer(token_life=-60) as srv:  # every token the API hands out is already expired there
        p, src, _ = run(tmp_path, srv.url, "oauth-goods", OAUTH)
        assert src["state"] == "failed" and src["items"] == 0 and "HTTP 401" in src["reason"], src
        assert 'WWW-Authenticate: Bearer realm="api", error="invalid_token"' in src["reason"], src["reason"]
        searches = [e for e in srv.log if e["api"] == "oauth"]
        grants = [e for e in srv.log if e["api"] == "token"]
        assert len(searches) == 2 and len(grants) == 2, (searches, grants)  # one renewal, then stopped


def test_a_day_on_the_index_pages_second_page(tmp_path):
    with PlatformServer(per_page=1) as srv:  # one day a page, newest first: 12-06 on page 1, 12-05 on page 2
        srv.publish("2026-12-05")
        srv.publish("2026-12-06")
        paged = DAILY.replace('  published_by: "23:59"\n', '  published_by: "23:59"\n  next: "a.next::attr(href)"\n')
        p, src, alerts = run(tmp_path, srv.url, "bureau-daily", paged, "--date", "2026-12-05")
        assert src["items"] == 8, (src, p.stderr[-2000:])
        paths = [e["path"] for e in srv.log if e["api"] == "bureau"]
        assert paths[:2] == ["/xwgs/index.html", "/xwgs/index_2.html"] and len(paths) == 4, paths
