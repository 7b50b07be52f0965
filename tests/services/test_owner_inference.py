"""Who the owner is when an assistant sends most of the sent mail (delegated sending)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import Job, unit_of_work
from keepwarm.services.mail.derivation import DerivationRules, derive_pending
from keepwarm.services.mail.importing import ImportOptions, import_paths
from keepwarm.services.models import Interaction, PersonAddress
from keepwarm.services.runtime import build_runtime


class Jobs:
    def __init__(self) -> None:
        self.sent: list[Job] = []

    def send(self, job: Job) -> None:
        self.sent.append(job)


def _write(folder: Path, n: int, sender: str, to: str, subject: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{n}_").write_text(
        f"Message-ID: <{n}.{sender}@example.com>\n"
        f"Date: Mon, {1 + n % 27} Jan 2001 10:00:00 -0800\n"
        f"From: {sender}\nTo: {to}\nSubject: {subject} {n}\n\nbody\n"
    )


def test_the_owner_is_whom_the_mailbox_is_addressed_to_not_the_busiest_assistant(
    tmp_path: Path,
) -> None:
    # Given a mailbox whose sent folder is mostly an assistant writing on the boss's behalf,
    # while the rest of the mailbox is addressed to the boss
    box = tmp_path / "boss-b"
    for n in range(12):
        _write(box / "sent", n, "assistant@corp.com", f"guest{n % 4}@other.com", "Invitation")
    for n in range(12, 16):
        _write(box / "sent", n, "boss@corp.com", "partner@other.com", "Re: Deal")
    for n in range(16, 40):
        _write(box / "inbox", n, f"sender{n % 6}@other.com", "boss@corp.com", "Question")
    runtime = build_runtime(Settings(home=tmp_path / "home"))
    factory = runtime.session_factory
    with unit_of_work(factory) as uow:
        user_id = ensure_user(uow.session).id
    summary = import_paths(factory, user_id, [box], ImportOptions(), Jobs(), runtime.clock)
    # Then the boss is the owner, not the assistant who sent most of the sent mail
    assert summary.owner == ["boss@corp.com"]
    derive_pending(factory, user_id, DerivationRules())
    with factory() as s:
        sent_to = set(
            s.scalars(
                select(PersonAddress.address)
                .join(Interaction, Interaction.person_id == PersonAddress.person_id)
                .where(Interaction.kind == "sent")
            )
        )
        # and the assistant's mail on the boss's behalf is not the boss writing to the guests
        assert sent_to == {"partner@other.com"}
        assert s.scalar(select(func.count()).select_from(Interaction)) > 0
    runtime.close()
