"""OAuth state: authorization codes, grants, refresh and access tokens, client secrets.

Any client id is accepted; the secret it first presents at the token endpoint is recorded and
must match afterwards. Revoking any token of a grant revokes the whole grant, as Google does.
Not thread-safe: the app holds its lock around every call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from keepwarm.connectors.sandbox.google.errors import OAuthError
from keepwarm.connectors.sandbox.grants import AccessToken as SharedAccessToken
from keepwarm.connectors.sandbox.grants import TokenBook, pkce_matches

__all__ = ["AccessToken", "Grant", "Grants"]

CODE_LIFETIME = 600.0  # seconds an authorization code stays redeemable
_REVOKED = "Token has been expired or revoked."


@dataclass(slots=True)
class Grant:
    """One user's consent to one client for some scopes."""

    client_id: str
    user: str
    scopes: frozenset[str]
    refresh_token: str | None
    revoked: bool = False

    @property
    def alive(self) -> bool:
        """False once revoked."""
        return not self.revoked


# A bearer token: its grant, its scopes (a subset on scoped refresh) and expiry.
AccessToken = SharedAccessToken[Grant]


@dataclass(slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    challenge: str
    offline: bool
    expires_at: float
    used: bool = False


class Grants(TokenBook[Grant, _Code, str]):
    """Codes and tokens of the sandbox's user; `clients` keeps the secret each client first
    used."""

    access_prefix = "ya29.sandbox-"
    access_bytes = 32
    consent_blocked = False  # True from revoke_user() until restore_user()

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: frozenset[str],
        challenge: str,
        offline: bool,
    ) -> str:
        """A fresh authorization code for these parameters."""
        code = "4/0" + secrets.token_urlsafe(32)
        self._codes[code] = _Code(
            client_id, redirect_uri, scopes, challenge, offline, self._clock() + CODE_LIFETIME
        )
        return code

    def check_client(self, client_id: str, secret: str | None) -> None:
        """Record a new client's secret, or check a known one's. Raises OAuthError 401."""
        if not client_id:
            raise OAuthError("invalid_client", "The OAuth client was not found.", status=401)
        known = self.clients.setdefault(client_id, secret or "")
        if secret is not None and secret != known:
            raise OAuthError("invalid_client", "Unauthorized", status=401)

    def redeem(
        self, code: str, *, client_id: str, redirect_uri: str | None, verifier: str | None
    ) -> tuple[Grant, AccessToken]:
        """Exchange a code (once, before it expires, PKCE-verified) for a grant and an access
        token. Raises OAuthError with Google's error names."""
        entry = self._codes.get(code)
        if entry is None:
            raise OAuthError("invalid_grant", "Malformed auth code.")
        if entry.used or self._clock() > entry.expires_at or entry.client_id != client_id:
            raise OAuthError("invalid_grant", "Bad Request")
        if redirect_uri != entry.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        if not verifier:
            raise OAuthError("invalid_grant", "Missing code verifier.")
        if not pkce_matches(verifier, entry.challenge):
            raise OAuthError("invalid_grant", "Invalid code verifier.")
        entry.used = True
        refresh = "1//0" + secrets.token_urlsafe(40) if entry.offline else None
        grant = Grant(client_id, self.user, entry.scopes, refresh)
        if refresh is not None:
            self._refresh[refresh] = grant
        return grant, self._new_access(grant, entry.scopes)

    def refresh(self, token: str, *, client_id: str, scopes: frozenset[str] | None) -> AccessToken:
        """A new access token from a refresh token, for `scopes` (a subset) or all granted.
        Raises OAuthError invalid_grant (revoked or unknown), unauthorized_client,
        invalid_scope."""
        grant = self._refresh.get(token)
        if grant is None or grant.revoked:
            raise OAuthError("invalid_grant", _REVOKED)
        if grant.client_id != client_id:
            raise OAuthError("unauthorized_client", "Unauthorized", status=401)
        if scopes is not None and not scopes <= grant.scopes:
            raise OAuthError("invalid_scope", "Bad Request")
        return self._new_access(grant, scopes or grant.scopes)

    def revoke(self, token: str) -> bool:
        """Revoke the grant behind an access or refresh token; False if the token is unknown
        or already dead."""
        access = self._access.get(token)
        grant = access.grant if access is not None else self._refresh.get(token)
        if grant is None or grant.revoked:
            return False
        grant.revoked = True
        return True

    def revoke_user(self) -> None:
        """The user removed the app's access: every grant dies and consent is refused until
        `restore_user`."""
        for grant in self._every_grant():
            grant.revoked = True
        self.consent_blocked = True

    def restore_user(self) -> None:
        """The user is willing to connect again; tokens revoked before stay dead."""
        self.consent_blocked = False
