"""A forged `Date` must not end a Gmail backfill: the real sync, PostgreSQL and Redis.

Found on 2026-11-30: one message whose `Date` was older than the window, on the first page,
ended the backfill phase (Gmail lists by receipt time, not by `Date`): 99 of 300 stored, the
run recorded "ok". The sandbox serves the `Received:` time as internalDate, as Gmail does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from keepwarm.connectors.google.mail_source import BEFORE_WINDOW
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.hostile_mail import OWNER, forged_date_mailbox
from tests.support.settings import production_settings

FIRST = datetime(2024, 3, 1, 9, tzinfo=UTC)


def test_a_forged_old_date_on_the_first_page_stores_every_message(
    tmp_path: Path, pg_url: str, redis_url: tuple[str, str]
) -> None:
    settings: Settings = production_settings(tmp_path / "home", pg_url, *redis_url)
    mbox = forged_date_mailbox(tmp_path / "forged.mbox", FIRST, count=300)
    with GoogleSandbox([mbox], user_email=OWNER) as box:
        run_cli(settings, "connect", "google", "--sandbox", box.url, "--since", "2024-01-01")
    [account] = run_json(settings, "accounts")
    # 300 received in the window and the forged one (received last): 301 of 301
    assert account["messages"] == 301
    run = account["last_run"]
    assert run["status"] == "ok" and run["skipped"] == {}
    # The one received before the window is accounted for, never silently dropped
    assert run["filtered"] == {BEFORE_WINDOW: 1}
    assert account["phase"] == "incremental"
