"""Read and validate the protected-marks YAML file.

The matcher is pure, so reading the file and turning validation errors into a
message that names the file, line, mark and key happens here.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from markwatch.errors import ConfigError
from matcher.marks import Mark, MarksFile


def yaml_line(root: yaml.Node | None, loc: tuple) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if nxt is None:
                nxt = next((k for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def parse_marks(text: str, source: str = "<marks>") -> list[Mark]:
    """Validate marks-file text; raise ConfigError naming source, line, mark and key."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    try:
        parsed = MarksFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = yaml_line(root, loc)
        where = f"{source}:{line}" if line else source
        mark_name = ""
        if len(loc) >= 2 and loc[0] == "marks" and isinstance(loc[1], int):
            try:
                mark_name = f" mark {data['marks'][loc[1]].get('name', '#' + str(loc[1] + 1))!r}"
            except (AttributeError, IndexError, KeyError, TypeError):
                mark_name = f" mark #{loc[1] + 1}"
        key = ".".join(str(p) for p in loc[2:]) if len(loc) > 2 else ".".join(str(p) for p in loc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise ConfigError(f"{where}:{mark_name} key {key!r}: {msg}") from None
    names = [m.name for m in parsed.marks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: mark {dupes[0]!r} key 'name': listed more than once")
    return parsed.marks


def load_marks(path: str | Path) -> list[Mark]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: marks file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read marks file: {exc}") from None
    return parse_marks(text, str(p))
