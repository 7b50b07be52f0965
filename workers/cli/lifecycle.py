"""`keepwarm snooze|done|talked|stop|resume ADDRESS`: answering a suggestion."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import Action
from keepwarm.services.reconnect.lifecycle import record_action
from keepwarm.workers.cli.app import UsageError, console, open_runtime, parse_as_of, parse_span

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

Address = Annotated[str, typer.Argument(help="any address of the person")]
On = Annotated[
    str | None,
    typer.Option("--on", metavar="YYYY-MM-DD", help="when it happened (default: now)"),
]


def _answer(
    address: str,
    action: Action,
    on: str | None,
    until: datetime | None = None,
    until_text: str | None = None,
    span: timedelta | None = None,
) -> None:
    given = parse_as_of(on, "--on")
    if until_text is not None:
        until = parse_as_of(until_text, "--until")
    with open_runtime() as runtime, unit_of_work(runtime.session_factory) as uow:
        at = given or runtime.clock()
        if span is not None:
            until = at + span
        user_id = ensure_user(uow.session).id
        record_action(uow.session, user_id, address, action, at, until)
    console.print(f"{action.value.replace('_', ' ')}: {address}", highlight=False)


@commands.command("snooze")
def snooze_command(
    address: Address,
    for_: Annotated[
        str | None,
        typer.Option("--for", metavar="2w|1m|3m", help="how long: days, weeks, months, years"),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="YYYY-MM-DD", help="or: until this day")
    ] = None,
    on: On = None,
) -> None:
    """Not now: leave this person out of the queue for a while (their rhythm stretches too)."""
    if (for_ is None) == (until is None):
        raise UsageError("snooze: give exactly one of --for (e.g. 2w, 1m, 3m) or --until DATE")
    if for_ is not None:
        span = parse_span(for_, "--for")
        _answer(address, Action.SNOOZE, on, span=span)
    else:
        _answer(address, Action.SNOOZE, on, until_text=until)


@commands.command("done")
def done_command(address: Address, on: On = None) -> None:
    """You reached out: the clock restarts and they rest for the cool-down."""
    _answer(address, Action.DONE, on)


@commands.command("talked")
def talked_command(address: Address, on: On = None) -> None:
    """You talked on another channel (phone, chat, in person): counts as contact."""
    _answer(address, Action.TALKED_ELSEWHERE, on)


@commands.command("stop")
def stop_command(address: Address, on: On = None) -> None:
    """Never suggest this person again (undo with `keepwarm resume`)."""
    _answer(address, Action.STOP, on)


@commands.command("resume")
def resume_command(address: Address, on: On = None) -> None:
    """Undo a stop or a snooze."""
    _answer(address, Action.RESUME, on)
