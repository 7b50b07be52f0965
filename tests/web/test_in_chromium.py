"""The digest and the link pages in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.demo import SAMPLE_MAILBOX
from keepwarm.services.models import LifecycleEvent
from keepwarm.services.notify.previews import digest_preview
from keepwarm.services.runtime import Runtime, build_runtime
from keepwarm.services.web import create_app
from tests.support.cli import run_cli
from tests.support.smtp import free_port
from tests.support.sync import wait_for

AS_OF = datetime(2001, 2, 28, 23, 59, tzinfo=UTC)


@pytest.fixture(scope="module")
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
def served(embedded_settings: Settings) -> Iterator[tuple[Runtime, str]]:
    """The link pages on a real HTTP port (uvicorn in a thread) over a demo-sample database."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = embedded_settings.model_copy(update={"public_url": base})
    run_cli(settings, "import", str(SAMPLE_MAILBOX))
    runtime = build_runtime(settings)
    app = create_app(runtime.session_factory, runtime.link_signer())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "the link server to listen", timeout=20)
        yield runtime, base
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        runtime.close()


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_the_digest_fits_a_phone_and_its_links_act_once_in_a_browser(
    served: tuple[Runtime, str], browser: Any, tmp_path: Path
) -> None:
    runtime, base = served
    digest = tmp_path / "digest.html"
    with runtime.session_factory() as session:
        user_id = ensure_user(session).id
    preview = digest_preview(runtime, user_id, AS_OF)
    assert preview.people == 6
    digest.write_text(preview.email.html, encoding="utf-8")

    phone = browser.new_page(viewport={"width": 375, "height": 740})
    phone.goto(digest.as_uri())
    # Nothing wider than a phone's screen (no sideways scrolling) and every button on screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    buttons = phone.locator("a[href^='http://127.0.0.1']")
    assert buttons.count() == 37  # six people x six actions, and unsubscribe
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box is not None and box["width"] > 0 and box["x"] + box["width"] <= 375
    phone.screenshot(path=str(tmp_path / "digest-phone.png"), full_page=True)

    # Follow the first person's "1m" (snooze a month): a confirmation page, then one change.
    phone.locator("a[title='Snooze 1 month']").first.click()
    phone.wait_for_load_state()
    assert phone.url.startswith(f"{base}/a/")
    assert "Nothing has changed yet" in phone.content()
    with runtime.session_factory() as session:
        assert session.scalars(select(LifecycleEvent)).all() == []
    phone.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert "Snoozed 1 month: Rodney Malcolm" in phone.inner_text("body")
    # Back to the link and press again: it has acted once and says so.
    phone.go_back()
    phone.reload()
    assert "Already done" in phone.inner_text("body")
    with runtime.session_factory() as session:
        events = session.scalars(select(LifecycleEvent)).all()
    assert [e.action for e in events] == ["snooze"]
