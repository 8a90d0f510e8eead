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
    terms: Annotated[
        bool, typer.Option("--terms", help="Print the search terms a scan would send for each mark; fetch nothing.")
    ] = False,
    marks: Annotated[Path | None, typer.Option("--marks", help="Marks file (default: [marks] path).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Fetch one page as a scan would and print the request as sent, the rows, each field's value or why it is
    empty, one detail page, the next page. Exit 1 when the page yields no rows or is refused, 2 for a bad file."""
    from crawler.sources import find_source

    with cli_errors():
        dirs, settings = _dirs(config)
        src = find_source(name, dirs)
        marks_path = str(marks) if marks else (str(settings.marks.path) if settings.marks.path else "")
        if terms:
            _print_terms(src, marks_path, settings.scan.terms_per_mark, as_json)
            return
        src.require_secrets()
        from crawler.check import check_source

        if src.mode == "search" and not keyword:
            from crawler.marks import marks_for

            found = marks_for(marks_path) if marks_path else []
            keyword = src.keywords[0] if src.keywords else (found[0].name if found else "")
        rep = check_source(src, keyword=keyword, page=page, date=date, base_url=base_url or settings.scan.base_url)
    rows = rep.detail.row_count if rep.file_links and rep.detail is not None else rep.row_count
    ok = (rows > 0 or bool(rep.not_published)) and not rep.refused and not (rep.error and not rows)
    if rep.detail is not None and (rep.detail.refused or (rep.detail.error and not rep.detail.row_count)):
        ok = False
    code = 0 if ok else 1
    if as_json:
        typer.echo(json.dumps(asdict(rep), ensure_ascii=False, indent=1))
        raise typer.Exit(code)
    out = Console(width=160, highlight=False, soft_wrap=True)  # URLs and bodies whole, to copy
    out.print(Text(f"{rep.source}: {rep.request}"))
    _print_sent(out, rep.sent)
    out.print(Text(f"  answer: HTTP {rep.status}  {rep.url}" if rep.status else "  answer: none"))
    if rep.error:
        out.print(Text("  request failed: ", style="red") + _plain(rep.error))
    if rep.refused:
        out.print(Text("  REFUSED: ", style="red") + _plain(rep.refused))
    if rep.not_published:
        out.print(Text("  not published yet (ok): ") + _plain(rep.not_published))
    for kind, p in rep.problems.items():
        out.print(Text(f"  {kind}: ", style="yellow") + _plain(p["first"]))
    for link in rep.file_links:
        out.print(Text("  file: ") + _plain(link))
    if not rep.file_links:
        shown = f" (showing {len(rep.rows)})" if len(rep.rows) < rep.row_count else ""
        out.print(Text(f"  rows: {rep.row_count}{shown}"))
        _print_rows(out, rep.rows, rep.detail_links)
    if rep.detail is not None:
        det = rep.detail
        what = "file" if rep.file_links else "detail page"
        out.print(Text(f"  {what} followed: ") + _plain(det.url))
        _print_sent(out, det.sent, indent="    ")
        out.print(Text(f"    answer: HTTP {det.status}" if det.status else "    answer: none"))
        if det.error:
            out.print(Text("    problem: ", style="red") + _plain(det.error))
        if det.refused:
            out.print(Text("    REFUSED: ", style="red") + _plain(det.refused))
        for f in det.fields:
            _print_field(out, f, "      ")
        if rep.file_links:
            shown = f" (showing {len(det.rows)})" if det.row_count > len(det.rows) else ""
            out.print(Text(f"    rows: {det.row_count}{shown}"))
            _print_rows(out, det.rows, [], indent="    ")
    if not rep.file_links:
        out.print(Text("  next page: " + (", ".join(rep.next_pages) if rep.next_pages else "none")))
    raise typer.Exit(code)


def _print_sent(out: Console, sent: dict, indent: str = "  ") -> None:
    """The request as it went out: method, URL, body (a form or JSON), secrets as ***."""
    if not sent:
        return
    out.print(Text(f"{indent}sent: {sent.get('method', '')} ") + _plain(sent.get("url", "")))
    if sent.get("body"):
        out.print(Text(f"{indent}body: ") + _plain(sent["body"]))
    interesting = {k: v for k, v in (sent.get("headers") or {}).items() if k.lower() not in _DULL_HEADERS}
    for k, v in interesting.items():
        out.print(Text(f"{indent}header: {k}: ") + _plain(v))


_DULL_HEADERS = {"accept-encoding", "user-agent", "accept-language", "accept"}


def _print_field(out: Console, f, indent: str) -> None:
    line = Text(f"{indent}{f.name}: ")
    line.append(_plain(f.value) if f.value is not None else Text(f"(empty: {f.why_empty})", style="yellow"))
    out.print(line)


def _print_rows(out: Console, rows: list, links: list[str], indent: str = "  ") -> None:
    for i, row in enumerate(rows, 1):
        out.print(Text(f"{indent}[{i}]"))
        for f in row:
            _print_field(out, f, indent + "    ")
        if i <= len(links):
            out.print(Text(f"{indent}    → detail ") + _plain(links[i - 1]))


def _print_terms(src, marks_path: str, cap: int, as_json: bool) -> None:
    """`--terms`: each mark's ranked terms as the scan sends them, and the calls that makes at least."""
    from crawler import terms as search_terms
    from markwatch.errors import ConfigError

    if src.mode != "search":
        raise ConfigError(f"{src.path or src.name}: --terms is for search sources (this one is mode: {src.mode})")
    if not marks_path:
        raise ConfigError("--terms needs a marks file: --marks FILE or [marks] path in markwatch.toml")
    sent, per_mark = search_terms.plan(src, marks_path, cap)
    n = search_terms.budget(src, cap)
    pages = src.pages.max_pages
    if as_json:
        data = {
            "source": src.name,
            "budget": n,
            "keywords": src.keywords,
            "marks": [{"mark": m.mark, "terms": m.terms, "new": m.new} for m in per_mark],
            "terms": sent,
            "calls_at_least": len(sent),
            "calls_at_most": len(sent) * pages,
        }
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    out = Console(width=200, highlight=False, soft_wrap=True)
    why = "max_terms" if src.max_terms else ("keyed source" if src.secret_refs() else "keyless source")
    out.print(Text(f'{src.name}: up to {n} terms per mark ({why}), ranked as docs/sources.md "Search terms" says'))
    if src.keywords:
        out.print(Text("  keywords: ") + _plain(" ".join(src.keywords)))
    for m in per_mark:
        line = Text("  ") + _plain(m.mark) + Text(f" ({len(m.terms)}): ") + _plain(" ".join(m.terms))
        if len(m.new) < len(m.terms):
            line.append(f"  [{len(m.terms) - len(m.new)} already asked for by an earlier mark]")
        out.print(line)
    out.print(
        Text(f"  {len(sent)} searches, {len(sent)} to {len(sent) * pages} calls (1 to max_pages {pages} per term)")
    )
