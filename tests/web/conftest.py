"""The web app on a real database (SQLite, then PostgreSQL).

`site`: the link pages, two users with a contact each. `two`: the whole app with two people
signed in through provider sandboxes, A holding the Enron sample as their data.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.demo import DEMO_CALENDAR
from keepwarm.services.notify.links import LinkSigner
from keepwarm.services.runtime import build_runtime
from keepwarm.services.web import create_app
from tests.support.links import MAX_AGE, NOW, SECRET, Site, add_contact
from tests.support.paths import ENRON
from tests.support.settings import keyed
from tests.support.web import AS_OF, Browser, JobList, TwoUsers, import_sample, signed_in_user


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
        app = create_app(replace(runtime, clock=lambda: NOW), signer=signer)
        # No redirects followed: RFC 8058 senders do not follow them, so none may be needed.
        with TestClient(app, follow_redirects=False) as client:
            yield Site(client, runtime, signer, user_id, jane, other_user_id, bob)
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[tuple[GoogleSandbox, GoogleSandbox]]:
    with (
        GoogleSandbox([ENRON]) as a,
        GoogleSandbox([DEMO_CALENDAR], user_email="bob@other.example") as b,
    ):
        yield a, b


@pytest.fixture
def two(
    any_settings: Settings, sandboxes: tuple[GoogleSandbox, GoogleSandbox]
) -> Iterator[TwoUsers]:
    box_a, box_b = sandboxes
    settings = keyed(any_settings).model_copy(update={"signup_allowed": "enron.com other.example"})
    runtime = replace(build_runtime(settings), clock=lambda: AS_OF)
    jobs = JobList()
    try:
        app_a = create_app(runtime, jobs=jobs, sandboxes={"google": box_a.url})
        app_b = create_app(runtime, jobs=jobs, sandboxes={"google": box_b.url})
        with (
            TestClient(app_a, follow_redirects=False) as client_a,
            TestClient(app_b, follow_redirects=False) as client_b,
        ):
            a = signed_in_user(client_a, runtime)
            b = signed_in_user(client_b, runtime)
            import_sample(runtime, a)
            with unit_of_work(runtime.session_factory) as uow:
                add_contact(uow.session, b, "Bea Roe", "bea@other.example")
            yield TwoUsers(runtime, jobs, Browser(client_a, a), Browser(client_b, b), box_a, box_b)
    finally:
        runtime.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium; CI must have it (.ci/run installs it), elsewhere its tests skip."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        why = "Chromium is not installed (apt-get install chromium): browser tests skipped"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return path


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
