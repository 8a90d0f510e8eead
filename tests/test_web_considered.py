"""The alert page's "also considered": the other marks the matcher weighed for the alert's text and
the rule that set each aside (issue 21 item 3), from the configured marks file, through the real app."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from test_web_api import signed_in
from web_support import alert, settings

from markwatch.config import MarksSettings
from markwatch.web import create_app

MARKS = """marks:
  - name: 九阳
    owner: 九阳股份有限公司
    well_known: true
    classes: [11]
  - name: 苏泊尔
    owner: 浙江苏泊尔股份有限公司
    classes: [21]
  - name: 海天
    owner: 佛山市海天调味食品股份有限公司
    classes: [30]
"""


def _client(store, tmp_path, marks: str | None):
    s = settings(tmp_path)
    if marks is not None:
        (tmp_path / "marks.yaml").write_text(marks, encoding="utf-8")
    s = s.model_copy(update={"marks": MarksSettings(path=tmp_path / "marks.yaml")})
    return TestClient(create_app(s, store=store))


@pytest.fixture
def alerts(store):
    shown = [alert("上海九阳苏泊电器有限公司"), alert("上海九阳<b>苏泊</b>电器有限公司")]
    store.upsert(shown)
    return shown


def _section(page: str) -> str:
    m = re.search(r'<section class="card" id="considered">(.*?)</section>', page, re.S)
    assert m, "no 'also considered' section"
    return m[1]


def test_the_alert_page_names_the_other_marks_weighed_and_why(store, tmp_path, alerts):
    with _client(store, tmp_path, MARKS) as client:
        signed_in(client)
        section = _section(client.get(f"/alerts/{alerts[0].id}").text)
    rows = [
        [unescape(re.sub(r"<[^>]+>", "", td)) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", section, re.S)
        if "<td" in tr
    ]
    assert ["苏泊尔", "苏泊", "0.53", "graded_below_threshold"] in rows
    assert all(r[0] != "九阳" for r in rows)  # the alert's own mark is the alert, not "also"
    assert all(r[0] != "海天" for r in rows)  # a mark nothing in the text raised is not listed


def test_what_the_page_shows_is_escaped(store, tmp_path, alerts):
    with _client(store, tmp_path, MARKS) as client:
        signed_in(client)
        page = client.get(f"/alerts/{alerts[1].id}").text
    assert "<b>苏泊</b>" not in page


def test_no_marks_file_no_section(store, tmp_path, alerts):
    with _client(store, tmp_path, None) as client:
        signed_in(client)
        page = client.get(f"/alerts/{alerts[0].id}")
    assert page.status_code == 200 and 'id="considered"' not in page.text


def test_the_alert_page_shows_the_declared_industry_and_founding_date(store, tmp_path):
    """What the source declared about the enterprise, which the matcher weighed, is on the page,
    escaped; an alert without them shows neither row."""
    a = alert("上海九阳电器有限公司")
    a = a.model_copy(
        update={"subject": a.subject.model_copy(update={"declared_industry": "<i>C38</i>", "founded": "2016-03-01"})}
    )
    bare = alert("北京九阳电器有限公司")
    store.upsert([a, bare])
    with _client(store, tmp_path, MARKS) as client:
        signed_in(client)
        page = client.get(f"/alerts/{a.id}").text
        other = client.get(f"/alerts/{bare.id}").text
    assert re.search(r'id="founded">2016-03-01<', page) and "&lt;i&gt;C38&lt;/i&gt;" in page and "<i>C38" not in page
    assert 'id="founded"' not in other and 'id="declared-industry"' not in other
