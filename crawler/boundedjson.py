"""JSON read within bounds: every array cut at a row limit (the rest only counted), nesting capped.

A hostile page can be small and still cost a scan its night: 30 MB of ``{}`` is ten million rows
(a gigabyte of Python objects with ``json.loads``), and ``[[[[…]]]]`` nested 100,000 deep raises
RecursionError from the standard parser. Small pages are read with ``json.loads`` (fast), large
ones as a stream of events (ijson's C backend) into a document whose arrays keep at most
*max_items* entries; the entries past the limit are counted, not built. Nothing here recurses, so
the nesting limit is ours (``MAX_DEPTH``), reported as a plain reason.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ijson

MAX_DEPTH = 256  # nesting levels a page may use (real APIs use < 20)
FAST_BYTES = 1_000_000  # below this, json.loads and a walk afterwards
COUNT_SECONDS = 20.0  # past this, the rest of a cut array is not counted ("more than N")


class TooDeep(ValueError):
    """A document nested deeper than the limit."""


class Stopped(Exception):
    """The caller asked to stop (a signal, the time budget) while a large page was being read."""


@dataclass(frozen=True)
class Cut:
    """An array read only in part: *path* (dotted, `[]` for an array in an array), entries seen and kept."""

    path: str
    total: int
    kept: int
    exact: bool = True  # False: counting stopped (time), there are at least `total`


def _cap(doc: Any, max_items: int, max_depth: int) -> tuple[Any, list[Cut]]:
    """Cut the arrays of an already parsed document in place, without recursion; check its depth."""
    cuts: list[Cut] = []
    todo: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while todo:
        node, path, depth = todo.pop()
        if depth > max_depth:
            raise TooDeep(f"JSON nested deeper than {max_depth} levels")
        if isinstance(node, list):
            if len(node) > max_items:
                cuts.append(Cut(path or "(top)", len(node), max_items))
                del node[max_items:]
            todo.extend((x, f"{path}[]", depth + 1) for x in node if isinstance(x, (list, dict)))
        elif isinstance(node, dict):
            todo.extend(
                (v, f"{path}.{k}" if path else str(k), depth + 1)
                for k, v in node.items()
                if isinstance(v, (list, dict))
            )
    return doc, cuts


def load(
    text: str | bytes,
    *,
    max_items: int,
    max_depth: int = MAX_DEPTH,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[Any, list[Cut]]:
    """(document, cuts). ValueError when it is not JSON, TooDeep past *max_depth*, Stopped when asked."""
    if len(text) <= FAST_BYTES:
        try:
            doc = json.loads(text)
        except RecursionError:
            raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
        return _cap(doc, max_items, max_depth)
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        return _stream(data, max_items, max_depth, should_stop)
    except ijson.common.IncompleteJSONError as exc:
        raise ValueError(f"malformed JSON: {str(exc)[:80]}") from None


def _stream(data: bytes, max_items: int, max_depth: int, should_stop: Callable[[], bool] | None):
    root: Any = None
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # per open container: its current key (maps) or None
    seen: list[int] = []  # per open container: entries seen (arrays)
    names: list[str] = []  # per open container: its path
    cuts: list[Cut] = []
    skip = 0  # > 0: inside an entry past the limit (its nesting depth)
    started = time.monotonic()
    counting = True
    n = 0
    for ev, val in ijson.basic_parse(io.BytesIO(data), use_float=True):
        n += 1
        if not n & 0xFFFF:
            if should_stop is not None and should_stop():
                raise Stopped()
            if skip or (seen and seen[-1] > max_items):
                if time.monotonic() - started > COUNT_SECONDS:
                    counting = False
                    break
        if skip:
            if ev == "start_map" or ev == "start_array":
                skip += 1
            elif ev == "end_map" or ev == "end_array":
                skip -= 1
            continue
        if ev == "map_key":
            keys[-1] = val
            continue
        if ev == "end_map" or ev == "end_array":
            stack.pop()
            keys.pop()
            total = seen.pop()
            path = names.pop()
            if total > max_items:
                cuts.append(Cut(path or "(top)", total, max_items))
            continue
        parent = stack[-1] if stack else None
        if isinstance(parent, list):
            seen[-1] += 1
            if seen[-1] > max_items:
                if ev == "start_map" or ev == "start_array":
                    skip = 1
                continue
        container = ev == "start_map" or ev == "start_array"
        value: Any = ({} if ev == "start_map" else []) if container else val
        if parent is None:
            root = value
        elif isinstance(parent, list):
            parent.append(value)
        else:
            parent[keys[-1]] = value
        if container:
            if len(stack) >= max_depth:
                raise TooDeep(f"JSON nested deeper than {max_depth} levels")
            path = names[-1] if names else ""
            if isinstance(parent, list):
                path += "[]"
            elif parent is not None:
                path = f"{path}.{keys[-1]}" if path else str(keys[-1])
            stack.append(value)
            keys.append(None)
            seen.append(0)
            names.append(path)
    if not counting:  # the arrays still open were cut; their totals are lower bounds
        for path, total in zip(names, seen, strict=True):
            if total > max_items:
                cuts.append(Cut(path or "(top)", total, max_items, exact=False))
    return root, cuts
