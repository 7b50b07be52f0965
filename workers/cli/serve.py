"""`keepwarm serve`: the web app (dashboard, REST API, sign-in) and the email links' pages."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated

import typer

from keepwarm.services.core.clock import fixed_clock
from keepwarm.services.core.config import Settings
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


# Each process keeps its own connection pool (up to 15 connections) and queue cache: four
# use two cores fully with room for the database, and stay well inside PostgreSQL's default
# of 100 connections beside the workers.
MAX_DEFAULT_WORKERS = 4


def default_workers(settings: Settings) -> int:
    """One process per core, at most MAX_DEFAULT_WORKERS; one when embedded (SQLite, and
    the in-process worker that must run once)."""
    if settings.embedded:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def _supervise(workers: int, child: Callable[[], None]) -> int:
    """Run `child` in `workers` forked processes until SIGINT/SIGTERM, or until any one of
    them ends (a crashed process is not replaced in silence: the whole server stops, for the
    service manager to restart). Returns the exit status: 0 after a signal, 1 otherwise."""
    pids: list[int] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the child: it must never return into the parent's stack
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            code = 0
            try:
                child()
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        pids.append(pid)
    status = 0
    while pids:
        try:
            pid, wait_status = os.wait()
        except ChildProcessError:
            break
        pids.remove(pid)
        if not stopping:
            status = 1 if os.waitstatus_to_exitcode(wait_status) != 0 or pids else status
            stop()
    return status


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
        "Stops on Ctrl-C or SIGTERM. With a database server (DATABASE_URL) it answers from "
        f"several processes, one per core up to {MAX_DEFAULT_WORKERS} unless --workers says; "
        "embedded, from one."
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
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help=(
                "server processes (default: one per core, at most "
                f"{MAX_DEFAULT_WORKERS}; embedded: 1, the only choice there)"
            ),
        ),
    ] = None,
) -> None:
    """Run the web app (keepwarm.services.web) on the runtime until a signal stops it."""
    settings = load_settings()
    sandboxes = _sandboxes(sandbox or [])
    frozen = parse_as_of(as_of)
    processes = workers if workers is not None else default_workers(settings)
    if processes > 1 and settings.embedded:
        raise UsageError(
            "serve: --workers: an embedded install answers from one process (its SQLite file "
            "and its in-process worker); set DATABASE_URL and REDIS_URL for more"
        )
    if processes > 1 and not hasattr(os, "fork"):
        raise UsageError("serve: --workers: more than one process needs fork (Linux, macOS)")
    # Bind first, so a port in use is one plain line, not a server log.
    listener = _listen(host, port, reuse_port=processes > 1 and SPREAD)
    if processes == 1:
        with listener:
            _serve(settings, frozen, sandboxes, lambda: listener, host, port, announce=True)
    else:
        console.print(
            f"keepwarm serve: listening on {host}:{port} ({processes} processes); links "
            f"point at {settings.public_url}",
            highlight=False,
            soft_wrap=True,
        )
        if SPREAD:
            # Each process listens on a socket of its own on the same port, and the kernel
            # spreads new connections evenly over them: on one shared socket the first
            # process to wake takes a whole burst of connections, and the others idle.
            listener.close()

        def listening() -> socket.socket:
            return _listen(host, port, reuse_port=True) if SPREAD else listener

        # Forked before any connection or thread exists: each process builds its own.
        with listener:
            status = _supervise(
                processes,
                lambda: _serve(settings, frozen, sandboxes, listening, host, port, announce=False),
            )
        if status:
            console.print("keepwarm serve: a server process ended; stopped the others")
            raise SystemExit(status)
    console.print("keepwarm serve: stopped")


# Linux balances SO_REUSEPORT sockets; elsewhere the option only lets them share the port.
SPREAD = sys.platform == "linux"


def _listen(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A socket listening on host:port; raises UsageError (the port in use, say)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, reuse_port=reuse_port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(f"serve: cannot listen on {host}:{port}: {reason}") from None


def _serve(
    settings: Settings,
    frozen: datetime | None,
    sandboxes: dict[str, str],
    listening: Callable[[], socket.socket],
    host: str,
    port: int,
    *,
    announce: bool,
) -> None:
    """One server process: its own runtime (connection pool, queue cache) on the socket
    `listening()` gives."""
    # Imported here: the other commands never need the web stack.
    import uvicorn

    from keepwarm.services.web import create_app

    with open_runtime(settings) as built, _jobs(built) as jobs:
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
        if announce:
            console.print(
                f"keepwarm serve: listening on {host}:{port}; links point at {settings.public_url}",
                highlight=False,
                soft_wrap=True,
            )
        if announce and web.state.web.local_signin:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            console.print(
                f"  open http://{shown}:{port}/ in a browser on this machine to use it as this "
                "install's own user (no password; only from this machine)",
                highlight=False,
                soft_wrap=True,
            )
        # What exists now (the modules, the app, the pool) lives as long as the process: kept out
        # of the garbage collector's full passes, which otherwise walk it all and stall every
        # request of the process for a tenth of a second or more (bench/README.md, api.py).
        gc.freeze()
        server.run(sockets=[listening()])
