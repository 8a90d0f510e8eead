"""`markwatch alerts held` and `markwatch alerts release`: a source's flood waits for an analyst.

A scan that finds a source bringing far more new alerts than usual holds them back from the
digests (alerts.held); they stay in the review queue. `held` lists what waits, `release` lets it
into the next digests (`markwatch notify`, or the next scan).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.cli.alerts import ConfigOpt, alerts_app, visible
from markwatch.errors import UserError, cli_errors


def register(app: typer.Typer) -> None:
    alerts_app.command("held")(held_cmd)
    alerts_app.command("release")(release_cmd)


def _path(config: Path | None) -> Path:
    from markwatch.config import load_settings
    from markwatch.services.notify_run import held_path

    return held_path(load_settings(config))


def held_cmd(config: ConfigOpt = None) -> None:
    """List the alerts held back from the digests, per source and scan."""
    from alerts.held import HeldAlerts

    with cli_errors():
        path = _path(config)
        if not path.exists():
            Console().print(Text("No alerts are held."))
            return
        with HeldAlerts(path) as held:
            groups = held.groups()
    if not groups:
        Console().print(Text("No alerts are held."))
        return
    table = Table(title="Held from the digests")
    for col in ("Source", "Scan started", "Why", "Alerts", "Held since"):
        table.add_column(col)
    for g in groups:
        table.add_row(Text(visible(g.source)), g.run, g.reason, str(g.count), g.since)
    Console().print(table)
    Console().print(
        Text("Review them (markwatch alerts search --status new), then: markwatch alerts release --source NAME")
    )


def release_cmd(
    ids: Annotated[list[str] | None, typer.Argument(help="Alert ids to release (default: see --source/--all).")] = None,
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Release every held alert of this source.")
    ] = None,
    release_all: Annotated[bool, typer.Option("--all", help="Release every held alert.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Let held alerts into the next digests."""
    from alerts.held import HeldAlerts

    with cli_errors():
        if not ids and source is None and not release_all:
            raise UserError("say what to release: alert ids, --source NAME or --all")
        path = _path(config)
        if not path.exists():
            Console().print(Text("No alerts are held."))
            return
        with HeldAlerts(path) as held:
            n = held.release(source=source, ids=ids or None)
            left = len(held)
    Console().print(Text(f"{n} alert(s) released for the next digests; {left} still held."))
