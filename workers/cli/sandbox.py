"""`keepwarm sandbox google|microsoft`: a local provider for tests and demos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keepwarm.workers.cli.app import UsageError

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

_DEFAULT_PORTS = {"google": 8080, "microsoft": 8081}


@commands.command("sandbox")
def sandbox_command(
    provider: Annotated[str, typer.Argument(help="google or microsoft")],
    seed: Annotated[
        list[Path],
        typer.Option("--seed", help="mbox, maildir, Enron tree or .ics to serve (repeatable)"),
    ],
    port: Annotated[
        int | None,
        typer.Option("--port", help="port on 127.0.0.1 (google 8080, microsoft 8081)"),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="the mailbox owner's address")] = None,
) -> None:
    """Serve a local, wire-faithful provider (OAuth, mail, calendar) for tests and demos.

    google: OAuth, Gmail v1 and Calendar v3; microsoft: the identity platform and Graph v1.0
    mail and calendar, with Outlook's limits.
    """
    if provider not in _DEFAULT_PORTS:
        raise UsageError(f"sandbox: unknown provider {provider!r} (supported: google, microsoft)")
    for path in seed:
        if not path.exists():
            raise UsageError(f"--seed: no such file or folder: {path}")
    chosen = _DEFAULT_PORTS[provider] if port is None else port
    # Imported here: the sandboxes are development tools that production code never loads.
    if provider == "google":
        from keepwarm.connectors.sandbox.google import serve

        serve(seed, port=chosen, user_email=user)
    else:
        from keepwarm.connectors.sandbox.microsoft import serve as serve_microsoft

        serve_microsoft(seed, port=chosen, user_email=user)
