"""`render: browser`: fetch a source's pages through headless Chromium (scrapy-playwright).

Only a crawler whose source asks for it gets the Playwright download handler; every other
source keeps Scrapy's own. Playwright cannot download its browser here, so Debian's `chromium`
is launched by path: setting MARKWATCH_CHROMIUM, else the first of chromium / chromium-browser /
google-chrome on PATH.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from alerts.extras import require
from crawler.errors import SourceError

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium(configured: str | None = None) -> str:
    if configured:
        return configured
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise SourceError("render: browser needs Chromium: install Debian's chromium or set MARKWATCH_CHROMIUM")


def browser_settings(settings: Any) -> dict[str, Any]:
    """The per-crawler settings that route this source's requests through Chromium."""
    require("scrapy_playwright", "browser", "render: browser")
    args = ["--headless=new", "--disable-gpu"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": find_chromium(settings.get("MARKWATCH_CHROMIUM")),
            "headless": True,
            "args": args,
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
    }


def browser_meta(source: Any) -> dict[str, Any]:
    """Request meta for one page: render it, and wait for the source's selector when it names one."""
    meta: dict[str, Any] = {"playwright": True}
    if source.wait_for:
        from scrapy_playwright.page import PageMethod

        meta["playwright_page_methods"] = [
            PageMethod("wait_for_selector", source.wait_for, state="attached", timeout=15000)
        ]
    return meta
