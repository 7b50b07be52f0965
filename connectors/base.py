"""The provider-neutral sync seam: what every mail and calendar provider offers services.

A provider's account is read as a few *streams* — Gmail's one mailbox, each Outlook folder,
each calendar — in the order they are most worth having (sent mail first: it defines
relationships). A stream is read page by page. Each page carries the records it brought and an
opaque *cursor*: services stores the cursor in the same transaction as the page's rows and
hands it back to resume, so a crash at any point loses at most the page in flight and a re-run
changes nothing (rows are upserts on natural keys). What the cursor holds — Gmail's phase, page
token and historyId, a Graph delta link, a calendar sync token — is the connector's business.

A page also accounts for what the source saw and did not deliver: `filtered` for records it
left out by rule (outside the sync window, spam) and `skipped` for records it meant to deliver
and could not (deleted before it could be read). Services writes both into the run's ledger,
which can then never say "ok" about a run that skipped anything.

An expired cursor raises `CursorExpired` from `read`; services then resyncs that stream alone
from `None`, never silently skipping ahead. Other failures are the `ProviderError`s of
`connectors.errors`, classified once, in the connector.

Consent is neutral too: `ProviderAuth.begin_consent` gives the URL to send the person to and a
serialisable `ConsentRequest` (state, PKCE verifier); `finish_consent` takes the parameters the
redirect brought back, checks the state, and returns the `Grant`. The same two calls serve the
CLI's loopback redirect and a web app's redirect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable

__all__ = [
    "AccountSources",
    "CalendarSource",
    "ConsentRequest",
    "Grant",
    "KnownIds",
    "MailSource",
    "Page",
    "Provider",
    "ProviderAuth",
    "Spend",
]

R = TypeVar("R", MailMessage, CalendarEvent)

# Given provider ids, the ones already stored: a source need not fetch those again.
KnownIds = Callable[[Sequence[str]], set[str]]


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of a stream.

    `cursor` resumes the stream after this page. `more` says another page is ready now; False
    means the stream is caught up and the next run resumes from `cursor`. `caught_up` says the
    stream has finished its first full read (backfill) and now follows changes only.
    """

    records: tuple[R | Unreadable, ...]
    cursor: str
    more: bool
    caught_up: bool = False
    filtered: Mapping[str, int] = field(default_factory=dict)
    skipped: Mapping[str, int] = field(default_factory=dict)


class MailSource(Protocol):
    """A mailbox, as streams of pages of message metadata (never bodies)."""

    def streams(self) -> Sequence[str]:
        """The mailbox's streams, most valuable first (a stream name is stable across runs)."""
        ...

    def read(
        self, stream: str, cursor: str | None, *, since: datetime, known: KnownIds
    ) -> Page[MailMessage]:
        """The page after `cursor` (None: start the stream over, reading back to `since`).

        Raises CursorExpired when the provider no longer knows `cursor`, and the other
        connectors.errors.ProviderError subclasses for failed calls.
        """
        ...


class CalendarSource(Protocol):
    """Calendars, as streams (one per calendar) of pages of event occurrences."""

    def streams(self) -> Sequence[str]:
        """The calendars to read, by a stable name."""
        ...

    def read(self, stream: str, cursor: str | None, *, since: datetime) -> Page[CalendarEvent]:
        """The page after `cursor` (None: a full read of occurrences ending after `since`).

        Raises CursorExpired and the other ProviderErrors as MailSource.read does.
        """
        ...


@dataclass(frozen=True)
class AccountSources:
    """The sources of one connected account, and its tokens as they stand after refreshes."""

    mail: MailSource
    calendar: CalendarSource
    current_tokens: Callable[[], dict[str, Any]]
    close: Callable[[], None] = lambda: None


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A consent under way: what `finish_consent` needs, all of it serialisable.

    `state` must come back unchanged with the redirect (CSRF); `verifier` is the PKCE secret.
    """

    url: str
    state: str
    verifier: str
    redirect_uri: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a finished consent gives: whose mailbox, and the tokens (stored only encrypted)."""

    email: str
    tokens: dict[str, Any]
    scopes: tuple[str, ...]
    name: str | None = None


class ProviderAuth(Protocol):
    """OAuth for one provider: consent, and revoking a grant."""

    def begin_consent(self, redirect_uri: str, login_hint: str | None = None) -> ConsentRequest:
        """Where to send the person to consent, with the state to expect back."""
        ...

    def finish_consent(self, request: ConsentRequest, params: Mapping[str, str]) -> Grant:
        """Exchange the redirect's `code` for tokens after checking its `state`.

        Raises ConsentRefused when the person declined, the state does not match or the
        provider refused the code.
        """
        ...

    def revoke(self, tokens: Mapping[str, Any]) -> None:
        """End the grant at the provider; raises ProviderUnavailable when it cannot be reached."""
        ...


# Called before every provider call with a budget's name ("mail", "calendar") and the call's
# cost in that provider's units: the caller shares the user's quota between processes there
# (and a sync renews its lease). It may block until there is room.
Spend = Callable[[str, int], None]


class Provider(Protocol):
    """One provider: its consent, and the sources of an account it granted."""

    @property
    def name(self) -> str:
        """As stored on accounts: "google"."""
        ...

    @property
    def label(self) -> str:
        """As a person reads it: "Google"."""
        ...

    def auth(self, api_base: str | None) -> ProviderAuth:
        """The OAuth side, against the real provider (None) or a sandbox at `api_base`."""
        ...

    def open_sources(
        self, email: str, api_base: str | None, tokens: dict[str, Any], spend: Spend
    ) -> AccountSources:
        """The sources of the account `email` granted with `tokens`."""
        ...
