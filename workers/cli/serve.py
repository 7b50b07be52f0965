"""`keepwarm serve`: the web pages the one-click links in digests and prompts open."""

from __future__ import annotations

import os
import signal
import socket
from typing import Annotated

import typer

from keepwarm.workers.cli.app import UsageError, console, load_settings, open_runtime

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@commands.command(
    "serve",
    help=(
        "Serve the pages the links in digests and meeting prompts open.\n\n"
        "The links point at KEEPWARM_PUBLIC_URL, which must reach this server (directly or "
        "through a reverse proxy that terminates TLS). Stops on Ctrl-C or SIGTERM."
    ),
)
def serve_command(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port to listen on")] = 8000,
) -> None:
    """Run the link server (keepwarm.services.web) on the runtime until a signal stops it."""
    settings = load_settings()
    # Imported here: the other commands never need the web stack.
    import uvicorn

    from keepwarm.services.web import create_app

    # Bind first, so a port in use is one plain line, not a server log.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(f"serve: cannot listen on {host}:{port}: {reason}") from None
    with listener, open_runtime(settings) as runtime:
        web = create_app(runtime.session_factory, runtime.link_signer(), runtime.clock)
        # No access log: every request line holds a signed link, which must not end up in logs.
        server = uvicorn.Server(
            uvicorn.Config(web, host=host, port=port, access_log=False, log_level="warning")
        )
        # uvicorn handles SIGINT/SIGTERM while it runs and raises the signal again afterwards;
        # this handler turns that (or one during start-up) into a clean stop and exit status 0.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: setattr(server, "should_exit", True))
        console.print(
            f"keepwarm serve: listening on {host}:{port}; links point at {settings.public_url}",
            highlight=False,
        )
        server.run(sockets=[listener])
    console.print("keepwarm serve: stopped")
