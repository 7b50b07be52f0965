"""A genuine link in an email sent before its user was deleted (or signed with the server's
secret for a user id that never existed) acts on nothing and says so: 404 "Nothing to do
here", never "Already done", and it spends nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.notify.links import LinkAction, LinkSigner, link_url
from keepwarm.services.runtime import build_runtime
from keepwarm.services.web import create_app
from tests.support.links import MAX_AGE, NOW, SECRET, Stored, add_contact, stored

GONE_USER = 424242


@pytest.fixture
def client(any_settings: Settings) -> Iterator[tuple[TestClient, LinkSigner, int, int, Stored]]:
    runtime = build_runtime(any_settings)
    try:
        with unit_of_work(runtime.session_factory) as uow:
            user_id = ensure_user(uow.session).id
            jane = add_contact(uow.session, user_id, "Jane Doe", "jane@example.com")
        signer = LinkSigner(SECRET, MAX_AGE, clock=lambda: NOW)
        app = create_app(replace(runtime, clock=lambda: NOW), signer=signer)
        with TestClient(app, follow_redirects=False) as test_client:
            before = stored(runtime.session_factory)
            yield test_client, signer, user_id, jane, before
            after = stored(runtime.session_factory)
            # Nothing spent or changed but the real user's own unsubscribe
            assert after.used_links - before.used_links == int(after.digests != before.digests)
            assert (after.lifecycle, after.notes) == (before.lifecycle, before.notes)
    finally:
        runtime.close()


@pytest.mark.parametrize(
    "action", [LinkAction.UNSUBSCRIBE_DIGEST, LinkAction.UNSUBSCRIBE_PROMPTS, LinkAction.DONE]
)
def test_a_link_for_a_user_that_does_not_exist_is_404_not_already_done(
    client: tuple[TestClient, LinkSigner, int, int, Stored], action: LinkAction
) -> None:
    test_client, signer, _, jane, _ = client
    person = None if action.value.startswith("unsubscribe") else jane
    url = link_url("", action, signer.token(GONE_USER, action, person))
    for response in (
        test_client.get(url),
        test_client.post(url, data={"List-Unsubscribe": "One-Click"}),
        test_client.post(url, data={"List-Unsubscribe": "One-Click"}),  # a provider's retry
    ):
        assert response.status_code == 404, response.text
        assert "Nothing to do here" in response.text
        assert "no longer exists" in response.text
        assert "Already done" not in response.text


def test_the_real_users_unsubscribe_still_works(
    client: tuple[TestClient, LinkSigner, int, int, Stored],
) -> None:
    test_client, signer, user_id, _, before = client
    url = link_url(
        "", LinkAction.UNSUBSCRIBE_DIGEST, signer.token(user_id, LinkAction.UNSUBSCRIBE_DIGEST)
    )
    assert test_client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert test_client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert before.digests == ((user_id, True, True),)
