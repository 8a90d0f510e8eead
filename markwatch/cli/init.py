"""`markwatch init`: write a commented starter markwatch.toml, its `[scan] sources` written out.

The sources listed are the real ones whose secrets are set in this environment; every other one is
named with all the variables it misses at once ("qcc-search skipped: QCC_APP_KEY, QCC_SECRET_KEY not
set"), on the terminal and in the file. The demo world's sources only with `--demo`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)


def init_command(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")] = Path("markwatch.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Scan the demo world's sources and marks too.")] = False,
) -> None:
    """Write a starter configuration with every key commented and explained, and the usable sources listed."""
    from markwatch.services.starter import choose_sources, starter_text

    if path.exists() and not force:
        typer.echo(f"error: {path} exists (use --force to overwrite)", err=True)
        raise typer.Exit(1)
    choice = choose_sources(demo=demo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(starter_text(choice, demo=demo), encoding="utf-8")
    for line in choice.skipped:
        typer.echo(line, err=True)
    for line in choice.broken:
        typer.echo(f"broken source file: {line}", err=True)
    listed = ", ".join(choice.chosen) if choice.chosen else "none yet (set the secrets named above)"
    typer.echo(f"wrote {path}: sources {listed}; edit [marks] path, then run `markwatch scan`")
