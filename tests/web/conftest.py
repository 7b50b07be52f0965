"""A link server on a real database (SQLite, then PostgreSQL): two users, a contact each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.notify.links import LinkAction, LinkSigner, link_url
from keepwarm.services.runtime import Runtime, build_runtime
from keepwarm.services.web import create_app
from tests.web.helpers import Stored, add_contact, stored

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SECRET = "web-test-secret-0123456789"
MAX_AGE = timedelta(days=30)

__all__ = ["MAX_AGE", "NOW", "SECRET", "Site", "TestClient"]


@dataclass(frozen=True)
class Site:
    """The app under test and the ids of what it may touch."""

    client: TestClient
    runtime: Runtime
    signer: LinkSigner
    user_id: int
    jane: int  # the user's contact
    other_user_id: int
    bob: int  # the other user's contact

    def url(
        self,
        action: LinkAction,
        person_id: int | None = None,
        *,
        user_id: int | None = None,
        signer: LinkSigner | None = None,
    ) -> str:
        """The path a freshly signed link points at (the real link_url, with no host)."""
        token = (signer or self.signer).token(user_id or self.user_id, action, person_id)
        return link_url("", action, token)

    def stored(self) -> Stored:
        return stored(self.runtime.session_factory)


@pytest.fixture
def site(any_settings: Settings) -> Iterator[Site]:
    runtime = build_runtime(any_settings)
    try:
        with unit_of_work(runtime.session_factory) as uow:
            user_id = ensure_user(uow.session).id
            other_user_id = ensure_user(uow.session, "someone-else").id
            jane = add_contact(uow.session, user_id, "Jane Doe", "jane@example.com")
            bob = add_contact(uow.session, other_user_id, "Bob Roe", "bob@example.org")
        signer = LinkSigner(SECRET, MAX_AGE, clock=lambda: NOW)
        app = create_app(runtime.session_factory, signer, clock=lambda: NOW)
        # No redirects followed: RFC 8058 senders do not follow them, so none may be needed.
        with TestClient(app, follow_redirects=False) as client:
            yield Site(client, runtime, signer, user_id, jane, other_user_id, bob)
    finally:
        runtime.close()
