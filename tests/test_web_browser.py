"""The review site in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Signs in, filters, opens and confirms an alert, reviews from the keyboard, and loads alerts whose
titles, sellers, items and captured page were written to run code — and proves nothing ran and the
captured page reached nothing. Screenshots go to var/artifacts/ (git-ignored).
"""

from __future__ import annotations

import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from web_support import HOSTILE_TITLE, PASSWORD, hostile_alerts, live_server, sample_alerts, settings

from alerts import AlertQuery, open_evidence, open_store
from markwatch.web import create_app

CHROMIUM = os.environ.get("MARKWATCH_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("MARKWATCH_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "artifacts"

pytestmark = pytest.mark.browser


def _need_browser() -> None:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        msg = f"no headless Chromium ({CHROMIUM}, {DRIVER}): apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


class Beacon(http.server.ThreadingHTTPServer):
    """Records every request: anything the captured page manages to load lands here."""

    hits: list[str]


class _BeaconHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    tmp = Path(tempfile.mkdtemp(prefix="mw-web-"))
    beacon = Beacon(("127.0.0.1", 0), _BeaconHandler)
    beacon.hits = []
    threading.Thread(target=beacon.serve_forever, daemon=True).start()
    beacon_url = f"http://127.0.0.1:{beacon.server_address[1]}/"

    s = settings(tmp)
    store, evidence = open_store(s), open_evidence(s)
    alerts = sample_alerts(evidence)[:-2] + hostile_alerts(evidence, beacon=beacon_url)
    store.upsert(alerts)
    app = create_app(s, store=store, evidence=evidence)

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=en-US",
        f"--user-data-dir={tmp / 'chrome'}",
    ):
        opts.add_argument(arg)
    with live_server(app) as base:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.set_page_load_timeout(30)
        try:
            yield {"base": base, "driver": driver, "store": store, "beacon": beacon, "alerts": alerts}
        finally:
            driver.quit()
            beacon.shutdown()
            store.close()
            evidence.close()
            shutil.rmtree(tmp, ignore_errors=True)


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def sign_in(site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = site["driver"]
    d.get(site["base"] + "/alerts?status=new")
    if "/login" not in d.current_url:
        return
    d.find_element(By.ID, "username").send_keys("li")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "signin").click()
    WebDriverWait(d, 15).until(lambda _: "/login" not in d.current_url)
    assert "/alerts" in d.current_url


