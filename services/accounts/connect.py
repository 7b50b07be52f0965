"""Connecting and disconnecting accounts: the use cases the CLI and the web app share.

Connecting is two calls around the person's visit to the provider: `begin_connect` gives the
consent URL and a `ConsentRequest` to keep (the CLI holds it in memory while its loopback
server waits; a web app keeps it in the session), and `finish_connect` takes what the redirect
brought back, checks it belongs to that request, and stores the grant encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from keepwarm.connectors.base import ConsentRequest
from keepwarm.services.accounts import connected
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.runtime import Runtime

__all__ = [
    "Connected",
    "Disconnected",
    "begin_connect",
    "default_since",
    "disconnect",
    "finish_connect",
]


@dataclass(frozen=True, slots=True)
class Connected:
    """An account whose grant is stored."""

    account_id: int
    provider: str
    email: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    """What disconnecting did."""

    email: str
    purged: connected.PurgeSummary | None


def default_since(runtime: Runtime) -> datetime:
    """How far back a new account reads by default (KEEPWARM_BACKFILL_YEARS)."""
    return runtime.clock() - timedelta(days=365.25 * runtime.settings.backfill_years)


def begin_connect(
    runtime: Runtime,
    provider: str,
    redirect_uri: str,
    *,
    sandbox: str | None = None,
    login_hint: str | None = None,
) -> ConsentRequest:
    """Where to send the person to consent. Raises InvalidInput for an unknown provider."""
    return runtime.providers.get(provider).auth(sandbox).begin_consent(redirect_uri, login_hint)


def finish_connect(
    runtime: Runtime,
    user_id: int,
    provider: str,
    request: ConsentRequest,
    params: Mapping[str, str],
    *,
    since: datetime,
    sandbox: str | None = None,
) -> Connected:
    """Store the grant the redirect's `params` give (encrypted), for `user_id`.

    Raises ConsentRefused (declined, a foreign state, a refused code), TokenKeyError when no
    token key is configured, and the provider's errors. A known account is reconnected: it
    keeps its data and cursors, and syncs on from where it stood.
    """
    cipher = runtime.cipher()  # before the consent is spent: a missing key fails first
    grant = runtime.providers.get(provider).auth(sandbox).finish_consent(request, params)
    with unit_of_work(runtime.session_factory) as uow:
        account = connected.save_account(
            uow.session,
            user_id,
            provider=provider,
            email=grant.email,
            tokens=grant.tokens,
            scopes=grant.scopes,
            cipher=cipher,
            since=since,
            api_base=sandbox,
            now=runtime.clock(),
        )
        return Connected(account.id, provider, account.email)


def disconnect(runtime: Runtime, user_id: int, email: str, *, purge: bool) -> Disconnected:
    """Stop syncing the account, revoke its grant, and with `purge` delete what it brought.

    The account stops syncing first (a running sync stops at its next page). When the
    provider cannot be reached, ProviderUnavailable is raised with the tokens kept, so trying
    again can still revoke them; nothing is purged before the grant is revoked.
    """
    cipher = runtime.cipher()
    with unit_of_work(runtime.session_factory) as uow:
        account = connected.find_account(uow.session, user_id, email)
        tokens = connected.stop_syncing(uow.session, account, cipher)
        account_id, provider, api_base = account.id, account.provider, account.api_base
        address = account.email
    if tokens is not None:
        runtime.providers.get(provider).auth(api_base).revoke(tokens)
        with unit_of_work(runtime.session_factory) as uow:
            connected.forget_tokens(uow.session, account_id)
    if not purge:
        return Disconnected(address, None)
    with unit_of_work(runtime.session_factory) as uow:
        return Disconnected(address, connected.purge_account(uow.session, account_id))
