"""`markwatch match` and `markwatch evaluate`: the matcher from the command line.

`match` is a filter: one JSON line out for every line in, in order. At 1,000 marks the matcher
screens well over 100,000 names per second, so the work around it is kept to what the contract
needs: lines are read as bytes and parsed by orjson (no decode of JSON lines), a subject is built
only from the fields the matcher uses, and the answer is written by orjson into one buffer.
``--jobs N`` screens batches in N worker processes forked after the marks are indexed (the index is
built once and shared copy-on-write) and writes the batches back in input order.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from markwatch.errors import cli_errors
from matcher.dates import read_date
from matcher.marksfile import load_marks
from matcher.types import Subject

DEMO_MARKS = Path(__file__).resolve().parents[1] / "demo" / "marks.yaml"
KINDS = ("enterprise", "listing", "shop", "brand", "trademark")
_KIND_SET = frozenset(KINDS)
BATCH = 512
"""Lines per batch handed to a worker under --jobs: large enough that the pickling and the
pipe cost little per line, small enough that output keeps flowing."""


class Kind(StrEnum):
    enterprise = "enterprise"
    listing = "listing"
    shop = "shop"
    brand = "brand"
    trademark = "trademark"


class Mode(StrEnum):
    default = "default"
    review = "review"
    strict = "strict"


def dumps_line(obj: Any) -> bytes:
    """One JSON object on one line, safe for line-splitting readers (U+2028/2029 escaped)."""
    out = orjson.dumps(obj)
    if b"\xe2\x80" in out:
        out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return out


def _price(value: Any) -> float | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    try:
        return float(str(value).replace(",", "").lstrip("¥￥$"))
    except ValueError:
        return None


def _from_json(obj: Any) -> tuple[Subject | None, str | None]:
    if type(obj) is not dict:
        return None, "a JSON line needs a string field 'text'"
    text = obj.get("text")
    if not isinstance(text, str):
        return None, "a JSON line needs a string field 'text'"
    kind = obj.get("kind", "enterprise")
    if isinstance(kind, str) and kind not in _KIND_SET:
        kind = kind.strip().lower()  # "Trademark", "shop " as a hand-made file writes them
    if kind not in _KIND_SET:
        return None, "kind must be one of " + ", ".join(f"'{k}'" for k in KINDS)
    if len(obj) <= 2 and (len(obj) == 1 or "kind" in obj):  # the common line: no other field to read
        return Subject(text, kind), None
    classes, error = _classes(obj.get("classes"))
    if error:
        return None, error
    groups, error = _groups(obj.get("groups"))
    if error:
        return None, error
    founded, error = _date(obj, "founded")
    if error:
        return None, error
    announced, error = _date(obj, "announced")
    if error:
        return None, error
    return Subject(
        text,
        kind,
        seller=_str(obj.get("seller")),
        price=_price(obj.get("price")),
        category=_category(obj.get("category")),
        uscc=_str(obj.get("uscc")),
        industry=_str(obj.get("industry")),
        classes=classes,
        groups=groups,
        founded=founded,
        announced=announced,
        applicant=_str(obj.get("applicant")),
        number=_str(obj.get("number")),
    ), None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _category(value: Any) -> str | None:
    """A category path as one string, or as the list of its levels (["医药保健", "OTC药品"]), as
    platform APIs give it: joined with ">"."""
    if isinstance(value, list):
        levels = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return ">".join(levels) or None
    return _str(value)


_CLASS_SEP = re.compile(r"[\s,，;；、/]+")
_CLASS_WORD = re.compile(r"第?\s*(\d{1,2})\s*类")
_GROUP_WORD = re.compile(r"第?\s*(\d{2})[-.]?(\d{2})\s*(?:组|群|类似群)?")


def _classes(value: Any) -> tuple[tuple[int, ...], str | None]:
    """Nice classes as a list of numbers (or numeric strings), or one string of them ("5,35", "5、35",
    "第5类;第35类"), each 1 to 45: the spellings sources and providers use."""
    if value is None:
        return (), None
    items = value if isinstance(value, list) else [value]
    items = [p for v in items for p in (_CLASS_SEP.split(v.strip()) if isinstance(v, str) else [v]) if p != ""]
    out = []
    for v in items:
        if isinstance(v, str) and (m := _CLASS_WORD.fullmatch(v)) is not None:
            v = m.group(1)  # 第5类, 5类: as the gazette and providers write a class
        try:
            c = int(v) if not isinstance(v, bool) else 0
        except (TypeError, ValueError):
            c = 0
        if not 1 <= c <= 45:
            return (), "classes must be Nice class numbers 1 to 45"
        out.append(c)
    return tuple(dict.fromkeys(out)), None


def _groups(value: Any) -> tuple[tuple[str, ...], str | None]:
    """区分表 similar-group codes: four digits, the first two a Nice class (0501; also 05-01, 第0501组,
    "0501,0502")."""
    if value is None:
        return (), None
    items = value if isinstance(value, list) else [value]
    items = [p for v in items for p in (_CLASS_SEP.split(v.strip()) if isinstance(v, str) else [v]) if p != ""]
    out = []
    for v in items:
        g = str(v).strip() if isinstance(v, str | int) and not isinstance(v, bool) else ""
        if (m := _GROUP_WORD.fullmatch(g)) is not None:
            g = m.group(1) + m.group(2)  # 05-01, 第0501组, 0501群
        if len(g) == 3 and g.isdigit():
            g = "0" + g  # a class below 10 written as a number loses its leading zero
        if not (len(g) == 4 and g.isdigit() and 1 <= int(g[:2]) <= 45):
            return (), "groups must be four-digit similar-group codes (e.g. '0501')"
        out.append(g)
    return tuple(dict.fromkeys(out)), None


def _date(obj: dict, key: str) -> tuple[str | None, str | None]:
    """A date as sources write it (matcher.dates: ISO, 2001/3/5, 2001年3月5日, 20010305, a timestamp,
    Unix milliseconds), or its year or month when that is all a source says; blank is absent."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    day = read_date(value)
    if day is None:
        return None, f"{key} must be a date (2001-03-05, 2001/3/5, 2001年3月5日, 20010305, Unix ms, or YYYY-MM, YYYY)"
    return day, None


