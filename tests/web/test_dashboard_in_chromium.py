"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): sign in through
the Google sandbox, see the queue, snooze someone in place, open a contact and add a note,
change settings, connect a second account, export, delete; screenshots of the main pages at
desktop and phone width go to tests/web/screenshots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.demo import DEMO_CALENDAR, SAMPLE_MAILBOX
from keepwarm.services.models import Account, LifecycleEvent, Note, User
from keepwarm.services.runtime import Runtime, build_runtime
from keepwarm.services.web import create_app
from keepwarm.workers.actors import Queue
from keepwarm.workers.broker import Background, background
from tests.support.settings import keyed
from tests.support.smtp import free_port
from tests.support.web import AS_OF, import_sample, screenshot, serving

PAGES = ("queue", "contact", "dormant", "contacts", "intros", "accounts", "settings")


@pytest.fixture
def app_with_worker(
    embedded_settings: Settings,
) -> Iterator[tuple[Runtime, Background, int]]:
    port = free_port()
    settings = keyed(embedded_settings).model_copy(
        update={"public_url": f"http://127.0.0.1:{port}", "signup_allowed": "enron.com"}
    )
    runtime = replace(build_runtime(settings), clock=lambda: AS_OF)
    try:
        with background(runtime, queues=[Queue.SYNC, Queue.DERIVE]) as bg:
            yield runtime, bg, port
    finally:
        runtime.close()


def _no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_a_person_works_the_dashboard_in_a_browser(
    app_with_worker: tuple[Runtime, Background, int], browser: Any, tmp_path: Path
) -> None:
    runtime, bg, port = app_with_worker
    with (
        GoogleSandbox([SAMPLE_MAILBOX, DEMO_CALENDAR]) as mine,
        GoogleSandbox([DEMO_CALENDAR], user_email="dave@home.example") as other,
    ):
        sandboxes = {"google": mine.url}
        app = create_app(runtime, jobs=bg.sink, sandboxes=sandboxes, local_signin=False)
        with serving(app, port) as base:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # Sign in: the sandbox consents at once and sends the browser back
            page.goto(base + "/")
            assert page.url == base + "/signin"
            screenshot(page, "signin-desktop")
            page.get_by_role("button", name="Continue with Google").click()
            page.wait_for_url(base + "/queue")
            bg.wait()  # the first sync, enqueued by the sign-in, has run
            page.reload()

            # The queue, and a snooze answered in place (no reload)
            cards = page.locator("li.card")
            assert cards.count() == 25
            first = cards.first
            name = first.locator("a.name").inner_text()
            screenshot(page, "queue-desktop")
            first.get_by_role("button", name="1m").click()
            result = first.locator(".result")
            result.wait_for(state="visible")
            assert result.inner_text() == f"Snoozed {name} until 2001-03-30."
            assert page.url == base + "/queue"
            with runtime.session_factory() as session:
                assert [str(e.action) for e in session.scalars(select(LifecycleEvent))] == [
                    "snooze"
                ]
            page.reload()
            assert name not in page.locator("a.name").all_inner_texts()

            # A contact: chart, timeline, and a note added
            page.locator("li.card a.name").first.click()
            page.wait_for_url(f"{base}/contacts/*")
            assert page.locator("svg.chart rect").count() > 3
            page.get_by_label("Note").fill("Talked about the Q4 budget")
            page.get_by_role("button", name="Save note").click()
            page.wait_for_load_state()
            assert "Note saved" in page.inner_text(".notice")
            assert "Talked about the Q4 budget" in page.inner_text(".timeline")
            contact_url = page.url
            screenshot(page, "contact-desktop")

            # Settings
            page.goto(base + "/settings")
            page.get_by_label("Day").select_option("fri")
            page.get_by_label("Time zone").fill("Europe/Berlin")
            page.get_by_role("button", name="Save settings").click()
            page.wait_for_load_state()
            assert "Settings saved." in page.inner_text(".notice")
            screenshot(page, "settings-desktop")

            # A second account: the person picks another Google account at the consent screen
            # (the second sandbox plays it)
            sandboxes["google"] = other.url
            app.state.web.sandboxes["google"] = other.url
            page.goto(base + "/accounts")
            page.get_by_role("button", name="Connect Google").click()
            page.wait_for_url(f"{base}/accounts")
            bg.wait()
            page.reload()
            assert page.locator("section.account").count() == 2
            assert "dave@home.example" in page.inner_text("main")
            screenshot(page, "accounts-desktop")
            for name_ in ("dormant", "contacts", "intros"):
                page.goto(f"{base}/{name_}" + ("?target=enron.com" if name_ == "intros" else ""))
                screenshot(page, f"{name_}-desktop")

            # The same pages on a phone: nothing wider than the screen
            page.set_viewport_size({"width": 375, "height": 740})
            for name_ in PAGES:
                url = contact_url if name_ == "contact" else f"{base}/{name_}"
                page.goto(url + ("?target=enron.com" if name_ == "intros" else ""))
                _no_sideways_scroll(page, 375)
                screenshot(page, f"{name_}-phone")
            page.set_viewport_size({"width": 1280, "height": 900})

            # Export: a download of everything, as JSON
            page.goto(base + "/settings")
            with page.expect_download() as download:
                page.get_by_role("link", name="Export everything (JSON)").click()
            exported = tmp_path / "export.json"
            download.value.save_as(exported)
            data = json.loads(exported.read_text())
            assert len(data["tables"]["accounts"]) == 2
            assert [n["text"] for n in data["tables"]["notes"]] == ["Talked about the Q4 budget"]

            # Delete: asks to confirm, revokes both grants, purges everything
            page.get_by_role("link", name="Delete my account…").click()
            page.get_by_label("Type delete my account to confirm").fill("delete my account")
            page.get_by_role("button", name="Delete my account").click()
            page.wait_for_load_state()
            assert "Your account is deleted" in page.inner_text("h1")
            assert mine.requests().count("POST /revoke") == 1
            assert other.requests().count("POST /revoke") == 1
            with runtime.session_factory() as session:
                assert session.scalars(select(User)).all() == []
                assert session.scalars(select(Account)).all() == []
                assert session.scalars(select(Note)).all() == []


def test_an_embedded_install_opens_as_its_own_user_from_this_machine(
    embedded_settings: Settings, browser: Any
) -> None:
    # Given the CLI's one user with the sample imported (as `keepwarm demo` leaves it)
    port = free_port()
    settings = embedded_settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    runtime = replace(build_runtime(settings), clock=lambda: AS_OF)
    try:
        with unit_of_work(runtime.session_factory) as uow:
            user_id = ensure_user(uow.session).id
        import_sample(runtime, user_id)
        app = create_app(runtime)
        assert app.state.web.local_signin is True  # embedded: on by default
        with serving(app, port) as base:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/")
            page.get_by_role("button", name="Open as this machine's user").click()
            page.wait_for_url(base + "/queue")
            assert page.locator("li.card").count() == 25
    finally:
        runtime.close()
