"""Digest rendering: subject, both parts, grouping, cap, and hostile crawled text."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest

from alerts.notify.model import DigestItem
from alerts.notify.render import message_id_for, render_digest, subject_for
from alerts.notify.sanitize import display_text, header_text, safe_href

SENDER = "markwatch <alerts@markwatch.example>"
BASE = "https://review.example/mw/"
NOW = datetime(2025, 3, 2, 9, 30, tzinfo=UTC)

HOSTILE = (
    '吉林<script>alert("x")</script>一\u200b正药业<img src=x onerror=alert(1)>\r\n'
    "Bcc: victim@evil.example\r\n\r\n<a href='http://evil'>click</a>\u202egnp.exe\x00\x1b[31m"
)


def item(aid: str, mark: str = "一正", name: str = "吉林一正药业有限公司", score: float = 0.9, **kw) -> DigestItem:
    return DigestItem(alert_id=aid, mark=mark, name=name, score=score, **kw)


def parse(rendered):
    return email.message_from_bytes(rendered.as_bytes(), policy=policy.default)


def test_subject_counts_and_marks():
    assert subject_for([item("a"), item("b"), item("c")]) == "[markwatch] 3 new suspected imitations of 一正"
    assert subject_for([item("a")]) == "[markwatch] 1 new suspected imitation of 一正"
    many = [item(str(i), mark=m) for i, m in enumerate(["一正", "九阳", "九牧", "立白", "卫龙"])]
    assert subject_for(many) == "[markwatch] 5 new suspected imitations of 一正, 九阳, 九牧 and 2 more marks"


def test_digest_has_both_parts_headers_and_links():
    items = [
        item(
            "a1",
            score=0.95,
            source="qcc",
            url="https://qcc.example/firm/1?x=1&y=2",
            reasons=("contains the mark 一正", "same industry 药业"),
            first_seen=datetime(2025, 3, 1, 8, 0),
        ),
        item("b/2", mark="九阳", name="九阳小家电旗舰店 豆浆机", kind="listing", source="taobao", score=0.8),
    ]
    msg = parse(render_digest("ip@yizheng.example", items, sender=SENDER, base_url=BASE, now=NOW))
    assert msg["Subject"] == "[markwatch] 2 new suspected imitations of 一正, 九阳"
    assert msg["To"] == "ip@yizheng.example"
    assert msg["From"] == SENDER
    assert msg["Message-ID"] == message_id_for("ip@yizheng.example", ["a1", "b/2"], SENDER)
    assert msg["Message-ID"].endswith("@markwatch.example>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for part in (text, html):
        assert "吉林一正药业有限公司" in part and "九阳小家电旗舰店 豆浆机" in part
        assert "0.95" in part and "0.80" in part
        assert "contains the mark 一正" in part and "same industry 药业" in part
        assert "2025-03-01 08:00 UTC" in part
        assert "qcc" in part and "taobao" in part
    assert "https://review.example/mw/alerts/a1" in text
    assert "https://review.example/mw/alerts/b%2F2" in text  # ids are quoted into the path
    assert 'href="https://review.example/mw/alerts/a1"' in html
    assert 'href="https://qcc.example/firm/1?x=1&amp;y=2"' in html
    # grouped by mark, each group headed by the mark and its count
    head = text.index("== 一正 (1) ==")
    assert head < text.index("吉林一正", head) < text.index("== 九阳 (1) ==")


def test_same_alerts_same_message_id_regardless_of_order():
    a = message_id_for("X@Example.com", ["2", "1"], SENDER)
    assert a == message_id_for("x@example.com", ["1", "2"], SENDER)
    assert a != message_id_for("x@example.com", ["1", "2", "3"], SENDER)
    assert a != message_id_for("y@example.com", ["1", "2"], SENDER)


def test_hostile_name_is_escaped_in_html_and_cannot_inject_headers():
    bad_url = "javascript:alert(document.cookie)"
    items = [
        item(
            "h1",
            name=HOSTILE,
            source="<b>src</b>\r\nX-Evil: 1",
            url=bad_url,
            reasons=("<script>r()</script>\nBcc: x@y",),
        )
    ]
    rendered = render_digest("ip@yizheng.example", items, sender=SENDER, base_url=BASE, now=NOW)
    raw = rendered.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Bcc" not in head and b"X-Evil" not in head and b"victim" not in head
    msg = parse(rendered)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "<script" not in html and "<img" not in html and "<a href='http://evil'" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;src&lt;/b&gt;" in html
    assert 'href="javascript' not in html and "javascript:alert(document.cookie)" in html  # shown, not linked
    # invisible characters are made visible, never passed through
    for part in (text, html):
        assert "\u200b" not in part and "\u202e" not in part and "\x00" not in part and "\x1b" not in part
        assert "⟨U+200B⟩" in part and "⟨U+202E⟩" in part
    # the name stays on one line in the text part
    line = next(ln for ln in text.splitlines() if "吉林" in ln)
    assert "Bcc: victim@evil.example" in line


def test_hostile_mark_name_cannot_inject_headers():
    items = [item("m1", mark="一正\r\nBcc: all@evil.example\r\nX-Y: z")]
    rendered = render_digest("ip@yizheng.example", items, sender=SENDER, base_url=BASE, now=NOW)
    msg = parse(rendered)
    assert msg["Bcc"] is None and msg["X-Y"] is None
    assert "\r" not in msg["Subject"] and "\n" not in msg["Subject"]
    assert msg["Subject"].startswith("[markwatch] 1 new suspected imitation of 一正 Bcc: all@evil")


def test_huge_name_is_truncated():
    items = [item("big", name="九阳" * 500_000)]
    text = (
        parse(render_digest("a@b.example", items, sender=SENDER, base_url=BASE, now=NOW))
        .get_body(("plain",))
        .get_content()
    )
    assert len(text) < 5_000
    assert "…" in text


def test_long_digest_is_capped_fairly_and_says_how_many_more():
    items = [item(f"y{i}", score=0.99 - i / 1000) for i in range(30)]
    items += [item(f"j{i}", mark="九阳", score=0.5) for i in range(3)]
    rendered = render_digest("a@b.example", items, sender=SENDER, base_url=BASE, max_items=10, now=NOW)
    assert rendered.shown == 10
    assert set(rendered.alert_ids) == {it.alert_id for it in items}  # all covered, 10 listed
    msg = parse(rendered)
    assert msg["Subject"] == "[markwatch] 33 new suspected imitations of 一正, 九阳"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "This digest lists 10 of them; 23 more are on the review page" in text
    assert "and 23 more for 一正" in text  # 7 of 30 shown
    assert text.count("Review: ") == 10
    assert "alerts/j0" in text  # the small mark is not crowded out by the big one
    assert "alerts/y0" in text and "alerts/y29" not in text  # best first
    assert "mark=%E4%B8%80%E6%AD%A3&amp;status=new" in html


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("https://a.example/x?y=1", True),
        ("http://a.example", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("https://a.example/\nx", False),
        ("//a.example", False),
        ("https://a.example/ x", False),
        (None, False),
    ],
)
def test_safe_href(raw, ok):
    assert safe_href(raw) == (raw if ok else None)


def test_text_helpers():
    assert header_text("a\r\nb\tc\x00d") == "a b c d"
    assert display_text("a\u200bb") == "a⟨U+200B⟩b"
    assert display_text("x" * 300, 10) == "x" * 9 + "…"
    assert display_text("  a \n\n b  ") == "a b"
    assert display_text("全角\u3000空格") == "全角 空格"


def test_digest_lists_the_most_likely_first_and_says_how_likely():
    """Sorted by calibrated probability (ties: score, first seen, id), shown as a percentage."""
    items = [
        item("hi-score", name="高分低概率", score=0.99, probability=0.62),
        item("likely", name="最可能", score=0.8, probability=0.97),
        item("tie-new", name="同分新", score=0.85, probability=0.9, first_seen=datetime(2025, 3, 2, 8, 0)),
        item("tie-old", name="同分旧", score=0.85, probability=0.9, first_seen=datetime(2025, 3, 1, 8, 0)),
        item("derived", name="旧告警", score=0.95),  # made without a probability: that of its score
    ]
    msg = parse(render_digest("ip@yizheng.example", items, sender=SENDER, base_url=BASE, now=NOW))
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    from alerts.model import probability_of

    # The old alert sorts by the probability its score calibrates to (matcher/data/calibration.tsv),
    # before any alert it beats and, on a tie, before lower scores.
    derived = probability_of(0.95)
    others = [("最可能", 0.97), ("同分旧", 0.9), ("同分新", 0.9), ("高分低概率", 0.62)]
    want = [n for n, q in others if q > derived] + ["旧告警"] + [n for n, q in others if q <= derived]
    order = sorted(["最可能", "同分旧", "同分新", "高分低概率", "旧告警"], key=text.index)
    assert order == want
    # the calibrated chance in words (高 / 中 / 低), not a bare percentage
    assert "likelihood: high (score 0.80)" in text and "likelihood: medium (score 0.99)" in text
    assert "<strong>likelihood: high</strong>" in html and "score 0.80" in html
    assert sorted(["最可能", "同分旧", "高分低概率"], key=html.index) == ["最可能", "同分旧", "高分低概率"]
    zh = parse(render_digest("ip@yizheng.example", items, sender=SENDER, base_url=BASE, now=NOW, language="zh"))
    assert "侵权可能性：高（相似度 0.80）" in zh.get_body(("plain",)).get_content()
    assert "可能性：高" in zh.get_body(("html",)).get_content()


def test_the_digest_cap_keeps_the_most_likely():
    items = [item(f"s{i}", score=0.99, probability=0.6) for i in range(5)]
    items += [item(f"p{i}", score=0.7, probability=0.95) for i in range(5)]
    r = render_digest("ip@yizheng.example", items, sender=SENDER, base_url=BASE, now=NOW, max_items=5)
    text = parse(r).get_body(("plain",)).get_content()
    assert all(f"/alerts/p{i}" in text for i in range(5)) and not any(f"/alerts/s{i}" in text for i in range(5))


def test_digest_a_brand_owner_acts_on():
    """Credit code, authority, suggested route, likelihood in words, the owner's time zone, a summary
    table at the top, a CSV attachment, and signed read-only links instead of the analysts' site."""
    from alerts.notify.links import LinkError, make_token, read_token

    items = [
        item(
            "a1",
            name="湖北一正药业有限公司",
            score=0.95,
            probability=0.97,
            uscc="914201000181BJ1X8M",
            authority="武汉市市场监督管理局",
            first_seen=datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
        ),
        item("b2", name="一正牌 药盒 1:1", kind="listing", score=0.7, probability=0.3, url="https://m.example/i/2"),
    ]
    key = "k" * 32
    r = render_digest(
        "ip@yizheng.example",
        items,
        sender=SENDER,
        base_url=BASE,
        now=NOW,
        language="zh",
        timezone="Asia/Shanghai",
        attach_csv=True,
        link_for=lambda it: (
            f"https://review.example/mw/shared/alerts/{make_token(key, it.alert_id, 'ip@yizheng.example')}"
        ),
        page_for=lambda it: "https://registry.example/company?uscc=" + it.uscc if it.uscc else None,
    )
    msg = parse(r)
    text = msg.get_body(("plain",)).get_content()
    assert text.index("一览") < text.index("== 一正 (2) ==")
    assert "[高] 湖北一正药业有限公司 | 914201000181BJ1X8M | 向武汉市市场监督管理局提出企业名称争议" in text
    assert "[低] 一正牌 药盒 1:1 | 向平台投诉" in text
    assert "统一社会信用代码：914201000181BJ1X8M　登记机关：武汉市市场监督管理局" in text
    assert "首次发现 2025-03-01 16:00 Asia/Shanghai" in text  # 08:00 UTC in the owner's zone
    assert "https://registry.example/company?uscc=914201000181BJ1X8M" in text
    assert "/mw/alerts/" not in text and "审核" not in text  # no link to the analysts' site
    link = next(line.split("：", 1)[1] for line in text.splitlines() if "只读链接" in line)
    assert read_token(key, link.rsplit("/", 1)[1], max_days=30)[0] == "a1"
    with pytest.raises(LinkError, match="revoked"):
        read_token(key, link.rsplit("/", 1)[1], max_days=30, valid_after=datetime.now(UTC).replace(year=2099))
    with pytest.raises(LinkError, match="not valid"):
        read_token("other-key-" * 4, link.rsplit("/", 1)[1], max_days=30)
    att = next(p for p in msg.iter_attachments() if p.get_filename() == "markwatch-digest.csv")
    csv_text = att.get_content() if isinstance(att.get_content(), str) else att.get_content().decode("utf-8-sig")
    assert "可能性" in csv_text and "914201000181BJ1X8M" in csv_text and "高" in csv_text
