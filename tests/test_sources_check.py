"""`markwatch sources check`: the request exactly as sent (secrets masked), one detail page or data file
followed, a day not yet published, file errors as one line and exit 2, and `--terms` = what a scan sends."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from platform_replay import ENV, PDD_SECRET, SECRETS, TB_SECRET, PlatformServer
from scan_support import cli
from sources_support import source_config
from test_sources_api import MARKS
from test_sources_shapes import DAILY, JSONP

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    with PlatformServer() as srv:
        yield srv


def check(tmp: Path, url: str, *args: str, source: str | None = None, text: str | None = None, **envs: str):
    if text is not None:
        (tmp / "sources").mkdir(parents=True, exist_ok=True)
        (tmp / "sources" / f"{source}.yaml").write_text(text, encoding="utf-8")
    cfg = source_config(tmp, MARKS, url=url, sources_dir=True)
    return cli("sources", "check", *args, "--config", str(cfg), **{**ENV, **envs})


def test_the_form_post_is_shown_as_sent_with_secrets_masked(tmp_path, server):
    p = check(tmp_path, server.url, "pdd-ddk", "--keyword", "伊正", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    rep = json.loads(p.stdout)
    sent = rep["sent"]
    assert sent["method"] == "POST" and sent["url"].endswith("/api/router")
    form = dict(x.split("=", 1) for x in sent["body"].split("&"))
    assert form["type"] == "pdd.ddk.goods.search" and form["client_id"] == "***" and form["pid"] == "***"
    assert len(form["sign"]) == 32 and form["timestamp"].isdigit()  # the signature that went out
    assert rep["row_count"] == 1 and rep["rows"][0][0]["value"] == "伊正 维生素C泡腾片"
    for secret in SECRETS:
        assert secret not in p.stdout + p.stderr
    text = check(tmp_path, server.url, "pdd-ddk", "--keyword", "伊正")
    assert "body: type=pdd.ddk.goods.search" in text.stdout and "sent: POST" in text.stdout, text.stdout
    assert PDD_SECRET not in text.stdout


def test_a_refusal_is_shown_with_the_signed_query_and_exit_1(tmp_path, server):
    p = check(tmp_path, server.url, "taobao-tbk", "--keyword", "一正", "--json", TAOBAO_APP_SECRET="wrong-secret")
    assert p.returncode == 1
    rep = json.loads(p.stdout)
    assert "Invalid signature" in rep["refused"] and "sign=" in rep["sent"]["url"]
    assert "app_key=***" in rep["sent"]["url"] and "wrong-secret" not in p.stdout
    assert TB_SECRET not in p.stdout


class _Registry(BaseHTTPRequestHandler):
    """A list page with a link per company and the companies' detail pages."""

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/q"):
            body = (
                '<ul><li class="r"><a href="/ent/1">湖北壹正药业有限公司</a></li>'
                '<li class="r"><a href="/ent/2">壹正大药房</a></li></ul>'
            )
        elif self.path == "/ent/1":
            body = "<h1>湖北壹正药业有限公司</h1><table><tr><th>统一社会信用代码</th><td>91420100MA4KXXXX0X</td></tr></table>"
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = f"<html><body>{body}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


DETAIL = """
name: html-detail
kind: registry
mode: search
pages:
  url: "{base}/q?kw={keyword}"
  rows: li.r
  fields: {name: "a::text"}
  detail: "a::attr(href)"
detail:
  fields:
    name: h1::text
    uscc: "//th[text()='统一社会信用代码']/following-sibling::td[1]/text()"
    legal_rep: "//th[text()='法定代表人']/following-sibling::td[1]/text()"
"""


