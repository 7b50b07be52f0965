"""`keepwarm import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from keepwarm.connectors.files import total_bytes
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.mail.importing import (
    ImportOptions,
    ImportSummary,
    import_paths,
    summarize_run,
)
from keepwarm.services.runtime import Runtime
from keepwarm.workers.actors import Queue
from keepwarm.workers.broker import background
from keepwarm.workers.cli.app import UsageError, console, err_console, open_runtime

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

__all__ = ["import_command", "run_import"]


def run_import(
    runtime: Runtime, paths: list[Path], me: list[str], show_progress: bool
) -> ImportSummary:
    """Import `paths` and wait for derivation; the summary includes the filter counts."""
    settings = runtime.settings
    for address in me:
        if normalize_address(address) is None:
            raise UsageError(f"--me: not an email address: {address!r}")
    options = ImportOptions(
        me=tuple(me),
        calendar_years_back=settings.calendar_years_back,
        calendar_days_ahead=settings.calendar_days_ahead,
    )
    with unit_of_work(runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
    with background(runtime, queues=[Queue.DERIVE]) as bg:
        if show_progress:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("importing", total=total_bytes(paths))
                summary = import_paths(
                    runtime.session_factory,
                    user_id,
                    paths,
                    options,
                    bg.sink,
                    runtime.clock,
                    progress=lambda n: bar.advance(task, n),
                )
                bar.update(task, description="deriving interactions")
                bg.wait()
        else:
            summary = import_paths(
                runtime.session_factory, user_id, paths, options, bg.sink, runtime.clock
            )
            bg.wait()
    with runtime.session_factory() as session:
        return summarize_run(session, summary)


# C0 and C1 control characters (and DEL) in a quoted file name or line would reach the terminal.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def _escaped(text: str) -> str:
    return text.translate(_CONTROLS)


def print_summary(summary: ImportSummary) -> None:
    """The figures a person wants after an import."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("messages read", f"{summary.messages_seen:,}")
    table.add_row("  imported", f"{summary.messages_imported:,}")
    table.add_row("  duplicates", f"{summary.duplicates:,}")
    if summary.events_seen:
        table.add_row("calendar events read", f"{summary.events_seen:,}")
        table.add_row("  imported", f"{summary.events_imported:,}")
        if summary.events_updated:
            table.add_row("  changed", f"{summary.events_updated:,}")
    table.add_row("unreadable", f"{summary.unreadable:,}")
    if summary.partly_read:
        table.add_row("read in part (kept)", f"{summary.partly_read:,}")
    if summary.filtered:
        table.add_row("filtered (not a relationship)", f"{sum(summary.filtered.values()):,}")
        for reason, n in summary.filtered.items():
            table.add_row(f"  {reason.replace('_', ' ')}", f"{n:,}")
    console.print(table)
    for label, examples in (
        ("unreadable", summary.unreadable_examples),
        ("read in part", summary.partly_read_examples),
    ):
        for example in examples:
            line = _escaped(" ".join(example.split()))
            line = line if len(line) <= 160 else line[:157] + "..."
            console.print(f"  {label}: {line}", markup=False, highlight=False, soft_wrap=True)
    if summary.owner:
        console.print(
            f"you are: {', '.join(summary.owner)}", markup=False, highlight=False, soft_wrap=True
        )
    else:
        console.print(
            "could not tell who you are (no sent mail found): "
            "import your sent folder too, or pass --me ADDRESS",
            markup=False,
        )


@commands.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="mbox (also .gz, Google Takeout), maildir, a folder of RFC 822 files "
            "(the Enron layout), .eml or .ics files",
            show_default=False,
        ),
    ],
    me: Annotated[
        list[str] | None,
        typer.Option(
            "--me",
            help="an address of yours (repeatable); without it, inferred from your sent mail",
        ),
    ] = None,
) -> None:
    """Import mailboxes and calendars (headers only) and derive your relationships.

    Re-importing the same data changes nothing.
    """
    with open_runtime() as runtime:
        summary = run_import(runtime, paths, me or [], show_progress=err_console.is_terminal)
    print_summary(summary)
