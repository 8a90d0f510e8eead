"""`markwatch init`: write a commented starter markwatch.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)


def init_command(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")] = Path("markwatch.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter configuration with every key commented and explained."""
    from markwatch.services.starter import STARTER

    if path.exists() and not force:
        typer.echo(f"error: {path} exists (use --force to overwrite)", err=True)
        raise typer.Exit(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER, encoding="utf-8")
    typer.echo(f"wrote {path}: edit [marks] path and [scan] sources, then run `markwatch scan`")
