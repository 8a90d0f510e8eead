"""The open_platform signer family against worked examples published by others, and its options.

Published examples (their inputs and signatures as printed there):
- TOP md5: https://segmentfault.com/q/1010000002569107 (secret "test", taobao.user.seller.get,
  sign 72CB4D809B375A54502C09360D879C64).
- key=value&… + "&key=secret", lower-case md5: https://blog.csdn.net/weixin_39974223/article/details/114541821
  (secret "thisistestkey", empty values not signed, sign 37fd31004368f9e616f277c6436985eb).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import parse_qsl

import pytest

from crawler.errors import SourceError
from crawler.signers import SignedRequest, open_platform, timestamp
from crawler.sources import parse_source

TOP_EXAMPLE = {
    "method": "taobao.user.seller.get",
    "timestamp": "2013-05-06 13:52:03",
    "format": "xml",
    "app_key": "test",
    "v": "2.0",
    "fields": "nick",
    "sign_method": "md5",
    "session": "test",
}


def test_top_md5_published_example():
    params = [(k, v) for k, v in TOP_EXAMPLE.items() if k not in ("app_key", "timestamp", "sign_method")]
    req = SignedRequest("GET", "https://gw.api.taobao.com/router/rest", params)
    # the example's own clock: 2013-05-06 13:52:03 in GMT+8
    req.now = dt.datetime(2013, 5, 6, 13, 52, 3, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    open_platform(
        {
            "key": "test",
            "secret": "test",
            "timestamp_format": "%Y-%m-%d %H:%M:%S",
            "timezone": "Asia/Shanghai",
            "sign_method_param": "sign_method",
        },
        req,
    )
    got = dict(req.params)
    assert got["timestamp"] == "2013-05-06 13:52:03" and got["app_key"] == "test" and got["sign_method"] == "md5"
    assert got["sign"] == "72CB4D809B375A54502C09360D879C64"


def test_key_value_pairs_with_a_key_suffix_published_example():
    params = [
        ("barcode", "123123123123"),
        ("local_order_no", "localorderno123123123123"),
        ("app", "zyptestapp"),
        ("operator_id", "axgdfdafd34124"),
        ("amount", "100"),
        ("un_discount_amount", ""),
        ("timestamp", "1460512556270"),
        ("subject", "这是一笔支付订单"),
        ("goods_list", ""),
    ]
    req = SignedRequest("POST", "https://pay.example/api", params)
    spec = {
        "secret": "thisistestkey",
        "key_param": "",
        "timestamp_param": "",
        "join": "&",
        "pair": "=",
        "suffix": "&key={secret}",
        "case": "lower",
    }
    open_platform(spec, req)
    assert dict(req.params)["sign"] == "37fd31004368f9e616f277c6436985eb"


def test_form_body_signed_with_every_field_and_the_sign_in_the_body():
    req = SignedRequest(
        "POST",
        "https://gw-api.pinduoduo.com/api/router",
        [],
        body=b"type=pdd.ddk.goods.search&keyword=%E4%B8%80",
        form=True,
    )
    req.now = 1_700_000_000
    open_platform(
        {
            "key": "cid",
            "secret": "sec",
            "key_param": "client_id",
            "timestamp_format": "s",
            "params_to": "body",
            "sign_to": "body",
        },
        req,
    )
    fields = dict(parse_qsl(req.body.decode()))
    assert req.params == [] and fields["client_id"] == "cid" and fields["timestamp"] == "1700000000"
    plain = "".join(k + v for k, v in sorted(fields.items()) if k != "sign")
    assert fields["sign"] == hashlib.md5(("sec" + plain + "sec").encode()).hexdigest().upper()
    assert fields["keyword"] == "一"


def test_hmac_sha256_with_the_api_path_first_and_a_nonce_in_a_header():
    """An IOP-style gateway: hmac_sha256(secret, "/api/path" + k1v1…), the sign in a header, lower hex."""
    req = SignedRequest("GET", "https://api.example.com/product/search", [("q", "壹正")])
    req.now = 1_700_000_000.5
    open_platform(
        {
            "key": "k",
            "secret": "s3",
            "method": "hmac-sha256",
            "prefix": "{path}",
            "nonce_param": "nonce",
            "nonce_length": 12,
            "sign_to": "header",
            "sign_param": "X-Sign",
            "case": "lower",
        },
        req,
    )
    got = dict(req.params)
    assert len(got["nonce"]) == 12 and got["timestamp"] == "1700000000500"
    plain = "/product/search" + "".join(k + v for k, v in sorted(got.items()))
    assert req.headers["X-Sign"] == hmac.new(b"s3", plain.encode(), hashlib.sha256).hexdigest()


def test_a_raw_json_body_is_signed_as_text():
    body = b'{"keyword":"\xe4\xb8\x80\xe6\xad\xa3"}'
    req = SignedRequest("POST", "https://api.example.com/x", [("method", "m")], body=body)
    req.now = 0
    open_platform({"key": "k", "secret": "sec", "timestamp_format": "s", "sign_body": "raw"}, req)
    got = dict(req.params)
    plain = "".join(k + v for k, v in sorted((k, v) for k, v in got.items() if k != "sign")) + body.decode()
    assert got["sign"] == hashlib.md5(("sec" + plain + "sec").encode()).hexdigest().upper()


def test_timestamps_in_each_format():
    now = 1_700_000_000.25
    assert timestamp(now, "s") == "1700000000" and timestamp(now, "ms") == "1700000000250"
    assert timestamp(now, "%Y-%m-%d %H:%M:%S", "Asia/Shanghai") == "2023-11-15 06:13:20"
    assert timestamp(now, "%Y%m%d%H%M%S", "UTC") == "20231114221320"


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("timestamp_fromat: s", "no option 'timestamp_fromat'"),
        ("method: sha1", "method 'sha1': one of"),
        ("timezone: Mars/Olympus", "not a time zone"),
        ("timestamp_format: yyyy-MM-dd", "strftime"),
    ],
)
def test_a_mistake_in_the_signer_options_is_an_error_in_the_file(option, words):
    text = (
        "name: x\nkind: marketplace\nmode: search\npages:\n  url: '{base}/r?q={keyword}'\n  format: json\n"
        "  rows: list\n  fields: {title: {json: t}, url: {json: u}}\n"
        f"sign:\n  signer: open_platform\n  key: k\n  secret: s\n  {option}\n"
    )
    with pytest.raises(SourceError) as e:
        parse_source(text, "x.yaml")
    assert "key 'sign'" in str(e.value) and words in str(e.value), str(e.value)
