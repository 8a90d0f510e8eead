"""Marketplace products held as JSON in a <script> (window.__INITIAL_STATE__), end to end through `markwatch scan`."""

from __future__ import annotations

import json

from crawler_fixtures import start_server
from scan_support import ROOT, cli
from sources_support import ONE_MARK, source_config, stored_alerts

MARKS = ONE_MARK + "  - name: 九阳\n    owner: 九阳股份有限公司\n    classes: [7]\n    industries: [小家电]\n"


def test_script_state_marketplace_fills_every_listing_field(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=100, listings=600)
    try:
        # Enough terms that the marks themselves are searched: the ranked terms put variants (壹正, 玖阳…) first.
        cfg = source_config(tmp_path, MARKS, url=srv.url, notify=False, extra="terms_per_mark = 20")
        p = cli("scan", "--config", str(cfg), "--source", "demo-market-state", "--json", "--no-progress")
        html_only = tmp_path / "wrong.yaml"
        text = (ROOT / "crawler" / "sources" / "demo-market-state.yaml").read_text("utf-8")
        html_only.write_text(
            text.replace("name: demo-market-state", "name: wrong").replace("/market/mobile/search", "/market/search"),
            "utf-8",
        )
        check = cli("sources", "check", str(html_only), "-k", "一正", "--base-url", srv.url)
    finally:
        srv.stop()
    rep = json.loads(p.stdout)
    src = rep["sources"][0]
    assert p.returncode == 0 and not src["degraded"] and src["items"] > 0, p.stderr[-1500:]
    docs = [a["item"] for a in stored_alerts(tmp_path)]
    assert docs
    for field in ("title", "price", "currency", "seller", "seller_url", "url", "category", "images"):
        assert all(d.get(field) not in (None, "", []) for d in docs), field
    assert all(d["url"].startswith(srv.url + "/market/item/") for d in docs)
    # The same file against a page that has no such script: a clear reason, exit 1.
    assert check.returncode == 1
    assert "malformed: no <script> holds script.var window.__INITIAL_STATE__" in check.stdout
