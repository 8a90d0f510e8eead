"""Decoders against hostile input: XML entities and DTDs inert, JSONP wrappers, CJK JMESPath, fen to yuan."""

from __future__ import annotations

import pytest

from crawler import decoders


def test_xml_external_entities_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r><EntName>&x;壹正</EntName></r>'
    ).encode()
    sel = decoders.xml_selector(body)
    assert "TOPSECRET" not in "".join(sel.xpath("//EntName//text()").getall())


def test_billion_laughs_does_not_expand():
    ents = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {c} "&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    body = f'<?xml version="1.0"?><!DOCTYPE r [{ents}]><r><n>&i;</n></r>'.encode()
    sel = decoders.xml_selector(body)
    assert len("".join(sel.xpath("//n//text()").getall())) < 1000


def test_gbk_prolog_and_case_kept():
    body = '<?xml version="1.0" encoding="GBK"?><EntList><Ent><EntName>湖北壹正药业有限公司</EntName></Ent></EntList>'
    sel = decoders.xml_selector(body.encode("gbk"))
    assert sel.xpath("//Ent/EntName/text()").get() == "湖北壹正药业有限公司"
    assert sel.xpath("//ent/entname/text()").get() is None  # XML, not HTML: names are not lower-cased


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('jQuery123_456({"a": 1});', '{"a": 1}'),
        ('/**/ cb ( {"a": [1, 2]} )', '{"a": [1, 2]}'),
        ('window.cb.x({"a": "(b)"})', '{"a": "(b)"}'),
        ('{"a": 1}', '{"a": 1}'),
    ],
)
def test_jsonp_unwrapped(text, want):
    assert decoders.unwrap_jsonp(text) == want


def test_cjk_names_and_json_in_a_string():
    row = {"企业": {"名称": "壹正"}, "data": {"queryResult": '{"code": 200, "list": [{"skuName": "依正"}]}'}}
    assert decoders.jmes("企业.名称", row) == "壹正"
    assert decoders.jmes("from_json(data.queryResult).list[0].skuName", row) == "依正"
    assert decoders.jmes("'企业'", row) == "企业"  # a string literal stays a literal


def test_fen_to_yuan():
    assert decoders.scaled("1990", 0.01) == "19.9" and decoders.scaled(1500, 0.01) == "15"
    assert decoders.scaled("n/a", 0.01) == "n/a"
