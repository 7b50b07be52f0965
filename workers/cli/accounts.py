"""`keepwarm connect google|microsoft`, `keepwarm accounts`, `keepwarm sync`,
`keepwarm disconnect`."""

from __future__ import annotations

import contextlib
import json
import sys
import webbrowser
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from keepwarm.connectors.errors import ConnectorError, ConsentRefused, ProviderUnavailable
from keepwarm.services.accounts import connected as accounts
from keepwarm.services.accounts.connect import (
    Connected,
    begin_connect,
    default_since,
    disconnect,
    finish_connect,
)
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.crypto import TokenKeyError
from keepwarm.services.core.jobs import Job
from keepwarm.services.models import Account, AccountStatus
from keepwarm.services.runtime import Runtime
from keepwarm.workers.actors import SYNC_ACCOUNT, Queue
from keepwarm.workers.broker import background, enqueue_only
from keepwarm.workers.cli.app import UsageError, console, open_runtime, parse_as_of
from keepwarm.workers.cli.loopback import LoopbackReceiver, follow_consent

# The commands this module defines (listed in keepwarm.workers.cli.app.COMMANDS).
commands = typer.Typer()

__all__ = ["connect_account", "sync_and_wait"]


def connect_account(
    runtime: Runtime, provider: str, sandbox: str | None, since: datetime
) -> Connected:
    """Run the consent through a loopback redirect (by itself against a sandbox)."""
    receiver = LoopbackReceiver()
    try:
        request = begin_connect(runtime, provider, receiver.redirect_uri, sandbox=sandbox)
        receiver.expect(request.state)
        if sandbox:
            follow_consent(request.url)
        else:
            label = runtime.providers.get(provider).label
            console.print(
                f"Open this page to let keepwarm read your {label} mail headers and calendar:"
            )
            console.print(request.url, markup=False, highlight=False, soft_wrap=True)
            webbrowser.open(request.url)
        params = receiver.wait(timeout=300)
    finally:
        receiver.close()
    if params is None:
        raise UsageError("connect: no answer from the provider within 5 minutes")
    with runtime.session_factory() as session:
        user_id = ensure_user(session).id
        session.commit()
    try:
        return finish_connect(
            runtime, user_id, provider, request, params, since=since, sandbox=sandbox
        )
    except ConsentRefused as exc:
        raise UsageError(f"connect: {exc}") from None


def _syncable(runtime: Runtime) -> list[int]:
    """The active accounts this process can sync: those whose tokens its key opens.

    Raises TokenKeyError, one line naming the accounts and the key, when none can be opened;
    some that cannot are left for `print_accounts` to show (TOKEN_KEY_MISMATCH). A wrong key
    is no provider outage: retrying the sync could never help.
    """
    cipher = runtime.cipher()  # a missing or damaged key is named before anything runs
    with runtime.session_factory() as session:
        active = session.scalars(
            select(Account).where(Account.status == AccountStatus.ACTIVE).order_by(Account.id)
        ).all()
        shut = accounts.sealed_shut(active, cipher)
    if shut and len(shut) == len(active):
        raise TokenKeyError(
            f"cannot decrypt the stored tokens of {', '.join(a.email for a in shut)}: wrong "
            f"{runtime.token_key_name}; set the key they were sealed with, or run "
            "`keepwarm connect` again"
        )
    return [a.id for a in active if a not in shut]


def sync_and_wait(runtime: Runtime) -> None:
    """Sync every active account with an in-process worker and wait until all are done."""
    ids = _syncable(runtime)
    with background(runtime, queues=[Queue.SYNC, Queue.DERIVE]) as bg:
        for account_id in ids:
            bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
        # A failed account's status and ledger say what happened; `accounts` shows it.
        with contextlib.suppress(ConnectorError):
            bg.wait()


