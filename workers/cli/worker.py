"""`keepwarm worker`: consume background jobs from Redis until stopped."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from keepwarm.workers.broker import background
from keepwarm.workers.cli.app import UsageError, console, load_settings, open_runtime

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@commands.command("worker")
def worker_command(
    threads: Annotated[int, typer.Option("--threads", min=1, help="worker threads")] = 4,
) -> None:
    """Run a background worker against REDIS_URL and DATABASE_URL until interrupted."""
    settings = load_settings()
    if settings.redis_url is None or settings.database_url is None:
        raise UsageError("worker: set DATABASE_URL and REDIS_URL (embedded mode needs no worker)")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with open_runtime(settings) as runtime, background(runtime, threads=threads):
        console.print(f"keepwarm worker: {threads} threads consuming; Ctrl-C to stop")
        stop.wait()
    console.print("keepwarm worker: stopped")
