"""`keepwarm intro ADDRESS|DOMAIN`: who you know who knows who you don't."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.reconnect.intro import find_intros, parse_target
from keepwarm.workers.cli.app import console, open_runtime, parse_as_of
from keepwarm.workers.cli.queue import AsOf, Json

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()


@commands.command("intro")
def intro_command(
    target: Annotated[str, typer.Argument(help="a person's address, or a domain (acme.com)")],
    as_of: AsOf = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many people at most")] = 10,
    as_json: Json = False,
) -> None:
    """Who could introduce you: your contacts who wrote or met with that person or company."""
    who = parse_target(target)
    with open_runtime() as runtime, runtime.session_factory() as session:
        when = parse_as_of(as_of) or runtime.clock()
        user_id = ensure_user(session).id
        paths = find_intros(
            session, user_id, who, when, max_people=runtime.settings.bulk_recipients + 1
        )[:limit]
        session.commit()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "contact": {"name": p.name, "addresses": list(p.addresses)},
                        "threads": p.threads,
                        "meetings": p.meetings,
                        "last_together": p.last_together.isoformat().replace("+00:00", "Z"),
                        "tie_strength": p.tie_strength,
                        "score": p.score,
                        "evidence": p.evidence,
                    }
                    for p in paths
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not paths:
        console.print(
            f"None of your contacts has written or met with {who} (in your data).", highlight=False
        )
        return
    table = Table(title=f"Who could introduce you to {who}", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("who", style="bold", max_width=34, overflow="fold")
    table.add_column("evidence", overflow="fold")
    for rank, p in enumerate(paths, 1):
        table.add_row(str(rank), p.name or p.addresses[0], p.evidence)
    console.print(table)
