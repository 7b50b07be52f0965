"""`keepwarm sandbox google` and `keepwarm scheduler`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.jobs import Job
from workers.broker import enqueue_only
from workers.cli.app import UsageError, app, console, load_settings, open_runtime


@app.command("sandbox")
def sandbox_command(
    provider: Annotated[str, typer.Argument(help="google")],
    seed: Annotated[
        list[Path],
        typer.Option("--seed", help="mbox, maildir, Enron tree or .ics to serve (repeatable)"),
    ],
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1")] = 8080,
    user: Annotated[str | None, typer.Option("--user", help="the mailbox owner's address")] = None,
) -> None:
    """Serve a local, wire-faithful Google (OAuth, Gmail, Calendar) for tests and demos."""
    if provider != "google":
        raise UsageError(f"sandbox: unknown provider {provider!r} (supported: google)")
    for path in seed:
        if not path.exists():
            raise UsageError(f"--seed: no such file or folder: {path}")
    # Imported here: the sandbox is a development tool that production code never loads.
    from connectors.sandbox.google import serve

    serve(seed, port=port, user_email=user)


@app.command("scheduler")
def scheduler_command() -> None:
    """Enqueue a sync of every account every KEEPWARM_SYNC_INTERVAL_MINUTES (needs REDIS_URL)."""
    settings = load_settings()
    if settings.redis_url is None:
        raise UsageError("scheduler: set REDIS_URL and DATABASE_URL (it feeds `keepwarm worker`s)")
    from apscheduler.schedulers.blocking import BlockingScheduler

    with open_runtime(settings) as runtime, enqueue_only(runtime) as sink:
        scheduler = BlockingScheduler(timezone="UTC")
        scheduler.add_job(
            lambda: sink.send(Job("sync.all", {})),
            "interval",
            minutes=settings.sync_interval_minutes,
            id="sync.all",
            max_instances=1,
            coalesce=True,
        )
        console.print(f"keepwarm scheduler: syncing every {settings.sync_interval_minutes} min")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)
