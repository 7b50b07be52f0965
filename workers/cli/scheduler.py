"""`keepwarm scheduler`: the periodic trigger for syncs, digests, meeting prompts and the
queue's model refits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from keepwarm.services.core.jobs import Job, JobSink
from keepwarm.services.runtime import Runtime
from keepwarm.workers.actors import NOTIFY_TICK, REFIT_MODELS, SYNC_ALL
from keepwarm.workers.broker import background, enqueue_only
from keepwarm.workers.cli.app import console, load_settings, open_runtime

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@contextmanager
def _sink(runtime: Runtime) -> Iterator[JobSink]:
    # With Redis the jobs go to `keepwarm worker`s; embedded, a worker runs in this process.
    if runtime.settings.redis_url is not None:
        with enqueue_only(runtime) as sink:
            yield sink
    else:
        with background(runtime) as bg:
            yield bg.sink


@commands.command("scheduler")
def scheduler_command(
    once: Annotated[
        bool, typer.Option("--once", help="enqueue one round of every job and exit")
    ] = False,
) -> None:
    """Sync every account and send the digests and meeting prompts that are due, on schedule.

    Every KEEPWARM_SYNC_INTERVAL_MINUTES it syncs every account; every KEEPWARM_TICK_MINUTES it
    sends the digests and meeting prompts that are due, and refits the queue models a new
    day or an answer made stale.
    Run any number of schedulers: each digest and prompt is still sent once. With REDIS_URL
    the work goes to `keepwarm worker`s; embedded, this process does it too.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    settings = load_settings()
    with open_runtime(settings) as runtime, _sink(runtime) as sink:
        if once:
            sink.send(Job(SYNC_ALL, {}))
            sink.send(Job(NOTIFY_TICK, {}))
            sink.send(Job(REFIT_MODELS, {}))
            console.print("keepwarm scheduler: one round enqueued")
            return
        scheduler = BlockingScheduler(timezone="UTC")
        now = runtime.clock()
        for name, minutes in (
            (SYNC_ALL, float(settings.sync_interval_minutes)),
            (NOTIFY_TICK, settings.tick_minutes),
            # A model goes stale at each UTC midnight and with each answer: refitted here
            # within a tick, so the queue's next read need not fit it.
            (REFIT_MODELS, settings.tick_minutes),
        ):
            scheduler.add_job(
                sink.send,
                "interval",
                args=[Job(name, {})],
                seconds=minutes * 60,
                id=name,
                next_run_time=now,  # start with a round, not after one interval
                max_instances=1,
                coalesce=True,
            )
        console.print(
            f"keepwarm scheduler: syncing every {settings.sync_interval_minutes} min, "
            f"digests and prompts checked every {settings.tick_minutes:g} min"
        )
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=False)
