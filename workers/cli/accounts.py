"""`keepwarm connect google`, `keepwarm accounts`, `keepwarm sync`, `keepwarm disconnect`."""

from __future__ import annotations

import contextlib
import json
import sys
import time
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.error import HTTPError

import typer
from rich.table import Table
from sqlalchemy import select

from keepwarm.connectors.errors import ConnectorError, ProviderUnavailable, RateLimited
from keepwarm.connectors.google import GmailReader
from keepwarm.services.accounts import connected as accounts
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.jobs import Job, unit_of_work
from keepwarm.services.models import Account, AccountStatus
from keepwarm.services.runtime import Runtime
from keepwarm.workers.actors import SYNC_ACCOUNT, Queue
from keepwarm.workers.broker import background, enqueue_only
from keepwarm.workers.cli.app import UsageError, app, console, open_runtime, parse_as_of
from keepwarm.workers.cli.loopback import LoopbackReceiver, follow_consent

__all__ = ["connect_google", "sync_and_wait"]


def connect_google(runtime: Runtime, sandbox: str | None, since: datetime) -> int:
    """Run the consent (by itself against a sandbox), store the grant; return the account id."""
    cipher = runtime.cipher()
    client = runtime.google_client(sandbox)
    receiver = LoopbackReceiver()
    try:
        url, flow = client.consent(receiver.redirect_uri)
        if sandbox:
            follow_consent(url)
        else:
            console.print("Open this page to let keepwarm read your mail headers and calendar:")
            console.print(url, markup=False, highlight=False, soft_wrap=True)
            webbrowser.open(url)
        params = receiver.wait(timeout=300)
    finally:
        receiver.close()
    if params is None:
        raise UsageError("connect: no answer from Google within 5 minutes")
    if "error" in params or "code" not in params:
        raise UsageError(f"connect: Google said {params.get('error', 'no code')}")
    tokens = client.finish(flow, params["code"])
    reader = GmailReader(client.credentials(tokens), api_base=sandbox)
    try:
        email = _with_patience(lambda: reader.profile()[0])
    finally:
        reader.close()
    with unit_of_work(runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
        account = accounts.save_account(
            uow.session,
            user_id,
            provider="google",
            email=email.lower(),
            tokens=tokens.to_json(),
            scopes=tokens.scopes,
            cipher=cipher,
            since=since,
            api_base=sandbox,
        )
        return account.id


def _with_patience(call: Callable[[], str], tries: int = 8) -> str:
    """A call made while a person waits: a rate limit or a transient failure is waited out."""
    for attempt in range(tries):
        try:
            return call()
        except RateLimited as exc:
            if attempt == tries - 1:
                raise
            time.sleep(exc.retry_after)
        except ProviderUnavailable:
            if attempt == tries - 1:
                raise
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def sync_and_wait(runtime: Runtime) -> None:
    """Sync every active account with an in-process worker and wait until all are done."""
    with runtime.session_factory() as session:
        ids = session.scalars(
            select(Account.id).where(Account.status == AccountStatus.ACTIVE.value)
        ).all()
    with background(runtime, queues=[Queue.SYNC, Queue.DERIVE]) as bg:
        for account_id in ids:
            bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
        # A failed account's status and ledger say what happened; `accounts` shows it.
        with contextlib.suppress(ConnectorError):
            bg.wait()


def print_accounts(runtime: Runtime, as_json: bool = False) -> None:
    with runtime.session_factory() as session:
        items = accounts.account_overview(session, ensure_user(session).id)
        session.commit()
    if as_json:
        print(json.dumps(items, indent=2))
        return
    if not items:
        console.print("No accounts connected: `keepwarm connect google`.")
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


@app.command("connect")
def connect_command(
    provider: Annotated[str, typer.Argument(help="google")],
    sandbox: Annotated[
        str | None,
        typer.Option(
            "--sandbox",
            metavar="URL",
            help="a local Google sandbox (`keepwarm sandbox google`); consents by itself",
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
    """Connect a Google account once (OAuth): mail headers and calendar, read-only."""
    if provider != "google":
        raise UsageError(f"connect: unknown provider {provider!r} (supported: google)")
    with open_runtime() as runtime:
        start = (
            parse_as_of(since, "--since") - timedelta(days=1) + timedelta(microseconds=1)
            if since
            else datetime.now(UTC) - timedelta(days=365.25 * runtime.settings.backfill_years)
        )
        connect_google(runtime, sandbox, start)
        if not no_sync:
            sync_and_wait(runtime)
        print_accounts(runtime)


@app.command("accounts")
def accounts_command(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Connected accounts: status, last successful sync, what the last run did."""
    with open_runtime() as runtime:
        print_accounts(runtime, as_json)


@app.command("sync")
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
        with enqueue_only(runtime) as sink:
            sink.send(Job("sync.all", {}))
        console.print("sync queued for every account; `keepwarm accounts` shows progress")


def _revoke(runtime: Runtime, api_base: str | None, token: str) -> None:
    """Revoke the grant at Google; raises ProviderUnavailable when Google cannot be reached."""
    try:
        runtime.google_client(api_base).revoke(token)
    except ProviderUnavailable as exc:
        # GoogleClient.revoke reports every failure as "unreachable", but Google's 400
        # (invalid_token) means the grant is already revoked or expired: what disconnecting
        # wants, e.g. for an account that waits for a reconnect.
        if isinstance(exc.__cause__, HTTPError) and exc.__cause__.code == 400:
            return
        raise


@app.command("disconnect")
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
        cipher = runtime.cipher()
        with unit_of_work(runtime.session_factory) as uow:
            account = accounts.find_account(uow.session, ensure_user(uow.session).id, email)
            token = accounts.stop_syncing(uow.session, account, cipher)
            account_id, api_base, address = account.id, account.api_base, account.email
        if token is not None:
            try:
                _revoke(runtime, api_base, token)
            except ProviderUnavailable as exc:
                # The tokens are kept (the account no longer syncs), so running the command
                # again can still revoke them; nothing is purged before that.
                sys.stderr.write(
                    f"keepwarm: disconnect: {address} no longer syncs, but its access could not "
                    f"be revoked ({exc}); run `keepwarm disconnect {address}` again\n"
                )
                raise typer.Exit(1) from None
            with unit_of_work(runtime.session_factory) as uow:
                accounts.forget_tokens(uow.session, account_id)
        if not purge:
            console.print(
                f"{address}: disconnected, access revoked; its data stays (--purge deletes it)"
            )
            return
        with unit_of_work(runtime.session_factory) as uow:
            gone = accounts.purge_account(uow.session, account_id)
        console.print(
            f"{address}: disconnected and deleted with {gone.messages} messages, "
            f"{gone.events} events and {gone.people} people only it knew"
        )
