"""The shipped open-platform sources (taobao-tbk, jd-union, pdd-ddk) end to end through `markwatch scan
--source`, against loopback replicas of the documented APIs (tests/platform_replay.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platform_replay import ENV, PDD_PID, SECRETS, PlatformServer
from scan_support import cli
from sources_support import source_config, stored_alerts
from test_sources_api import MARKS, everything_written

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    with PlatformServer() as srv:
        yield srv


def run(tmp: Path, url: str, name: str, text: str | None = None, *args: str, **envs: str):
    """Scan the one source *name* against the replay: (process, its stats, the stored alerts)."""
    if text is not None:
        (tmp / "sources").mkdir(parents=True, exist_ok=True)
        (tmp / "sources" / f"{name}.yaml").write_text(text, encoding="utf-8")
    extra = f'log_level = "DEBUG"\nlog_file = "{tmp}/var/scan.log"'
    cfg = source_config(tmp, MARKS, url=url, sources=[name], sources_dir=True, extra=extra)
    p = cli("scan", "--config", str(cfg), "--json", "--no-progress", *args, **{**ENV, **envs})
    assert p.stdout.strip().startswith("{"), p.stderr[-3000:]
    rep = json.loads(p.stdout)
    alerts = stored_alerts(tmp) if (tmp / "var" / "alerts.sqlite").exists() else []
    return p, rep["sources"][0], alerts


def no_secret_written(tmp: Path, p) -> None:
    written = everything_written(tmp) + p.stdout.encode() + p.stderr.encode()
    for secret in SECRETS:
        assert secret.encode() not in written, secret


def test_taobao_tbk_signed_md5_search(tmp_path, server):
    p, src, alerts = run(tmp_path, server.url, "taobao-tbk")
    assert src["state"] == "ok" and src["items"] > 0, (src, p.stderr[-2000:])
    calls = [e for e in server.log if e["api"] == "top"]
    assert calls and all(e["sign_method"] == "md5" and e["method"] == "taobao.tbk.dg.material.optional" for e in calls)
    assert {"壹正", "依正"} <= {e["q"] for e in calls}  # the ranked variants, asked for by name
    items = {a["item"]["title"]: a["item"] for a in alerts}
    it = items["壹正 感冒灵颗粒 家庭装"]
    assert it["seller"] == "壹正大药房" and it["url"] == "https://item.taobao.com/item.htm?id=600002"
    assert float(it["price"]) == pytest.approx(9.9) and it["currency"] == "CNY"
    # 一正 has 71 goods: 2 pages of 50 (max_pages 2)
    assert sorted(int(e["page_no"]) for e in calls if e["q"] == "一正") == [1, 2]
    no_secret_written(tmp_path, p)


def test_taobao_wrong_secret_stops_at_the_first_refusal(tmp_path, server):
    p, src, _ = run(tmp_path, server.url, "taobao-tbk", None, TAOBAO_APP_SECRET="not-the-secret")
    assert p.returncode == 1 and src["state"] == "failed" and src["items"] == 0, src
    assert "Invalid signature" in src["reason"] and "25" in src["reason"], src["reason"]
    assert len([e for e in server.log if e["api"] == "top"]) == 1  # one call, not ten
    assert "not-the-secret" not in everything_written(tmp_path).decode("utf-8", "replace")


def test_taobao_stale_timestamp_is_refused(tmp_path, server):
    text = (ROOT / "crawler" / "sources" / "taobao-tbk.yaml").read_text("utf-8")
    text = text.replace("name: taobao-tbk", "name: taobao-stale").replace(
        "  timezone: Asia/Shanghai\n", "  timezone: Asia/Shanghai\n  clock_offset: -900\n"
    )
    p, src, _ = run(tmp_path, server.url, "taobao-stale", text)
    assert src["state"] == "failed" and "Invalid timestamp" in src["reason"], src


@pytest.mark.parametrize("method", ["hmac", "hmac-sha256"])
def test_taobao_hmac_modes(tmp_path, server, method):
    text = (ROOT / "crawler" / "sources" / "taobao-tbk.yaml").read_text("utf-8")
    algo = {"hmac": "hmac-md5", "hmac-sha256": "hmac-sha256"}[method]
    text = (
        text.replace("name: taobao-tbk", "name: tb-hmac")
        .replace("  method: md5\n", f"  method: {algo}\n  sign_method_value: {method}\n")
        .replace("max_terms: 8", "max_terms: 1")
    )
    p, src, _ = run(tmp_path, server.url, "tb-hmac", text)
    assert src["state"] == "ok" and src["items"] == 71 + 1, (src, p.stderr[-1500:])  # 一正: 2 pages; 九阳: 1
    assert {e["sign_method"] for e in server.log if e["api"] == "top"} == {method}


def test_jd_union_json_param_and_json_in_a_string(tmp_path, server):
    p, src, alerts = run(tmp_path, server.url, "jd-union")
    assert src["state"] == "ok" and src["items"] > 0, (src, p.stderr[-2000:])
    calls = [e for e in server.log if e["api"] == "jd"]
    req = json.loads(calls[0]["360buy_param_json"])
    assert set(req["goodsReqDTO"]) == {"keyword", "pageIndex", "pageSize"} and req["goodsReqDTO"]["pageIndex"] == 1
    assert " " not in calls[0]["360buy_param_json"]  # compact JSON, as JD signs it
    items = {a["item"]["title"]: a["item"] for a in alerts}
    it = items["依正 板蓝根颗粒 20袋"]
    assert it["url"] == "https://item.jd.com/600003.html" and it["seller"] == "依正医药专营店"
    assert float(it["price"]) == pytest.approx(12.5) and it["category"] == "感冒用药"
    pages = sorted(
        json.loads(e["360buy_param_json"])["goodsReqDTO"]["pageIndex"]
        for e in calls
        if json.loads(e["360buy_param_json"])["goodsReqDTO"]["keyword"] == "一正"
    )
    assert pages == [1, 2]  # 71 goods, 30 a page, max_pages 2
    no_secret_written(tmp_path, p)


def test_jd_wrong_key(tmp_path, server):
    p, src, _ = run(tmp_path, server.url, "jd-union", None, JD_APP_KEY="wrong-key")
    assert src["state"] == "failed" and "无效的app_key" in src["reason"] and "'19'" in src["reason"], src
    assert len([e for e in server.log if e["api"] == "jd"]) == 1


def test_pdd_ddk_form_signing_and_fen(tmp_path, server):
    p, src, alerts = run(tmp_path, server.url, "pdd-ddk")
    assert src["state"] == "ok" and src["items"] > 0, (src, p.stderr[-2000:])
    calls = [e for e in server.log if e["api"] == "pdd"]
    assert all(e["method"] == "POST" and not e["in_query"] and e["pid"] == PDD_PID for e in calls)
    items = {a["item"]["title"]: a["item"] for a in alerts}
    it = items["伊正 维生素C泡腾片"]
    assert float(it["price"]) == pytest.approx(15.0)  # 1500 fen
    assert it["url"] == "https://mobile.yangkeduo.com/goods.html?goods_id=600004"
    no_secret_written(tmp_path, p)


def test_pdd_wrong_secret(tmp_path, server):
    p, src, _ = run(tmp_path, server.url, "pdd-ddk", None, PDD_CLIENT_SECRET="nope-nope")
    assert src["state"] == "failed" and "签名错误" in src["reason"] and "10016" in src["reason"], src
    assert len([e for e in server.log if e["api"] == "pdd"]) == 1
