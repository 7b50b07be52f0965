"""`keepwarm suggestions`, `keepwarm contacts` and `keepwarm contact`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from keepwarm.services.accounts.preferences import queue_rules_for
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.reconnect import Suggestion, views
from keepwarm.services.reconnect.engine import describe_gap
from keepwarm.workers.cli.app import console, open_runtime, parse_as_of, styled

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

__all__ = ["print_queue"]

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="as it stood at the end of that day (no later data used); default: now",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _emit_json(data: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON for a pipe.
    print(json.dumps(data, ensure_ascii=False, indent=2))


def print_queue(items: list[Suggestion], title: str) -> None:
    """The reconnect queue as a table a person can read."""
    if not items:
        console.print("Nobody is overdue: everyone is within their usual rhythm.")
        return
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("#", justify="right", style="dim")
    table.add_column("who", style="bold", overflow="fold", max_width=34)
    table.add_column("why", overflow="fold")
    for rank, s in enumerate(items, 1):
        history = s.stats.history
        who = (
            styled(history.name, ("\n" + history.addresses[0], "dim"))
            if history.name
            else styled(history.addresses[0])
        )
        table.add_row(str(rank), who, s.why)
    console.print(table)


@commands.command("suggestions")
def suggestions_command(
    as_of: AsOf = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many people at most")] = 20,
    dormant: Annotated[
        bool,
        typer.Option(
            "--dormant", help="instead: strong ties quiet for a year or more, strongest first"
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Whom to reconnect with: people gone quiet for longer than usual for them, best first."""
    with open_runtime() as runtime, runtime.session_factory() as session:
        when = parse_as_of(as_of) or runtime.clock()
        user_id = ensure_user(session).id
        items = views.suggestions(
            session,
            user_id,
            when,
            queue_rules_for(session, user_id, runtime.queue_rules),
            limit,
            lifecycle=runtime.lifecycle_rules,
            dormant=dormant,
            current=as_of is None,
        )
        session.commit()  # the statistics, when this read had to build them
    if as_json:
        _emit_json([views.suggestion_json(s) for s in items])
    elif dormant:
        print_queue(items, f"Dormant strong ties as of {when:%Y-%m-%d}")
    else:
        print_queue(items, f"Reconnect queue as of {when:%Y-%m-%d}")


@commands.command("contacts")
def contacts_command(
    as_of: AsOf = None,
    merge_candidates: Annotated[
        bool,
        typer.Option(
            "--merge-candidates",
            help="instead: addresses that may be one person, with the reason "
            "(decide with `keepwarm merge A B` or `keepwarm split A`)",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Everyone you have a relationship with (you wrote to them or met them), strongest first."""
    with open_runtime() as runtime, runtime.session_factory() as session:
        when = parse_as_of(as_of) or runtime.clock()
        user_id = ensure_user(session).id
        if merge_candidates:
            candidates = views.merge_candidates(session, user_id, when)
        else:
            items = views.list_contacts(session, user_id, when)
        session.commit()
    if merge_candidates:
        if as_json:
            _emit_json(candidates)
            return
        if not candidates:
            console.print("No addresses look like one person.")
        for c in candidates:
            console.print(
                f"{c['address']}  ~  {c['other']}   ({c['reason']})",
                highlight=False,
                soft_wrap=True,
            )
        return
    if as_json:
        _emit_json(items)
        return
    table = Table(title=f"{len(items)} contacts", title_justify="left")
    for column in ("who", "last", "sent", "received", "meetings", "usual gap"):
        table.add_column(column, justify="left" if column in {"who", "last"} else "right")
    for c in items:
        gap = describe_gap(c["typical_gap_days"]) if c["typical_gap_days"] else "—"
        who = c["name"] or c["addresses"][0]
        table.add_row(
            who,
            c["last_interaction_at"][:10],
            str(c["emails_sent"]),
            str(c["emails_received"]),
            str(c["meetings"]),
            gap,
        )
    console.print(table)


@commands.command("contact")
def contact_command(
    address: Annotated[str, typer.Argument(help="any address of the person")],
    as_of: AsOf = None,
    as_json: Json = False,
) -> None:
    """One person and your timeline with them, newest first."""
    with open_runtime() as runtime, runtime.session_factory() as session:
        when = parse_as_of(as_of) or runtime.clock()
        user_id = ensure_user(session).id
        detail = views.contact_detail(session, user_id, address, when)
        session.commit()
    if as_json:
        _emit_json(detail)
        return
    console.print(
        styled(
            (detail["name"] or detail["addresses"][0], "bold"),
            "  " + ", ".join(detail["addresses"]),
        ),
        highlight=False,
    )
    if not detail["relationship"]:
        console.print("Not a relationship yet: you have not written to or met them.")
    table = Table(show_header=True, box=None)
    for column in ("when", "what", "subject"):
        table.add_column(column)
    for item in detail["timeline"][:50]:
        table.add_row(item["at"][:16].replace("T", " "), item["kind"], item["subject"] or "")
    console.print(table)
    for follow_up in detail["follow_ups"]:
        reason = f" ({follow_up['reason']})" if follow_up["reason"] else ""
        console.print(f"follow up by {follow_up['due_at'][:10]}{reason}", highlight=False)
