"""Microsoft through the real path: msal consent against the sandbox, sync with the workers
through Graph delta, the queue. msal, httpx and all of keepwarm's code run for real; the
sandbox is the fake at the network edge. Each test runs on SQLite with the in-process broker
and on PostgreSQL with Redis, and fault runs end compared with one fault-free run."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from keepwarm.connectors.microsoft.mail import PAGE_SIZE
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.connectors.sandbox.microsoft import Limits, MicrosoftSandbox
from keepwarm.services.core.config import Settings
from keepwarm.services.notify.send import stale_reasons
from tests.support.cli import run_cli, run_json
from tests.support.microsoft import consent_as, graph
from tests.support.microsoft_sync import (
    APP_ID,
    CleanMicrosoftRun,
    clean_microsoft_run,
    connect_microsoft,
)
from tests.support.paths import ENRON, MAILBOX
from tests.support.settings import keyed, production_settings
from tests.support.sync import (
    QUERIES,
    QUICK_RECOVERY,
    assert_same_as_clean,
    finish_with_new_worker,
    kill_worker_mid_sync,
    store,
)

OWNER = "david.delainey@enron.com"
_BODIES = {"body", "bodyPreview", "uniqueBody"}


@pytest.fixture(scope="module")
def clean_microsoft(tmp_path_factory: pytest.TempPathFactory) -> CleanMicrosoftRun:
    """One fault-free sync of MAILBOX through Graph, for every fault test to equal."""
    return clean_microsoft_run(tmp_path_factory.mktemp("clean-microsoft"))


@pytest.fixture
def sandbox() -> Iterator[MicrosoftSandbox]:
    with MicrosoftSandbox(list(MAILBOX)) as running:  # Outlook's real limits
        yield running


def test_sync_gives_the_same_queue_as_importing_the_same_mailbox(
    any_settings: Settings, sandbox: MicrosoftSandbox, tmp_path: Path
) -> None:
    synced = keyed(any_settings)
    connect_microsoft(synced, sandbox)
    [account] = run_json(synced, "accounts")
    assert account["provider"] == "microsoft" and account["email"] == OWNER
    assert account["phase"] == "incremental" and account["last_run"]["status"] == "ok"
    # The same mail imported from files: all but Deleted Items, which Outlook sync never reads
    same_mail = tmp_path / "same-mail" / ENRON.name
    shutil.copytree(ENRON, same_mail, ignore=shutil.ignore_patterns("deleted_items"))
    imported = Settings(home=tmp_path / "imported")
    run_cli(imported, "import", str(same_mail), *map(str, MAILBOX[1:]))
    for query in QUERIES:
        assert run_json(synced, *query) == run_json(imported, *query), query
    # Metadata only, within Outlook's limits: no body was ever asked for, nothing refused
    assert sandbox.selected_fields and not sandbox.selected_fields & _BODIES
    assert sandbox.refused() == {}
    # Deleted Items and Junk Email are never read
    asked = "\n".join(sandbox.requests())
    for name in ("deleteditems", "junkemail"):
        assert f"/mailFolders/{sandbox.folder_id(name)}/messages" not in asked


def test_a_google_and_a_microsoft_half_give_the_queue_of_the_whole_mailbox(
    any_settings: Settings, tmp_path: Path
) -> None:
    # Given one mailbox split in two: the sent folders and the Inbox at Microsoft, the rest
    # (Trash included, which Google reads) at Google, both the same person's
    microsoft_half = [ENRON / name for name in ("sent", "_sent_mail", "inbox", "notes_inbox")]
    google_half = [
        ENRON / name
        for name in ("sent_items", "all_documents", "discussion_threads", "deleted_items")
    ]
    settings = keyed(any_settings)
    with (
        MicrosoftSandbox(microsoft_half, user_email=OWNER) as microsoft,
        GoogleSandbox(google_half, user_email=OWNER) as google,
    ):
        connect_microsoft(settings, microsoft)
        run_cli(settings, "connect", "google", "--sandbox", google.url, "--since", "1999-01-01")
    accounts = run_json(settings, "accounts")
    assert sorted(a["provider"] for a in accounts) == ["google", "microsoft"]
    whole = Settings(home=tmp_path / "whole")
    run_cli(whole, "import", str(ENRON))
    for query in QUERIES:
        assert run_json(settings, *query) == run_json(whole, *query), query


def test_new_mail_and_a_move_arrive_by_delta_and_nothing_doubles(
    any_settings: Settings, sandbox: MicrosoftSandbox, tmp_path: Path
) -> None:
    settings = keyed(any_settings)
    connect_microsoft(settings, sandbox)
    before = run_json(settings, "accounts")[0]["messages"]
    extra = tmp_path / "new" / "sent_items"
    extra.mkdir(parents=True)
    (extra / "1").write_text(
        "From: david.delainey@enron.com\nTo: Ann Lee <ann.lee@example.com>\n"
        "Subject: lunch\nDate: Mon, 7 Jan 2002 10:00:00 -0600\n"
        "Message-ID: <lunch-1@enron.com>\n\nbody\n"
    )
    sandbox.add_messages([extra])
    sandbox.move_message(sandbox.message_ids("inbox")[0], "archive")
    initial = sum(1 for r in sandbox.requests() if "/messages/delta?" in r and "token" not in r)
    run_cli(settings, "sync", "--wait")
    run_cli(settings, "sync", "--wait")
    assert run_json(settings, "accounts")[0]["messages"] == before + 1
    assert run_json(settings, "contact", "ann.lee@example.com")["emails_sent"] == 1
    # They came through the folders' delta links, not a new full read
    again = sum(1 for r in sandbox.requests() if "/messages/delta?" in r and "token" not in r)
    assert again == initial
    with store(settings) as db:
        assert db.doubled() == []


def test_an_expired_delta_token_reads_that_folder_again_alone(
    any_settings: Settings, sandbox: MicrosoftSandbox, clean_microsoft: CleanMicrosoftRun
) -> None:
    settings = keyed(any_settings)
    connect_microsoft(settings, sandbox)
    asked = len(sandbox.requests())
    inbox = sandbox.folder_id("inbox")
    sandbox.expire_delta_tokens("inbox")
    sandbox.expire_delta_tokens("calendar")
    run_cli(settings, "sync", "--wait")
    [account] = run_json(settings, "accounts")
    assert account["last_run"]["status"] == "ok"
    since = sandbox.requests()[asked:]
    fresh = [r for r in since if "/messages/delta?" in r and "token" not in r]
    assert len(fresh) == 1 and inbox in fresh[0]  # only the Inbox was read from the start
    assert sum("calendarView/delta?startDateTime" in r for r in since) == 1
    assert_same_as_clean(settings, clean_microsoft)


def test_faults_end_in_the_same_state_as_a_clean_run(
    any_settings: Settings,
    sandbox: MicrosoftSandbox,
    clean_microsoft: CleanMicrosoftRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEEPWARM_MICROSOFT_TIMEOUT_SECONDS", "1")
    settings = keyed(any_settings)
    connect_microsoft(settings, sandbox, "--no-sync")
    # Given faults that reach the sync actor, one of each handling: 429s with a fractional
    # Retry-After (waited out inside the connector), a 503 without Retry-After and a stalled
    # answer (each fails the run, which the worker retries with backoff, resuming from the
    # stored cursors), and a 500 on the calendar once the mail is in
    prefix = "/v1.0/me/mailFolders/"
    sandbox.fail_with_429(2, retry_after=0.25, path_prefix=prefix)
    sandbox.fail_with_status(502, path_prefix="/v1.0/me/mailfolders(")
    sandbox.delay(3.0, path_prefix="/v1.0/me/mailfolders(")
    sandbox.fail_with_status(500, path_prefix="/v1.0/me/calendarView")
    run_cli(settings, "sync", "--wait")
    assert sandbox.pending_faults() == []
    with store(settings) as db:
        assert db.run_statuses() == ["unavailable", "unavailable", "unavailable", "ok"]
    assert_same_as_clean(settings, clean_microsoft)
    # Nothing was fetched twice beyond the page a fault interrupted (a retried run asks each
    # caught-up folder's delta link again, which brings only what changed: nothing)
    assert sandbox.served_twice() <= PAGE_SIZE


def test_a_concurrency_storm_is_waited_out(
    any_settings: Settings, clean_microsoft: CleanMicrosoftRun
) -> None:
    settings = keyed(any_settings)
    with MicrosoftSandbox(list(MAILBOX), limits=Limits(concurrent=4)) as sandbox:
        connect_microsoft(settings, sandbox, "--no-sync")
        # Given four slow requests of the same app to the same mailbox (another instance, a
        # web page) holding every one of its four places while the sync starts
        token = consent_as(sandbox, APP_ID)
        sandbox.delay(2.0, count=4, path_prefix="/v1.0/me/mailFolders/inbox")
        stormers = [threading.Thread(target=_slow_get, args=(sandbox, token)) for _ in range(4)]
        for thread in stormers:
            thread.start()
        while sandbox.pending_faults():  # until all four hold their place
            pass
        run_cli(settings, "sync", "--wait")
        for thread in stormers:
            thread.join()
        assert sandbox.refused().get("concurrency", 0) >= 1  # the sync met the storm
        assert sandbox.peak_in_flight == 4
    with store(settings) as db:
        assert db.run_statuses() == ["ok"]  # waited out, not failed
    assert_same_as_clean(settings, clean_microsoft)


def _slow_get(sandbox: MicrosoftSandbox, token: str) -> None:
    with graph(sandbox, token) as client:
        client.get("/me/mailFolders/inbox")


def test_revoked_consent_stops_the_sync_and_reconnecting_resumes(
    any_settings: Settings, sandbox: MicrosoftSandbox, clean_microsoft: CleanMicrosoftRun
) -> None:
    settings = keyed(any_settings)
    connect_microsoft(settings, sandbox, "--no-sync")
    sandbox.invalid_grant(65001)
    run_cli(settings, "sync", "--wait")
    [account] = run_json(settings, "accounts")
    assert account["status"] == "reconnect_needed"
    assert "AADSTS65001" in account["status_reason"]
    assert account["last_run"]["status"] == "auth_expired"
    served = dict(sandbox.served())
    run_cli(settings, "sync", "--wait")  # not retried: nothing reaches Graph
    assert sandbox.served() == served
    # The next digest tells the user instead of being made from stale data
    with store(settings) as db, Session(db.engine) as session:
        account = db.account()
        assert account is not None
        reasons = stale_reasons(session, account.user_id, datetime.now(UTC), timedelta(hours=48))
    assert reasons == [
        f"{OWNER} needs reconnecting ({account.status_reason}): run `keepwarm connect microsoft`"
    ]
    sandbox.restore_consent()
    connect_microsoft(settings, sandbox)
    assert run_json(settings, "accounts")[0]["status"] == "active"
    assert_same_as_clean(settings, clean_microsoft)


def test_disconnect_and_purge(any_settings: Settings, sandbox: MicrosoftSandbox) -> None:
    settings = keyed(any_settings)
    connect_microsoft(settings, sandbox)
    assert run_json(settings, "contacts")
    run_cli(settings, "disconnect", OWNER, "--purge")
    assert (
        run_json(settings, "accounts") == []
        or run_json(settings, "accounts")[0]["status"] == "disconnected"
    )
    assert run_json(settings, "contacts") == []


def test_a_worker_killed_mid_sync_is_replaced_and_the_end_state_equals_a_clean_run(
    pg_url: str,
    redis_url: tuple[str, str],
    tmp_path: Path,
    sandbox: MicrosoftSandbox,
    clean_microsoft: CleanMicrosoftRun,
) -> None:
    settings = production_settings(tmp_path / "home", pg_url, *redis_url)
    with store(settings) as db:
        connect_microsoft(settings, sandbox, "--no-sync")
        # Every folder's first page takes a second, so the backfill's pages land one by one
        sandbox.delay(1.0, count=20, path_prefix="/v1.0/me/mailFolders/")
        kill_worker_mid_sync(settings, db, tmp_path / "first.log", **QUICK_RECOVERY)
        at_kill = db.messages()
        assert 0 < at_kill < clean_microsoft.messages  # killed between two pages
        assert db.run_statuses() == ["running"]
        finish_with_new_worker(settings, db, tmp_path / "second.log", **QUICK_RECOVERY)
        assert "took over account:" in (tmp_path / "second.log").read_text()
        assert db.run_statuses() == ["running", "ok"]
        # The second worker went on from the stored cursors: only the page the kill
        # interrupted can have been fetched twice
        assert sandbox.served_twice() <= PAGE_SIZE
    assert_same_as_clean(settings, clean_microsoft)
