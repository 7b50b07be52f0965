"""Notes on a contact's timeline and follow-ups that come due in the digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from keepwarm.services.core.errors import InvalidInput, NotFound
from keepwarm.services.models import FollowUp, Interaction, Note

__all__ = [
    "OpenFollowUp",
    "add_follow_up",
    "add_note",
    "dismiss_follow_up",
    "notes_for",
    "open_follow_ups",
]

MAX_NOTE_CHARS = 5000


@dataclass(frozen=True, slots=True)
class OpenFollowUp:
    """A follow-up not yet resolved by contact or dismissed."""

    id: int
    person_id: int
    created_at: datetime
    due_at: datetime
    reason: str | None


def add_note(
    session: Session,
    user_id: int,
    person_id: int,
    text: str,
    at: datetime,
    event_id: int | None = None,
) -> Note:
    """Attach a note to the person's timeline; raises InvalidInput for empty or huge text."""
    text = text.strip()
    if not text:
        raise InvalidInput("note: the text is empty")
    if "\x00" in text:
        raise InvalidInput("note: the text contains a NUL character")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note: longer than {MAX_NOTE_CHARS} characters")
    note = Note(user_id=user_id, person_id=person_id, at=at, text=text, event_id=event_id)
    session.add(note)
    session.flush()
    return note


def add_follow_up(
    session: Session,
    user_id: int,
    person_id: int,
    created_at: datetime,
    due_at: datetime,
    reason: str | None = None,
    event_id: int | None = None,
) -> FollowUp:
    """Ask to be reminded of the person at `due_at` unless you speak before."""
    if due_at <= created_at:
        raise InvalidInput("follow-up: the due date must be after today")
    if reason is not None and "\x00" in reason:
        raise InvalidInput("reason: contains a NUL character", "reason")
    follow_up = FollowUp(
        user_id=user_id,
        person_id=person_id,
        created_at=created_at,
        due_at=due_at,
        reason=reason,
        event_id=event_id,
    )
    session.add(follow_up)
    session.flush()
    return follow_up


def open_follow_ups(
    session: Session,
    user_id: int,
    as_of: datetime,
    *,
    due_only: bool = True,
    person_id: int | None = None,
) -> list[OpenFollowUp]:
    """Follow-ups open at `as_of` (of one person, if given), earliest due first.

    Resolved is read, not stored: any interaction with the person after the follow-up was set
    (and by `as_of`) closes it, so mail that arrives in a late sync resolves it too.
    """
    spoke_since = exists().where(
        and_(
            Interaction.user_id == FollowUp.user_id,
            Interaction.person_id == FollowUp.person_id,
            Interaction.at > FollowUp.created_at,
            Interaction.at <= as_of,
        )
    )
    query = select(FollowUp).where(
        FollowUp.user_id == user_id,
        FollowUp.created_at <= as_of,
        (FollowUp.dismissed_at.is_(None)) | (FollowUp.dismissed_at > as_of),
        ~spoke_since,
    )
    if due_only:
        query = query.where(FollowUp.due_at <= as_of)
    if person_id is not None:
        query = query.where(FollowUp.person_id == person_id)
    return [
        OpenFollowUp(f.id, f.person_id, f.created_at, f.due_at, f.reason)
        for f in session.scalars(query.order_by(FollowUp.due_at, FollowUp.id))
    ]


def notes_for(session: Session, user_id: int, person_id: int, as_of: datetime) -> list[Note]:
    """The person's notes up to `as_of`, newest first."""
    return list(
        session.scalars(
            select(Note)
            .where(Note.user_id == user_id, Note.person_id == person_id, Note.at <= as_of)
            .order_by(Note.at.desc(), Note.id.desc())
        )
    )


def dismiss_follow_up(session: Session, user_id: int, follow_up_id: int, at: datetime) -> None:
    """Close one of the user's follow-ups by hand; raises NotFound for anyone else's."""
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.user_id != user_id:
        raise NotFound(f"no follow-up {follow_up_id}")
    if follow_up.dismissed_at is None:
        follow_up.dismissed_at = at
        session.flush()
