"""OAuth state of the identity platform: codes, refresh tokens, access tokens, consent.

Any client id is accepted; a secret it presents at the token endpoint is remembered and must
match afterwards (a confidential client), while a client that never sent one is public. Each
refresh returns a new refresh token and the old one keeps working until it dies with the grant,
as the identity platform does. A grant dies with an AADSTS code: revoked consent (65001),
a password reset (50173), inactivity (700082). Not thread-safe: the app locks around it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from keepwarm.connectors.sandbox.grants import AccessToken as SharedAccessToken
from keepwarm.connectors.sandbox.grants import TokenBook, pkce_matches
from keepwarm.connectors.sandbox.microsoft.errors import AadError

__all__ = ["REVOKED_TEXT", "AccessToken", "Grant", "Grants"]

CODE_LIFETIME = 600.0  # seconds an authorization code stays redeemable
# What the token endpoint says for each way a grant dies.
REVOKED_TEXT = {
    65001: "The user or administrator has not consented to use the application with ID "
    "'{client}'. Send an interactive authorization request for this user and resource.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is "
    "needed. The user might have changed or reset their password.",
    700082: "The refresh token has expired due to inactivity. The token was issued on "
    "2026-01-01T00:00:00Z and was inactive for 90.00:00:00.",
    70008: "The provided authorization code or refresh token has expired due to inactivity. "
    "Send a new interactive authorization request for this user and resource.",
}


@dataclass(slots=True)
class Grant:
    """One user's consent to one client for some permissions; `dead` is the AADSTS code it
    died with, None while it lives."""

    client_id: str
    user: str
    scopes: frozenset[str]
    dead: int | None = None

    @property
    def alive(self) -> bool:
        """False once the grant has died."""
        return self.dead is None


# A bearer token for Graph: its grant, permissions and expiry (sandbox clock).
AccessToken = SharedAccessToken[Grant]


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    challenge: str | None
    nonce: str | None
    expires_at: float
    used: bool = False


class Grants(TokenBook[Grant, _Code, str | None]):
    """Codes and tokens of the sandbox's user; `clients` keeps each client's secret (None: a
    public client)."""

    access_prefix = "EwB"
    access_bytes = 48
    consent_blocked: int | None = None  # the AADSTS code new consent is refused with

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: frozenset[str],
        challenge: str | None,
        nonce: str | None,
    ) -> str:
        """A fresh authorization code for these parameters."""
        code = "0.A" + secrets.token_urlsafe(48)
        self._codes[code] = _Code(
            client_id, redirect_uri, scopes, challenge, nonce, self._clock() + CODE_LIFETIME
        )
        return code

    def check_client(self, client_id: str, secret: str | None) -> None:
        """Remember a new client's secret, or check a known one's. Raises AadError
        invalid_client (7000218 missing secret, 7000215 wrong secret)."""
        if not client_id:
            raise AadError(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        known = self.clients.setdefault(client_id, secret)
        if known is not None and secret is None:
            raise AadError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
                status=401,
            )
        if known is not None and secret != known:
            raise AadError(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID.",
                status=401,
            )

    def redeem(
        self, code: str, *, client_id: str, redirect_uri: str | None, verifier: str | None
    ) -> tuple[AccessToken, str, str | None]:
        """Exchange a code once, before it expires, PKCE-verified: (access token, refresh
        token, the nonce the authorization request carried). Raises AadError invalid_grant."""
        entry = self._codes.get(code)
        if entry is None or entry.client_id != client_id:
            raise AadError(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if entry.used:
            raise AadError(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        if self._clock() > entry.expires_at:
            raise AadError("invalid_grant", 70008, REVOKED_TEXT[70008])
        if redirect_uri != entry.redirect_uri:
            raise AadError(
                "invalid_grant",
                50148,
                "The redirect_uri does not match the redirect_uri used in the authorization "
                "request.",
            )
        if entry.challenge is not None and (
            not verifier or not pkce_matches(verifier, entry.challenge)
        ):
            raise AadError(
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the "
                "authorization request.",
            )
        entry.used = True
        grant = Grant(client_id, self.user, entry.scopes)
        return self._new_access(grant, entry.scopes), self._new_refresh(grant), entry.nonce

    def refresh(
        self, token: str, *, client_id: str, scopes: frozenset[str] | None
    ) -> tuple[AccessToken, str]:
        """A new access token and a new refresh token (the old one stays valid). Raises
        AadError invalid_grant with the code the grant died with, or for an unknown token."""
        grant = self._refresh.get(token)
        if grant is None:
            raise AadError(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if grant.dead is not None:
            text = REVOKED_TEXT.get(grant.dead, "The grant is no longer valid.")
            raise AadError("invalid_grant", grant.dead, text.format(client=grant.client_id))
        if grant.client_id != client_id:
            raise AadError(
                "invalid_grant",
                70000,
                "Provided grant is invalid or malformed. The refresh token was issued to a "
                "different client.",
            )
        wanted = (scopes or grant.scopes) - {"offline_access"}
        if not wanted <= grant.scopes:
            raise AadError(
                "invalid_grant",
                65001,
                REVOKED_TEXT[65001].format(client=client_id),
            )
        # An access token carries every permission consented for the resource, whichever
        # of them the refresh asked for (the v2.0 endpoint's incremental consent model).
        return self._new_access(grant, grant.scopes), self._new_refresh(grant)

    def kill(self, code: int) -> None:
        """Every grant of the user dies with AADSTS `code`. A revoked consent (65001) also
        refuses new consent until `restore`; after a password reset (50173) the user may sign
        in again at once."""
        for grant in self._every_grant():
            if grant.dead is None:
                grant.dead = code
        if code == 65001:
            self.consent_blocked = code

    def restore(self) -> None:
        """The user is willing to consent again; dead grants stay dead."""
        self.consent_blocked = None

    def _new_refresh(self, grant: Grant) -> str:
        token = "1.A" + secrets.token_urlsafe(64)
        self._refresh[token] = grant
        return token
