"""`keepwarm sandbox google`: a local Google for tests and demos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keepwarm.workers.cli.app import UsageError

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@commands.command("sandbox")
def sandbox_command(
    provider: Annotated[str, typer.Argument(help="google")],
    seed: Annotated[
        list[Path],
        typer.Option("--seed", help="mbox, maildir, Enron tree or .ics to serve (repeatable)"),
    ],
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 8080,
    user: Annotated[str | None, typer.Option("--user", help="the mailbox owner's address")] = None,
) -> None:
    """Serve a local, wire-faithful provider (OAuth, mail, calendar) for tests and demos."""
    if provider != "google":
        raise UsageError(f"sandbox: unknown provider {provider!r} (supported: google)")
    for path in seed:
        if not path.exists():
            raise UsageError(f"--seed: no such file or folder: {path}")
    # Imported here: the sandbox is a development tool that production code never loads.
    from keepwarm.connectors.sandbox.google import serve

    serve(seed, port=port, user_email=user)
