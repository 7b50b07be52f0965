"""OAuth 2.0 for Google: consent with PKCE and offline access, credentials, revocation."""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

import google.oauth2.credentials
from google_auth_oauthlib.flow import Flow

from keepwarm.connectors.errors import ConsentRefused, ProviderUnavailable

__all__ = ["SCOPES", "GoogleClient", "GoogleEndpoints", "GrantedTokens"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

_AUTH = "https://www.googleapis.com/auth/"
# The least that works: who the user is, mail headers (no bodies, no search), calendar read.
SCOPES = ("openid", _AUTH + "userinfo.email", _AUTH + "gmail.metadata", _AUTH + "calendar.readonly")


@dataclass(frozen=True, slots=True)
class GoogleEndpoints:
    """Where Google's OAuth server and APIs are; `for_base` points all of them at a sandbox."""

    auth_uri: str = "https://accounts.google.com/o/oauth2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"
    api_base: str | None = None  # None: the libraries' own production endpoints

    @classmethod
    def for_base(cls, base: str) -> GoogleEndpoints:
        base = base.rstrip("/")
        return cls(base + "/o/oauth2/auth", base + "/token", base + "/revoke", base)


@dataclass(frozen=True, slots=True)
class GrantedTokens:
    """What a consent or a refresh gives: stored only encrypted."""

    access_token: str | None
    refresh_token: str
    expiry: datetime | None
    scopes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "scopes": list(self.scopes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GrantedTokens:
        expiry = datetime.fromisoformat(data["expiry"]) if data.get("expiry") else None
        return cls(
            data.get("access_token"),
            str(data["refresh_token"]),
            expiry,
            tuple(data.get("scopes") or SCOPES),
        )


@dataclass(frozen=True, slots=True)
class GoogleClient:
    """The OAuth client (id and secret from the operator's settings) and the endpoints."""

    client_id: str
    client_secret: str
    endpoints: GoogleEndpoints = GoogleEndpoints()

    def _allow_transport(self) -> None:
        # oauthlib refuses plain http, which only a loopback sandbox uses; and Google answers
        # `email` with its long scope name, which oauthlib would take for a changed grant.
        os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"
        host = urlsplit(self.endpoints.token_uri).hostname or ""
        if self.endpoints.token_uri.startswith("http://") and host in _LOOPBACK:
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

    def _flow(
        self, redirect_uri: str, *, state: str | None = None, verifier: str | None = None
    ) -> Flow:
        self._allow_transport()
        return Flow.from_client_config(
            {
                "installed": {
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "auth_uri": self.endpoints.auth_uri,
                    "token_uri": self.endpoints.token_uri,
                    "redirect_uris": [redirect_uri],
                }
            },
            scopes=list(SCOPES),
            redirect_uri=redirect_uri,
            state=state,
            code_verifier=verifier,
            autogenerate_code_verifier=verifier is None,
        )

    def consent(self, redirect_uri: str, login_hint: str | None = None) -> tuple[str, str, str]:
        """The consent URL to open (PKCE S256, offline access), its state and PKCE verifier."""
        flow = self._flow(redirect_uri, state=secrets.token_urlsafe(24))
        extra = {"login_hint": login_hint} if login_hint else {}
        url, state = flow.authorization_url(access_type="offline", prompt="consent", **extra)
        return url, str(state), str(flow.code_verifier)

    def finish(
        self, redirect_uri: str, state: str, verifier: str, params: dict[str, str]
    ) -> GrantedTokens:
        """Exchange the redirect's code for tokens.

        Raises ConsentRefused when the person declined, when the redirect's `state` is not the
        one this consent sent (a forged or crossed redirect), or when Google refuses the code.
        """
        if "error" in params:
            raise ConsentRefused(f"Google said {params['error']}")
        if not hmac.compare_digest(params.get("state", ""), state):
            raise ConsentRefused("the answer does not belong to this consent (state mismatch)")
        if not params.get("code"):
            raise ConsentRefused("Google sent no authorization code")
        flow = self._flow(redirect_uri, state=state, verifier=verifier)
        try:
            flow.fetch_token(code=params["code"])
        except Exception as exc:  # oauthlib raises many unrelated types for one refusal
            raise ConsentRefused(f"Google refused the authorization code: {exc}") from exc
        creds = flow.credentials
        if not creds.refresh_token:
            raise ConsentRefused("Google gave no refresh token (offline access was not granted)")
        return self._tokens(creds)

    def credentials(self, tokens: GrantedTokens) -> google.oauth2.credentials.Credentials:
        """google-auth credentials that refresh themselves against our token endpoint."""
        expiry = tokens.expiry.astimezone(UTC).replace(tzinfo=None) if tokens.expiry else None
        return google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
            tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_uri=self.endpoints.token_uri,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=list(tokens.scopes),
            expiry=expiry,
        )

    @staticmethod
    def _tokens(creds: google.oauth2.credentials.Credentials) -> GrantedTokens:
        expiry = creds.expiry.replace(tzinfo=UTC) if creds.expiry else None
        return GrantedTokens(
            creds.token, str(creds.refresh_token), expiry, tuple(creds.scopes or SCOPES)
        )

    def current_tokens(self, creds: google.oauth2.credentials.Credentials) -> GrantedTokens:
        """The tokens as they stand after the libraries refreshed them."""
        return self._tokens(creds)

    def revoke(self, token: str) -> None:
        """Revoke the grant (disconnect); raises ProviderUnavailable when Google is unreachable.

        Google's 400 (invalid_token) means the grant is already revoked or expired: what
        revoking wants, e.g. for an account that waits for a reconnect.
        """
        request = Request(
            self.endpoints.revoke_uri,
            data=urlencode({"token": token}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urlopen(request, timeout=10) as response:
                response.read()
        except HTTPError as exc:
            if exc.code == 400:
                return
            raise ProviderUnavailable(f"could not revoke the grant: {exc}") from exc
        except OSError as exc:
            raise ProviderUnavailable(f"could not revoke the grant: {exc}") from exc
