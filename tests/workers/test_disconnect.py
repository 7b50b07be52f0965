"""`keepwarm disconnect EMAIL [--purge]`: the grant is revoked at Google, sync stops, and a
purge takes away everything the account brought and nothing else. On SQLite and on
PostgreSQL with Redis, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from keepwarm.connectors.errors import AuthExpired
from keepwarm.connectors.google import GmailReader, GoogleClient, GoogleEndpoints
from keepwarm.connectors.google.auth import GrantedTokens
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from keepwarm.services.core.crypto import TokenCipher
from keepwarm.services.core.errors import NotFound
from keepwarm.services.models import Interaction, Message
from tests.support.cli import assert_one_line_error, run_cli, run_json, run_process
from tests.support.paths import ENRON, MAILBOX, SANDBOX_OWNER
from tests.support.settings import TEST_TOKEN_KEY, keyed
from tests.support.sync import GETS, QUERIES, CleanRun, connect, finish, spawn, store, wait_for

OWNER = "david.delainey@enron.com"
ALIAS = "known.at.home@example.net"  # a known contact's other address, only the account has


def _stored_tokens(settings: Settings) -> dict[str, object]:
    with store(settings) as db:
        account = db.account()
        assert account is not None
        return TokenCipher(TEST_TOKEN_KEY).open(account.token_ciphertext)


def _refused(sandbox: GoogleSandbox, tokens: dict[str, object]) -> bool:
    """Whether Google (the sandbox) refuses these tokens, refresh included."""
    client = GoogleClient(
        "keepwarm-local", "keepwarm-local-secret", GoogleEndpoints.for_base(sandbox.url)
    )
    reader = GmailReader(client.credentials(GrantedTokens.from_json(tokens)), api_base=sandbox.url)
    try:
        reader.profile()
    except AuthExpired:
        return True
    finally:
        reader.close()
    return False


def _calls(sandbox: GoogleSandbox) -> int:
    return sum(sandbox.call_counts().values())


def test_disconnect_revokes_the_grant_stops_sync_and_keeps_the_data(
    any_settings: Settings, clean_google_run: CleanRun
) -> None:
    settings = keyed(any_settings)
    with GoogleSandbox(list(MAILBOX)) as sandbox:
        connect(settings, sandbox)
        tokens = _stored_tokens(settings)
        assert not _refused(sandbox, tokens)  # they work before

        out = run_cli(settings, "disconnect", OWNER.upper())  # addresses are caseless
        assert "disconnected" in out
        assert "POST /revoke" in sandbox.requests()
        assert _refused(sandbox, tokens)  # Google no longer honours them
        [account] = run_json(settings, "accounts")
        assert account["status"] == "disconnected"
        with store(settings) as db:
            stored = db.account()
            assert stored is not None and stored.token_ciphertext == ""  # wiped
        # No sync reaches Google for it any more, however asked
        calls = _calls(sandbox)
        run_cli(settings, "sync", "--wait")
        assert _calls(sandbox) == calls
        # Its data stays until purged
        for query in QUERIES:
            assert run_json(settings, *query) == clean_google_run.answers[query], query

        # Connecting again resumes from the cursors kept: nothing is fetched a second time
        gets = sandbox.call_counts()[GETS]
        connect(settings, sandbox)
        assert run_json(settings, "accounts")[0]["status"] == "active"
        assert sandbox.call_counts()[GETS] == gets


def _extra_mailbox(root: Path, known_contact: str) -> Path:
    """The owner's second mailbox: two people nobody else knows, and one already known (at
    the address known, and at another)."""
    messages = {
        "sent/1": (OWNER, "Ann Lee <ann.lee@example.com>", "lunch", "Mon, 1 Oct 2001 10:00:00"),
        "sent/2": (
            OWNER,
            "Ann Lee <ann.lee@example.com>",
            "lunch again",
            "Thu, 15 Nov 2001 10:00:00",
        ),
        "sent/3": (OWNER, known_contact, "catching up", "Mon, 3 Dec 2001 09:00:00"),
        "sent/4": (OWNER, f"<{ALIAS}>", "from home", "Wed, 5 Dec 2001 09:00:00"),
        "inbox/1": ("Bo Park <bo.park@example.org>", OWNER, "hello", "Tue, 4 Dec 2001 11:00:00"),
    }
    for name, (sender, to, subject, date) in messages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date} -0600\n"
            f"Message-ID: <{name.replace('/', '-')}@second.example>\n\nbody\n"
        )
    return root


def _dangling_interactions(settings: Settings) -> int:
    """Interactions derived from a message that no longer exists."""
    with store(settings) as db, db.engine.connect() as c:
        ids = {f"m:{i}" for i in c.scalars(select(Message.id))}
        keys = c.scalars(select(Interaction.source_key).where(Interaction.source_key.like("m:%")))
        return sum(1 for key in keys if key not in ids)


def test_purge_takes_away_what_only_that_account_brought(
    any_settings: Settings, tmp_path: Path
) -> None:
    settings = keyed(any_settings)
    # Given the owner's mailbox imported from files
    run_cli(settings, "import", str(ENRON))
    before = {query: run_json(settings, *query) for query in QUERIES}
    with store(settings) as db:
        imported = db.messages()
    known = before[("contacts",)][0]
    # and a second mailbox connected, with new people and more mail to one already known
    extra = _extra_mailbox(tmp_path / "second", known["addresses"][0])
    with GoogleSandbox([extra], user_email=OWNER) as sandbox:
        connect(settings, sandbox)
        assert run_json(settings, "contact", "ann.lee@example.com")["emails_sent"] == 2
        run_cli(settings, "merge", known["addresses"][0], ALIAS)  # the user says: one person
        assert run_json(settings, "contact", ALIAS)["emails_sent"] == known["emails_sent"] + 2
        # When it is disconnected with --purge
        out = run_cli(settings, "disconnect", OWNER, "--purge")
        assert "5 messages" in out, out
        assert "POST /revoke" in sandbox.requests()
    # Then contacts and the queue are as before it was connected, and only its rows went
    for query in QUERIES:
        assert run_json(settings, *query) == before[query], query
    assert run_json(settings, "accounts") == []
    for gone in ("ann.lee@example.com", "bo.park@example.org", ALIAS):
        with pytest.raises(NotFound):
            run_cli(settings, "contact", gone)
    with store(settings) as db:
        assert db.messages() == imported
    assert _dangling_interactions(settings) == 0


@pytest.mark.parametrize("purge", [False, True], ids=["disconnect", "purge"])
def test_disconnecting_while_a_sync_runs_stops_it_cleanly(
    any_settings: Settings, purge: bool
) -> None:
    settings = keyed(any_settings)
    with GoogleSandbox(list(MAILBOX)) as sandbox, store(settings) as db:
        connect(settings, sandbox, "--no-sync")
        sandbox.delay(0.3, count=20, path_prefix="/batch")
        syncing = spawn(settings, "sync", "--wait")
        try:
            wait_for(db.messages, "the sync to store a page")
            run_cli(settings, "disconnect", OWNER, *(["--purge"] if purge else []))
        finally:
            out = finish(syncing)
        assert "Traceback" not in out, out  # it stopped, it did not crash
        if purge:
            # Nothing was written for the deleted account after it went
            assert db.messages() == 0
            assert run_json(settings, "accounts") == []
        else:
            # The user's decision stands: not "reconnect needed", tokens not written back
            [account] = run_json(settings, "accounts")
            assert account["status"] == "disconnected"
            assert account["last_run"]["status"] in {"stopped", "auth_expired"}
            stored = db.account()
            assert stored is not None and stored.token_ciphertext == ""
        calls = _calls(sandbox)
        run_cli(settings, "sync", "--wait")
        assert _calls(sandbox) == calls


def test_an_unknown_account_is_a_one_line_error(embedded_settings: Settings) -> None:
    settings = keyed(embedded_settings)
    proc = run_process(settings, "disconnect", "nobody@example.com")
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "nobody@example.com")
    proc = run_process(settings, "disconnect", "not-an-address", "--purge")
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "not-an-address")


def test_purging_an_account_keeps_what_an_import_also_brought(any_settings: Settings) -> None:
    # Given a mailbox connected first, and the same mailbox then imported from files (each
    # message stored once; the account brought it first)
    settings = keyed(any_settings)
    reference = keyed(Settings(home=any_settings.home.parent / "files-only"))
    run_cli(reference, "import", str(ENRON))
    before = {query: run_json(reference, *query) for query in QUERIES}
    with store(reference) as db:
        in_files = db.messages()
    with GoogleSandbox([ENRON]) as sandbox:
        connect(settings, sandbox)
        run_cli(settings, "import", str(ENRON))
        with store(settings) as db:
            # The same mail stored once (the files also hold the two 1979-dated messages the
            # sync left out as received before its window)
            assert db.messages() == in_files
        # When the account is purged
        out = run_cli(settings, "disconnect", SANDBOX_OWNER, "--purge")
    # Then nothing the import also brought went with it: as if only the files were imported
    assert "0 messages" in out, out
    for query in QUERIES:
        assert run_json(settings, *query) == before[query], query
    with store(settings) as db:
        assert db.messages() == in_files
    assert _dangling_interactions(settings) == 0
