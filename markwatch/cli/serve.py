"""`markwatch serve`: the analysts' review site over the configured store (see docs/review.md)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from markwatch.errors import cli_errors


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def _hash_interactively() -> None:
    from markwatch.web.passwords import hash_password

    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            typer.echo("error: the two passwords differ", err=True)
            raise typer.Exit(2)
    else:  # piped: one line
        first = sys.stdin.readline().rstrip("\r\n")
    if len(first) < 10:
        typer.echo("error: use at least 10 characters", err=True)
        raise typer.Exit(2)
    typer.echo(hash_password(first))


def serve_command(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: [review] host).")] = None,
    port: Annotated[int | None, typer.Option("--port", min=0, max=65535, help="Port (default: [review] port).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="markwatch.toml file.")] = None,
    hash_password: Annotated[
        bool,
        typer.Option("--hash-password", help="Print a password hash for [review.users] (prompt or stdin)."),
    ] = False,
) -> None:
    """Serve the review queue, alert pages, overview and JSON API to signed-in analysts."""
    if hash_password:
        _hash_interactively()
        return
    import uvicorn

    from markwatch.config import load_settings
    from markwatch.web import create_app

    with cli_errors():
        settings = load_settings(config)
        app = create_app(settings)
    review = settings.review
    if not review.users:
        typer.echo(
            f"warning: no analysts in [review.users] of {settings.source}; nobody can sign in "
            "(add one with `markwatch serve --hash-password`)",
            err=True,
        )
    if review.secret_key is None:
        typer.echo(
            "warning: no [review] secret_key: sign-in forms open during a restart must be reloaded",
            err=True,
        )
    uvicorn.run(app, **uvicorn_options(review, host=host or review.host, port=review.port if port is None else port))


def uvicorn_options(review: Any, *, host: str, port: int) -> dict[str, Any]:
    """How ``serve`` runs uvicorn. No ``proxy_headers``: uvicorn would trust ``X-Forwarded-For``
    from any loopback peer, letting a local client pick its address for the sign-in throttle; the
    app honours that header only from ``[review] trusted_proxies`` (``security.client_ip``)."""
    return {
        "host": host,
        "port": port,
        "proxy_headers": False,
        "server_header": False,
        "log_level": "info",
        "timeout_keep_alive": 5,
        "limit_concurrency": 200,
    }
