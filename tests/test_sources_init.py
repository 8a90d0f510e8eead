"""`markwatch init` lists only real sources (the demo world's only under --demo) and names every missing secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scan_support import ROOT, env

from crawler.sources import available_sources
from markwatch.config import load_settings

SECRET_VARS = {n for s in available_sources().values() for _, n in s.secret_refs()}


def init(tmp: Path, *args: str, **envs: str) -> tuple[subprocess.CompletedProcess, Path]:
    target = tmp / "markwatch.toml"
    e = {k: v for k, v in env(**envs).items() if k not in SECRET_VARS or k in envs}
    e["XDG_CONFIG_HOME"] = str(tmp / "xdg")  # the user's own sources folder, empty unless a test fills it
    p = subprocess.run(
        [sys.executable, "-m", "markwatch", "init", str(target), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=e,
    )
    return p, target


def test_only_real_sources_and_every_missing_secret_at_once(tmp_path):
    p, target = init(tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert "qcc-search skipped: QCC_APP_KEY, QCC_SECRET_KEY not set" in lines
    assert "taobao-tbk skipped: TAOBAO_ADZONE_ID, TAOBAO_APP_KEY, TAOBAO_APP_SECRET not set" in lines
    assert "pdd-ddk skipped: PDD_CLIENT_ID, PDD_CLIENT_SECRET, PDD_PID not set" in lines
    assert "tyc-search skipped: TYC_TOKEN not set" in lines
    text = target.read_text("utf-8")
    assert "#   qcc-search skipped: QCC_APP_KEY, QCC_SECRET_KEY not set" in text
    s = load_settings(target)
    assert s.scan.sources and not any(n.startswith("demo-") for n in s.scan.sources), s.scan.sources
    assert "qcc-search" not in s.scan.sources and "cnipa-gazette" in s.scan.sources  # keyless, real


def test_a_source_whose_secrets_are_set_is_listed(tmp_path):
    p, target = init(tmp_path, QCC_APP_KEY="k-123", QCC_SECRET_KEY="s-456", TYC_TOKEN="t-789")
    assert p.returncode == 0, p.stderr
    s = load_settings(target)
    assert {"qcc-search", "tyc-search", "tyc-trademark"} <= set(s.scan.sources)
    assert "qcc-search skipped" not in p.stderr and "tyc-search skipped" not in p.stderr
    assert "k-123" not in target.read_text("utf-8") + p.stdout + p.stderr  # the names, never the values


def test_a_users_own_source_is_named_too(tmp_path):
    own = tmp_path / "xdg" / "markwatch" / "sources"
    own.mkdir(parents=True)
    (own / "gd-api.yaml").write_text(
        "name: gd-api\nkind: registry\nmode: search\npages:\n  url: '{base}/s?q={keyword}&k=${GD_KEY}'\n"
        "  format: json\n  rows: list\n  fields: {name: {json: n}}\nheaders: {X-Sig: '${GD_SIG}'}\n",
        encoding="utf-8",
    )
    (own / "bad.yaml").write_text("name: bad\nkind: registry\npages: {url: x, max_page: 2}\n", encoding="utf-8")
    p, target = init(tmp_path)
    assert "gd-api skipped: GD_KEY, GD_SIG not set" in p.stderr.splitlines()
    assert "broken source file:" in p.stderr and "bad.yaml" in p.stderr
    p, target = init(tmp_path, "--force", GD_KEY="a1", GD_SIG="b2")
    assert "gd-api" in load_settings(target).scan.sources


def test_demo_sources_only_under_demo(tmp_path):
    p, target = init(tmp_path, "--demo")
    assert p.returncode == 0, p.stderr
    s = load_settings(target)
    assert {"demo-registry", "demo-market-api"} <= set(s.scan.sources)
    assert Path(s.marks.path).is_file() and s.scan.loopback


def test_real_shipped_sources_use_https():
    """HTTPS wherever a provider offers it: every non-demo shipped source, its token step and its lookup."""
    for name, src in available_sources().items():
        if name.startswith("demo-") or not src.path.startswith(str(ROOT / "crawler" / "sources")):
            continue
        assert src.base_url.startswith("https://"), (name, src.base_url)
        for url in (src.pages.url, src.token.url if src.token else "", src.lookup.url if src.lookup else ""):
            assert not url or url.startswith(("{base}", "https://")), (name, url)


def test_a_config_listing_no_sources_never_scans_the_demo_worlds(tmp_path, monkeypatch):
    from markwatch.services.scan import resolve_sources

    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "markwatch.toml").write_text("[scan]\n", encoding="utf-8")
    names = {s.name for s in resolve_sources(load_settings(tmp_path / "markwatch.toml"))}
    assert names, "the keyless real sources are scanned"
    assert not {n for n in names if n.startswith("demo-")}
    assert {n for n in available_sources() if n.startswith("demo-")}, "the demo world's sources exist to be left out"
