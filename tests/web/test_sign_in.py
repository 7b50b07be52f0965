"""Signing in with a provider through its sandbox: state and PKCE, sessions in cookies, CSRF,
who may sign up, sign-out, API tokens; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from keepwarm.services.models import Account, ApiToken, Identity, LifecycleEvent, User, WebSession
from keepwarm.services.runtime import Runtime, build_runtime
from keepwarm.services.web import create_app
from tests.support.paths import ENRON, SANDBOX_OWNER
from tests.support.settings import keyed
from tests.support.web import AS_OF, JobList, csrf_of, follow_consent, sign_in, start_sign_in


@dataclass
class Web:
    client: TestClient
    runtime: Runtime
    jobs: JobList
    sandbox: GoogleSandbox

    def count(self, model: type) -> int:
        with self.runtime.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[GoogleSandbox]:
    with GoogleSandbox([ENRON]) as box:
        yield box


def _web(settings: Settings, sandbox: GoogleSandbox, **overrides: object) -> Iterator[Web]:
    runtime = build_runtime(keyed(settings).model_copy(update=overrides))
    runtime = replace(runtime, clock=lambda: AS_OF)
    jobs = JobList()
    app = create_app(runtime, jobs=jobs, sandboxes={"google": sandbox.url})
    try:
        with TestClient(app, follow_redirects=False) as client:
            yield Web(client, runtime, jobs, sandbox)
    finally:
        runtime.close()


@pytest.fixture
def web(any_settings: Settings, sandbox: GoogleSandbox) -> Iterator[Web]:
    yield from _web(any_settings, sandbox, signup_allowed="enron.com")


def test_continue_with_google_signs_up_connects_and_sets_a_safe_cookie(web: Web) -> None:
    # Given the sign-in page: one button per provider, and an anonymous session for its form
    page = web.client.get("/signin")
    assert page.status_code == 200
    assert "Continue with Google" in page.text
    assert "Open as this machine" not in page.text  # not a browser on this machine
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie

    # When the person continues, consents at the provider, and comes back
    consent = start_sign_in(web.client, csrf=csrf_of(page.text))
    query = parse_qs(urlsplit(consent).query)
    assert query["code_challenge_method"] == ["S256"] and query["access_type"] == ["offline"]
    assert "openid" in query["scope"][0]
    back = urlsplit(follow_consent(consent))
    done = web.client.get(f"{back.path}?{back.query}")

    # Then they are signed in with a new session (not the anonymous one), as a new user whose
    # identity is the ID token's subject, and the mailbox is connected and queued to sync
    assert (done.status_code, done.headers["location"]) == (303, "/queue")
    assert done.headers["set-cookie"].split(";")[0] != cookie.split(";")[0]
    with web.runtime.session_factory() as session:
        [user] = session.scalars(select(User)).all()
        [identity] = session.scalars(select(Identity)).all()
        [account] = session.scalars(select(Account)).all()
    assert (identity.user_id, identity.provider, identity.email) == (
        user.id,
        "google",
        SANDBOX_OWNER,
    )
    assert identity.subject.isdigit() and user.handle == f"google:{identity.subject}"
    assert (account.user_id, account.email, account.api_base) == (
        user.id,
        SANDBOX_OWNER,
        web.sandbox.url,
    )
    assert [(j.actor, j.kwargs) for j in web.jobs.jobs] == [
        ("sync.account", {"account_id": account.id})
    ]
    queue = web.client.get("/queue")
    assert queue.status_code == 200 and "Reconnect" in queue.text
    assert web.count(WebSession) == 1  # the anonymous session is gone

    # And signing in again is the same user, not a second one
    web.client.cookies.clear()
    assert sign_in(web.client).status_code == 303
    assert (web.count(User), web.count(Identity), web.count(Account)) == (1, 1, 1)


def test_a_forged_or_replayed_redirect_signs_nobody_in(web: Web) -> None:
    consent = start_sign_in(web.client)
    back = urlsplit(follow_consent(consent))
    params = {k: v[0] for k, v in parse_qs(back.query).items()}

    # A state that is not the one this browser's consent sent
    forged = web.client.get(f"{back.path}?{urlencode({**params, 'state': 'x' + params['state']})}")
    assert forged.status_code == 400 and "state" in forged.text
    # The consent was spent by that attempt: the genuine redirect now finds nothing either
    replay = web.client.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400 and "No sign-in is under way" in replay.text
    # Another browser (no session) bringing a redirect
    with TestClient(web.client.app, follow_redirects=False) as other:
        assert other.get(f"{back.path}?{back.query}").status_code == 400
    # The person declining at the provider
    consent = start_sign_in(web.client)
    state = parse_qs(urlsplit(consent).query)["state"][0]
    declined = web.client.get(f"{back.path}?error=access_denied&state={state}")
    assert declined.status_code == 400 and "access_denied" in declined.text

    assert (web.count(User), web.count(Account)) == (0, 0)
    assert web.client.get("/queue").status_code == 303  # still signed out: to /signin


def test_someone_the_operator_did_not_admit_is_refused_clearly(
    any_settings: Settings, sandbox: GoogleSandbox
) -> None:
    for web in _web(any_settings, sandbox, signup_allowed="example.com, boss@enron.com"):
        refused = sign_in(web.client)
        assert refused.status_code == 403
        assert f"does not take new users from {SANDBOX_OWNER}" in refused.text
        assert "KEEPWARM_SIGNUP_ALLOWED" in refused.text
        assert (web.count(User), web.count(Identity), web.count(Account)) == (0, 0, 0)
        assert web.jobs.jobs == []


def test_every_change_needs_the_sessions_csrf_token(web: Web) -> None:
    sign_in(web.client)
    with web.runtime.session_factory() as session:
        person = session.scalar(select(func.count()).select_from(LifecycleEvent))
    assert person == 0
    for path, form in (
        ("/signout", {}),
        ("/auth/google", {}),
        ("/accounts/connect/google", {}),
        ("/settings", {"timezone": "Europe/Berlin"}),
        ("/settings/tokens", {"name": "x"}),
        ("/delete", {"confirm": "delete my account"}),
        ("/contacts/1/answer", {"action": "stop"}),
    ):
        for csrf in (None, "not-the-token"):
            data = {**form, **({"csrf": csrf} if csrf else {})}
            response = web.client.post(path, data=data)
            assert response.status_code == 403, path
            assert "That form has expired" in response.text
    # The API from a session needs the header too; a bearer token needs none
    assert web.client.patch("/api/v1/settings", json={"digest_hour": 7}).status_code == 403
    assert web.count(User) == 1 and web.count(ApiToken) == 0
    with web.runtime.session_factory() as session:
        [user] = session.scalars(select(User)).all()
    assert user.digest_hour == 8


def test_sign_out_ends_the_session(web: Web) -> None:
    sign_in(web.client)
    page = web.client.get("/queue")
    out = web.client.post("/signout", data={"csrf": csrf_of(page.text)})
    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert web.count(WebSession) == 0
    assert web.client.get("/queue").headers["location"] == "/signin"
    assert web.client.get("/api/v1/queue").json()["error"]["code"] == "not_signed_in"


def test_api_tokens_are_stored_hashed_and_can_be_revoked(web: Web) -> None:
    sign_in(web.client)
    csrf = csrf_of(web.client.get("/queue").text)
    made = web.client.post(
        "/api/v1/tokens", json={"name": "my script"}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    assert secret.startswith("kw_") and made.json()["prefix"] == secret[:9]
    with web.runtime.session_factory() as session:
        [row] = session.scalars(select(ApiToken)).all()
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64

    with TestClient(web.client.app) as script:  # no cookies: the token alone
        auth = {"Authorization": f"Bearer {secret}"}
        assert script.get("/api/v1/me", headers=auth).status_code == 200
        assert (
            script.patch("/api/v1/settings", json={"digest_hour": 7}, headers=auth).json()[
                "digest_hour"
            ]
            == 7
        )
        revoked = script.delete(f"/api/v1/tokens/{row.id}", headers=auth)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        again = script.get("/api/v1/me", headers=auth)
        assert again.status_code == 401 and again.json()["error"]["code"] == "not_signed_in"
        wrong = script.get("/api/v1/me", headers={"Authorization": "Bearer kw_guess"})
        assert wrong.status_code == 401


def test_cookies_are_secure_behind_https(any_settings: Settings, sandbox: GoogleSandbox) -> None:
    for web in _web(any_settings, sandbox, public_url="https://keepwarm.example.org"):
        cookie = web.client.get("/signin").headers["set-cookie"]
        assert cookie.startswith("__Host-keepwarm=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie


def test_local_sign_in_is_for_a_browser_on_this_machine_only(
    embedded_settings: Settings, sandbox: GoogleSandbox, tmp_path: Path
) -> None:
    # The test client is not on a loopback address, as a browser through a proxy would not be
    for web in _web(embedded_settings, sandbox):
        assert web.client.app.state.web.local_signin is True
        page = web.client.get("/signin")
        refused = web.client.post("/auth/local", data={"csrf": csrf_of(page.text)})
        assert refused.status_code == 403
        assert web.count(User) == 0


def test_continue_with_microsoft_signs_in_through_its_form_post(
    embedded_settings: Settings, sandbox: GoogleSandbox
) -> None:
    from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
    from tests.support.microsoft import browse, form_fields

    with MicrosoftSandbox([ENRON]) as outlook:
        settings = keyed(embedded_settings).model_copy(update={"signup_allowed": "enron.com"})
        runtime = replace(build_runtime(settings), clock=lambda: AS_OF)
        jobs = JobList()
        app = create_app(runtime, jobs=jobs, sandboxes={"microsoft": outlook.url})
        try:
            with TestClient(app, follow_redirects=False) as client:
                page = client.get("/signin")
                assert "Continue with Microsoft" in page.text
                consent = start_sign_in(client, "/auth/microsoft", csrf=csrf_of(page.text))
                # Microsoft answers with a page that POSTs the code to the redirect URI
                answer = form_fields(browse(consent).text)
                assert {"code", "state"} <= set(answer)
                posted = client.post("/auth/microsoft/callback", data=answer)
                assert posted.status_code == 303
                back = urlsplit(posted.headers["location"])
                done = client.get(f"{back.path}?{back.query}")
                assert (done.status_code, done.headers["location"]) == (303, "/queue")
                assert client.get("/queue").status_code == 200
            with runtime.session_factory() as session:
                [identity] = session.scalars(select(Identity)).all()
                [account] = session.scalars(select(Account)).all()
            assert (identity.provider, account.provider) == ("microsoft", "microsoft")
            assert account.email == SANDBOX_OWNER and len(jobs.jobs) == 1
        finally:
            runtime.close()
