"""`render: browser`: a page whose items exist only after its script runs, through headless Chromium."""

from __future__ import annotations

import json
import shutil

import pytest
from crawler_fixtures import start_server
from scan_support import ROOT, cli
from sources_support import ONE_MARK, source_config, stored_alerts

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed (scripts/test-deps)")
def test_browser_rendered_page_gives_items_plain_http_gives_none(tmp_path):
    srv = start_server(fail_every=0, slow_every=0, companies=200, listings=400)
    try:
        cfg = source_config(tmp_path / "browser", ONE_MARK, url=srv.url, sources=["demo-market-app"], notify=False)
        p = cli("scan", "--config", str(cfg), "--json", "--no-progress", timeout=400)
        assert p.returncode in (0, 1), p.stderr[-2000:]
        src = json.loads(p.stdout)["sources"][0]
        rendered = cli("sources", "check", "demo-market-app", "--keyword", "一正", "--base-url", srv.url, "--json")
        # The same file without the browser: the HTML shell holds no item, and check says so (exit 1).
        text = (ROOT / "crawler" / "sources" / "demo-market-app.yaml").read_text("utf-8")
        text = text.replace("render: browser\n", "").replace("wait_for:", "# wait_for:")
        (tmp_path / "plain.yaml").write_text(text.replace("name: demo-market-app", "name: plain-app"), "utf-8")
        plain = cli("sources", "check", str(tmp_path / "plain.yaml"), "-k", "一正", "--base-url", srv.url, "--json")
    finally:
        srv.stop()
    world_hits = len(srv.state.world.search_listings("一正"))
    assert world_hits > 0
    assert src["items"] >= world_hits and not src["degraded"], src
    docs = stored_alerts(tmp_path / "browser")
    assert all(d["item"]["title"] and d["item"]["url"].startswith(srv.url) for d in docs)
    shown = json.loads(rendered.stdout)
    for row in shown["rows"]:  # every field of every rendered row filled
        assert all(f["value"] for f in row), row
    assert shown["rows"] and {f["name"] for f in shown["rows"][0]} == {"title", "url", "price", "seller"}
    assert json.loads(rendered.stdout)["row_count"] > 0 and rendered.returncode == 0  # check renders too
    assert plain.returncode == 1 and json.loads(plain.stdout)["row_count"] == 0
