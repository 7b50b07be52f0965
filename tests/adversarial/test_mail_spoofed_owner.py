"""Spoofed sent mail: anyone can write the owner's address into From.

Found on 2026-11-30: an incoming message (even in Spam) with `From:` the owner's address
counted as mail the owner sent, so a stranger could make themselves a relationship or reset a
real contact's silence clock; Gmail's history also stored Spam. Only mail the provider files
as sent (Gmail's SENT label, Outlook's Sent Items) is the owner's; the rest is left out and
the run's ledger says so. Each test syncs through the real CLI, workers and database against a
provider sandbox; files keep the header rule (an mbox says "sent" only by its folder).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from keepwarm.connectors.google.mail_source import SPAM, TRASH
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from keepwarm.connectors.types import Address, MailMessage
from keepwarm.services.accounts.sync import FROM_OWNER_NOT_SENT
from keepwarm.services.accounts.users import ensure_user, set_owner_addresses
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.mail.derivation import DerivationRules, derive_pending, reset_derivation
from keepwarm.services.mail.ingest import store_messages
from keepwarm.services.models import Message
from keepwarm.services.runtime import build_runtime
from tests.support.cli import run_cli, run_json
from tests.support.hostile_mail import OWNER, Mail, write_mbox
from tests.support.settings import production_settings

START = datetime(2024, 3, 1, 9, tzinfo=UTC)


def at(days: int) -> datetime:
    return START + timedelta(days=days)


def mailbox(path: Path) -> Path:
    """Ann wrote to Bob and Bob answered; then three messages claim to be from Ann but came in
    from outside: one to a stranger (a relationship out of nothing), one to Bob (his silence
    clock reset to June), one in Spam to another stranger."""
    return write_mbox(
        path,
        [
            Mail(1, OWNER, "Bob <bob@example.org>", at(0), at(0), labels="Sent"),
            Mail(2, "Bob <bob@example.org>", OWNER, at(1), at(1)),
            Mail(3, f"Ann <{OWNER}>", "Mallory <mallory@evil.example>", at(60), at(60)),
            Mail(4, OWNER, "bob@example.org", at(90), at(90)),
            Mail(5, OWNER, "eve@evil.example", at(100), at(100), labels="Spam"),
        ],
    )


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_url: tuple[str, str]) -> Settings:
    return production_settings(tmp_path / "home", pg_url, *redis_url)


def addresses(settings: Settings) -> set[str]:
    return {a for c in run_json(settings, "contacts") for a in c["addresses"]}


def assert_only_bob(settings: Settings) -> None:
    assert addresses(settings) == {"bob@example.org"}
    bob = run_json(settings, "contact", "bob@example.org")
    # Bob's clock stands at his own answer, not at the forged "from Ann" of June
    assert (bob["emails_sent"], bob["emails_received"]) == (1, 1)
    assert bob["last_interaction_at"].startswith(at(1).date().isoformat())


def test_google_incoming_mail_from_the_owner_is_not_sent_mail(
    settings: Settings, tmp_path: Path
) -> None:
    with GoogleSandbox([mailbox(tmp_path / "spoofed.mbox")], user_email=OWNER) as box:
        run_cli(settings, "connect", "google", "--sandbox", box.url, "--since", "2024-01-01")
        assert_only_bob(settings)
        [account] = run_json(settings, "accounts")
        run = account["last_run"]
        assert run["filtered"][FROM_OWNER_NOT_SENT] == 2
        # Left out is not skipped: nothing the user has was lost, so the run is ok
        assert run["status"] == "ok" and run["skipped"] == {}

        # Later mail comes through history: Spam, a rule's "delete it", another forged From
        later = [
            Mail(6, OWNER, "eve2@evil.example", at(120), at(120), labels="Spam"),
            Mail(7, "Carol <carol@evil.example>", OWNER, at(121), at(121), labels="Trash"),
            Mail(8, OWNER, "mallory2@evil.example", at(122), at(122)),
            Mail(9, OWNER, "Dan <dan@example.org>", at(123), at(123), labels="Sent"),
        ]
        box.add_messages([write_mbox(tmp_path / "later.mbox", later)])
        run_cli(settings, "sync", "--wait")
    assert addresses(settings) == {"bob@example.org", "dan@example.org"}
    run = run_json(settings, "accounts")[0]["last_run"]
    assert run["filtered"] == {SPAM: 1, TRASH: 1, FROM_OWNER_NOT_SENT: 1}
    assert run["status"] == "ok"


def test_microsoft_incoming_mail_from_the_owner_is_not_sent_mail(
    settings: Settings, tmp_path: Path
) -> None:
    with MicrosoftSandbox([mailbox(tmp_path / "spoofed.mbox")], user_email=OWNER) as box:
        run_cli(settings, "connect", "microsoft", "--sandbox", box.url, "--since", "2024-01-01")
        assert_only_bob(settings)
        run = run_json(settings, "accounts")[0]["last_run"]
        # Junk Email is never read; the two in the Inbox are left out, and said so
        assert run["filtered"][FROM_OWNER_NOT_SENT] == 2
        assert run["status"] == "ok"


def test_an_owner_address_learned_later_still_does_not_make_inbox_mail_sent(
    settings: Settings,
) -> None:
    """Derivation checks too: sync knows the account's address, but the owner's other
    addresses may be learned after a spoofed message was stored. Mail from files keeps the
    header rule (nothing but a folder name says an mbox holds sent mail)."""
    alias = "ann.lee@example.net"
    runtime = build_runtime(settings)
    factory = runtime.session_factory
    try:
        with unit_of_work(factory) as uow:
            user_id = ensure_user(uow.session).id
            set_owner_addresses(uow.session, user_id, [OWNER], "given")
            synced = MailMessage(
                source="gmail:1",
                message_id="<m1@evil.example>",
                sent_at=at(5),
                subject="hello",
                sender=Address(alias),
                to=(Address("mallory@evil.example"),),
                provider_id="1",
                labels=("INBOX",),
            )
            from_file = dataclasses.replace(
                synced, source="file", message_id="<m2@x>", provider_id=None, subject="file"
            )
            store_messages(uow.session, user_id, None, [synced, from_file])
        derive_pending(factory, user_id, DerivationRules())
        with unit_of_work(factory) as uow:
            set_owner_addresses(uow.session, user_id, [alias], "given")
            reset_derivation(uow.session, user_id)
        derive_pending(factory, user_id, DerivationRules())
        with factory() as session:
            reasons = dict(session.execute(select(Message.subject, Message.filter_reason)).all())
    finally:
        runtime.close()
    assert reasons == {"hello": "from_owner_not_sent", "file": None}


def test_takeout_spam_claiming_the_owner_or_a_contact_counts_for_nothing(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    """Files keep the header rule for sent mail, but Takeout's mbox holds Spam too (its
    X-Gmail-Labels says so): a forged From there is no relationship and moves no clock."""
    takeout = write_mbox(
        tmp_path / "All mail Including Spam and Trash.mbox",
        [
            Mail(1, OWNER, "bob@example.org", at(0), at(0), labels="Sent"),
            Mail(2, OWNER, "eve@evil.example", at(50), at(50), labels="Spam"),
            Mail(3, "Bob <bob@example.org>", OWNER, at(90), at(90), labels="Spam,Unread"),
        ],
    )
    run_cli(embedded_settings, "import", str(takeout), "--me", OWNER)
    assert addresses(embedded_settings) == {"bob@example.org"}
    bob = run_json(embedded_settings, "contact", "bob@example.org")
    assert (bob["emails_sent"], bob["emails_received"]) == (1, 0)
