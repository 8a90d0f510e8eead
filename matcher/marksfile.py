"""Read and validate the protected-marks YAML file.

``parse_marks(text, source)`` works on text; ``load_marks(path)`` only reads the given file and
parses it (the matcher does no other I/O). Errors are ``MarksFileError`` naming file, line, mark
and key. The YAML is parsed once, with libyaml when PyYAML has it: at 10,000 marks the pure-Python
parser, run twice, was most of the load time.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from matcher.fileerrors import FileError
from matcher.marks import Mark, MarksFile

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MarksFileError(FileError):
    """The marks file is missing, unreadable or invalid."""


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data of one YAML document, from one parse.

    Raises ``yaml.YAMLError``. A document libyaml rejects is parsed again by the pure-Python
    parser, so that error messages do not depend on whether libyaml is installed.
    """
    try:
        return _compose_and_construct(text, _Loader)
    except yaml.YAMLError:
        if _Loader is yaml.SafeLoader:
            raise
    return _compose_and_construct(text, yaml.SafeLoader)


def _compose_and_construct(text: str, loader_cls: Any) -> tuple[yaml.Node | None, Any]:
    loader = loader_cls(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


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


def yaml_error(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """Line and problem of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return (mark.line + 1 if mark else None), problem


def parse_marks(text: str, source: str = "<marks>") -> list[Mark]:
    """Validate marks-file text; raise MarksFileError naming source, line, mark and key."""
    try:
        root, data = load_yaml(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_error(exc)
        raise MarksFileError(f"invalid YAML: {problem}", file=source, line=line) from None
    except ValueError as exc:  # PyYAML's date constructor on a day that does not exist (2015-02-30)
        raise MarksFileError(f"invalid YAML: {exc}", file=source) from None
    try:
        parsed = MarksFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        mark_name = None
        if len(loc) >= 2 and loc[0] == "marks" and isinstance(loc[1], int):
            try:
                mark_name = f"mark {data['marks'][loc[1]].get('name', '#' + str(loc[1] + 1))!r}"
            except (AttributeError, IndexError, KeyError, TypeError):
                mark_name = f"mark #{loc[1] + 1}"
        key = ".".join(str(p) for p in loc[2:]) if len(loc) > 2 else ".".join(str(p) for p in loc)
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise MarksFileError(msg, file=source, line=yaml_line(root, loc), key=key, context=mark_name) from None
    counts = Counter(m.name for m in parsed.marks)
    dupes = sorted(n for n, c in counts.items() if c > 1)
    if dupes:
        raise MarksFileError("listed more than once", file=source, key="name", context=f"mark {dupes[0]!r}")
    return parsed.marks


def load_marks(path: str | Path) -> list[Mark]:
    """Read the marks file at ``path`` (UTF-8) and parse it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MarksFileError("marks file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MarksFileError(f"cannot read marks file: {exc}", file=str(p)) from None
    return parse_marks(text, str(p))
