"""The source format's new parts, unit by unit: script JSON, secrets, signers, schema errors, ranked terms."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from scrapy.http import HtmlResponse

from crawler import extract, signers
from crawler.errors import SourceError
from crawler.sources import ScriptSpec, parse_source
from matcher.marks import Mark
from matcher.variants import ranked_terms

STATE_PAGE = """<html><body><script>window.__CONFIG__ = {"a": 1};</script>
<script>
  window.__INITIAL_STATE__ = {"list": [{"t": "一正 <\\/script> 感冒灵", "p": 9.9}], "more": true};
  window.__READY__ = true;
</script></body></html>"""


def _resp(body: str, url: str = "http://127.0.0.1/x") -> HtmlResponse:
    return HtmlResponse(url, body=body.encode(), encoding="utf-8")


def test_script_json_by_var_and_by_regex():
    doc = extract.data(_resp(STATE_PAGE), "json", ScriptSpec(var="window.__INITIAL_STATE__"), None)
    assert doc["list"][0]["t"] == "一正 </script> 感冒灵" and doc["more"] is True
    doc = extract.data(_resp(STATE_PAGE), "json", ScriptSpec(regex=r"__CONFIG__ = (\{.*?\});"), None)
    assert doc == {"a": 1}


def test_script_json_missing_or_broken_is_malformed():
    with pytest.raises(extract.Malformed, match="no <script> holds"):
        extract.data(_resp("<html><script>var x = 1;</script></html>"), "json", ScriptSpec(var="window.__S__"), None)
    with pytest.raises(extract.Malformed, match="does not parse"):
        extract.data(
            _resp("<script>window.__S__ = {bad: undefined};</script>"), "json", ScriptSpec(var="window.__S__"), None
        )


BASE = "name: s\nkind: registry\nmode: search\n"


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ("pages:\n  url: '{base}/a?q={keyword}'\n  body: {q: 1}\n", "(top)", "method: POST"),
        ("pages:\n  url: '{base}/a?q={keyword}'\n  method: PUT\n", "pages.method", "'GET' or 'POST'"),
        ("pages:\n  url: '{base}/a?q={keyword}&o={offset}'\n", "(top)", "page_size"),
        ("pages:\n  url: '{base}/a?q={keyword}'\n  script: {var: a, regex: b}\n", "pages.script", "exactly one"),
        ("pages:\n  url: '{base}/a?q={keyword}'\nwait_for: div\n", "(top)", "render: browser"),
        ("pages:\n  url: '{base}/a?q={keyword}'\n  format: json\n  script: {var: a}\n", "(top)", "format: html"),
    ],
)
def test_schema_errors_name_the_key(body, key, words):
    with pytest.raises(SourceError) as e:
        parse_source(BASE + body, "my.yaml")
    assert e.value.key == key and words in e.value.message


def test_secret_refs_and_missing_variable(monkeypatch):
    src = parse_source(
        BASE
        + "pages:\n  url: '{base}/a?k=${API_K}&q={keyword}'\n  method: POST\n  body: {token: '${API_T}'}\n"
        + "headers: {X-Key: '${API_H}'}\n",
        "my.yaml",
    )
    assert src.secret_refs() == [("pages.url", "API_K"), ("pages.body.token", "API_T"), ("headers.X-Key", "API_H")]
    monkeypatch.setenv("API_K", "k")
    monkeypatch.setenv("API_T", "t")
    monkeypatch.delenv("API_H", raising=False)
    with pytest.raises(SourceError) as e:
        src.require_secrets()
    assert str(e.value) == "my.yaml: key 'headers.X-Key': environment variable API_H is not set"
    assert src.term_budget() == 8  # a source with secrets is a paid API: few terms per mark


def test_placeholders_expand_in_both_spellings_and_redact():
    env = {"K": "a b&c"}
    assert signers.expand("x=${K}&y=$%7BK%7D", env, quoted=True) == "x=a%20b%26c&y=a%20b%26c"
    assert signers.expand("${K}/${NOPE}", env) == "a b&c/${NOPE}"
    vals = signers.secret_values({"K"}, env)
    assert signers.redact("see a%20b%26c and a b&c", vals) == "see *** and ***"


def test_md5_token_and_hmac_signers():
    req = signers.SignedRequest("GET", "http://h/p", [("q", "一正")], now=1700000000.5)
    signers.md5_token({"key": "K", "secret": "S"}, req)
    assert req.headers == {"Token": hashlib.md5(b"K1700000000S").hexdigest().upper(), "Timespan": "1700000000"}
    req = signers.SignedRequest("GET", "http://h/p", [("q", "x"), ("a", "1")], now=1700000000.5)
    signers.hmac_sha256({"key": "K", "secret": "S"}, req)
    params = dict(req.params)
    plain = "a1app_keyKqxtimestamp1700000000500"
    assert params["sign"] == hmac.new(b"S", plain.encode(), hashlib.sha256).hexdigest().upper()
    assert "sign=" in req.full_url() and "timestamp=1700000000500" in req.full_url()


def test_signer_by_dotted_path_and_unknown():
    assert signers.signer("crawler.signers:md5_token") is signers.md5_token
    with pytest.raises(SourceError, match="unknown signer"):
        signers.signer("crawler.signers:nope_nothing")
    with pytest.raises(SourceError, match="cannot be imported"):
        signers.signer("no_such_module_xyz.sign")


def test_ranked_terms_ask_for_the_imitations_a_substring_search_misses():
    terms = ranked_terms(Mark(name="一正", owner="吉林一正药业集团有限公司", aliases=["YIZHENG"]), 8)
    assert terms[0] == "一正" and "壹正" in terms[:3] and "依正" in terms
    assert "YIZHENG" not in terms  # Latin aliases come after the Han variants, outside a budget of 8
    assert ranked_terms(Mark(name="三元", owner="北京三元食品股份有限公司"), 4)[1] == "叁元"
