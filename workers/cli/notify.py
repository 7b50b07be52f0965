"""`keepwarm digest`, `keepwarm prompts`, `keepwarm note` and `keepwarm follow-up`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.core.private import write_private
from keepwarm.services.models import DeliveryKind, User
from keepwarm.services.notify.plan import recipient_for
from keepwarm.services.notify.previews import digest_preview
from keepwarm.services.notify.schedule import WEEKDAYS, parse_timezone, parse_weekday
from keepwarm.services.notify.views import delivery_history, prompt_list
from keepwarm.services.reconnect.lifecycle import person_for_address
from keepwarm.services.reconnect.notes import add_follow_up, add_note
from keepwarm.workers.cli.app import UsageError, console, open_runtime, parse_as_of, parse_span

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

__all__ = ["write_html"]

Json = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _emit_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def write_html(path: Path, html: str, option: str = "--out") -> None:
    """Write an email's HTML where the user asked, readable by them only (its links act for
    them until they expire); a bad path is their input, named."""
    try:
        write_private(path, html)
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from None


def _apply_schedule(
    user: User,
    to: str | None,
    timezone: str | None,
    weekday: str | None,
    hour: int | None,
    enable: bool | None,
) -> bool:
    changed = False
    if to is not None:
        if "@" not in to or any(c.isspace() for c in to):
            raise UsageError(f"--to: not an email address: {to!r}")
        user.email, changed = to, True
    if timezone is not None:
        parse_timezone(timezone)
        user.timezone, changed = timezone, True
    if weekday is not None:
        user.digest_weekday, changed = parse_weekday(weekday), True
    if hour is not None:
        user.digest_hour, changed = hour, True
    if enable is not None:
        user.digests_enabled, changed = enable, True
    return changed


@commands.command("digest")
def digest_command(
    preview: Annotated[
        bool, typer.Option("--preview", help="render this week's digest without sending it")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="YYYY-MM-DD", help="preview as of the end of that day"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE.html", help="write the preview's HTML")
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="list past digests and how each went")
    ] = False,
    to: Annotated[str | None, typer.Option("--to", help="send digests to this address")] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="your IANA time zone, e.g. Europe/Berlin")
    ] = None,
    weekday: Annotated[str | None, typer.Option("--weekday", help="which day: mon..sun")] = None,
    hour: Annotated[
        int | None, typer.Option("--hour", min=0, max=23, help="which hour, 0-23, local")
    ] = None,
    enable: Annotated[
        bool | None, typer.Option("--on/--off", help="turn the weekly digest on or off")
    ] = None,
    as_json: Json = False,
) -> None:
    """The weekly reconnect digest: preview it, schedule it, or see its history.

    Digests go out once per ISO week at your weekday and hour in your own time zone, sent by
    `keepwarm scheduler`. With no options, shows the schedule.
    """
    if (as_of or out) and not preview:
        raise UsageError("--as-of and --out go with --preview")
    with open_runtime() as runtime:
        if preview:
            with runtime.session_factory() as session:
                user_id = ensure_user(session).id
                session.commit()
            shown = digest_preview(runtime, user_id, parse_as_of(as_of) or runtime.clock())
            if out is not None:
                write_html(out, shown.email.html)
                console.print(
                    f"digest preview ({shown.people} people) written to {out}", highlight=False
                )
            else:
                print(shown.email.text)
            return
        with unit_of_work(runtime.session_factory) as uow:
            user = ensure_user(uow.session)
            changed = _apply_schedule(user, to, timezone, weekday, hour, enable)
            recipient = recipient_for(uow.session, user)
            rows = delivery_history(uow.session, user.id, DeliveryKind.DIGEST)
            schedule = {
                "enabled": user.digests_enabled,
                "to": recipient,
                "weekday": WEEKDAYS[user.digest_weekday],
                "hour": user.digest_hour,
                "timezone": user.timezone,
            }
    if as_json:
        _emit_json({"schedule": schedule, "history": rows} if history else schedule)
        return
    state = "on" if schedule["enabled"] else "off"
    console.print(
        f"{'Updated: ' if changed else ''}weekly digest {state}: "
        f"{str(schedule['weekday']).capitalize()} {schedule['hour']:02d}:00 "
        f"{schedule['timezone']}, to {recipient or '(no address: set --to)'}",
        highlight=False,
    )
    if history:
        _print_deliveries(rows, "Digests")


def _print_deliveries(rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        console.print(f"{title}: none yet")
        return
    table = Table(title=title, title_justify="left")
    for column in ("when", "status", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        detail = row.get("last_error") or ""
        if not detail and row.get("detail"):
            d = row["detail"]
            detail = d.get("reason") or ", ".join(d.get("people") or d.get("reasons") or [])
        table.add_row(
            (row.get("sent_at") or row["due_at"] or "")[:16].replace("T", " "),
            row["status"] + (f" ({row['variant']})" if row.get("variant") else ""),
            detail,
        )
    console.print(table)


@commands.command("prompts")
def prompts_command(
    enable: Annotated[
        bool | None, typer.Option("--on/--off", help="turn post-meeting prompts on or off")
    ] = None,
    as_json: Json = False,
) -> None:
    """Post-meeting prompts: sent, pending and upcoming (meetings in the next day that qualify).

    A prompt goes out a little after a meeting you attended with 1-6 other people, at least one
    from outside your own domain (not all-day, cancelled or declined).
    """
    with open_runtime() as runtime, unit_of_work(runtime.session_factory) as uow:
        user = ensure_user(uow.session)
        if enable is not None:
            user.prompts_enabled = enable
        rows = prompt_list(uow.session, user.id, runtime.clock(), runtime.notify_rules.prompt)
        enabled = user.prompts_enabled
    if as_json:
        _emit_json(rows)
        return
    console.print(f"meeting prompts {'on' if enabled else 'off'}")
    if not rows:
        console.print("No prompts yet.")
        return
    table = Table(title="Meeting prompts", title_justify="left")
    for column in ("meeting", "ended", "status", "people"):
        table.add_column(column, overflow="fold")
    for row in rows:
        meeting = row.get("meeting") or {}
        people = ", ".join(p["name"] or p["address"] for p in meeting.get("people", []))
        table.add_row(
            meeting.get("summary") or "(removed)",
            (meeting.get("end") or "")[:16].replace("T", " "),
            row["status"],
            people,
        )
    console.print(table)


Address = Annotated[str, typer.Argument(help="any address of the person")]


@commands.command("note")
def note_command(address: Address, text: Annotated[str, typer.Argument(help="the note")]) -> None:
    """Add a note to a contact's timeline."""
    with open_runtime() as runtime, unit_of_work(runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
        person_id = person_for_address(uow.session, user_id, address)
        add_note(uow.session, user_id, person_id, text, runtime.clock())
    console.print(f"note added: {address}", highlight=False)


@commands.command("follow-up")
def follow_up_command(
    address: Address,
    in_: Annotated[
        str, typer.Option("--in", metavar="1w|2w|1m", help="when: days, weeks or months")
    ] = "1w",
    reason: Annotated[str | None, typer.Option("--reason", help="what about")] = None,
) -> None:
    """Be reminded of someone in the digest, unless you are in touch before then."""
    span = parse_span(in_, "--in")
    with open_runtime() as runtime, unit_of_work(runtime.session_factory) as uow:
        now = runtime.clock()
        due = now + span
        user_id = ensure_user(uow.session).id
        person_id = person_for_address(uow.session, user_id, address)
        add_follow_up(uow.session, user_id, person_id, now, due, reason)
    console.print(f"follow-up on {due:%Y-%m-%d}: {address}", highlight=False)
