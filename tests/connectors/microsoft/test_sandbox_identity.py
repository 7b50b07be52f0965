"""The sandbox's identity platform driven by the real msal: discovery, consent with PKCE and
form_post, the cached account, silent refresh with rotating refresh tokens, and the ways a
grant dies (invalid_grant with AADSTS codes)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import msal
import pytest

from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from tests.support.google import ManualClock
from tests.support.microsoft import (
    CLIENT_ID,
    REDIRECT,
    SCOPES,
    browse,
    consent,
    form_fields,
    graph,
    msal_app,
    start_consent,
)
from tests.support.paths import SANDBOX_OWNER as OWNER


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_discovery_document_is_what_msal_needs(ms: MicrosoftSandbox) -> None:
    url = ms.url + "/common/v2.0/.well-known/openid-configuration"
    document = httpx.get(url, headers={"Host": "login.test"}).json()
    assert document["authorization_endpoint"] == "https://login.test/common/oauth2/v2.0/authorize"
    assert document["token_endpoint"] == "https://login.test/common/oauth2/v2.0/token"
    assert document["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
    tenant = ms.tenant_id
    own = httpx.get(f"{ms.url}/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert own["issuer"] == f"https://login.microsoftonline.com/{tenant}/v2.0"
    unknown = httpx.get(ms.url + "/nowhere.example/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400
    assert unknown.json()["error_codes"] == [90002]


def test_consent_caches_an_account_and_refreshes_silently(ms: MicrosoftSandbox) -> None:
    app, result = consent(ms)
    assert result["token_type"] == "Bearer" and result["refresh_token"]
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == OWNER and claims["tid"] == ms.tenant_id
    assert claims["name"]  # the owner's display name from their own sent mail
    (account,) = app.get_accounts()
    assert account["username"] == OWNER
    assert account["home_account_id"] == f"{claims['oid']}.{ms.tenant_id}"
    # Cached: no request. Forced: a refresh that rotates the refresh token.
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == result["access_token"]
    refreshed = app.acquire_token_silent(SCOPES, account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != result["access_token"]
    tokens = [
        rt["secret"] for rt in app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
    ]
    assert tokens and tokens[0] != result["refresh_token"]
    # A refresh asking for one permission still gets a token for all consented ones.
    with graph(ms, refreshed["access_token"]) as client:
        assert client.get("/me").json()["mail"] == OWNER
        assert client.get("/me/mailFolders/inbox").status_code == 200
    assert ms.clients == {CLIENT_ID: None}  # a public client: no secret


def test_the_serialized_cache_refreshes_in_another_process(ms: MicrosoftSandbox) -> None:
    cache = msal.SerializableTokenCache()
    app = msal_app(ms, cache=cache)
    flow = start_consent(app)
    app.acquire_token_by_auth_code_flow(flow, form_fields(browse(flow["auth_uri"]).text))
    stored = cache.serialize()
    # Later, elsewhere: a new app on the stored cache finds the account and refreshes.
    again = msal.SerializableTokenCache()
    again.deserialize(stored)
    later = msal_app(ms, cache=again)
    (account,) = later.get_accounts()
    result = later.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert result is not None and "access_token" in result
    assert again.has_state_changed


def test_code_is_redeemed_once_and_pkce_is_checked(ms: MicrosoftSandbox) -> None:
    app = msal_app(ms)
    flow = start_consent(app)
    page = browse(flow["auth_uri"])
    fields = form_fields(page.text)
    assert set(fields) == {"code", "state", "client_info", "session_state"}
    assert fields["state"] == flow["state"]
    assert app.acquire_token_by_auth_code_flow(dict(flow), fields).get("access_token")
    again = msal_app(ms).acquire_token_by_auth_code_flow(dict(flow), fields)
    assert again["error"] == "invalid_grant" and again["error_codes"] == [54005]
    tampered = msal_app(ms)
    flow2 = start_consent(tampered)
    fields2 = form_fields(browse(flow2["auth_uri"]).text)
    wrong = dict(flow2, code_verifier="x" * 43)
    refused = tampered.acquire_token_by_auth_code_flow(wrong, fields2)
    assert refused["error"] == "invalid_grant" and refused["error_codes"] == [501481]
    assert refused["error_description"].startswith("AADSTS501481: ")


def test_query_response_mode_redirects_to_the_loopback(ms: MicrosoftSandbox) -> None:
    app = msal_app(ms)
    with pytest.warns(UserWarning, match="form_post"):  # msal recommends form_post
        flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    answer = browse(flow["auth_uri"])
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT)
    params = dict(location.params)
    assert app.acquire_token_by_auth_code_flow(flow, params).get("access_token")


def test_bad_redirect_and_unknown_scope(ms: MicrosoftSandbox) -> None:
    app = msal_app(ms)
    flow = app.initiate_auth_code_flow(
        SCOPES, redirect_uri="https://evil.example/cb", response_mode="form_post"
    )
    page = browse(flow["auth_uri"])
    assert page.status_code == 400 and "AADSTS50011" in page.text
    flow = start_consent(app, ["Mail.Send"])
    fields = form_fields(browse(flow["auth_uri"]).text)
    assert fields["error"] == "invalid_scope" and "AADSTS70011" in fields["error_description"]


def test_confidential_client_secret_is_checked(ms: MicrosoftSandbox) -> None:
    _, result = consent(ms, secret="s3cret")
    assert result["access_token"] and ms.clients == {CLIENT_ID: "s3cret"}
    app = msal_app(ms, secret="wrong")
    flow = start_consent(app)
    refused = app.acquire_token_by_auth_code_flow(flow, form_fields(browse(flow["auth_uri"]).text))
    assert refused["error"] == "invalid_client" and refused["error_codes"] == [7000215]


@pytest.mark.parametrize("code", [65001, 50173, 700082])
def test_a_dead_grant_refuses_refresh_with_its_aadsts_code(ms: MicrosoftSandbox, code: int) -> None:
    app, result = consent(ms)
    (account,) = app.get_accounts()
    ms.invalid_grant(code)
    with graph(ms, result["access_token"]) as client:
        denied = client.get("/me/mailFolders")
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "InvalidAuthenticationToken"
    error = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert error is not None and error["error"] == "invalid_grant"
    assert error["error_codes"] == [code]
    assert error["error_description"].startswith(f"AADSTS{code}: ")
    # Revoked consent also refuses a new one until the user restores it; a reset password
    # only needs a new sign-in.
    flow = start_consent(msal_app(ms))
    fields = form_fields(browse(flow["auth_uri"]).text)
    if code == 65001:
        assert fields["error"] == "access_denied"
        ms.restore_consent()
        flow = start_consent(msal_app(ms))
        fields = form_fields(browse(flow["auth_uri"]).text)
    assert "code" in fields


def test_access_tokens_expire_on_the_sandbox_clock(make_ms: Any, ms_clock: ManualClock) -> None:
    sandbox: MicrosoftSandbox = make_ms(access_token_lifetime=600.0)
    _app, result = consent(sandbox)
    assert result["expires_in"] == 599
    ms_clock.advance(601)
    with graph(sandbox, result["access_token"]) as client:
        expired = client.get("/me")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    assert expired.headers["www-authenticate"].startswith("Bearer ")
