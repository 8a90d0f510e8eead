"""`markwatch match` and `markwatch evaluate`: the matcher from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from markwatch.errors import cli_errors
from matcher.marksfile import load_marks

DEMO_MARKS = Path(__file__).parent / "demo" / "marks.yaml"
_JSON_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def dumps_line(obj: Any) -> str:
    """One JSON object on one line, safe for line-splitting readers."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).translate(_JSON_LINE_BREAKS)


def parse_line(line: str) -> tuple[dict | None, str | None]:
    """(subject fields, error). Plain text lines are enterprise names."""
    stripped = line.strip()
    if not stripped:
        return None, "blank line"
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError as exc:
            return None, f"malformed JSON: {exc.msg}"
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            return None, "a JSON line needs a string field 'text'"
        kind = obj.get("kind", "enterprise")
        if kind not in ("enterprise", "listing"):
            return None, "kind must be 'enterprise' or 'listing'"
        price = obj.get("price")
        if price is not None and not isinstance(price, int | float):
            try:
                price = float(str(price).replace(",", "").lstrip("¥￥$"))
            except ValueError:
                price = None
        seller = obj.get("seller")
        category = obj.get("category")
        return {
            "text": obj["text"],
            "kind": kind,
            "seller": seller if isinstance(seller, str) else None,
            "price": price,
            "category": category if isinstance(category, str) else None,
        }, None
    if stripped.startswith("["):
        try:
            json.loads(stripped)
        except ValueError:
            pass  # plain text that happens to start with a bracket
        else:
            return None, "a JSON line must be an object with a field 'text'"
    return {"text": stripped, "kind": "enterprise"}, None


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """Decode line by line; broken encodings become U+FFFD instead of stopping the run."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def match_stream(matcher: Any, stream: IO[bytes], out: IO[str], flush_each: bool = False) -> Iterator[dict]:
    """Screen each input line and write exactly one JSON line for it, in order."""
    from matcher import Subject

    for line in _lines(stream):
        fields, error = parse_line(line)
        result: dict[str, Any]
        if fields is None:
            result = {
                "text": line,
                "flagged": False,
                "mark": None,
                "score": 0.0,
                "reasons": [],
                "hits": [],
                "error": error,
            }
        else:
            try:
                hits = matcher.screen(Subject(**fields))
            except Exception as exc:  # one bad item never stops the stream
                hits, error = [], f"screening failed: {type(exc).__name__}"
            best = hits[0] if hits else None
            result = {
                "text": fields["text"],
                "flagged": best is not None,
                "mark": best.mark if best else None,
                "score": best.score if best else 0.0,
                "reasons": [r.to_dict() for r in best.reasons] if best else [],
                "hits": [h.to_dict() for h in hits],
            }
            if error:
                result["error"] = error
        out.write(dumps_line(result) + "\n")
        if flush_each:
            out.flush()
        yield result


def register(app: typer.Typer) -> None:
    @app.command("match")
    def match(
        marks: Path = typer.Option(DEMO_MARKS, "--marks", "-m", help="Protected-marks YAML file."),
        threshold: float = typer.Option(
            0.6, "--threshold", "-t", min=0.0, max=1.0, help="Lowest score that flags a name."
        ),
        table: bool = typer.Option(False, "--table", help="Print the flagged names as a table, not JSON lines."),
    ) -> None:
        """Screen names read from stdin, one per line (JSON lines or plain text).

        Writes one JSON line per input line, in order:
        {"text", "flagged", "mark", "score", "reasons", "hits"}.
        """
        from matcher import Matcher

        with cli_errors():
            m = Matcher(load_marks(marks), threshold=threshold)
        if table:
            _match_table(m, sys.stdin.buffer)
            return
        out = sys.stdout
        for _ in match_stream(m, sys.stdin.buffer, out, flush_each=sys.stdin.isatty()):
            pass
        out.flush()

    @app.command("evaluate")
    def evaluate(
        marks: Path = typer.Option(DEMO_MARKS, "--marks", "-m", help="Protected-marks YAML file."),
        cases: Path = typer.Option(
            Path("tests/data/eval_cases.jsonl"), "--cases", "-c", help="Labelled cases, JSON lines."
        ),
        threshold: float = typer.Option(0.6, "--threshold", "-t", min=0.0, max=1.0),
        fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
    ) -> None:
        """Precision, recall and false-positive rate on a labelled set, with two naive baselines."""
        from markwatch.evaluate import EvaluationError, load_cases, run_evaluation

        with cli_errors(EvaluationError):
            mk = load_marks(marks)
            data = load_cases(cases, {m.name for m in mk})
        report = run_evaluation(mk, data, threshold=threshold)
        if fmt == "json":
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            from markwatch.evaluate import print_report

            print_report(report, Console())


def _match_table(matcher: Any, stream: IO[bytes]) -> None:
    import io

    from markwatch.cmd_alerts import visible

    sink = io.StringIO()
    console = Console()
    table = Table(title="markwatch: suspected imitations", show_lines=False)
    for col in ("#", "name or title", "mark", "score", "reasons"):
        table.add_column(col)
    screened = flagged = 0
    for n, result in enumerate(match_stream(matcher, stream, sink), 1):
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
