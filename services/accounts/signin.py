"""Signing in to the web app with a provider, which also connects that mailbox and calendar.

"Continue with Google" (or any provider in the registry) is the OAuth consent the CLI runs,
redirected to the web app instead of a loopback port. The consent asks for `openid` too, so
the grant names the person (the ID token's subject). Three outcomes:

- a known identity signs in as its user;
- a new identity signs up, if the operator's `KEEPWARM_SIGNUP_ALLOWED` admits its address
  (else `SignUpRefused`, and the grant just given is revoked at once) — unless that mailbox is
  already connected to exactly one user (connected from the CLI, say): whoever can consent for
  the mailbox is that user, so the identity joins them;
- "connect another account" (a signed-in user) adds the mailbox and the identity to that user.

Either way the account is stored (tokens encrypted) and its first sync is enqueued.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.connectors.base import ConsentRequest, Grant
from keepwarm.connectors.errors import ConsentRefused, ProviderError
from keepwarm.services.accounts import connected
from keepwarm.services.accounts.connect import default_since
from keepwarm.services.accounts.sync import SYNC_ACTOR
from keepwarm.services.core.errors import Conflict, InvalidInput, NotSignedIn, PermissionDenied
from keepwarm.services.core.jobs import JobSink, unit_of_work
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import Account, Identity, User
from keepwarm.services.runtime import Runtime

__all__ = [
    "CONSENT_LIFETIME",
    "Pending",
    "Purpose",
    "SignUpRefused",
    "SignedIn",
    "admits",
    "begin_sign_in",
    "finish_sign_in",
]

# How long a person may take at the provider's consent screen.
CONSENT_LIFETIME = timedelta(minutes=15)


class SignUpRefused(PermissionDenied):
    """The operator's settings do not admit this address as a new user."""


class Purpose(StrEnum):
    """Why the consent runs."""

    SIGN_IN = "sign_in"  # sign in (or up) as whoever consents
    CONNECT = "connect"  # add a mailbox to the signed-in user (also a reconnect)


