"""Google through the real path: OAuth against the sandbox, sync with the workers, the queue.

The sandbox is a fake only at the network edge; every library (google-auth-oauthlib,
google-auth, googleapiclient) and all of keepwarm's code run for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.sandbox.google import GoogleSandbox
from services.config import Settings
from tests.conftest import TEST_DATA, TEST_TOKEN_KEY
from tests.workers.cli_helpers import run_cli, run_json

ENRON = TEST_DATA / "enron" / "delainey-d"
QUERIES = (("suggestions", "--as-of", "2001-12-31", "--limit", "100"), ("contacts",))


@pytest.fixture
def sandbox() -> Iterator[GoogleSandbox]:
    with GoogleSandbox([ENRON]) as running:
        yield running


def keyed(settings: Settings) -> Settings:
    return settings.model_copy(update={"token_key": Settings(token_key=TEST_TOKEN_KEY).token_key})


def connect(settings: Settings, sandbox: GoogleSandbox) -> str:
    return run_cli(settings, "connect", "google", "--sandbox", sandbox.url, "--since", "1999-01-01")


def test_sync_gives_the_same_queue_as_importing_the_same_mailbox(
    any_settings: Settings, sandbox: GoogleSandbox, tmp_path: Path
) -> None:
    synced = keyed(any_settings)
    connect(synced, sandbox)
    assert run_json(synced, "accounts")[0]["email"] == "david.delainey@enron.com"
    imported = Settings(home=tmp_path / "imported")
    run_cli(imported, "import", str(ENRON))
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
    embedded_settings: Settings, sandbox: GoogleSandbox, tmp_path: Path
) -> None:
    settings = keyed(embedded_settings)
    connect(settings, sandbox)
    before = run_json(settings, "accounts")[0]["messages"]
    extra = tmp_path / "new"
    (extra / "sent").mkdir(parents=True)
    (extra / "sent" / "1").write_text(
        "From: david.delainey@enron.com\nTo: Ann Lee <ann.lee@example.com>\n"
        "Subject: lunch\nDate: Mon, 7 Jan 2002 10:00:00 -0600\n\nbody\n"
    )
    sandbox.add_messages([extra])
    run_cli(settings, "sync", "--wait")
    run_cli(settings, "sync", "--wait")
    assert run_json(settings, "accounts")[0]["messages"] == before + 1
    assert run_json(settings, "contact", "ann.lee@example.com")["emails_sent"] == 1


def test_expired_history_resyncs_in_full_without_doubling(
    embedded_settings: Settings, sandbox: GoogleSandbox
) -> None:
    settings = keyed(embedded_settings)
    connect(settings, sandbox)
    contacts = run_json(settings, "contacts")
    sandbox.expire_history()
    run_cli(settings, "sync", "--wait")
    assert run_json(settings, "accounts")[0]["last_run"]["status"] == "ok"
    assert run_json(settings, "contacts") == contacts


def test_faults_end_in_the_same_state_as_a_clean_run(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    clean, faulty = keyed(embedded_settings), keyed(Settings(home=tmp_path / "faulty"))
    with GoogleSandbox([ENRON]) as box:
        connect(clean, box)
    with GoogleSandbox([ENRON]) as box:
        box.fail_with_429(count=3, retry_after=1)
        box.fail_with_status(503, count=2)
        run_cli(
            faulty, "connect", "google", "--sandbox", box.url, "--since", "1999-01-01", "--no-sync"
        )
        run_cli(faulty, "sync", "--wait")
    for query in QUERIES:
        assert run_json(faulty, *query) == run_json(clean, *query), query


def test_a_revoked_grant_asks_to_reconnect_and_is_not_retried(
    embedded_settings: Settings, sandbox: GoogleSandbox
) -> None:
    settings = keyed(embedded_settings)
    connect(settings, sandbox)
    sandbox.revoke_grant()
    run_cli(settings, "sync", "--wait")
    [account] = run_json(settings, "accounts")
    assert account["status"] == "reconnect_needed"
    assert "AuthExpired" in (account["last_run"]["status"] or "")
    calls = sum(sandbox.call_counts().values())
    run_cli(settings, "sync", "--wait")  # not retried: the account waits for the user
    assert sum(sandbox.call_counts().values()) == calls
    sandbox.restore_grant()
    connect(settings, sandbox)  # reconnecting resumes where it stopped
    assert run_json(settings, "accounts")[0]["status"] == "active"
