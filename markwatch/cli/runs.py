"""`markwatch runs`: the scan log (start, end, status, counts, errors), newest first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.errors import cli_errors

_STYLE = {
    "ok": "green",
    "degraded": "yellow",
    "interrupted": "yellow",
    "failed": "red",
    "killed": "red",
    "running": "cyan",
}


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)


def runs_command(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs to show.")] = 20,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    last: Annotated[
        bool, typer.Option("--last", help="Only the last finished scan; exit 1 when it was not ok (for monitoring).")
    ] = False,
) -> None:
    """List recorded scans, newest first (with --last: the last one, exit 1 unless it was ok)."""
    from markwatch.cli.alerts import visible
    from markwatch.config import load_settings
    from markwatch.services.runs import RunLog

    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    with cli_errors():
        settings = load_settings(config)
    path = settings.scan.state_dir / "runs.sqlite"
    runs = []
    if path.exists():
        with RunLog(path) as log:
            if last:
                one = log.last()
                runs = [one] if one else []
            else:
                runs = log.list(limit)
    code = 0 if (not last or (runs and runs[0].status == "ok")) else 1
    if fmt == "json":
        data = [r.to_dict() for r in runs]
        typer.echo(json.dumps(data[0] if last and data else (None if last else data), ensure_ascii=False, indent=1))
        raise typer.Exit(code)
    out = Console()
    if not out.is_terminal:
        out = Console(width=max(out.width, 160))  # logs and pipes get the whole table
    if not runs:
        out.print(Text(f"No scans recorded yet ({path})."))
        raise typer.Exit(code)
    table = Table(title=Text(f"Scans ({path})"), title_justify="left")
    for col in (
        "#",
        "Started (UTC)",
        "Duration",
        "Status",
        "Trigger",
        "Sources",
        "Pages",
        "Hits",
        "New",
        "Updated",
        "Emails",
        "Not ok",
        "Problems",
    ):
        table.add_column(
            col,
            justify="right"
            if col in ("#", "Duration", "Pages", "Hits", "New", "Updated", "Emails", "Not ok")
            else "left",
        )
    for r in runs:
        t = r.totals
        bad = [
            f"{p.get('source')}: {p.get('state')}: {p.get('reason', '')}"
            for p in r.per_source
            if p.get("state", "ok") != "ok"
        ]
        err = "; ".join(bad + list(r.errors))
        table.add_row(
            str(r.id),
            r.started_at.replace("+00:00", ""),
            f"{r.duration:.1f} s" if r.duration is not None else "–",
            Text(r.status + (" (resumed)" if r.resumed else ""), style=_STYLE.get(r.status, "")),
            r.trigger,
            Text(visible(", ".join(r.sources), 60), overflow="fold"),
            str(t.get("pages", "–")),
            str(t.get("hits", "–")),
            str(t.get("alerts_new", "–")),
            str(t.get("alerts_updated", "–")),
            str(t.get("emails_sent", "–")),
            str(int(t.get("degraded", 0) or 0) + int(t.get("failed", 0) or 0)) if "degraded" in t else "–",
            Text(visible(err, 120)),
        )
    out.print(table)
    raise typer.Exit(code)
