"""OAuth 2.0 against the sandbox with google-auth-oauthlib's Flow and google-auth's
Credentials: PKCE consent, refresh, expiry, revocation, and Google's error answers."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import google.auth.exceptions
import google.auth.transport.requests
import pytest
import requests

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import (
    AUTH,
    CLIENT_ID,
    REDIRECT,
    SCOPES,
    ManualClock,
    authorize,
    click,
    credentials,
    flow,
    gmail_service,
    post_form,
    raw_get,
)
from tests.support.paths import SANDBOX_OWNER as OWNER


def _refresh(creds: Any) -> None:
    with requests.Session() as session:
        creds.refresh(google.auth.transport.requests.Request(session))


def _decode_jwt(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_pkce_consent_gives_refreshable_credentials(sandbox: GoogleSandbox) -> None:
    creds = authorize(sandbox)
    assert creds.token and creds.refresh_token
    assert set(creds.granted_scopes) == set(SCOPES)
    assert creds.token_uri == sandbox.url + "/token"
    claims = _decode_jwt(creds.id_token)
    assert claims["email"] == OWNER and claims["aud"] == CLIENT_ID
    # The id is recorded with the secret it used, as `serve` tells users.
    assert sandbox.clients == {CLIENT_ID: "test-secret"}
    status, _, userinfo = raw_get(sandbox, "/oauth2/v3/userinfo", creds.token)
    assert status == 200 and userinfo["email"] == OWNER and userinfo["email_verified"] is True

    rebuilt = credentials(sandbox, creds.refresh_token)
    _refresh(rebuilt)
    assert rebuilt.token and rebuilt.token != creds.token
    assert rebuilt.refresh_token == creds.refresh_token  # Google does not rotate it
    assert raw_get(sandbox, "/gmail/v1/users/me/profile", rebuilt.token)[0] == 200


def test_short_scope_names_come_back_long_and_oauthlib_notices(sandbox: GoogleSandbox) -> None:
    # Google grants "email" as ".../userinfo.email"; oauthlib then raises its "Scope has
    # changed" Warning unless OAUTHLIB_RELAX_TOKEN_SCOPE is set. Clients must ask long names.
    consent = flow(sandbox, ["openid", "email", AUTH + "gmail.metadata"])
    url, _ = consent.authorization_url(access_type="offline")
    _, params = click(url)
    with pytest.raises(Warning, match="Scope has changed"):
        consent.fetch_token(code=params["code"][0])


def test_expired_access_token_is_refreshed_by_the_authorized_http(
    make_sandbox: Any, clock: ManualClock
) -> None:
    sandbox = make_sandbox(access_token_lifetime=60)
    creds = authorize(sandbox)
    first = creds.token
    clock.advance(61)  # the sandbox's clock, not google-auth's: only the server knows
    assert raw_get(sandbox, "/gmail/v1/users/me/profile", first)[0] == 401
    gmail = gmail_service(sandbox, creds)
    try:
        profile = gmail.users().getProfile(userId="me").execute()
    finally:
        gmail.close()
    assert profile["emailAddress"] == OWNER
    assert creds.token != first
    assert sandbox.requests().count("POST /token") == 2  # the code exchange and one refresh


def test_revoked_refresh_token_raises_refresh_error_invalid_grant(sandbox: GoogleSandbox) -> None:
    creds = authorize(sandbox)
    status, body = post_form(sandbox, "/revoke", {"token": creds.refresh_token})
    assert (status, body) == (200, {})
    # Revoking the refresh token kills the grant: its access tokens too.
    status, headers, error = raw_get(sandbox, "/gmail/v1/users/me/profile", creds.token)
    assert status == 401
    assert error["error"]["errors"][0]["reason"] == "authError"
    assert "invalid_token" in headers["www-authenticate"]
    with pytest.raises(google.auth.exceptions.RefreshError) as raised:
        _refresh(credentials(sandbox, creds.refresh_token))
    assert str(raised.value.args[0]) == "invalid_grant: Token has been expired or revoked."
    assert raised.value.retryable is False
    # Revoking again: the token is unknown now.
    assert post_form(sandbox, f"/revoke?{urlencode({'token': creds.token})}", {})[0] == 400


def test_revoke_grant_fault_then_reconnect(sandbox: GoogleSandbox) -> None:
    creds = authorize(sandbox)
    sandbox.revoke_grant()
    gmail = gmail_service(sandbox, creds)
    try:
        # The API call gets 401, the authorized http refreshes, the refresh is refused.
        with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_grant"):
            gmail.users().getProfile(userId="me").execute()
    finally:
        gmail.close()
    consent = flow(sandbox)
    url, _ = consent.authorization_url(access_type="offline", prompt="consent")
    status, params = click(url)
    assert status == 302 and params["error"] == ["access_denied"]
    sandbox.restore_grant()
    fresh = authorize(sandbox)
    assert raw_get(sandbox, "/gmail/v1/users/me/profile", fresh.token)[0] == 200
    with pytest.raises(google.auth.exceptions.RefreshError):
        _refresh(credentials(sandbox, creds.refresh_token))  # the old grant stays dead


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _consent(sandbox: GoogleSandbox, **overrides: str) -> tuple[int, dict[str, list[str]]]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "code_challenge": _challenge("v" * 43),
        "code_challenge_method": "S256",
        "access_type": "offline",
        "state": "s1",
    }
    params.update(overrides)
    return click(f"{sandbox.url}/o/oauth2/auth?{urlencode(params)}")


def _exchange(sandbox: GoogleSandbox, code: str, **overrides: str) -> tuple[int, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": "v" * 43,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": "test-secret",
    }
    form.update(overrides)
    return post_form(sandbox, "/token", form)


def test_authorization_and_token_errors_as_google_gives_them(sandbox: GoogleSandbox) -> None:
    assert _consent(sandbox, redirect_uri="https://evil.example/cb")[0] == 400
    assert _consent(sandbox, client_id="")[0] == 400
    assert _consent(sandbox, scope="https://www.googleapis.com/auth/drive")[1]["error"] == [
        "invalid_scope"
    ]
    assert _consent(sandbox, code_challenge_method="plain")[1]["error"] == ["invalid_request"]
    assert _consent(sandbox, response_type="token")[1]["error"] == ["unsupported_response_type"]

    code = _consent(sandbox)[1]["code"][0]
    assert _exchange(sandbox, code, code_verifier="w" * 43) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid code verifier."},
    )
    assert _exchange(sandbox, code, redirect_uri="http://127.0.0.1:1/")[1]["error"] == (
        "redirect_uri_mismatch"
    )
    status, token = _exchange(sandbox, code)
    assert status == 200 and token["expires_in"] == 3599 and token["token_type"] == "Bearer"
    assert _exchange(sandbox, code)[1]["error"] == "invalid_grant"  # codes work once
    assert _exchange(sandbox, "4/0nope")[1]["error"] == "invalid_grant"
    assert _exchange(sandbox, code, client_secret="other")[0] == 401  # secret is recorded
    assert post_form(sandbox, "/token", {"grant_type": "password", "client_id": CLIENT_ID})[1][
        "error"
    ] == ("unsupported_grant_type")
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": "test-secret",
    }
    status, body = post_form(sandbox, "/token", {**refresh, "scope": AUTH + "gmail.metadata"})
    assert (
        status == 200 and body["scope"] == AUTH + "gmail.metadata" and "refresh_token" not in body
    )
    # A narrowed token cannot read the calendar.
    assert raw_get(sandbox, "/calendar/v3/users/me/calendarList", body["access_token"])[0] == 403
    wider = {**refresh, "scope": AUTH + "gmail.readonly"}
    assert post_form(sandbox, "/token", wider)[1]["error"] == "invalid_scope"


def test_api_calls_need_a_bearer_token(sandbox: GoogleSandbox) -> None:
    status, headers, body = raw_get(sandbox, "/gmail/v1/users/me/profile", None)
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    assert headers["www-authenticate"].startswith("Bearer ")
    assert body["error"]["errors"][0]["reason"] == "required"
    status, _, body = raw_get(sandbox, "/gmail/v1/users/me/profile", "ya29.forged")
    assert status == 401 and body["error"]["errors"][0]["message"] == "Invalid Credentials"