@dataclass(frozen=True, slots=True)
class Pending:
    """A consent under way, as the browser's session keeps it (all JSON)."""

    provider: str
    purpose: Purpose
    request: ConsentRequest
    started_at: datetime

    def to_json(self) -> dict[str, Any]:
        r = self.request
        return {
            "provider": self.provider,
            "purpose": self.purpose.value,
            "started_at": self.started_at.isoformat(),
            "request": {
                "url": r.url,
                "state": r.state,
                "verifier": r.verifier,
                "redirect_uri": r.redirect_uri,
                "extra": dict(r.extra),
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pending:
        """Raises ConsentRefused for anything but what `to_json` wrote."""
        try:
            r = data["request"]
            return cls(
                str(data["provider"]),
                Purpose(data["purpose"]),
                ConsentRequest(
                    str(r["url"]),
                    str(r["state"]),
                    str(r["verifier"]),
                    str(r["redirect_uri"]),
                    {str(k): str(v) for k, v in dict(r.get("extra") or {}).items()},
                ),
                datetime.fromisoformat(str(data["started_at"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConsentRefused("no sign-in is under way in this browser") from exc


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is signed in now, and the account the consent connected."""

    user_id: int
    account_id: int
    email: str
    new_user: bool


def admits(policy: str, address: str) -> bool:
    """Whether `policy` (KEEPWARM_SIGNUP_ALLOWED: "*", or addresses and domains separated by
    commas or spaces, a domain with or without "@") admits `address` as a new user."""
    key = normalize_address(address)
    if key is None:
        return False
    domain = key.rpartition("@")[2]
    for item in policy.replace(",", " ").split():
        entry = item.strip().lower()
        if entry == "*" or entry == key or entry.removeprefix("@") == domain:
            return True
    return False


def begin_sign_in(
    runtime: Runtime,
    provider: str,
    purpose: Purpose,
    redirect_uri: str,
    *,
    sandbox: str | None = None,
    login_hint: str | None = None,
) -> Pending:
    """Where to send the browser; keep the result in its session. InvalidInput for an unknown
    provider."""
    auth = runtime.providers.get(provider).auth(sandbox)
    request = auth.begin_consent(redirect_uri, login_hint)
    return Pending(provider, purpose, request, runtime.clock())


def _decide(
    session: Session, runtime: Runtime, pending: Pending, grant: Grant, current: int | None
) -> int | None:
    """The user the grant signs in as; None means a new user (admitted by the policy).

    Raises NotSignedIn, Conflict or SignUpRefused.
    """
    subject = grant.subject or grant.email
    identity = session.scalar(
        select(Identity).where(Identity.provider == pending.provider, Identity.subject == subject)
    )
    if pending.purpose is Purpose.CONNECT:
        if current is None:
            raise NotSignedIn("sign in before connecting another account")
        if identity is not None and identity.user_id != current:
            raise Conflict(
                f"{grant.email} signs in to another keepwarm user: sign in with it instead"
            )
        return current
    if identity is not None:
        return identity.user_id
    owners = set(
        session.scalars(
            select(Account.user_id).where(
                Account.provider == pending.provider, Account.email == grant.email
            )
        )
    )
    if len(owners) == 1:
        return owners.pop()
    if not admits(runtime.settings.signup_allowed, grant.email):
        raise SignUpRefused(
            f"this keepwarm server does not take new users from {grant.email}; "
            "ask its operator to add your address or domain to KEEPWARM_SIGNUP_ALLOWED"
        )
    return None


def finish_sign_in(
    runtime: Runtime,
    pending: Pending,
    params: Mapping[str, str],
    *,
    current_user: int | None,
    sink: JobSink | None,
    sandbox: str | None = None,
) -> SignedIn:
    """Finish the consent the redirect's `params` answer, sign in (or up), store the account.

    Raises ConsentRefused (declined, a foreign or stale state, a refused code), SignUpRefused
    (the grant is revoked before this is raised), NotSignedIn, Conflict, TokenKeyError, and the
    provider's errors.
    """
    if runtime.clock() - pending.started_at > CONSENT_LIFETIME:
        raise ConsentRefused("the sign-in took too long: start again")
    cipher = runtime.cipher()  # a missing key fails before the consent is spent
    auth = runtime.providers.get(pending.provider).auth(sandbox)
    grant = auth.finish_consent(pending.request, params)
    if normalize_address(grant.email) is None:
        raise InvalidInput(f"the provider gave no usable address ({grant.email!r})")
    try:
        with runtime.session_factory() as session:
            decided = _decide(session, runtime, pending, grant, current_user)
    except (SignUpRefused, Conflict):
        # No tokens are kept for someone who is not let in.
        with contextlib.suppress(ProviderError):
            auth.revoke(grant.tokens)
        raise
    now = runtime.clock()
    with unit_of_work(runtime.session_factory, sink) as uow:
        if decided is None:
            user = User(handle=f"{pending.provider}:{grant.subject or grant.email}", created_at=now)
            user.name = grant.name
            uow.session.add(user)
            uow.session.flush()
            user_id = user.id
        else:
            user_id = decided
        _remember_identity(uow.session, user_id, pending.provider, grant, now)
        account = connected.save_account(
            uow.session,
            user_id,
            provider=pending.provider,
            email=grant.email,
            tokens=grant.tokens,
            scopes=grant.scopes,
            cipher=cipher,
            since=default_since(runtime),
            api_base=sandbox,
            now=now,
        )
        if sink is not None:
            uow.jobs.enqueue(SYNC_ACTOR, account_id=account.id)
        return SignedIn(user_id, account.id, account.email, decided is None)


def _remember_identity(
    session: Session, user_id: int, provider: str, grant: Grant, now: datetime
) -> None:
    subject = grant.subject or grant.email
    identity = session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.subject == subject)
    )
    if identity is None:
        identity = Identity(
            user_id=user_id, provider=provider, subject=subject, email=grant.email, created_at=now
        )
        session.add(identity)
    identity.email, identity.last_sign_in_at = grant.email, now
    session.flush()