def parse_line(line: str | bytes, kind: str = "enterprise") -> tuple[Subject | None, str | None]:
    """(subject, error). A line starting with ``{`` is a JSON object with the fields
    documented in docs/matching.md; any other line is the text itself, of the given kind."""
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
    if raw[:1] == b"{" or raw.lstrip()[:1] == b"{":
        try:
            return _from_json(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            error = f"malformed JSON: {exc.msg}"
        # orjson insists on valid UTF-8: a JSON line with broken bytes is read as a plain
        # line would be, with U+FFFD in their place
        try:
            return _from_json(json.loads(raw.decode("utf-8", errors="replace")))
        except ValueError:
            return None, error
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return None, "blank line"
    if text[0] == "[":
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # plain text that happens to start with a bracket
        else:
            return None, "a JSON line must be an object with a field 'text'"
    return Subject(text, kind), None  # type: ignore[arg-type]


def _error_result(line: bytes, error: str | None) -> dict[str, Any]:
    return {
        "text": line.decode("utf-8", errors="replace"),
        "flagged": False,
        "mark": None,
        "score": 0.0,
        "reasons": [],
        "hits": [],
        "error": error,
    }


def _hits_result(text: str, hits: list, subject: Subject | None = None) -> dict[str, Any]:
    if not hits:
        return {"text": text, "flagged": False, "mark": None, "score": 0.0, "reasons": [], "hits": []}
    best = hits[0]
    out = {
        "text": text,
        "flagged": True,
        "mark": best.mark,
        "score": best.score,
        "reasons": [r.to_dict() for r in best.reasons],
        "hits": [h.to_dict() for h in hits],
    }
    if subject is not None and subject.kind == "trademark" and subject.announced:
        out["opposition_deadline"] = _deadline(subject.announced)
    return out


def _deadline(announced: str) -> dict[str, object] | None:
    """A flagged trademark application's opposition deadline (alerts.deadlines; docs/trademarks.md)."""
    from alerts.deadlines import opposition_deadline, parse_announced

    day = parse_announced(announced)
    return opposition_deadline(day).to_dict() if day is not None else None


def result_of(matcher: Any, line: bytes, kind: str = "enterprise", explain: bool = False) -> dict[str, Any]:
    """The contract's answer for one input line (without its line break). With *explain*, also
    "explain": for every candidate mark, the alignments found and the rule that kept or dropped each."""
    subject, error = parse_line(line, kind)
    if subject is None:
        return _error_result(line, error)
    considered: list[dict] = []
    try:
        hits = matcher.screen(subject)
        if explain:
            considered = matcher.explain(subject)
    except Exception as exc:  # one bad item never stops the stream
        hits, error = [], f"screening failed: {type(exc).__name__}"
    result = _hits_result(subject.text, hits, subject)
    if explain:
        result["explain"] = considered
    if error:
        result["error"] = error
    return result


_UNFLAGGED_TAIL = b',"flagged":false,"mark":null,"score":0.0,"reasons":[],"hits":[]}\n'
"""The rest of an answer with no hit, after its text: what orjson writes for _hits_result(text, [])."""


def answer_line(screen: Any, line: bytes, kind: str = "enterprise") -> bytes:
    """result_of() as the JSON line it becomes, line break included. Nearly every line has no
    hit: its answer is its text in JSON between two constant byte strings."""
    subject, error = parse_line(line, kind)
    if subject is None:
        return dumps_line(_error_result(line, error)) + b"\n"
    try:
        hits = screen(subject)
    except Exception as exc:  # one bad item never stops the stream
        result = _hits_result(subject.text, [])
        result["error"] = f"screening failed: {type(exc).__name__}"
        return dumps_line(result) + b"\n"
    if hits:
        return dumps_line(_hits_result(subject.text, hits, subject)) + b"\n"
    return b'{"text":' + dumps_line(subject.text) + _UNFLAGGED_TAIL


def _chomp(raw: bytes) -> bytes:
    return raw[:-2] if raw[-2:] == b"\r\n" else raw[:-1] if raw[-1:] in (b"\n", b"\r") else raw


def screen_lines(matcher: Any, lines: Iterable[bytes], kind: str = "enterprise") -> bytes:
    """The JSON lines (each ending in a line break) for a batch of input lines (without theirs)."""
    screen = matcher.screen
    return b"".join([answer_line(screen, line, kind) for line in lines])


def read_batches(stream: IO[bytes], size: int = 1 << 16) -> Iterator[list[bytes]]:
    """The input's lines (without their line breaks), a batch per read of whatever has arrived.

    read1() returns as soon as some input is there, so a line is answered without waiting for
    more input; splitting a whole read costs less per line than reading line by line.
    """
    read = getattr(stream, "read1", stream.read)
    tail = b""
    while True:
        chunk = read(size)
        if not chunk:
            break
        lines = (tail + chunk).split(b"\n") if tail else chunk.split(b"\n")
        tail = lines.pop()
        if lines:
            yield [line[:-1] if line[-1:] == b"\r" else line for line in lines]
    if tail:
        yield [tail[:-1] if tail[-1:] == b"\r" else tail]


def match_stream(
    matcher: Any,
    stream: IO[bytes],
    out: IO[bytes],
    kind: str = "enterprise",
    flush_each: bool = False,
    explain: bool = False,
) -> Iterator[dict]:
    """Screen each input line and write exactly one JSON line for it, in order; yield the results."""
    for raw in stream:
        result = result_of(matcher, _chomp(raw), kind, explain)
        out.write(dumps_line(result) + b"\n")
        if flush_each:
            out.flush()
        yield result


def match_fast(matcher: Any, stream: IO[bytes], out: IO[bytes], kind: str = "enterprise") -> int:
    """The CLI's loop: what match_stream writes, without a result dict per line, one write per
    batch read. Returns the number of lines read."""
    n = 0
    for batch in read_batches(stream):
        out.write(screen_lines(matcher, batch, kind))
        n += len(batch)
    return n


# --jobs: the workers are forked after the matcher is built, so they find it here.
_WORKER_MATCHER: Any = None


def _screen_batch(batch: list[bytes], kind: str) -> bytes:
    return screen_lines(_WORKER_MATCHER, batch, kind)


def _batches(stream: IO[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for lines in read_batches(stream):
        batch.extend(lines)
        while len(batch) >= size:
            yield batch[:size]
            batch = batch[size:]
    if batch:
        yield batch


def match_parallel(
    matcher: Any, stream: IO[bytes], out: IO[bytes], jobs: int, kind: str = "enterprise", batch: int = BATCH
) -> None:
    """Screen batches of lines in `jobs` forked processes; write them back in input order.

    At most 2 × jobs batches are in flight, so memory stays bounded however long the input.
    """
    global _WORKER_MATCHER
    _WORKER_MATCHER = matcher
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(jobs) as pool:
            pending: deque[Any] = deque()
            for chunk in _batches(stream, batch):
                pending.append(pool.apply_async(_screen_batch, (chunk, kind)))
                while len(pending) >= 2 * jobs:
                    out.write(pending.popleft().get())
            while pending:
                out.write(pending.popleft().get())
    finally:
        _WORKER_MATCHER = None


def _stdout() -> IO[bytes]:
    """stdout as a binary stream with a buffer of its own: under PYTHONUNBUFFERED (set in many
    container images, and on our CI machine) sys.stdout.buffer writes each line with a system call,
    a fifth of the per-line cost at 1,000 marks."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a test runner: no descriptor
        return sys.stdout.buffer
    return open(fd, "wb", buffering=1 << 16, closefd=False)  # noqa: SIM115 (flushed, never closed: fd 1 stays)


def register(app: typer.Typer) -> None:
    @app.command("match")
    def match(
        marks: Path = typer.Option(DEMO_MARKS, "--marks", "-m", help="Protected-marks YAML file."),
        threshold: float = typer.Option(
            0.6, "--threshold", "-t", min=0.0, max=1.0, help="Lowest score that flags a name."
        ),
        kind: Kind = typer.Option(
            Kind.enterprise,
            "--kind",
            "-k",
            help="What a plain (non-JSON) line is: an enterprise name, a listing, a shop or brand name, a trademark.",
        ),
        mode: Mode = typer.Option(
            Mode.default,
            "--mode",
            help="default: the noise target; review: also weak evidence, ranked low (threshold at most 0.3); "
            "strict: only what CNIPA practice calls similar. A mark's own `mode` wins.",
        ),
        explain: bool = typer.Option(
            False,
            "--explain",
            help="Add to each line, for every candidate mark, the alignments found and the rule that kept or "
            "dropped each (slower: one line at a time).",
        ),
        jobs: int = typer.Option(
            1,
            "--jobs",
            "-j",
            min=1,
            help="Worker processes, forked after the index is built; output keeps the input order.",
        ),
        table: bool = typer.Option(False, "--table", help="Print the flagged names as a table, not JSON lines."),
    ) -> None:
        """Screen names read from stdin, one per line (JSON lines or plain text).

        Writes one JSON line per input line, in order:
        {"text", "flagged", "mark", "score", "reasons", "hits"} (and "error" when the line was unusable).
        A JSON line is an object {"text", "kind", "seller", "price", "category", "uscc", "industry",
        "classes", "groups", "founded", "announced", "applicant", "number"} (docs/matching.md); a plain
        line is the text, read as --kind.
        """
        from matcher import Matcher

        with cli_errors():
            m = Matcher(load_marks(marks), threshold=threshold, mode=mode.value)
        # The index and jieba's dictionary are millions of objects that live until exit: out of
        # the collector's sight, the collections that each line's few objects set off stay cheap.
        gc.freeze()
        stdin = sys.stdin.buffer
        if table:
            _match_table(m, stdin, kind.value)
            return
        out = _stdout()
        if explain:
            for _ in match_stream(m, stdin, out, kind.value, flush_each=sys.stdin.isatty(), explain=True):
                pass
        elif jobs > 1 and hasattr(os, "fork"):
            match_parallel(m, stdin, out, jobs, kind.value)
        elif sys.stdin.isatty():
            for _ in match_stream(m, stdin, out, kind.value, flush_each=True):
                pass
        else:
            match_fast(m, stdin, out, kind.value)
        out.flush()

    @app.command("evaluate")
    def evaluate(
        marks: Path = typer.Option(DEMO_MARKS, "--marks", "-m", help="Protected-marks YAML file."),
        cases: Path = typer.Option(
            Path("tests/data/eval_cases.jsonl"), "--cases", "-c", help="Labelled cases, JSON lines."
        ),
        threshold: float = typer.Option(0.6, "--threshold", "-t", min=0.0, max=1.0),
        mode: Mode = typer.Option(Mode.default, "--mode", help="default, review or strict (see `match`)."),
        fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
        split: str | None = typer.Option(
            None, "--split", "-s", help="Only the cases of this part (tune or holdout) of a split corpus."
        ),
    ) -> None:
        """Precision, recall and false-positive rate on a labelled set, with two naive baselines."""
        from markwatch.services.evaluate import EvaluationError, load_cases, run_evaluation

        with cli_errors(EvaluationError):
            mk = load_marks(marks)
            data = load_cases(cases, {m.name for m in mk}, split=split)
        report = run_evaluation(mk, data, threshold=threshold, mode=mode.value, split=split)
        if fmt == "json":
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            from markwatch.services.evaluate import print_report

            print_report(report, Console())


def _match_table(matcher: Any, stream: IO[bytes], kind: str = "enterprise") -> None:
    import io

    from markwatch.cli.alerts import visible

    sink = io.BytesIO()
    console = Console()
    table = Table(title="markwatch: suspected imitations", show_lines=False)
    for col in ("#", "name or title", "mark", "score", "reasons"):
        table.add_column(col)
    screened = flagged = 0
    for n, result in enumerate(match_stream(matcher, stream, sink, kind), 1):
        sink.seek(0)
        sink.truncate()
        screened += 1
        if result["flagged"]:
            flagged += 1
            reasons = "; ".join(r["en"] for r in result["reasons"])
            table.add_row(
                str(n),
                escape(visible(result["text"])),
                escape(result["mark"]),
                f"{result['score']:.2f}",
                escape(visible(reasons)),
            )
    console.print(table)
    console.print(f"screened {screened} names, flagged {flagged}")