def test_one_detail_page_is_followed(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        p = check(tmp_path, url, "html-detail", "--keyword", "壹正", "--json", source="html-detail", text=DETAIL)
        assert p.returncode == 0, p.stdout + p.stderr
        rep = json.loads(p.stdout)
        assert rep["detail_links"] == [f"{url}/ent/1", f"{url}/ent/2"]
        det = rep["detail"]
        assert det["url"] == f"{url}/ent/1" and det["status"] == 200 and det["sent"]["method"] == "GET"
        got = {f["name"]: f for f in det["fields"]}
        assert got["uscc"]["value"] == "91420100MA4KXXXX0X" and got["name"]["value"] == "湖北壹正药业有限公司"
        assert got["legal_rep"]["value"] is None and "matched nothing" in got["legal_rep"]["why_empty"]
        text = check(tmp_path, url, "html-detail", "--keyword", "壹正")
        assert "detail page followed" in text.stdout and "91420100MA4KXXXX0X" in text.stdout
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_daily_index_shows_the_days_files_and_reads_the_first(tmp_path, server):
    server.publish("2026-12-06")
    p = check(tmp_path, server.url, "bureau-daily", "--date", "2026-12-06", "--json", source="bureau-daily", text=DAILY)
    assert p.returncode == 0, p.stdout + p.stderr
    rep = json.loads(p.stdout)
    assert len(rep["file_links"]) == 2 and rep["file_links"][0].endswith(".csv")
    det = rep["detail"]
    assert det["row_count"] == 4 and det["status"] == 200
    first = {f["name"]: f["value"] for f in det["rows"][0]}
    assert first["name"] and first["uscc"].startswith("91")


def test_a_day_not_published_yet_is_ok_in_check_too(tmp_path, server):
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    p = check(tmp_path, server.url, "bureau-daily", "--date", today, "--json", source="bureau-daily", text=DAILY)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "not published yet" in json.loads(p.stdout)["not_published"]
    old = DAILY.replace('published_by: "23:59"', 'published_by: "00:00"')
    p = check(tmp_path, server.url, "bureau-daily", "--date", "2026-12-01", "--json", source="bureau-daily", text=old)
    assert p.returncode == 1 and "no link" in json.loads(p.stdout)["error"]


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("rows: list", "rows: 'list[?'"), "pages.rows", "not a valid JMESPath"),
        (("{json: t}", "{css: 'a[[['}"), "pages.fields.title", "not a valid selector"),
        (("{json: p}", "{xpath: '//a[@'}"), "pages.fields.price", "not a valid XPath"),
    ],
)
def test_a_mistake_in_the_file_is_one_line_and_exit_2(tmp_path, change, key, words):
    text = JSONP.replace(*change)
    p = check(tmp_path, "http://127.0.0.1:9", "jsonp-goods", "--keyword", "x", source="jsonp-goods", text=text)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert p.returncode == 2 and len(lines) == 1, p.stderr
    assert "jsonp-goods.yaml" in lines[0] and key in lines[0] and words in lines[0], lines[0]
    assert "Traceback" not in p.stderr + p.stdout


CJK = """
name: cjk-json
kind: registry
mode: search
pages:
  url: "{base}/gbk/search?kw={keyword}"
  format: json
  rows: 数据
  fields: {name: {json: 企业.名称}, uscc: {json: "企业.统一社会信用代码 || 代码"}}
"""


def test_jmespath_with_cjk_names_is_accepted(tmp_path):
    p = check(tmp_path, "http://127.0.0.1:9", "cjk-json", "--terms", source="cjk-json", text=CJK)
    assert p.returncode == 0, p.stderr


def test_terms_are_what_the_scan_sends_keyless_and_keyed(tmp_path, server):
    p = check(
        tmp_path,
        server.url,
        "jsonp-goods",
        "--terms",
        "--json",
        source="jsonp-goods",
        text=JSONP.replace("max_terms: 2\n", ""),
    )
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    yizheng = next(m for m in plan["marks"] if m["mark"] == "一正")["terms"]
    assert plan["budget"] == 30 and yizheng[0] == "一正"
    assert {"壹正", "伊正", "依正"} <= set(yizheng[:6]), yizheng  # financial numerals and homophones first
    keyed = json.loads(check(tmp_path, server.url, "taobao-tbk", "--terms", "--json").stdout)
    assert keyed["budget"] == 8 and {"壹正", "伊正", "依正"} <= set(keyed["marks"][0]["terms"])
    # what a scan of the keyed source really asks for, in that order
    cfg = source_config(tmp_path / "scan", MARKS, url=server.url, sources=["taobao-tbk"])
    s = cli("scan", "--config", str(cfg), "--json", "--no-progress", **ENV)
    assert s.stdout.strip().startswith("{"), s.stderr[-2000:]
    asked = list(dict.fromkeys(e["q"] for e in server.log if e["api"] == "top"))
    assert set(asked) == set(keyed["terms"]) and asked[0] == keyed["terms"][0], (asked, keyed["terms"])
    text = check(tmp_path, server.url, "taobao-tbk", "--terms")
    assert "一正 (8): 一正 壹正" in text.stdout and "searches" in text.stdout, text.stdout


def test_the_token_step_is_used_and_the_token_masked(tmp_path, server):
    from test_sources_shapes import OAUTH

    p = check(tmp_path, server.url, "oauth-goods", "--keyword", "壹正", "--json", source="oauth-goods", text=OAUTH)
    assert p.returncode == 0, p.stdout + p.stderr
    rep = json.loads(p.stdout)
    token = next(e["token"] for e in server.log if e["api"] == "oauth")
    assert rep["sent"]["headers"]["Authorization"] == "Bearer ***" and token not in p.stdout
    assert rep["row_count"] == 1
