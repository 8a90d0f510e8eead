"""The review site in Chinese in a real headless Chromium, on SQLite and on Elasticsearch.

An admin signs in, reads the queue in compact rows (at least 15 on a 1440×900 screen), filters by a
facet, opens the company behind an alert and sees the related companies with the shared field
named, confirms an alert in place (the status tabs follow), and finds the review in the audit log
with the alert's name, a link and the note. Screenshots: var/artifacts/zh-queue-<store>.png,
zh-entity-<store>.png, zh-audit-<store>.png.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from test_web_browser import CHROMIUM, DRIVER, _need_browser, shot
from web_support import PASSWORD, T0, alert, company_alerts, drop_store, sample_alerts, settings

from alerts import open_store
from markwatch.web import create_app

pytestmark = pytest.mark.browser


def _queue_alerts() -> list:
    """The companies behind one person, the sample queue, and enough more to fill a screen."""
    extra = [
        alert(f"{city}九阳电器{n}号店有限公司", score=0.7 + (n % 5) * 0.05, now=T0 + timedelta(hours=n))
        for n, city in enumerate(
            ("北京", "天津", "重庆", "成都", "武汉", "南京", "西安", "长沙", "郑州", "济南", "青岛", "厦门")
        )
    ]
    return company_alerts() + sample_alerts()[:6] + extra


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def zh_site(request):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    es_url = request.getfixturevalue("es_url") if request.param == "elasticsearch" else None
    tmp = Path(tempfile.mkdtemp(prefix="mw-zh-"))
    s = settings(tmp, es_url, language="zh_CN")
    store = open_store(s)
    alerts = _queue_alerts()
    store.upsert(alerts)
    app = create_app(s, store=store)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,900",
        "--lang=zh-CN",
        f"--user-data-dir={tmp / 'chrome'}",
    ):
        opts.add_argument(arg)
    from web_support import live_server

    with live_server(app) as base:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.set_page_load_timeout(30)
        try:
            yield {"base": base, "driver": driver, "store": store, "alerts": alerts, "kind": request.param}
        finally:
            driver.quit()
            drop_store(store)
            store.close()
            shutil.rmtree(tmp, ignore_errors=True)


def test_chinese_review_day(zh_site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d, base, kind = zh_site["driver"], zh_site["base"], zh_site["kind"]
    d.get(base + "/alerts")
    assert "/login" in d.current_url and "登录" in d.page_source
    d.find_element(By.ID, "username").send_keys("boss")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "signin").click()
    WebDriverWait(d, 15).until(lambda _: "/login" not in d.current_url)

    # Compact rows: at least 15 whole rows on the 1440×900 screen.
    d.get(base + "/alerts?status=new&density=compact&size=50")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert "队列" in d.find_element(By.ID, "nav-queue").text
    visible = d.execute_script(
        "return Array.from(document.querySelectorAll('#alerts tbody tr')).filter("
        "r => r.getBoundingClientRect().bottom <= window.innerHeight).length"
    )
    assert visible >= 15, visible
    shot(d, f"zh-queue-{kind}")

    # A facet: one registering authority.
    link = d.find_element(By.CSS_SELECTOR, '#facet-authority a[data-value="上海市浦东新区市场监督管理局"]')
    assert link.find_element(By.CSS_SELECTOR, ".n").text == "1"
    link.click()
    WebDriverWait(d, 15).until(lambda _: "authority=" in d.current_url)
    rows = d.find_elements(By.CSS_SELECTOR, "#alerts tbody tr")
    assert len(rows) == 1 and "上海九阳电器有限公司" in rows[0].text
    assert "登记机关" in d.find_element(By.ID, "chips").text

    # The company behind it, and the companies behind the same person.
    rows[0].find_element(By.CSS_SELECTOR, "a.title").click()
    WebDriverWait(d, 15).until(lambda _: "/alerts/" in d.current_url)
    assert "关联主体" in d.find_element(By.ID, "related").text
    d.find_element(By.CSS_SELECTOR, "a.entity").click()
    WebDriverWait(d, 15).until(lambda _: "/entity" in d.current_url)
    related = d.find_element(By.ID, "related").text
    assert "深圳九阳厨具有限公司" in related and "法定代表人 王建国" in related and "住所" in related
    assert "苏州九阳电器销售有限公司" in related and "电话 / 邮箱" in related
    assert "广州九阳五金有限公司" not in related
    shot(d, f"zh-entity-{kind}")

    # Review in place from the queue: the tabs' counts follow.
    d.get(base + "/alerts?status=new&density=compact&sort=-score")
    new_before = int(d.find_element(By.CSS_SELECTOR, "#tab-new .n").text)
    confirmed_before = int(d.find_element(By.CSS_SELECTOR, "#tab-confirmed .n").text)
    row = d.find_element(By.CSS_SELECTOR, "#alerts tbody tr")
    alert_id = row.get_attribute("data-id")
    d.find_element(By.TAG_NAME, "body").send_keys("c")
    WebDriverWait(d, 10).until(lambda _: "已确认" in row.find_element(By.CSS_SELECTOR, ".badge").text)
    WebDriverWait(d, 10).until(lambda _: int(d.find_element(By.CSS_SELECTOR, "#tab-new .n").text) == new_before - 1)
    assert int(d.find_element(By.CSS_SELECTOR, "#tab-confirmed .n").text) == confirmed_before + 1
    got = zh_site["store"].get(alert_id)
    assert got.status == "confirmed" and got.history[-1].who == "boss"

    # The audit log: the review with the alert's name and a link to it.
    d.find_element(By.ID, "nav-audit").click()
    WebDriverWait(d, 15).until(lambda _: "/admin/audit" in d.current_url)
    row = next(r for r in d.find_elements(By.CSS_SELECTOR, "#audit tr.a-review"))
    assert "审核" in row.text and "boss" in row.text and got.subject.text in row.text
    assert row.find_element(By.CSS_SELECTOR, "a.target").get_attribute("href").endswith(f"/alerts/{alert_id}")
    shot(d, f"zh-audit-{kind}")
