"""`markwatch sources`: the source files a scan can use, and a one-page check of any of them.

    markwatch sources list                  name, kind, mode, file, secrets set?; broken files too
    markwatch sources check qcc-search --keyword 一正 [--page 2] [--base-url http://127.0.0.1:8765]

`check` fetches one page as the scan would (same request, secrets, signer, browser) and prints what
the file extracts, so a selector is fixed in a minute. Exit 1 when the page yields no rows (or is
refused), 2 for a bad or missing source file or an unset `${NAME}`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.errors import cli_errors

if TYPE_CHECKING:
    from markwatch.config import Settings

sources_app = typer.Typer(help="List the source files and check one page of a source.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")


def _dirs(config: Path | None) -> tuple[list[str], Settings]:
    from markwatch.config import load_settings

    settings = load_settings(config)
    return [str(d) for d in settings.scan.sources_dirs], settings


def _plain(v: object) -> Text:
    """Site text shown as text: no markup, control and bidi characters made visible."""
    from markwatch.cli.alerts import visible

    return Text(visible(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)))


@sources_app.command("list")
def list_command(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Every source a scan can use (shipped, ~/.config/markwatch/sources/, [scan] sources_dirs), and broken files."""
    from crawler.sources import scan_source_files

    with cli_errors():
        dirs, _ = _dirs(config)
        good, broken = scan_source_files(dirs)
    rows = []
    for name, src in sorted(good.items()):
        missing = sorted({n for _, n in src.missing_secrets()})
        needed = sorted({n for _, n in src.secret_refs()})
        secrets = "missing " + ", ".join(missing) if missing else ("set" if needed else "-")
        rows.append({"name": name, "kind": src.kind, "mode": src.mode, "file": src.path, "secrets": secrets})
    for name, err in sorted(broken.items()):
        rows.append({"name": name, "kind": "", "mode": "", "file": err.file or "", "secrets": "", "broken": str(err)})
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table("name", "kind", "mode", "secrets", "file")
    for r in rows:
        if r.get("broken"):
            t.add_row(Text(r["name"]), Text("BROKEN", style="red"), "", "", _plain(r["broken"]))
        else:
            t.add_row(Text(r["name"]), r["kind"], r["mode"], r["secrets"], Text(r["file"]))
    Console(width=200).print(t)


@sources_app.command("check")
def check_command(
    name: Annotated[str, typer.Argument(help="Source name or path of its YAML file.")],
    keyword: Annotated[str | None, typer.Option("--keyword", "-k", help="Search term (search sources).")] = None,
    page: Annotated[int, typer.Option("--page", "-p", min=1, help="Which results page.")] = 1,
    date: Annotated[str | None, typer.Option("--date", help="Feed day (YYYY-MM-DD).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Replace the source's {base} URL.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Fetch one page as a scan would and print the rows, each field's value or why it is empty, the next page."""
    from crawler.check import check_source
    from crawler.sources import find_source

    with cli_errors():
        dirs, settings = _dirs(config)
        src = find_source(name, dirs)
        src.require_secrets()
        if src.mode == "search" and not keyword:
            from crawler.marks import marks_for

            marks = marks_for(settings.marks.path) if settings.marks.path else []
            keyword = src.keywords[0] if src.keywords else (marks[0].name if marks else "")
        rep = check_source(src, keyword=keyword, page=page, date=date, base_url=base_url or settings.scan.base_url)
    code = 0 if rep.row_count and not rep.refused else 1
    if as_json:
        typer.echo(json.dumps(asdict(rep), ensure_ascii=False, indent=1))
        raise typer.Exit(code)
    out = Console(width=160, highlight=False)
    out.print(Text(f"{rep.source}: {rep.request}"))
    out.print(Text(f"  answer: HTTP {rep.status}  {rep.url}" if rep.status else "  answer: none"))
    if rep.error:
        out.print(Text(f"  request failed: {rep.error}", style="red"))
    if rep.refused:
        out.print(Text("  REFUSED: ", style="red") + _plain(rep.refused))
    for kind, p in rep.problems.items():
        out.print(Text(f"  {kind}: ", style="yellow") + _plain(p["first"]))
    out.print(
        Text(f"  rows: {rep.row_count}" + (f" (showing {len(rep.rows)})" if len(rep.rows) < rep.row_count else ""))
    )
    for i, row in enumerate(rep.rows, 1):
        out.print(Text(f"  [{i}]"))
        for f in row:
            line = Text(f"      {f.name}: ")
            line.append(_plain(f.value) if f.value is not None else Text(f"(empty: {f.why_empty})", style="yellow"))
            out.print(line)
        if i <= len(rep.detail_links):
            out.print(Text(f"      → detail {rep.detail_links[i - 1]}"))
    out.print(Text("  next page: " + (", ".join(rep.next_pages) if rep.next_pages else "none")))
    raise typer.Exit(code)
