"""`markwatch parse`: enterprise names split into region, trade name (字号), industry, form and branch.

A filter like `markwatch match`: one JSON line out for every line in, in order. The parts are the
characters the name was written with (folding is only how the parser reads them), so that a
trade name can be searched for, shown and quoted as registered.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import orjson
import typer

from markwatch.cli.match import dumps_line

FIELDS = ("region", "trade_name", "industry", "form", "branch")


def _text_of(raw: bytes) -> tuple[str | None, str | None]:
    """(text, error) of one input line: a JSON object with a string `text`, or the text itself."""
    if raw.lstrip()[:1] == b"{":
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            try:  # broken UTF-8 inside a JSON line: read it with U+FFFD, as a plain line is
                obj = json.loads(raw.decode("utf-8", errors="replace"))
            except ValueError:
                return None, f"malformed JSON: {exc.msg}"
        text = obj.get("text") if type(obj) is dict else None
        if not isinstance(text, str):
            return None, "a JSON line needs a string field 'text'"
        return text, None
    text = raw.decode("utf-8", errors="replace").strip()
    return (text, None) if text else (None, "blank line")


def parse_result(raw: bytes) -> dict[str, Any]:
    """The answer for one line: the text and its parts, or an error with every part empty."""
    from matcher.enterprise import parse

    text, error = _text_of(raw.rstrip(b"\r\n"))
    if text is None:
        return {
            "text": raw.decode("utf-8", errors="replace").rstrip("\r\n"),
            **dict.fromkeys(FIELDS, ""),
            "error": error,
        }
    parts = parse(text.strip())
    out: dict[str, Any] = {"text": text, **{f: getattr(parts, f) for f in FIELDS}}
    if parts.bracket_region:
        out["bracket_region"] = parts.bracket_region
    return out


def parse_stream(stream: IO[bytes], out: IO[bytes], flush_each: bool = False) -> int:
    """Answer every line of stream on out; returns the number of lines."""
    n = 0
    for raw in stream:
        out.write(dumps_line(parse_result(raw)) + b"\n")
        n += 1
        if flush_each:
            out.flush()
    return n


def register(app: typer.Typer) -> None:
    @app.command("parse")
    def parse_cmd() -> None:
        """Split enterprise names read from stdin (JSON lines with "text", or plain lines).

        Writes one JSON line per input line, in order: {"text", "region", "trade_name", "industry",
        "form", "branch"} (plus "bracket_region" for 九阳（上海）… names, "error" for an unusable line).
        """
        out = sys.stdout.buffer
        parse_stream(sys.stdin.buffer, out, flush_each=sys.stdin.isatty())
        out.flush()
