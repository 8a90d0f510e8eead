"""markwatch.toml: new sections, env overrides for every section, one-line errors, the starter file."""

from __future__ import annotations

import re

import pytest
from scan_support import cli, env

from markwatch.config import load_settings
from markwatch.errors import ConfigError
from markwatch.services.starter import STARTER, choose_sources, starter_text


def _clear(monkeypatch):
    import os

    for k in list(os.environ):
        if k.startswith("MARKWATCH_") and k != "MARKWATCH_ES_URL":
            monkeypatch.delenv(k)


def test_defaults_without_a_file(tmp_path, monkeypatch):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.source == "<defaults>"
    assert (s.schedule.cron, s.schedule.timezone, s.queue.backend) == ("0 2 * * *", "Asia/Shanghai", "local")
    assert s.scan.sources == [] and s.scan.notify is True and s.store.backend == "sqlite"


def test_every_section_takes_env_overrides(tmp_path, monkeypatch):
    _clear(monkeypatch)
    cfg = tmp_path / "m.toml"
    cfg.write_text('[scan]\ndays = 2\n[smtp]\nhost = "file.example"\n', encoding="utf-8")
    monkeypatch.setenv("MARKWATCH_CONFIG", str(cfg))
    monkeypatch.setenv("MARKWATCH_SCAN_DAYS", "7")
    monkeypatch.setenv("MARKWATCH_SCAN_SOURCES", "demo-registry, demo-market")
    monkeypatch.setenv("MARKWATCH_SCAN_SCRAPY", '{"HTTPCACHE_ENABLED": true}')
    monkeypatch.setenv("MARKWATCH_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("MARKWATCH_SMTP_PORT", "2525")
    monkeypatch.setenv("MARKWATCH_SCHEDULE_CRON", "30 3 * * mon-fri")
    monkeypatch.setenv("MARKWATCH_QUEUE_BACKEND", "redis")
    monkeypatch.setenv("MARKWATCH_QUEUE_REDIS_URL", "redis://10.0.0.5:6380/1")
    monkeypatch.setenv("MARKWATCH_STORE_URLS", "http://127.0.0.1:9200,http://127.0.0.2:9200")
    monkeypatch.setenv("MARKWATCH_REVIEW_BASE_URL", "https://review.example")
    s = load_settings()
    assert s.source == str(cfg)
    assert s.scan.days == 7 and s.scan.sources == ["demo-registry", "demo-market"]
    assert s.scan.scrapy == {"HTTPCACHE_ENABLED": True}
    assert (s.smtp.host, s.smtp.port) == ("smtp.example.com", 2525)
    assert s.schedule.cron == "30 3 * * mon-fri" and s.queue.backend == "redis"
    assert s.queue.redis_url == "redis://10.0.0.5:6380/1" and s.store.backend == "elasticsearch"
    assert s.review.base_url == "https://review.example"


@pytest.mark.parametrize(
    "text,where,key",
    [
        ("[scan]\n\ndays = 0\n", ":3", "scan.days"),
        ('[schedule]\ncron = "0 2 * *"\n', ":2", "schedule.cron"),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', ":2", "schedule.timezone"),
        ('[queue]\nbackend = "kafka"\n', ":2", "queue.backend"),
        ('[queue]\nredis_url = "http://x"\n', ":2", "queue.redis_url"),
        ('[scan]\nsources = ["a"]\nsourcez = ["b"]\n', ":3", "scan.sourcez"),
        ("[scan\n", ":1", ""),
    ],
)
def test_a_bad_file_is_one_line_naming_file_line_and_key(tmp_path, monkeypatch, text, where, key):
    _clear(monkeypatch)
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    msg = str(err.value)
    assert msg.startswith(f"{cfg}{where}:") and key in msg and "\n" not in msg


def test_bad_env_value_names_the_variable(tmp_path, monkeypatch):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MARKWATCH_SCHEDULE_MISFIRE_GRACE_TIME", "soon")
    with pytest.raises(ConfigError, match=r"^MARKWATCH_SCHEDULE_MISFIRE_GRACE_TIME \(environment\)"):
        load_settings()


def test_init_writes_a_starter_that_validates_commented_and_uncommented(tmp_path, monkeypatch):
    _clear(monkeypatch)
    target = tmp_path / "conf" / "markwatch.toml"
    p = cli("init", str(target))
    assert p.returncode == 0 and target.read_text(encoding="utf-8") == starter_text(choose_sources(env=env()))
    assert cli("init", str(target)).returncode == 1  # never overwrites without --force
    # Every commented key, uncommented, is a valid key with a valid example value.
    live = re.sub(r"^# (\[|[a-z_]+ = )", r"\1", STARTER, flags=re.M)
    assert live.count("\n# ") < STARTER.count("\n# ") - 40
    full = tmp_path / "full.toml"
    full.write_text(live, encoding="utf-8")
    s = load_settings(full)
    assert s.smtp.host == "smtp.example.com" and s.queue.backend == "local" and s.scan.days == 1
    assert s.notify.recipients["ip@brand.example"].min_score == 0.85


def test_starter_defaults_equal_the_models_defaults(tmp_path, monkeypatch):
    _clear(monkeypatch)
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "markwatch.toml"
    f.write_text(STARTER, encoding="utf-8")
    assert load_settings(f).model_dump() == load_settings().model_dump()
