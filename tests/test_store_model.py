"""The alert model, the merge rule, evidence storage and markwatch.toml loading."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest

from alerts.evidence import EvidenceCorrupt, EvidenceNotFound, EvidenceStore
from alerts.model import alert_id, merge_seen
from markwatch.config import load_settings
from markwatch.errors import ConfigError

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_alert_id_is_stable_and_distinct():
    a = alert_id("uscc:91310000MA1X", "九阳")
    assert a == alert_id("uscc:91310000MA1X", "九阳") and len(a) == 32
    assert a == alert_id("uscc:91310000MA1X ", "九阳")  # whitespace around parts does not matter
    assert (
        len(
            {
                a,
                alert_id("uscc:91310000MA1Y", "九阳"),
                alert_id("uscc:91310000MA1X", "九牧"),
                alert_id("uscc:91310000MA1", "X九阳"),
            }
        )
        == 4
    )


def test_alert_from_hit_fills_everything(make_alert):
    a = make_alert(now=datetime(2026, 3, 1, 16, 0))  # naive = UTC
    assert a.entity == "name:上海九阳电器有限公司|上海"  # no credit code: the name and region
    assert a.id == alert_id(a.entity, "九阳")
    assert [(sg.source, sg.subject_key, sg.times_seen) for sg in a.sightings] == [("gsxt", "上海九阳电器有限公司", 1)]
    assert (a.subject.region, a.subject.trade_name, a.subject.industry, a.subject.form) == (
        "上海",
        "九阳",
        "电器",
        "有限公司",
    )
    assert a.status == "new" and a.times_seen == 1 and a.first_seen == a.last_seen
    assert a.first_seen.tzinfo is not None and a.reasons[0].code == "contains_mark"
    assert a.to_doc()["first_seen"] == "2026-03-01T16:00:00.000000Z"


def test_merge_rule(make_alert):
    old = make_alert()
    assert merge_seen(old, make_alert()) is None
    assert merge_seen(old, make_alert(now=T0 - timedelta(days=1))) is None  # an older replay
    new = merge_seen(old, make_alert(now=T0 + timedelta(days=1), score=0.5))
    # The score is the best seen; the later sighting still counts and moves last_seen.
    assert new.times_seen == 2 and new.first_seen == T0 and new.score == 0.9
    assert new.last_seen == T0 + timedelta(days=1)
    better = merge_seen(new, make_alert(now=T0 + timedelta(days=2), score=0.95))
    assert better.score == 0.95 and better.times_seen == 3 and len(better.sightings) == 1


def test_evidence_put_get_dedupe_and_tamper(tmp_path):
    ev = EvidenceStore(tmp_path / "evidence.sqlite")
    body = ("<html>九阳豆浆机 正品</html>" * 200).encode()
    eid = ev.put("https://a.example/1", T0, 200, {b"Content-Type": [b"text/html"]}, body)
    again = ev.put("https://b.example/2", T0 + timedelta(hours=1), 200, {}, body)
    assert eid == again and len(eid) == 64
    rec = ev.get(eid)
    assert rec.body == body and rec.url == "https://a.example/1" and rec.headers == {"Content-Type": "text/html"}
    assert [c.url for c in rec.captures] == ["https://a.example/1", "https://b.example/2"]
    packed = ev.db.execute("SELECT length(body) FROM evidence").fetchone()[0]
    assert packed < len(body) / 10  # stored compressed
    ev.db.execute("UPDATE evidence SET body = ? WHERE id = ?", (zlib.compress(b"altered"), eid))
    with pytest.raises(EvidenceCorrupt):
        ev.get(eid)
    with pytest.raises(EvidenceNotFound):
        ev.get("0" * 64)
    with pytest.raises(TypeError):
        ev.put("u", T0, 200, {}, "not bytes")  # type: ignore[arg-type]
    ev.close()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in [v for v in list(__import__("os").environ) if v.startswith("MARKWATCH_")]:
        monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_config_defaults_file_and_env(clean_env, monkeypatch):
    s = load_settings()
    assert s.store.backend == "sqlite" and s.source == "<defaults>"
    (clean_env / "markwatch.toml").write_text(
        '[store]\nurls = ["https://es1:9200", "https://es2:9200"]\nusername = "mw"\npassword = "pw"\n'
        'ca_certs = "/etc/ca.pem"\n\n[marks]\npath = "my-marks.yaml"\n',
        encoding="utf-8",
    )
    s = load_settings()
    assert s.store.backend == "elasticsearch" and s.store.urls[1] == "https://es2:9200"
    assert s.store.password.get_secret_value() == "pw" and "pw" not in repr(s)
    assert str(s.marks.path) == "my-marks.yaml"
    monkeypatch.setenv("MARKWATCH_STORE_URLS", "http://127.0.0.1:9200")
    monkeypatch.setenv("MARKWATCH_STORE_TIMEOUT", "2.5")
    s = load_settings()
    assert s.store.urls == ["http://127.0.0.1:9200"] and s.store.timeout == 2.5
    monkeypatch.setenv("MARKWATCH_STORE_RETRIES", "many")
    with pytest.raises(ConfigError, match=r"^MARKWATCH_STORE_RETRIES \(environment\): key 'store.retries'"):
        load_settings()


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[store]\nsqlite_path = "a"\n\nretries = -1\n', r"cfg.toml:4: key 'store.retries': .*greater than or equal"),
        ('[store]\nurl = "http://x"\n', r"cfg.toml:2: key 'store.url': unknown key"),
        ('[store]\nurls = ["ftp://x"]\n', r"cfg.toml:2: key 'store.urls': .*not an http"),
        ("[store\nurls = 1\n", r"cfg.toml:1: invalid TOML"),
        ("[nonsense]\na = 1\n", r"cfg.toml:1: key 'nonsense': unknown key"),
    ],
)
def test_config_errors_name_file_line_key(clean_env, text, expected):
    (clean_env / "cfg.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as info:
        load_settings("cfg.toml")
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def test_config_named_file_must_exist(clean_env, monkeypatch):
    monkeypatch.setenv("MARKWATCH_CONFIG", "missing.toml")
    with pytest.raises(ConfigError, match="missing.toml: configuration file not found"):
        load_settings()
