"""`keepwarm serve`: the web app (dashboard, REST API, sign-in) and the email links' pages."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated

import typer

from keepwarm.services.core.clock import fixed_clock
from keepwarm.services.core.jobs import JobSink
from keepwarm.services.runtime import Runtime
from keepwarm.workers.actors import Queue
from keepwarm.workers.broker import background, enqueue_only
from keepwarm.workers.cli.app import UsageError, console, load_settings, open_runtime, parse_as_of

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@contextlib.contextmanager
def _jobs(runtime: Runtime) -> Iterator[JobSink]:
    """Where the app's jobs go: Redis for the workers (production), or, embedded, a worker in
    this process that syncs newly connected accounts."""
    if runtime.settings.redis_url is not None:
        with enqueue_only(runtime) as sink:
            yield sink
        return
    with background(runtime, queues=[Queue.SYNC, Queue.DERIVE]) as bg:
        yield bg.sink


def _sandboxes(values: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise UsageError(f"--sandbox: expected PROVIDER=URL, got {value!r}")
        found[name] = url.rstrip("/")
    return found


@commands.command(
    "serve",
    help=(
        "Serve the web app, the REST API and the pages the links in digests open.\n\n"
        "Sign in with Google or Microsoft (any configured provider); the reconnect queue, "
        "contacts, accounts, settings, export and deletion; the REST API at /api/v1 "
        "(reference at /api/docs); the pages the links in digests and prompts open. "
        "KEEPWARM_PUBLIC_URL must reach this server (directly or through a reverse proxy "
        "that terminates TLS); KEEPWARM_SIGNUP_ALLOWED says who may sign up. Embedded, a "
        "browser on this machine can open it as the CLI's own user without signing in. "
        "Stops on Ctrl-C or SIGTERM."
    ),
)
def serve_command(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port to listen on")] = 8000,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="serve the data as it stood at the end of that day (the clock stands still)",
        ),
    ] = None,
    sandbox: Annotated[
        list[str] | None,
        typer.Option(
            "--sandbox",
            metavar="PROVIDER=URL",
            help="sign in and connect through a local provider sandbox (tests and demos)",
        ),
    ] = None,
) -> None:
    """Run the web app (keepwarm.services.web) on the runtime until a signal stops it."""
    settings = load_settings()
    sandboxes = _sandboxes(sandbox or [])
    frozen = parse_as_of(as_of)
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
    with listener, open_runtime(settings) as built, _jobs(built) as jobs:
        runtime = built if frozen is None else replace(built, clock=fixed_clock(frozen))
        web = create_app(runtime, jobs=jobs, sandboxes=sandboxes)
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
            soft_wrap=True,
        )
        if web.state.web.local_signin:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            console.print(
                f"  open http://{shown}:{port}/ in a browser on this machine to use it as this "
                "install's own user (no password; only from this machine)",
                highlight=False,
                soft_wrap=True,
            )
        server.run(sockets=[listener])
    console.print("keepwarm serve: stopped")
