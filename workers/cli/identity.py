"""`keepwarm merge A B` and `keepwarm split ADDRESS`: the user's word on who is who."""

from __future__ import annotations

from typing import Annotated

import typer

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.identity.decisions import merge_addresses, split_off
from keepwarm.workers.actors import Queue
from keepwarm.workers.broker import background
from keepwarm.workers.cli.app import console, open_runtime

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@commands.command("merge")
def merge_command(
    address: Annotated[str, typer.Argument(help="an address of the person to keep")],
    other: Annotated[str, typer.Argument(help="an address of the same person, listed apart")],
) -> None:
    """These two addresses are one person (later imports keep them together)."""
    with open_runtime() as runtime, unit_of_work(runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
        merge_addresses(uow.session, user_id, address, other, runtime.clock())
    console.print(f"merged: {other} is now the same person as {address}", highlight=False)


@commands.command("split")
def split_command(
    address: Annotated[str, typer.Argument(help="the address to give a person of its own")],
) -> None:
    """This address is someone else: take it out of the person it was merged into."""
    with open_runtime() as runtime, background(runtime, queues=[Queue.DERIVE]) as bg:
        with unit_of_work(runtime.session_factory, bg.sink) as uow:
            user_id = ensure_user(uow.session).id
            moved = split_off(uow.session, user_id, address, uow.jobs, runtime.clock())
        bg.wait()
    message = "split" if moved else "already a person of its own; it will stay apart"
    console.print(f"{message}: {address}", highlight=False)
