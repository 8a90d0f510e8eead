"""Every layer's errors: one wording for file errors, one mapping to exit codes (markwatch.errors)."""

from __future__ import annotations

import pytest
import typer
import yaml

import matcher.marksfile as marksfile
from alerts.errors import AlertNotFound, EvidenceNotFound, StoreUnavailable
from alerts.notify.ledger import LedgerBusy
from crawler.errors import SourceError
from crawler.sources import parse_source
from markwatch.config import load_settings
from markwatch.errors import ConfigError, UserError, cli_errors, exit_code_for
from markwatch.services.scanlock import ScanBusy
from matcher.fileerrors import FileError, format_file_error
from matcher.marksfile import MarksFileError, parse_marks

BROKEN_YAML = [
    "marks: [\n",
    "marks:\n  - name: 一正\n   owner: X\n",
    "marks:\n  - name: 一正\n\towner: X\n",
    "marks: {a: 1, b\n",
    "---\nmarks: []\n---\nmarks: []\n",
    "marks: !!python/object:os.system []\n",
    "marks:\n  - name: '一正\n",
]


def test_format_leaves_out_the_parts_it_does_not_know() -> None:
    assert format_file_error("a.toml", "msg", line=3, key="store.urls") == "a.toml:3: key 'store.urls': msg"
    assert (
        format_file_error("m.yaml", "msg", key="owner", context="mark '一正'") == "m.yaml: mark '一正' key 'owner': msg"
    )
    assert format_file_error("x.yaml", "source file not found") == "x.yaml: source file not found"
    assert format_file_error(None, "unknown source 'x'") == "unknown source 'x'"


def test_config_marks_and_sources_errors_read_the_same_way(tmp_path) -> None:
    cfg = tmp_path / "markwatch.toml"
    cfg.write_text("[store]\nretries = 99\n", encoding="utf-8")
    with pytest.raises(FileError) as config_err:
        load_settings(cfg)
    with pytest.raises(FileError) as marks_err:
        parse_marks("marks:\n  - name: 一正\n    owner: X\n    classes: [99]\n", "m.yaml")
    with pytest.raises(FileError) as source_err:
        parse_source("name: x\nkind: registry\npages:\n  url: u\n  max_pages: 0\n", "x.yaml")
    assert isinstance(config_err.value, ConfigError)
    assert str(config_err.value).startswith(f"{cfg}:2: key 'store.retries': ")
    assert isinstance(marks_err.value, MarksFileError)
    assert str(marks_err.value).startswith("m.yaml:4: mark '一正' key 'classes': ")
    assert isinstance(source_err.value, SourceError)
    assert str(source_err.value).startswith("x.yaml:5: key 'pages.max_pages': ")
    for err in (config_err.value, marks_err.value, source_err.value):
        assert (err.file, err.line) == (str(err).split(":")[0], int(str(err).split(":")[1]))
        assert exit_code_for(err) == 2


def test_duplicate_marks_are_named_once_among_many() -> None:
    names = [f"标{i:05d}" for i in range(3000)] + ["标00042", "标00007"]
    text = "marks:\n" + "".join(f"  - {{name: '{n}', owner: O}}\n" for n in names)
    with pytest.raises(MarksFileError) as err:
        parse_marks(text, "m.yaml")
    assert str(err.value) == "m.yaml: mark '标00007' key 'name': listed more than once"


@pytest.mark.parametrize("text", BROKEN_YAML)
def test_yaml_errors_do_not_depend_on_libyaml(text, monkeypatch) -> None:
    with pytest.raises(MarksFileError) as fast:
        parse_marks(text, "m.yaml")
    monkeypatch.setattr(marksfile, "_Loader", yaml.SafeLoader)
    with pytest.raises(MarksFileError) as pure:
        parse_marks(text, "m.yaml")
    assert str(fast.value) == str(pure.value)
    assert "invalid YAML" in str(fast.value)


def test_libyaml_gives_the_same_data_and_lines(monkeypatch) -> None:
    text = "marks:\n  - name: 一正\n    owner: X\n\n  - name: 九阳\n    owner: Y\n    colour: red\n"
    assert yaml.__with_libyaml__, "PyYAML without libyaml: the fast path is not exercised"
    fast_root, fast_data = marksfile.load_yaml(text)
    monkeypatch.setattr(marksfile, "_Loader", yaml.SafeLoader)
    pure_root, pure_data = marksfile.load_yaml(text)
    assert fast_data == pure_data == yaml.safe_load(text)
    loc = ("marks", 1, "colour")
    assert marksfile.yaml_line(fast_root, loc) == marksfile.yaml_line(pure_root, loc) == 7
    assert marksfile.load_yaml("") == (None, None)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigError("a.toml: key 'x': bad"), 2),
        (MarksFileError("marks file not found", file="m.yaml"), 2),
        (SourceError("unknown source 'x'"), 2),
        (UserError("no such thing"), 1),
        (AlertNotFound("no alert with id 'x'"), 1),
        (StoreUnavailable("cannot reach Elasticsearch"), 1),
        (EvidenceNotFound("x"), 1),
        (LedgerBusy("busy"), 1),
        (ScanBusy("held by pid 1"), 3),
    ],
)
def test_one_place_maps_every_layers_errors_to_an_exit_code(exc, code, capsys) -> None:
    assert exit_code_for(exc) == code
    with pytest.raises(typer.Exit) as out:
        with cli_errors(ScanBusy):
            raise exc
    assert out.value.exit_code == code
    assert capsys.readouterr().err == f"error: {exc}\n"


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        with cli_errors():
            raise KeyError("a bug stays a traceback")


def test_clean_applies_to_request_errors_not_file_errors() -> None:
    lines: list[str] = []
    for exc in (UserError("id '\u202eab'"), ConfigError("a.toml: key 'x': bad")):
        with pytest.raises(typer.Exit):
            with cli_errors(echo=lines.append, clean=lambda s: s.replace("\u202e", "\\u202e")):
                raise exc
    assert lines == ["error: id '\\u202eab'", "error: a.toml: key 'x': bad"]
