"""Digests in the brand owner's language: [notify] language = "zh" (default) or "en", per recipient."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

from alerts.notify.model import DigestItem
from alerts.notify.recipients import recipients_for
from alerts.notify.render import render_digest
from alerts.notify.settings import NotifySettings
from matcher.marksfile import parse_marks

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HOSTILE = '湖北一正<script>alert("x")</script>\u202e药业\r\nBcc: victim@evil.example'


def _item(name: str = "湖北一正药业有限公司") -> DigestItem:
    return DigestItem(
        alert_id="a" * 32,
        mark="一正",
        name=name,
        score=0.95,
        reasons=("uses 一正 as its trade name (字号)",),
        reasons_zh=("以“一正”作为企业字号",),
    )


def _parts(rendered):
    msg = email.message_from_bytes(rendered.as_bytes(), policy=policy.default)
    return msg, msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_chinese_digest():
    msg, text, html = _parts(
        render_digest(
            "ip@yizheng.example",
            [_item()],
            sender="m <m@x.example>",
            base_url="https://r.example",
            now=NOW,
            language="zh",
        )
    )
    assert msg["Subject"] == "[markwatch] 发现 1 个疑似仿冒“一正”的名称或商品"
    assert "以“一正”作为企业字号" in text and "trade name" not in text and "相似度 0.95" in text
    assert 'lang="zh"' in html and "审核此条" in html and "以“一正”作为企业字号" in html


def test_english_digest_unchanged():
    msg, text, _ = _parts(
        render_digest(
            "ip@yizheng.example",
            [_item()],
            sender="m <m@x.example>",
            base_url="https://r.example",
            now=NOW,
            language="en",
        )
    )
    assert msg["Subject"] == "[markwatch] 1 new suspected imitation of 一正"
    assert "uses 一正 as its trade name" in text and "以“一正”" not in text


def test_hostile_name_in_chinese_digest():
    msg, text, html = _parts(
        render_digest(
            "a@x.example",
            [_item(HOSTILE)],
            sender="m <m@x.example>",
            base_url="https://r.example",
            now=NOW,
            language="zh",
        )
    )
    assert msg["Bcc"] is None and "<script>" not in html and "\u202e" not in text + html


def test_language_per_recipient_default_zh():
    marks = parse_marks("marks:\n  - name: 一正\n    owner: O\n    notify: [a@x.example, b@x.example]\n", "marks.yaml")
    s = NotifySettings.model_validate({"recipients": {"B@x.example": {"language": "en"}}})
    assert {r.address: r.language for r in recipients_for(marks, s)} == {"a@x.example": "zh", "b@x.example": "en"}
    s = NotifySettings.model_validate({"language": "en"})
    assert {r.language for r in recipients_for(marks, s)} == {"en"}
