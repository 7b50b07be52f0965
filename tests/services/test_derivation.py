"""Derivation as a service: idempotent, resumable, and redone when the owner changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from keepwarm.services.accounts.users import ensure_user, set_owner_addresses
from keepwarm.services.core.clock import system_clock
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import Job, unit_of_work
from keepwarm.services.mail.derivation import DerivationRules, derive_pending, reset_derivation
from keepwarm.services.mail.importing import ImportOptions, import_paths
from keepwarm.services.models import Interaction, Message, Person
from keepwarm.services.runtime import build_runtime
from tests.support.paths import TEST_DATA

ENRON = TEST_DATA / "enron" / "delainey-d"


class Jobs:
    def __init__(self) -> None:
        self.sent: list[Job] = []

    def send(self, job: Job) -> None:
        self.sent.append(job)


def snapshot(factory) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with factory() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Interaction)) or 0),
            int(s.scalar(select(func.count()).select_from(Person)) or 0),
            int(s.scalar(select(func.count()).where(Message.derived.is_(False))) or 0),
        )


def test_import_enqueues_derivation_after_commit_and_deriving_twice_changes_nothing(
    tmp_path: Path,
) -> None:
    runtime = build_runtime(Settings(home=tmp_path))
    factory = runtime.session_factory
    with unit_of_work(factory) as uow:
        user_id = ensure_user(uow.session).id
    jobs = Jobs()
    summary = import_paths(factory, user_id, [ENRON], ImportOptions(), jobs, system_clock)
    # Then exactly one derivation job, for this user, was sent once the import committed
    assert jobs.sent == [Job("interactions.derive_pending", {"user_id": user_id})]
    assert summary.owner == ["david.delainey@enron.com", "w..delainey@enron.com"]
    assert snapshot(factory)[2] == summary.messages_imported  # nothing derived yet
    rules = DerivationRules()
    first = derive_pending(factory, user_id, rules)
    after_first = snapshot(factory)
    assert first == summary.messages_imported
    assert after_first[0] > 0 and after_first[2] == 0
    assert derive_pending(factory, user_id, rules) == 0
    assert snapshot(factory) == after_first
    runtime.close()


def test_a_new_owner_address_rederives_everything(tmp_path: Path) -> None:
    runtime = build_runtime(Settings(home=tmp_path))
    factory = runtime.session_factory
    with unit_of_work(factory) as uow:
        user_id = ensure_user(uow.session).id
    import_paths(factory, user_id, [ENRON], ImportOptions(), Jobs(), system_clock)
    derive_pending(factory, user_id, DerivationRules())
    before = snapshot(factory)
    with unit_of_work(factory) as uow:
        # Given the assistant's address is declared the owner's too
        assert set_owner_addresses(uow.session, user_id, ["kay.chapman@enron.com"], "given")
        reset_derivation(uow.session, user_id)
    derive_pending(factory, user_id, DerivationRules())
    after = snapshot(factory)
    assert after[2] == 0
    assert after[0] != before[0]  # her mail is now the owner's: different interactions
    with factory() as s:
        kay = s.scalar(
            select(func.count())
            .select_from(Interaction)
            .join(Person, Person.id == Interaction.person_id)
            .where(Person.display_name == "Kay Chapman")
        )
    assert kay == 0  # the owner is never their own contact
    runtime.close()
