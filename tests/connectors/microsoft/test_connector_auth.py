"""keepwarm's Microsoft consent and tokens (msal) against the sandbox: the grant carries msal's
serialized cache, refreshes silently and hands back the rotated cache; msal's errors become
AuthExpired (the person must reconnect), ConsentRefused or ProviderUnavailable."""

from __future__ import annotations

import json

import httpx
import pytest

from keepwarm.connectors.base import ConsentRequest
from keepwarm.connectors.errors import AuthExpired, ConsentRefused, ProviderUnavailable
from keepwarm.connectors.microsoft.auth import (
    MicrosoftAuth,
    MicrosoftEndpoints,
    classify_msal_error,
)
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from tests.support.microsoft import (
    CLIENT_ID,
    REDIRECT,
    connect,
    connector_auth,
    form_fields,
)
from tests.support.paths import SANDBOX_OWNER as OWNER


def test_consent_gives_a_grant_that_refreshes_silently(ms: MicrosoftSandbox) -> None:
    auth, grant = connect(ms)
    assert grant.email == OWNER and grant.name
    assert grant.scopes == ("Mail.ReadBasic", "Calendars.ReadBasic", "User.Read", "offline_access")
    assert set(grant.tokens) == {"msal_cache", "home_account_id", "username"}
    assert json.loads(grant.tokens["msal_cache"])["RefreshToken"]
    source = auth.tokens(grant.tokens)
    first = source.token()
    assert source.token() == first  # cached in the grant: no refresh yet
    assert source.current_tokens() == grant.tokens  # nothing changed
    second = source.refresh()
    assert second != first
    rotated = source.current_tokens()
    assert rotated["msal_cache"] != grant.tokens["msal_cache"]  # Microsoft rotated it
    assert auth.tokens(rotated).refresh()  # and the rotated cache works elsewhere


def test_the_consent_request_is_serialisable_and_uses_pkce(ms: MicrosoftSandbox) -> None:
    auth = connector_auth(ms)
    request = auth.begin_consent(REDIRECT, login_hint=OWNER)
    assert request.url.startswith(ms.url + "/common/oauth2/v2.0/authorize?")
    query = httpx.URL(request.url).params
    assert query["code_challenge_method"] == "S256" and query["response_mode"] == "form_post"
    assert query["login_hint"] == OWNER
    assert set(query["scope"].split()) == {
        "Mail.ReadBasic",
        "Calendars.ReadBasic",
        "User.Read",
        "offline_access",
        "openid",
        "profile",
    }
    # Stored (a web app keeps it in the session) and finished by another process.
    kept = json.loads(json.dumps({**vars_of(request)}))
    restored = ConsentRequest(**kept)
    fields = form_fields(httpx.get(request.url).text)
    assert connector_auth(ms).finish_consent(restored, fields).email == OWNER


def vars_of(request: ConsentRequest) -> dict[str, object]:
    return {
        "url": request.url,
        "state": request.state,
        "verifier": request.verifier,
        "redirect_uri": request.redirect_uri,
        "extra": dict(request.extra),
    }


def test_a_foreign_state_or_a_refusal_is_consent_refused(ms: MicrosoftSandbox) -> None:
    auth = connector_auth(ms)
    request = auth.begin_consent(REDIRECT)
    fields = form_fields(httpx.get(request.url).text)
    with pytest.raises(ConsentRefused, match="state"):
        auth.finish_consent(request, {**fields, "state": "forged"})
    with pytest.raises(ConsentRefused, match="access_denied"):
        auth.finish_consent(request, {"state": request.state, "error": "access_denied"})
    auth.finish_consent(request, fields)
    with pytest.raises(ConsentRefused, match="invalid_grant"):  # the code is spent
        connector_auth(ms).finish_consent(request, fields)


@pytest.mark.parametrize("code", [65001, 50173, 700082])
def test_a_dead_grant_is_auth_expired(ms: MicrosoftSandbox, code: int) -> None:
    auth, grant = connect(ms)
    ms.invalid_grant(code)
    with pytest.raises(AuthExpired, match=f"invalid_grant.*AADSTS{code}"):
        auth.tokens(grant.tokens).refresh()


def test_an_unreachable_identity_platform_is_transient(ms: MicrosoftSandbox) -> None:
    auth, grant = connect(ms)
    ms.fail_with_status(503, count=3, path_prefix="/common/oauth2/v2.0/token")
    with pytest.raises(ProviderUnavailable, match="HTTP Error: 503"):
        auth.tokens(grant.tokens).refresh()
    ms.clear_faults()
    ms.fail_with_429(path_prefix="/common/oauth2/v2.0/token")  # a JSON error msal returns
    with pytest.raises(ProviderUnavailable, match="temporarily_unavailable"):
        auth.tokens(grant.tokens).refresh()
    gone = MicrosoftAuth(CLIENT_ID, endpoints=MicrosoftEndpoints.for_base("http://127.0.0.1:9"))
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        gone.tokens(grant.tokens).token()
    with pytest.raises(AuthExpired, match="no refresh token"):
        auth.tokens({"msal_cache": "{}", "home_account_id": "x.y"}).token()


def test_msal_errors_are_classified_once() -> None:
    def error(name: str) -> type:
        return type(classify_msal_error({"error": name, "error_description": "AADSTS1: x"}, "a"))

    assert error("invalid_grant") is AuthExpired
    assert error("interaction_required") is AuthExpired
    assert error("temporarily_unavailable") is ProviderUnavailable
    assert error("invalid_client").__name__ == "PermanentProviderError"


def test_revoke_needs_no_call(ms: MicrosoftSandbox) -> None:
    auth, grant = connect(ms)
    before = len(ms.requests())
    auth.revoke(grant.tokens)
    assert len(ms.requests()) == before
