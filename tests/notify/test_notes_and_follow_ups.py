"""Notes go on the contact's timeline; follow-ups come due in the digest, resolve by contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.demo import SAMPLE_MAILBOX
from keepwarm.services.models import Action
from keepwarm.services.notify.digest import DigestRules, compose_digest
from keepwarm.services.reconnect.lifecycle import person_for_address, record_action
from keepwarm.services.reconnect.notes import add_follow_up, add_note
from keepwarm.services.runtime import build_runtime
from tests.support.cli import run_cli, run_json

AS_OF = datetime(2001, 2, 28, 23, tzinfo=UTC)
# Someone last in touch on 15 Feb: nowhere near due by their own rhythm, and silent since.
RECENT = "rick.buy@enron.com"


def test_a_due_follow_up_leads_the_digest_until_the_two_speak_again(
    any_settings: Settings,
) -> None:
    run_cli(any_settings, "import", str(SAMPLE_MAILBOX))
    runtime = build_runtime(any_settings)
    try:
        factory, rules = runtime.session_factory, DigestRules(size=6)
        with factory() as session:
            user_id = ensure_user(session).id
            before = compose_digest(session, user_id, AS_OF, rules)
        assert RECENT not in [i.address for i in before.items]
        with unit_of_work(factory) as uow:
            person = person_for_address(uow.session, user_id, RECENT)
            set_at = AS_OF - timedelta(days=10)
            add_follow_up(
                uow.session, user_id, person, set_at, AS_OF - timedelta(days=1), "Q1 plan"
            )
            add_note(uow.session, user_id, person, "Asked about the Q1 plan", set_at)
        with factory() as session:
            during = compose_digest(session, user_id, AS_OF, rules)
            not_yet = compose_digest(session, user_id, AS_OF - timedelta(days=2), rules)
        first = during.items[0]
        assert (first.address, first.reason) == (RECENT, "follow_up")
        assert "you asked to follow up by 2001-02-27 (Q1 plan)" in first.why
        assert len(during.items) == 6
        assert RECENT not in [i.address for i in not_yet.items]  # not due yet then

        with unit_of_work(factory) as uow:
            record_action(uow.session, user_id, RECENT, Action.TALKED_ELSEWHERE, AS_OF)
        with factory() as session:
            after = compose_digest(session, user_id, AS_OF + timedelta(hours=1), rules)
        assert RECENT not in [i.address for i in after.items]
    finally:
        runtime.close()
    contact = run_json(any_settings, "contact", RECENT, "--as-of", "2001-02-28")
    assert contact["notes"] == [{"at": "2001-02-18T23:00:00Z", "text": "Asked about the Q1 plan"}]
    assert {
        "at": "2001-02-18T23:00:00Z",
        "kind": "note",
        "subject": "Asked about the Q1 plan",
        "group_size": None,
    } in contact["timeline"]
    assert contact["follow_ups"] == []  # resolved by talking


def test_note_and_follow_up_commands(any_settings: Settings) -> None:
    run_cli(any_settings, "import", str(SAMPLE_MAILBOX))
    run_cli(any_settings, "note", RECENT, "Met at the offsite; wants the TVA numbers")
    before = datetime.now(UTC)  # the command runs on the system clock: bracket it
    out = run_cli(any_settings, "follow-up", RECENT, "--in", "2w", "--reason", "TVA numbers")
    after = datetime.now(UTC)
    assert out.startswith("follow-up on ")
    contact = run_json(any_settings, "contact", RECENT)
    assert [n["text"] for n in contact["notes"]] == ["Met at the offsite; wants the TVA numbers"]
    [follow_up] = contact["follow_ups"]
    assert follow_up["reason"] == "TVA numbers"
    due = datetime.fromisoformat(follow_up["due_at"].replace("Z", "+00:00"))
    assert before + timedelta(days=14) <= due <= after + timedelta(days=14)
