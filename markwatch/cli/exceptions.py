"""`markwatch exceptions …`: the stored "never flag this word for this mark" decisions.

``list`` shows them (who, when, why, revoked or not), ``add`` makes one without an alert, ``revoke``
ends one. They apply from the next scan on (``markwatch.services.exclusions``); ``markwatch alerts rescreen``
shows what they would close in the queue today. Everything shown is crawled or typed text: it goes
through ``visible`` (control and invisible characters made visible) and ``Text`` (no markup).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from markwatch.cli.alerts import ConfigOpt, _store, cli_audit, cli_user, visible

exceptions_app = typer.Typer(help="Words never to flag again for a mark (analysts' exceptions).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(exceptions_app, name="exceptions")


@exceptions_app.command("list")
def list_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Also revoked ones.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The stored exceptions, newest first (active ones unless --all)."""
    if fmt not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    with _store(config) as store:
        found = store.exception_list(active_only=not all_)
    if fmt == "json":
        for e in found:
            print(json.dumps(e.model_dump(mode="json"), ensure_ascii=False))
        return
    t = Table(title=f"{len(found)} exception(s)")
    for col in ("Id", "Mark", "Word", "Who", "When (UTC)", "Why", "Revoked"):
        t.add_column(col)
    for e in found:
        revoked = f"{e.revoked_at:%Y-%m-%d %H:%M} by {visible(e.revoked_by, 40)}" if e.revoked_at else ""
        t.add_row(
            e.id,
            Text(visible(e.mark, 40) if e.mark else "(every mark)"),
            Text(visible(e.word, 64)),
            Text(visible(e.who, 40)),
            f"{e.at:%Y-%m-%d %H:%M}",
            Text(visible(e.why, 80)),
            Text(revoked),
        )
    Console().print(t)


@exceptions_app.command("add")
def add_cmd(
    word: Annotated[str, typer.Argument(help="The word never to flag (plain text).")],
    mark: Annotated[str | None, typer.Option("--mark", "-m", help="For this mark (default: every mark).")] = None,
    why: Annotated[str, typer.Option("--why", help="Why (kept with the exception).")] = "",
    who: Annotated[str | None, typer.Option("--by", "--who", help="Who (default: the operating-system user).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Never flag WORD for a mark (or every mark) again, from the next scan on."""
    from pydantic import ValidationError

    from alerts.exceptions import MarkException

    analyst = cli_user(who)
    try:
        exc = MarkException(mark=mark, word=word, who=analyst, at=datetime.now(UTC), why=why[:2000])
    except ValidationError as e:
        raise typer.BadParameter(f"invalid exception: {e.errors()[0]['msg']}") from None
    with _store(config) as store:
        store.exception_add(exc)
        cli_audit(
            store,
            "exception",
            analyst,
            [f"exception:{exc.id}"],
            detail=f"add {exc.word} for {exc.mark or '*'}",
            note=why,
        )
    target = visible(exc.mark) if exc.mark else "every mark"
    Console().print(Text(f"Exception {exc.id}: never flag {visible(exc.word)!r} for {target}."))


@exceptions_app.command("revoke")
def revoke_cmd(
    id: Annotated[str, typer.Argument(metavar="ID", help="Exception id (from `markwatch exceptions list`).")],
    why: Annotated[str, typer.Option("--why", help="Why it is revoked.")] = "",
    who: Annotated[str | None, typer.Option("--by", "--who", help="Who (default: the operating-system user).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Revoke an exception: the word is flagged again from the next scan on."""
    analyst = cli_user(who)
    with _store(config) as store:
        e = store.exception_revoke(id.strip(), analyst, why[:2000])
        cli_audit(store, "exception", analyst, [f"exception:{e.id}"], detail="revoke", note=why)
    Console().print(Text(f"Exception {e.id} revoked ({visible(e.word)!r} for {visible(e.mark) or 'every mark'})."))
