"""A link server on a real database (SQLite, then PostgreSQL): two users, a contact each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.notify.links import LinkSigner
from keepwarm.services.runtime import build_runtime
from keepwarm.services.web import create_app
from tests.support.links import MAX_AGE, NOW, SECRET, Site, add_contact


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
