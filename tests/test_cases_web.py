"""The cases pages: sign-in, CSRF, escaping, opening/filing/resolving/closing, overdue highlighting,
dossier downloads (TestClient); and the same flow in a real headless Chromium (Selenium)."""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import unavailable
from fastapi.testclient import TestClient
from web_support import PASSWORD, alert, live_server, settings

from alerts import open_evidence, open_store
from markwatch.web import create_app

USCC = "914201000181BJ1X8M"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HOSTILE = '湖北一正<script>window.__pwned="case"</script>药业\u202e<img src=x onerror="window.__pwned=1">有限公司'
CHROMIUM = os.environ.get("MARKWATCH_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("MARKWATCH_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "artifacts"


def _seed(s):
    store, evidence = open_store(s), open_evidence(s)
    eid = evidence.put(
        "http://127.0.0.1:9/c/1",
        T0,
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        "<h1>湖北一正药业有限公司</h1><script>parent.__pwned='ev'</script>".encode(),
    )
    seed = alert("湖北一正药业有限公司", mark="一正", score=0.98, evidence_id=eid, item={"uscc": USCC, "name": "x"})
    hostile = alert(HOSTILE, mark="一正", score=0.9, item={"uscc": "91420100MA4KXXXXX1"})
    new = alert("上海九阳电器有限公司", score=0.9)
    store.upsert([seed, hostile, new])
    store.review([seed.id, hostile.id], "confirmed", who="li")
    return store, evidence, seed, hostile, new


@pytest.fixture
def site(tmp_path):
    s = settings(tmp_path)
    store, evidence, seed, hostile, new = _seed(s)
    with TestClient(create_app(s, store=store, evidence=evidence)) as c:
        c.ids = (seed.id, hostile.id, new.id)  # type: ignore[attr-defined]
        c.store = store  # type: ignore[attr-defined]
        yield c
    store.close()
    evidence.close()


def _login(c):
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"username": "li", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    return re.search(r'name="csrf-token" content="([^"]+)"', c.get("/cases").text).group(1)


def test_cases_need_sign_in_and_csrf(site):
    r = site.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert site.post("/cases", data={"alert_ids": site.ids[0]}, follow_redirects=False).status_code in (303, 403)
    token = _login(site)
    assert site.post("/cases", data={"alert_ids": site.ids[0], "csrf_token": "forged"}).status_code == 403
    # no case was opened: count links to cases, not "C-" anywhere (a random CSRF token may hold it)
    assert site.get("/cases").text.count('href="/cases/C-') == 0
    r = site.post("/cases", data={"alert_ids": site.ids[0][:12], "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/C-")
    assert site.post(r.headers["location"] + "/close", data={"reason": "x"}).status_code == 403
    assert site.get("/cases/C-zzzz").status_code == 404


def test_open_file_resolve_close_on_the_site(site):
    token = _login(site)
    r = site.post("/cases", data={"alert_ids": site.ids[2], "csrf_token": token})
    assert "confirm it first" in r.text  # a new alert cannot open a case
    r = site.post(
        "/cases", data={"alert_ids": site.ids[0], "note": "seed", "csrf_token": token}, follow_redirects=False
    )
    url = r.headers["location"]
    page = site.get(url).text
    assert "武汉市市场监督管理局" in page and "open 立案" in page and "/evidence/" in page
    r = site.post(
        url + "/file", data={"to": "武汉市市场监督管理局", "ref": "R-1", "deadline": "2020-01-01", "csrf_token": token}
    )
    assert "awaiting 等待期限" in r.text and 'id="overdue"' in r.text and "R-1" in r.text
    listing = site.get("/cases?overdue=1").text
    assert url.rsplit("/", 1)[1] in listing and 'class="overdue"' in listing
    r = site.post(url + "/resolve", data={"resolution": "renamed", "note": "已更名", "csrf_token": token})
    assert "resolved 已解决" in r.text and "renamed 已更名" in r.text and "reopen-button" in r.text
    r = site.post(url + "/close", data={"reason": "x", "csrf_token": token})
    assert "Not done" in r.text and "cannot close" in r.text
    assert site.get(f"/alerts/{site.ids[0]}").status_code == 200
    from alerts.sessions import AuditQuery

    events = site.store.audit_search(AuditQuery(action="case"))
    details = sorted((e.detail.split(":")[0], e.ok) for e in events)
    assert details == [("close", False), ("file", True), ("open", False), ("open", True), ("resolve", True)]
    assert all(e.user == "li" for e in events)


def test_hostile_entity_is_escaped_and_authority_unknown(site):
    token = _login(site)
    r = site.post("/cases", data={"alert_ids": site.ids[1], "csrf_token": token})
    assert "<script>window.__pwned" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;" in r.text and "\u202e" not in r.text
    assert "未知登记机关" in r.text  # an invalid credit code: no authority guessed
    assert "<script>window.__pwned" not in site.get("/cases").text


@pytest.mark.browser
def test_dossier_downloads(site):
    if not shutil.which("chromium"):
        unavailable("needs Debian chromium (scripts/test-deps installs it)")
    token = _login(site)
    url = site.post("/cases", data={"alert_ids": site.ids[0], "csrf_token": token}, follow_redirects=False).headers[
        "location"
    ]
    r = site.get(url + "/dossier.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert {"dossier.pdf", "letter.txt", "manifest.json"} <= set(zf.namelist())
    r = site.get(url + "/dossier.pdf")
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    assert site.get(url + "/dossier.exe").status_code == 404


def _need_browser() -> None:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        msg = f"no headless Chromium ({CHROMIUM}, {DRIVER})"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.mark.browser
def test_browser_open_file_and_resolve(tmp_path):
    _need_browser()
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    s = settings(tmp_path)
    store, evidence, seed, hostile, _ = _seed(s)
    app = create_app(s, store=store, evidence=evidence)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    prof = tempfile.mkdtemp(prefix="mw-cases-chrome-")
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1100",
        "--disable-background-networking",
        f"--user-data-dir={prof}",
    ):
        opts.add_argument(arg)
    try:
        with live_server(app) as base:
            d = webdriver.Chrome(service=Service(DRIVER), options=opts)
            d.set_page_load_timeout(30)
            wait = WebDriverWait(d, 20, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
            try:
                d.get(base + "/cases")
                assert "/login" in d.current_url
                d.find_element(By.ID, "username").send_keys("li")
                d.find_element(By.ID, "password").send_keys(PASSWORD)
                d.find_element(By.ID, "signin").click()
                wait.until(lambda _: d.current_url.endswith("/cases"))
                d.find_element(By.ID, "alert-ids").send_keys(f"{seed.id[:12]}")
                d.find_element(By.ID, "open-button").click()
                wait.until(lambda _: re.search(r"/cases/C-[0-9a-f]+$", d.current_url))
                assert "open" in d.find_element(By.ID, "case-state").text
                assert "武汉市市场监督管理局" in d.find_element(By.ID, "authority").text
                assert d.find_element(By.ID, "file-to").get_attribute("value") == "武汉市市场监督管理局"
                d.find_element(By.ID, "file-ref").send_keys("吉正投〔2026〕001号")
                d.find_element(By.ID, "file-button").click()
                wait.until(lambda _: "filed" in d.find_element(By.ID, "case-state").text)
                assert "吉正投〔2026〕001号" in d.find_element(By.ID, "filing").text
                assert d.find_element(By.ID, "deadline").text != "—"
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                d.save_screenshot(str(ARTIFACTS / "case-page-filed.png"))
                Select(d.find_element(By.ID, "resolution-select")).select_by_value("renamed")
                d.find_element(By.ID, "resolve-note").send_keys("已更名")
                d.find_element(By.ID, "resolve-button").click()
                wait.until(lambda _: "resolved" in d.find_element(By.ID, "case-state").text)
                rows = d.find_elements(By.CSS_SELECTOR, "#events tbody tr")
                assert [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows] == ["open", "file", "resolve"]
                d.save_screenshot(str(ARTIFACTS / "case-page-resolved.png"))
                d.get(base + "/cases")
                d.find_element(By.ID, "alert-ids").send_keys(hostile.id[:12])
                d.find_element(By.ID, "open-button").click()
                wait.until(lambda _: re.search(r"/cases/C-[0-9a-f]+$", d.current_url))
                assert "<script>" in d.find_element(By.ID, "entity").text  # shown as text
                assert d.execute_script("return window.__pwned === undefined")
                d.get(base + "/cases")
                assert len(d.find_elements(By.CSS_SELECTOR, "#cases tbody tr")) == 2
                d.save_screenshot(str(ARTIFACTS / "cases-list.png"))
            finally:
                d.quit()
    finally:
        store.close()
        evidence.close()
        shutil.rmtree(prof, ignore_errors=True)


def test_shared_read_only_alert_link_for_an_owner_without_an_account(site):
    """The digest's signed link opens one alert without sign-in; a forged, expired or revoked one does not."""
    from alerts.notify.links import make_token

    seed, hostile, _ = site.ids
    token = make_token("k" * 40, seed, "ip@yizheng.example")
    r = site.get(f"/shared/alerts/{token}", follow_redirects=False)
    assert r.status_code == 200 and "湖北一正药业有限公司" in r.text and USCC in r.text
    assert "武汉市市场监督管理局" in r.text  # the authority from the credit code
    assert "default-src 'none'" in r.headers["Content-Security-Policy"] and r.headers["Cache-Control"] == "no-store"
    assert "/alerts/" + seed not in r.text and "csrf" not in r.text.lower()  # nothing of the analysts' site
    bad = make_token("x" * 40, seed, "ip@yizheng.example")
    assert site.get(f"/shared/alerts/{bad}").status_code == 410
    evil = make_token("k" * 40, hostile, "ip@yizheng.example")
    body = site.get(f"/shared/alerts/{evil}").text
    assert "<script>window.__pwned" not in body and "&lt;script&gt;" in body
    site.app.state.settings.notify.links_valid_after = "2999-01-01T00:00:00+00:00"
    r = site.get(f"/shared/alerts/{token}")
    assert r.status_code == 410 and "revoked" in r.text