def nothing_ran(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    assert driver.execute_script("return window.__pwned === undefined")
    assert driver.title != "pwned"
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018


def test_sign_in_filter_open_and_confirm(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    d = site["driver"]
    d.delete_all_cookies()
    d.get(site["base"] + "/alerts")
    assert "/login" in d.current_url  # nothing without signing in
    sign_in(site)
    Select(d.find_element(By.ID, "f-mark")).select_by_value("九阳")
    Select(d.find_element(By.ID, "f-kind")).select_by_value("enterprise")
    d.find_element(By.ID, "apply").click()
    WebDriverWait(d, 15).until(lambda _: "kind=enterprise" in d.current_url)
    rows = WebDriverWait(d, 15).until(lambda _: d.find_elements(By.CSS_SELECTOR, "#alerts tbody tr"))
    marks = {r.find_element(By.CSS_SELECTOR, "td.mark").text.split()[0] for r in rows}
    assert rows and marks == {"九阳"}
    assert "九牧王卫浴" not in d.page_source
    shot(d, "queue")

    target = next(r for r in rows if "上海九阳电器有限公司" in r.text)
    alert_id = target.get_attribute("data-id")
    target.find_element(By.CSS_SELECTOR, "a.title").click()
    WebDriverWait(d, 15).until(lambda _: f"/alerts/{alert_id}" in d.current_url)
    assert d.find_element(By.CSS_SELECTOR, "#subject mark").text == "九阳"
    assert "New" in d.find_element(By.ID, "status").text
    assert "verified" in d.find_element(By.ID, "sha").text
    shot(d, "alert")

    d.find_element(By.ID, "note").send_keys("字号与九阳相同，行业相同")
    d.find_element(By.ID, "confirm").click()  # the next alert of the filter opens
    WebDriverWait(d, 15).until(lambda _: alert_id not in d.current_url)
    d.get(f"{site['base']}/alerts/{alert_id}")
    assert "Confirmed" in d.find_element(By.ID, "status").text
    history = d.find_element(By.ID, "history").text
    assert "li" in history and "字号与九阳相同" in history
    saved = site["store"].get(alert_id)
    assert saved.status == "confirmed" and saved.history[-1].who == "li"


def test_keyboard_review_moves_on(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = site["driver"]
    sign_in(site)
    d.get(site["base"] + "/alerts?status=new&mark=立白")
    row = d.find_element(By.CSS_SELECTOR, "#alerts tbody tr")
    alert_id = row.get_attribute("data-id")
    body = d.find_element(By.TAG_NAME, "body")
    body.send_keys("d")
    WebDriverWait(d, 10).until(lambda _: "Dismissed" in row.find_element(By.CSS_SELECTOR, ".badge").text)
    got = site["store"].get(alert_id)
    assert got.status == "dismissed" and got.history[-1].who == "li"


def test_hostile_text_runs_nothing_and_evidence_reaches_nothing(site):
    from selenium.webdriver.common.by import By

    d = site["driver"]
    sign_in(site)
    d.get(site["base"] + "/alerts?sort=-score")
    nothing_ran(d)
    assert HOSTILE_TITLE.split("九阳")[0] in d.find_element(By.ID, "alerts").text  # shown, as text
    shot(d, "queue-hostile")

    store = site["store"]
    hostile = [a for a in store.search(AlertQuery(size=100)).items if "<" in a.subject.text]
    assert len(hostile) == 2
    for a in hostile:
        d.get(f"{site['base']}/alerts/{a.id}")
        nothing_ran(d)
        assert "<script>" in d.find_element(By.ID, "subject").text or "<a href" in d.find_element(By.ID, "subject").text
        for link in d.find_elements(By.TAG_NAME, "a"):
            assert not (link.get_attribute("href") or "").lower().startswith("javascript:")
        if a.evidence_id:
            frame = d.find_element(By.ID, "evidence-frame")
            assert frame.get_attribute("sandbox") == ""  # sandboxed, nothing allowed
            assert d.find_element(By.ID, "evidence-url").tag_name == "span"  # javascript: is no link
            d.switch_to.frame(frame)
            assert "九阳" in d.find_element(By.TAG_NAME, "h1").text  # the page is there…
            d.switch_to.default_content()
            d.execute_script("arguments[0].scrollIntoView()", frame)
            shot(d, "alert-hostile")
            import time

            time.sleep(1.5)  # give a meta refresh or late load the chance to happen
            nothing_ran(d)
    assert site["beacon"].hits == []  # …and it loaded, refreshed and submitted nothing


def test_sign_out_kills_the_old_cookie(site):
    """Sign in, keep the session cookie, sign out with the button: replaying the cookie (in the
    browser and from a script) gets the sign-in page and 401, not the queue."""
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = site["driver"]
    d.delete_all_cookies()
    sign_in(site)
    kept = d.get_cookie("markwatch_session")
    assert kept and kept["httpOnly"] and kept.get("sameSite") == "Strict"
    with httpx.Client(base_url=site["base"], cookies={"markwatch_session": kept["value"]}) as c:
        assert c.get("/api/alerts").status_code == 200  # the cookie works while signed in
    d.find_element(By.ID, "sign-out").click()
    WebDriverWait(d, 15).until(lambda _: "/login" in d.current_url)
    shot(d, "signed-out")
    d.add_cookie({"name": "markwatch_session", "value": kept["value"], "path": "/"})  # replay it
    d.get(site["base"] + "/alerts")
    assert "/login" in d.current_url
    with httpx.Client(base_url=site["base"], cookies={"markwatch_session": kept["value"]}) as c:
        assert c.get("/api/alerts").status_code == 401
        assert c.get("/alerts", follow_redirects=False).status_code == 303
