"""Google through the real path: OAuth against the sandbox, sync with the workers, the queue.

The sandbox is a fake only at the network edge; every library (google-auth-oauthlib,
google-auth, googleapiclient) and all of keepwarm's code run for real. Each fault test runs on
SQLite with the in-process broker and on PostgreSQL with Redis (a real RedisBroker), and ends
compared with one fault-free run of the same mailbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.paths import MAILBOX
from tests.support.settings import keyed
from tests.support.sync import (
    GETS,
    QUERIES,
    CleanRun,
    assert_same_as_clean,
    connect,
    finish,
    spawn,
    store,
    wait_for,
)


@pytest.fixture
def sandbox() -> Iterator[GoogleSandbox]:
    with GoogleSandbox(list(MAILBOX)) as running:
        yield running


def test_sync_gives_the_same_queue_as_importing_the_same_mailbox(
    any_settings: Settings, sandbox: GoogleSandbox, tmp_path: Path
) -> None:
    synced = keyed(any_settings)
    connect(synced, sandbox)
    assert run_json(synced, "accounts")[0]["email"] == "david.delainey@enron.com"
    imported = Settings(home=tmp_path / "imported")
    run_cli(imported, "import", *map(str, MAILBOX))
    for query in QUERIES:
        assert run_json(synced, *query) == run_json(imported, *query), query
    # Only metadata was asked for, within the quota, and never a body
    assert sandbox.refused_counts() == {} or all(
        name.endswith("messages.get") for name in sandbox.refused_counts()
    )
    accounts = run_json(synced, "accounts")
    assert accounts[0]["phase"] == "incremental"
    assert accounts[0]["last_run"]["status"] == "ok"


def test_new_mail_arrives_by_history_and_nothing_doubles(
    any_settings: Settings, sandbox: GoogleSandbox, tmp_path: Path
) -> None:
    settings = keyed(any_settings)
    connect(settings, sandbox)
    before = run_json(settings, "accounts")[0]["messages"]
    extra = tmp_path / "new"
    (extra / "sent").mkdir(parents=True)
    (extra / "sent" / "1").write_text(
        "From: david.delainey@enron.com\nTo: Ann Lee <ann.lee@example.com>\n"
        "Subject: lunch\nDate: Mon, 7 Jan 2002 10:00:00 -0600\n\nbody\n"
    )
    sandbox.add_messages([extra])
    lists = sandbox.call_counts()["gmail.users.messages.list"]
    run_cli(settings, "sync", "--wait")
    run_cli(settings, "sync", "--wait")
    assert run_json(settings, "accounts")[0]["messages"] == before + 1
    assert run_json(settings, "contact", "ann.lee@example.com")["emails_sent"] == 1
    # It came through history, not a new listing of the mailbox
    assert sandbox.call_counts()["gmail.users.messages.list"] == lists
    with store(settings) as db:
        assert db.doubled() == []


def test_expired_cursors_resync_in_full_without_doubling(
    any_settings: Settings, sandbox: GoogleSandbox, clean_google_run: CleanRun
) -> None:
    settings = keyed(any_settings)
    connect(settings, sandbox)
    lists = sandbox.call_counts()["gmail.users.messages.list"]
    asked = len(sandbox.requests())
    sandbox.expire_history()
    sandbox.expire_sync_tokens()
    run_cli(settings, "sync", "--wait")
    assert run_json(settings, "accounts")[0]["last_run"]["status"] == "ok"
    # Gmail's 404 and Calendar's 410 each led to a full listing, never a skip: the mailbox was
    # listed again, and the calendar asked twice (refused with its token, then in full)
    assert sandbox.call_counts()["gmail.users.messages.list"] > lists
    since = sandbox.requests()[asked:]
    assert sum("/history" in r for r in since) == 1
    assert sum(r.endswith("/events") for r in since) == 2
    assert_same_as_clean(settings, clean_google_run)


def test_faults_in_the_workers_end_in_the_same_state_as_a_clean_run(
    any_settings: Settings, sandbox: GoogleSandbox, clean_google_run: CleanRun
) -> None:
    settings = keyed(any_settings)
    connect(settings, sandbox, "--no-sync")
    # Given faults that reach the sync actor (not the connect command), one of each handling:
    # a whole batch answered 503 (the run fails and is retried with backoff), two messages of
    # a batch refused with 429 (waited out inside the batch), and a 429 on the calendar once the
    # mail is in (the run is retried after Retry-After and resumes from the mail cursor).
    sandbox.fail_with_status(503, count=1, path_prefix="/batch")
    sandbox.fail_with_429(count=2, retry_after=1, path_prefix="/gmail/v1/users/me/messages/")
    sandbox.fail_with_429(count=1, retry_after=1, path_prefix="/calendar/")
    # When the workers sync
    run_cli(settings, "sync", "--wait")
    # Then every fault was met, each run's ledger says so, and the end state is the clean one
    assert sandbox.pending_faults() == []
    with store(settings) as db:
        assert db.run_statuses() == ["unavailable", "rate_limited", "ok"]
    assert_same_as_clean(settings, clean_google_run)
    # Refused requests are not served: no message was fetched twice
    assert sandbox.call_counts()[GETS] == clean_google_run.gets


def test_a_revoked_grant_stops_mid_sync_and_reconnecting_resumes_from_the_cursors(
    any_settings: Settings, sandbox: GoogleSandbox, clean_google_run: CleanRun
) -> None:
    settings = keyed(any_settings)
    connect(settings, sandbox, "--no-sync")
    # Slow every batch down so the revocation lands between two pages of the backfill
    sandbox.delay(0.5, count=20, path_prefix="/batch")
    with store(settings) as db:
        syncing = spawn(settings, "sync", "--wait")
        wait_for(db.messages, "the first page of the backfill")
        sandbox.revoke_grant()
        finish(syncing)
        stored = db.messages()
        [account] = run_json(settings, "accounts")
        assert 0 < stored < clean_google_run.messages, "the revocation should land mid-backfill"
        assert account["status"] == "reconnect_needed"
        assert account["last_run"]["status"] == "auth_expired"
        # Not retried: the account waits for the user, and no call reaches Google
        calls = sum(sandbox.call_counts().values())
        run_cli(settings, "sync", "--wait")
        assert sum(sandbox.call_counts().values()) == calls
        assert db.messages() == stored
    # When the user allows access again and reconnects
    sandbox.clear_faults()
    sandbox.restore_grant()
    connect(settings, sandbox)
    # Then sync went on from its cursors: no message was fetched twice, none is missing
    assert run_json(settings, "accounts")[0]["status"] == "active"
    assert_same_as_clean(settings, clean_google_run)
    assert sandbox.call_counts()[GETS] == clean_google_run.gets
