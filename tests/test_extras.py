"""A configured feature whose extra is not installed: one line naming the extra, exit code 2.

The missing package is simulated the way Python sees one: ``sys.modules[name] = None`` makes its
import raise ImportError, whatever is installed here.
"""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from alerts.extras import MissingExtra, require
from markwatch.cli import app
from markwatch.errors import exit_code_for


@pytest.mark.parametrize(
    "module,extra,feature",
    [
        ("scrapy_playwright", "browser", "render: browser"),
        ("elasticsearch", "es", "[store] urls (Elasticsearch)"),
        ("scrapy_redis", "redis", '[queue] backend = "redis"'),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(monkeypatch, module, extra, feature):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingExtra) as err:
        require(module, extra, feature)
    assert str(err.value) == f"{feature} needs the '{extra}' extra: pip install 'markwatch[{extra}]'"
    assert exit_code_for(err.value) == 2


def test_render_browser_without_the_extra(monkeypatch):
    from crawler.browser import browser_settings

    monkeypatch.setitem(sys.modules, "scrapy_playwright", None)
    with pytest.raises(
        MissingExtra, match=r"^render: browser needs the 'browser' extra: pip install 'markwatch\[browser\]'$"
    ):
        browser_settings({})


def test_redis_queue_without_the_extra(monkeypatch):
    from markwatch.config import QueueSettings
    from markwatch.services.distributed import check_redis

    monkeypatch.setitem(sys.modules, "scrapy_redis", None)
    with pytest.raises(MissingExtra, match=r"'redis' extra"):
        check_redis(QueueSettings(backend="redis"))


def test_cli_with_an_elasticsearch_store_but_no_client(tmp_path, monkeypatch):
    for k in [k for k in __import__("os").environ if k.startswith("MARKWATCH_") and k != "MARKWATCH_ES_URL"]:
        monkeypatch.delenv(k)
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text('[store]\nurls = ["http://127.0.0.1:9"]\n', encoding="utf-8")
    monkeypatch.setitem(sys.modules, "elasticsearch", None)
    r = CliRunner().invoke(app, ["alerts", "search", "--config", str(cfg)])
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert lines == ["error: [store] urls (Elasticsearch) needs the 'es' extra: pip install 'markwatch[es]'"]
