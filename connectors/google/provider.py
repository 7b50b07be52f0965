"""Google as a provider of the sync seam: consent through GoogleClient, Gmail and Calendar
sources through the readers, every call paid from the caller's quota.

The registry builds a GoogleProvider for every command; the Google libraries load when it is
first asked to do something, so commands that never talk to Google never pay for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keepwarm.connectors.base import AccountSources, ConsentRequest, Grant, ProviderAuth, Spend
from keepwarm.connectors.errors import ProviderUnavailable, RateLimited
from keepwarm.connectors.oidc import id_token_claims

if TYPE_CHECKING:
    from keepwarm.connectors.google.auth import GoogleClient

__all__ = ["GOOGLE_ISSUERS", "GoogleProvider"]

# Google's ID tokens name either form of its issuer.
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")

# Seconds a call may wait for Google (connectors.google.translate.HTTP_TIMEOUT, kept in step by
# tests/connectors/test_google_gmail.py without importing the libraries here).
DEFAULT_TIMEOUT = 30.0


class _GoogleAuth:
    """connectors.base.ProviderAuth for Google."""

    def __init__(self, client: GoogleClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    def begin_consent(self, redirect_uri: str, login_hint: str | None = None) -> ConsentRequest:
        url, state, verifier = self._client.consent(redirect_uri, login_hint)
        return ConsentRequest(url, state, verifier, redirect_uri)

    def finish_consent(self, request: ConsentRequest, params: Mapping[str, str]) -> Grant:
        from keepwarm.connectors.google.gmail import GmailReader

        tokens = self._client.finish(
            request.redirect_uri, request.state, request.verifier, dict(params)
        )
        reader = GmailReader(
            self._client.credentials(tokens),
            api_base=self._client.endpoints.api_base,
            timeout=self._timeout,
        )
        try:
            # The mailbox's own address: the account is that mailbox, whatever the login.
            email = _waiting_out(lambda: reader.profile()[0])
        finally:
            reader.close()
        subject = name = None
        if tokens.id_token:
            claims = id_token_claims(
                tokens.id_token, audience=self._client.client_id, issuers=GOOGLE_ISSUERS
            )
            subject, name = claims.subject, claims.name
        return Grant(email.lower(), tokens.to_json(), tokens.scopes, name, subject)

    def revoke(self, tokens: Mapping[str, Any]) -> None:
        # Revoking the refresh token ends the whole grant, its access tokens included.
        token = str(tokens.get("refresh_token") or tokens.get("access_token") or "")
        if token:
            self._client.revoke(token)


def _waiting_out(call: Callable[[], str], tries: int = 8) -> str:
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


@dataclass(frozen=True)
class GoogleProvider:
    """Gmail and Google Calendar (connectors.base.Provider), with the operator's OAuth client."""

    client_id: str
    client_secret: str
    timeout: float = DEFAULT_TIMEOUT
    name: str = "google"
    label: str = "Google"

    def client(self, api_base: str | None) -> GoogleClient:
        from keepwarm.connectors.google.auth import GoogleClient, GoogleEndpoints

        endpoints = GoogleEndpoints.for_base(api_base) if api_base else GoogleEndpoints()
        return GoogleClient(self.client_id, self.client_secret, endpoints)

    def auth(self, api_base: str | None) -> ProviderAuth:
        return _GoogleAuth(self.client(api_base), self.timeout)

    def open_sources(
        self, email: str, api_base: str | None, tokens: dict[str, Any], spend: Spend
    ) -> AccountSources:
        from keepwarm.connectors.google.auth import GrantedTokens
        from keepwarm.connectors.google.calendar import CalendarReader
        from keepwarm.connectors.google.calendar_source import GoogleCalendarSource
        from keepwarm.connectors.google.gmail import GmailReader
        from keepwarm.connectors.google.mail_source import GmailSource

        client = self.client(api_base)
        creds = client.credentials(GrantedTokens.from_json(tokens))
        mail = GmailReader(
            creds, api_base=api_base, timeout=self.timeout, spend=lambda n: spend("mail", n)
        )
        calendar = CalendarReader(
            creds, api_base=api_base, timeout=self.timeout, spend=lambda n: spend("calendar", n)
        )

        def close() -> None:
            mail.close()
            calendar.close()

        return AccountSources(
            GmailSource(mail),
            GoogleCalendarSource(calendar),
            lambda: client.current_tokens(creds).to_json(),
            close,
        )