def print_accounts(runtime: Runtime, as_json: bool = False) -> None:
    with runtime.session_factory() as session:
        items = accounts.account_overview(
            session, ensure_user(session).id, runtime.cipher(), runtime.token_key_name
        )
        session.commit()
    if as_json:
        print(json.dumps(items, indent=2))
        return
    if not items:
        console.print("No accounts connected: `keepwarm connect google` or `microsoft`.")
        return
    table = Table(title="Accounts", title_justify="left")
    for column in ("account", "status", "sync", "last success", "messages", "last run"):
        table.add_column(column, overflow="fold")
    for a in items:
        run = a["last_run"] or {}
        last = (
            (
                f"{run.get('status')}: {run.get('imported', 0)} new of {run.get('seen', 0)}"
                + (f"; {run['error']}" if run.get("error") else "")
            )
            if run
            else "—"
        )
        status = a["status"].replace("_", " ")
        table.add_row(
            f"{a['provider']} {a['email']}",
            status,
            a["phase"],
            (a["last_success_at"] or "never")[:16].replace("T", " "),
            str(a["messages"]),
            last,
        )
    console.print(table)


@commands.command("connect")
def connect_command(
    provider: Annotated[str, typer.Argument(help="the provider: google or microsoft")],
    sandbox: Annotated[
        str | None,
        typer.Option(
            "--sandbox",
            metavar="URL",
            help="a local provider sandbox (`keepwarm sandbox PROVIDER`); consents by itself",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="YYYY-MM-DD", help="how far back to read (default: 3 years)"
        ),
    ] = None,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="connect only; sync later")] = False,
) -> None:
    """Connect a mail and calendar account once (OAuth): headers and events, read-only."""
    with open_runtime() as runtime:
        runtime.providers.get(provider)  # an unknown provider fails before any consent
        day_end = parse_as_of(since, "--since")
        start = (
            day_end - timedelta(days=1) + timedelta(microseconds=1)
            if day_end is not None
            else default_since(runtime)
        )
        connect_account(runtime, provider, sandbox, start)
        if not no_sync:
            sync_and_wait(runtime)
        print_accounts(runtime)


@commands.command("accounts")
def accounts_command(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Connected accounts: status, last successful sync, what the last run did."""
    with open_runtime() as runtime:
        print_accounts(runtime, as_json)


@commands.command("sync")
def sync_command(
    wait: Annotated[
        bool, typer.Option("--wait", help="return when every account is caught up")
    ] = False,
) -> None:
    """Sync every connected account now (the scheduler also does this every 15 minutes)."""
    with open_runtime() as runtime:
        if wait or runtime.settings.redis_url is None:
            # Embedded mode has no other worker: this process does the work.
            sync_and_wait(runtime)
            print_accounts(runtime)
            return
        _syncable(runtime)  # a wrong key is this person's to fix now, not the workers' to retry
        with enqueue_only(runtime) as sink:
            sink.send(Job("sync.all", {}))
        console.print("sync queued for every account; `keepwarm accounts` shows progress")


@commands.command("disconnect")
def disconnect_command(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="the account's address")],
    purge: Annotated[
        bool, typer.Option("--purge", help="also delete the account and everything it brought")
    ] = False,
) -> None:
    """Disconnect an account: revoke keepwarm's access at the provider and stop syncing it.

    Its data stays, and `keepwarm connect` resumes where it stopped. With --purge the account
    is deleted with everything it brought: its messages and events, what was derived from
    them, and the people only it knew.
    """
    with open_runtime() as runtime:
        with runtime.session_factory() as session:
            user_id = ensure_user(session).id
            session.commit()
        try:
            done = disconnect(runtime, user_id, email, purge=purge)
        except ProviderUnavailable as exc:
            # The tokens are kept (the account no longer syncs), so running the command again
            # can still revoke them; nothing is purged before that.
            sys.stderr.write(
                f"keepwarm: disconnect: {email} no longer syncs, but its access could not be "
                f"revoked ({exc}); run `keepwarm disconnect {email}` again\n"
            )
            raise typer.Exit(1) from None
        if done.purged is None:
            console.print(
                f"{done.email}: disconnected, access revoked; its data stays (--purge deletes it)"
            )
            return
        gone = done.purged
        console.print(
            f"{done.email}: disconnected and deleted with {gone.messages} messages, "
            f"{gone.events} events and {gone.people} people only it knew"
        )
