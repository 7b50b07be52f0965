"""Microsoft consent and tokens through msal: the authorization-code flow with PKCE, the token
cache kept serialized in the grant, silent refresh, and msal's errors classified once.

keepwarm asks for `Mail.ReadBasic Calendars.ReadBasic User.Read` (msal adds `openid profile
offline_access` itself): message and event metadata without bodies, and who the user is. The
grant's tokens are msal's whole serialized token cache plus the account it belongs to, so a
worker anywhere rebuilds the cache, refreshes silently (Microsoft rotates refresh tokens; the
new cache is handed back through `TokenSource.current_tokens`) and never needs the person again
until the grant dies.

The identity platform has no endpoint through which an app revokes a delegated grant: `revoke`
forgets nothing remotely, and the person removes the app's access at
https://myapps.microsoft.com (work accounts) or https://account.live.com/consent/Manage
(personal accounts), as the README says.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msal
import requests
from msal.exceptions import MsalServiceError

from keepwarm.connectors.base import ConsentRequest, Grant
from keepwarm.connectors.errors import (
    AuthExpired,
    ConsentRefused,
    PermanentProviderError,
    ProviderError,
    ProviderUnavailable,
)
from keepwarm.connectors.microsoft.transport import LoopbackSession, http_if_loopback, is_loopback

__all__ = [
    "SCOPES",
    "MicrosoftAuth",
    "MicrosoftEndpoints",
    "TokenSource",
    "classify_msal_error",
]

# The least that works (delegated, no admin consent needed): message metadata without bodies,
# event metadata without bodies, the signed-in user's profile. msal adds openid, profile and
# offline_access (which gives the refresh token) and refuses them when passed.
SCOPES = ("Mail.ReadBasic", "Calendars.ReadBasic", "User.Read")
GRANTED = (*SCOPES, "offline_access")
# Seconds one call to the identity platform may take before it counts as unavailable.
AUTH_TIMEOUT = 30.0
# Errors that mean the person must sign in and consent again; retrying cannot help.
_REAUTH = frozenset({"invalid_grant", "interaction_required", "consent_required", "login_required"})
# Errors that are the operator's (a wrong or expired client secret, an unregistered app).
_MISCONFIGURED = frozenset({"invalid_client", "unauthorized_client", "invalid_request"})


@dataclass(frozen=True, slots=True)
class MicrosoftEndpoints:
    """Where the identity platform and Graph are; `for_base` points both at a sandbox.

    `authority_host` is `https://login.microsoftonline.com` in production; a sandbox's is its
    own URL with https (msal accepts nothing else), reached over http by `LoopbackSession`.
    """

    authority_host: str = "https://login.microsoftonline.com"
    graph: str = "https://graph.microsoft.com/v1.0"

    @classmethod
    def for_base(cls, base: str) -> MicrosoftEndpoints:
        base = base.rstrip("/")
        return cls(http_if_loopback(base).replace("http://", "https://", 1), base + "/v1.0")

    @property
    def local(self) -> bool:
        """Whether this is a sandbox on loopback."""
        return is_loopback(self.authority_host)


def classify_msal_error(result: Mapping[str, Any] | None, action: str) -> ProviderError:
    """The connectors.errors exception for an msal error result (msal returns errors as dicts,
    never raises them); None means msal had no account or refresh token to use."""
    if result is None:
        return AuthExpired(f"{action}: no refresh token is stored for this account")
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").split(" Trace ID:")[0].strip()
    message = f"{action}: Microsoft answered {error}" + (f" ({description})" if description else "")
    if error in _REAUTH:
        return AuthExpired(message)
    if error in _MISCONFIGURED:
        return PermanentProviderError(message)
    return ProviderUnavailable(message)  # temporarily_unavailable, server_error, throttling


@contextmanager
def _reaching(action: str) -> Iterator[None]:
    """msal calls, with a network failure or a 5xx (which msal raises) as ProviderUnavailable."""
    try:
        yield
    except (requests.RequestException, MsalServiceError) as exc:
        raise ProviderUnavailable(f"{action}: the identity platform is unreachable: {exc}") from exc


class TokenSource:
    """Access tokens for one grant, refreshed silently from its msal cache.

    `token()` gives a valid access token (refreshing when it expires within 5 minutes),
    `refresh()` forces a new one (after Graph refused the current one), `current_tokens()` the
    grant's tokens as they stand now (the cache rotated by refreshes), to store back.
    Raises AuthExpired when the grant is dead, ProviderUnavailable when the identity platform
    cannot answer, PermanentProviderError for a misconfigured app.
    """

    def __init__(self, auth: MicrosoftAuth, tokens: Mapping[str, Any]) -> None:
        self._tokens = dict(tokens)
        self._cache = msal.SerializableTokenCache()
        self._cache.deserialize(str(tokens.get("msal_cache") or "{}"))
        self._auth = auth
        self._app: msal.ClientApplication | None = None
        self._access: str | None = None

    def token(self) -> str:
        if self._access is None:
            self._access = self._acquire(force=False)
        return self._access

    def refresh(self) -> str:
        self._access = self._acquire(force=True)
        return self._access

    def current_tokens(self) -> dict[str, Any]:
        if self._cache.has_state_changed:
            self._tokens["msal_cache"] = self._cache.serialize()
        return dict(self._tokens)

    def _acquire(self, *, force: bool) -> str:
        with _reaching("refreshing the grant"):
            if self._app is None:
                self._app = self._auth.application(self._cache)
            home = self._tokens.get("home_account_id")
            accounts = self._app.get_accounts()
            account = next((a for a in accounts if a.get("home_account_id") == home), None)
            if account is None and accounts:
                account = accounts[0]
            if account is None:
                raise classify_msal_error(None, "refreshing the grant")
            result = self._app.acquire_token_silent_with_error(
                list(SCOPES), account, force_refresh=force
            )
        if result is None or "access_token" not in result:
            raise classify_msal_error(result, "refreshing the grant")
        return str(result["access_token"])


@dataclass(frozen=True)
class MicrosoftAuth:
    """The app registration (client id, the secret of a confidential client or None for a
    public one, the tenant) and the endpoints. Implements connectors.base.ProviderAuth."""

    client_id: str
    client_secret: str | None = None
    tenant: str = "common"
    endpoints: MicrosoftEndpoints = MicrosoftEndpoints()
    timeout: float = AUTH_TIMEOUT

    @property
    def authority(self) -> str:
        return f"{self.endpoints.authority_host}/{self.tenant}"

    def application(self, cache: msal.TokenCache | None = None) -> msal.ClientApplication:
        """A fresh msal app on `cache` (it fetches the authority's discovery document).

        Raises PermanentProviderError when the authority is unusable (an unknown tenant),
        and requests' or msal's exceptions when the identity platform cannot be reached.
        """
        options: dict[str, Any] = {
            "authority": self.authority,
            "token_cache": cache,
            "http_client": LoopbackSession(self.timeout),
        }
        if self.endpoints.local:
            # A sandbox is no authority Microsoft knows: skip the instance discovery that
            # would ask login.microsoftonline.com about it.
            options["instance_discovery"] = False
        try:
            if self.client_secret:
                return msal.ConfidentialClientApplication(
                    self.client_id, client_credential=self.client_secret, **options
                )
            return msal.PublicClientApplication(self.client_id, **options)
        except ValueError as exc:  # msal's check of the authority and its discovery
            raise PermanentProviderError(
                f"the authority {self.authority} is unusable: {exc}"
            ) from exc

    def begin_consent(self, redirect_uri: str, login_hint: str | None = None) -> ConsentRequest:
        """The sign-in URL (PKCE S256, the answer POSTed back: response_mode=form_post) and
        the request to finish with. Raises ProviderUnavailable when the identity platform
        cannot be reached."""
        with _reaching("starting the consent"):
            flow = self.application().initiate_auth_code_flow(
                list(SCOPES),
                redirect_uri=redirect_uri,
                login_hint=login_hint,
                response_mode="form_post",
            )
        return ConsentRequest(
            url=http_if_loopback(str(flow["auth_uri"])),
            state=str(flow["state"]),
            verifier=str(flow["code_verifier"]),
            redirect_uri=redirect_uri,
            extra={"msal_flow": json.dumps(flow)},
        )

    def finish_consent(self, request: ConsentRequest, params: Mapping[str, str]) -> Grant:
        """Exchange the answer's code for tokens, after checking its state.

        Raises ConsentRefused when the person declined, the state does not match or the code
        was refused; ProviderUnavailable when the identity platform cannot be reached.
        """
        if not hmac.compare_digest(str(params.get("state", "")), request.state):
            raise ConsentRefused("the sign-in answer does not belong to this consent (state)")
        if "error" in params:
            reason = params.get("error_description") or params["error"]
            raise ConsentRefused(f"Microsoft said {params['error']}: {reason}")
        flow = json.loads(request.extra["msal_flow"])
        cache = msal.SerializableTokenCache()
        with _reaching("finishing the consent"):
            app = self.application(cache)
            try:
                result = app.acquire_token_by_auth_code_flow(flow, dict(params))
            except ValueError as exc:  # msal's own state and flow checks
                raise ConsentRefused(f"the sign-in answer was refused: {exc}") from exc
            accounts = app.get_accounts()
        if "access_token" not in result:
            raise ConsentRefused(str(classify_msal_error(result, "signing in")))
        claims = result.get("id_token_claims") or {}
        username = str(claims.get("preferred_username") or "").lower()
        account = next((a for a in accounts if a.get("username", "").lower() == username), None)
        if account is None and accounts:
            account = accounts[0]
        if account is None:  # no client_info nor id_token: msal could never refresh
            raise ConsentRefused("Microsoft gave no account to refresh the grant with")
        me = self._me(str(result["access_token"]))
        email = str(me.get("mail") or me.get("userPrincipalName") or username).lower()
        tokens = {
            "msal_cache": cache.serialize(),
            "home_account_id": account["home_account_id"],
            "username": email,
        }
        name = me.get("displayName") or claims.get("name")
        return Grant(email=email, tokens=tokens, scopes=GRANTED, name=name)

    def _me(self, access_token: str) -> dict[str, Any]:
        """The signed-in user from Graph (their mailbox address may differ from the sign-in
        name); empty when Graph cannot tell, and the sign-in name stands in."""
        try:
            response = httpx.get(
                f"{self.endpoints.graph}/me",
                params={"$select": "mail,userPrincipalName,displayName"},
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=self.timeout,
            )
        except httpx.HTTPError:
            return {}
        if response.status_code != 200:
            return {}
        body = response.json()
        return body if isinstance(body, dict) else {}

    def tokens(self, tokens: Mapping[str, Any]) -> TokenSource:
        """Access tokens for a stored grant."""
        return TokenSource(self, tokens)

    def revoke(self, tokens: Mapping[str, Any]) -> None:
        """Nothing to call: the identity platform offers apps no revocation of a delegated
        grant (see the module docstring). The caller forgets the tokens, after which the grant
        is of no use to anyone; the person removes the consent in their account settings."""
        return None
