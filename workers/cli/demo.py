"""`keepwarm demo`: the whole product on a real sample mailbox, with no servers."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.demo import DEMO_CALENDAR, SAMPLE_MAILBOX
from keepwarm.services.notify.previews import digest_preview, latest_prompt_preview
from keepwarm.services.reconnect import views
from keepwarm.services.runtime import Runtime
from keepwarm.workers.cli.accounts import connect_account, print_accounts, sync_and_wait
from keepwarm.workers.cli.app import (
    UsageError,
    console,
    err_console,
    load_settings,
    open_runtime,
    parse_as_of,
    styled,
)
from keepwarm.workers.cli.importing import print_summary, run_import
from keepwarm.workers.cli.notify import write_html
from keepwarm.workers.cli.queue import print_queue

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

# The sample's sent mail is continuous until the end of February 2001, then has a gap of eight
# months (the Enron export kept only some folders); a queue read after the gap would only show
# the gap.
DEMO_AS_OF = "2001-02-28"


@commands.command("demo")
def demo_command(
    from_files: Annotated[
        bool, typer.Option("--from-files", help="import the sample as a file instead")
    ] = False,
    provider: Annotated[
        str, typer.Option("--provider", help="the sandbox to connect to: google or microsoft")
    ] = "google",
) -> None:
    """See the product as a connected user would, on a real sample mailbox; no servers needed.

    Starts a local Google (or Microsoft) sandbox holding the headers of an Enron executive's
    mailbox, connects to it through OAuth, syncs with the background workers and shows the
    reconnect queue. Runs embedded in KEEPWARM_HOME/demo, started afresh each time; your data
    is untouched.
    """
    if provider not in ("google", "microsoft"):
        raise UsageError(f"--provider: unknown provider {provider!r} (google or microsoft)")
    as_of = parse_as_of(DEMO_AS_OF)
    assert as_of is not None  # a fixed date
    base = load_settings()
    home = base.home / "demo"
    shutil.rmtree(home, ignore_errors=True)
    # Embedded in its own home, started afresh: the key that seals its tokens is made on first
    # use and kept there, so `keepwarm serve` on the demo's home can open them too.
    settings = base.model_copy(update={"home": home, "database_url": None, "redis_url": None})
    with open_runtime(settings) as runtime:
        if from_files:
            console.print(
                styled(
                    ("keepwarm demo", "bold"),
                    f": importing {SAMPLE_MAILBOX.name} "
                    "(headers of a real Enron mailbox, 2000-2002)",
                )
            )
            print_summary(
                run_import(
                    runtime,
                    [SAMPLE_MAILBOX, DEMO_CALENDAR],
                    [],
                    show_progress=err_console.is_terminal,
                )
            )
        elif provider == "microsoft":
            _microsoft_demo(runtime)
        else:
            _connected_demo(runtime)
        with runtime.session_factory() as session:
            user_id = ensure_user(session).id
            items = views.suggestions(session, user_id, as_of, runtime.queue_rules, 10)
            contacts = len(views.list_contacts(session, user_id, as_of))
    console.print()
    console.print(
        f"The owner's sent mail in this export runs without a break until {DEMO_AS_OF} "
        "(then stops until November 2001), so the queue is shown as it stood that day, "
        f"using no later mail. {contacts} people were relationships by then "
        "(the owner wrote to them or met them)."
    )
    print_queue(items, f"Reconnect queue as of {DEMO_AS_OF}")
    console.print()
    digest_file, prompt_file = home / "digest.html", home / "meeting-prompt.html"
    with open_runtime(settings) as runtime:
        with runtime.session_factory() as session:
            user_id = ensure_user(session).id
        digest = digest_preview(runtime, user_id, as_of)
        write_html(digest_file, digest.email.html)
        count = digest.people
        prompt = latest_prompt_preview(runtime, user_id, as_of)
        meeting = None
        if prompt is not None:
            write_html(prompt_file, prompt.email.html)
            meeting = prompt.meeting
    console.print(styled(("The emails keepwarm would send", "bold")), highlight=False)
    console.print(
        f"  weekly digest ({count} people): {digest_file}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if meeting is not None:
        console.print(
            f'  after "{meeting}": {prompt_file}', markup=False, highlight=False, soft_wrap=True
        )
    console.print()
    kw = _program()
    env = f"KEEPWARM_HOME={home}"
    console.print(styled(("Where next", "bold")), highlight=False)
    for line in (
        f"{env} {kw} suggestions --as-of {DEMO_AS_OF} --json",
        f"{env} {kw} contact {items[0].stats.history.addresses[0]}",
        f"{env} {kw} contacts --as-of {DEMO_AS_OF}",
        f"{env} {kw} digest --preview --as-of {DEMO_AS_OF}",
        f"{kw} import PATH...   # your own mailbox: Takeout mbox, maildir, .eml, .ics",
        f"{kw} --help",
    ):
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    console.print()
    console.print(styled(("The dashboard on the demo data", "bold")), highlight=False)
    for line in (
        f"{env} {kw} serve --as-of {DEMO_AS_OF}",
        "then open http://127.0.0.1:8000/ in a browser on this machine and press "
        "\"Open as this machine's user\": you are the demo's owner, no password (only a "
        "browser on this machine sees that button). The queue, contacts, accounts, settings, "
        "export and the REST API at /api/v1 (reference: /api/docs) are all there; "
        f"--as-of {DEMO_AS_OF} shows the data as it stood that day.",
    ):
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


def _connected_demo(runtime: Runtime) -> None:
    # Imported here: the sandbox is a development tool that production code never loads.
    from keepwarm.connectors.sandbox.google import GoogleSandbox

    console.print(
        styled(
            ("keepwarm demo", "bold"),
            ": a local Google sandbox serves the headers of a real Enron "
            "executive's mailbox (997 messages, 2000-2002) through Google's own APIs.",
        )
    )
    with GoogleSandbox([SAMPLE_MAILBOX, DEMO_CALENDAR]) as sandbox:
        console.print(
            f"  connecting through OAuth (PKCE, read-only scopes) at {sandbox.url}", highlight=False
        )
        connect_account(runtime, "google", sandbox.url, datetime(1999, 1, 1, tzinfo=UTC))
        console.print("  syncing: sent mail first, then the rest, with the background worker")
        started = time.perf_counter()
        sync_and_wait(runtime)
        elapsed = time.perf_counter() - started
        units = sandbox.units_spent()
    print_accounts(runtime)
    console.print(f"  synced in {elapsed:.1f} s using {units:,} Gmail quota units")


def _microsoft_demo(runtime: Runtime) -> None:
    # Imported here: the sandbox is a development tool that production code never loads.
    from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox

    console.print(
        styled(
            ("keepwarm demo", "bold"),
            ": a local Microsoft sandbox serves the headers of a real "
            "Enron executive's mailbox (997 messages, 2000-2002) through Microsoft Graph, with "
            "Outlook's limits.",
        )
    )
    with MicrosoftSandbox([SAMPLE_MAILBOX, DEMO_CALENDAR]) as sandbox:
        console.print(
            f"  connecting through msal (PKCE, Mail.ReadBasic and Calendars.ReadBasic) at "
            f"{sandbox.url}",
            highlight=False,
        )
        connect_account(runtime, "microsoft", sandbox.url, datetime(1999, 1, 1, tzinfo=UTC))
        console.print(
            "  syncing: Sent Items first, then the other folders' delta, with the background worker"
        )
        started = time.perf_counter()
        sync_and_wait(runtime)
        elapsed = time.perf_counter() - started
        requests = sum(sandbox.served().values())
    print_accounts(runtime)
    console.print(
        f"  synced in {elapsed:.1f} s using {requests:,} Graph requests "
        "(Outlook allows 10,000 per 10 minutes)"
    )


def _program() -> str:
    """How the user can call keepwarm again: by name when it is on PATH, else by path."""
    invoked = Path(sys.argv[0])
    on_path = shutil.which("keepwarm")
    if on_path and invoked.name == "keepwarm" and Path(on_path).resolve() == invoked.resolve():
        return "keepwarm"
    if invoked.name == "keepwarm" and invoked.exists():
        try:
            return str(invoked.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(invoked)
    return "keepwarm"
