"""Building the little world the link pages act on: users, contacts, and what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.models import (
    FollowUp,
    Interaction,
    LifecycleEvent,
    Note,
    Person,
    PersonAddress,
    UsedLink,
    User,
)
from keepwarm.services.notify.links import LinkAction, LinkSigner, link_url
from keepwarm.services.runtime import Runtime


def add_contact(session: Session, user_id: int, name: str, address: str) -> int:
    """A person the user has written to once, as an import would leave them; their id."""
    person = Person(user_id=user_id, display_name=name)
    session.add(person)
    session.flush()
    session.add(PersonAddress(user_id=user_id, address=address, person_id=person.id))
    session.add(
        Interaction(
            user_id=user_id,
            person_id=person.id,
            kind="sent",
            at=datetime(2026, 5, 4, 10, tzinfo=UTC),
            source_key=f"m:{address}",
            subject="Q3 plan",
            group_size=1,
        )
    )
    session.flush()
    return person.id


@dataclass(frozen=True)
class Stored:
    """Everything a link could change, for comparing before and after."""

    lifecycle: tuple[tuple[int, int, str], ...]
    notes: tuple[tuple[int, str], ...]
    follow_ups: int
    interactions: int
    used_links: int
    digests: tuple[tuple[int, bool, bool], ...]


def stored(session_factory: sessionmaker[Session]) -> Stored:
    with session_factory() as session:
        return Stored(
            lifecycle=tuple(
                (e.user_id, e.person_id, e.action)
                for e in session.scalars(select(LifecycleEvent).order_by(LifecycleEvent.id))
            ),
            notes=tuple((n.person_id, n.text) for n in session.scalars(select(Note))),
            follow_ups=session.scalar(select(func.count()).select_from(FollowUp)) or 0,
            interactions=session.scalar(select(func.count()).select_from(Interaction)) or 0,
            used_links=session.scalar(select(func.count()).select_from(UsedLink)) or 0,
            digests=tuple(
                (u.id, u.digests_enabled, u.prompts_enabled)
                for u in session.scalars(select(User).order_by(User.id))
            ),
        )


# The link server under test: its clock, its secret and its links' lifetime.
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SECRET = "web-test-secret-0123456789"
MAX_AGE = timedelta(days=30)


@dataclass(frozen=True)
class Site:
    """The app under test and the ids of what it may touch."""

    client: TestClient
    runtime: Runtime
    signer: LinkSigner
    user_id: int
    jane: int  # the user's contact
    other_user_id: int
    bob: int  # the other user's contact

    def url(
        self,
        action: LinkAction,
        person_id: int | None = None,
        *,
        user_id: int | None = None,
        signer: LinkSigner | None = None,
    ) -> str:
        """The path a freshly signed link points at (the real link_url, with no host)."""
        token = (signer or self.signer).token(user_id or self.user_id, action, person_id)
        return link_url("", action, token)

    def stored(self) -> Stored:
        return stored(self.runtime.session_factory)
