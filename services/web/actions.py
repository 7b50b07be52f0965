"""What a user does from the dashboard or the API: answer a suggestion, add a note, set or
dismiss a follow-up. Each checks the person is the user's (NotFound otherwise) and returns a
line saying what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.models import Action, Person, PersonAddress
from keepwarm.services.reconnect.lifecycle import record_person_action
from keepwarm.services.reconnect.notes import add_follow_up, add_note
from keepwarm.services.web.views import own_person

__all__ = ["MAX_REASON", "Answer", "Answered", "answer", "follow_up", "note", "parse_answer"]

MAX_REASON = 200


class Answer(StrEnum):
    """An answer to a suggestion, as the forms and the API name it."""

    DONE = "done"
    TALKED = "talked"
    SNOOZE = "snooze"
    STOP = "stop"
    RESUME = "resume"


_ACTIONS = {
    Answer.DONE: Action.DONE,
    Answer.TALKED: Action.TALKED_ELSEWHERE,
    Answer.SNOOZE: Action.SNOOZE,
    Answer.STOP: Action.STOP,
    Answer.RESUME: Action.RESUME,
}
# The forms' buttons: snooze_2w, snooze_1m, snooze_3m as in the digest's links.
_SNOOZES = {"snooze_2w": 14, "snooze_1m": 30, "snooze_3m": 91}


@dataclass(frozen=True, slots=True)
class Answered:
    """What an answer did."""

    action: Answer
    until: datetime | None
    message: str


def parse_answer(value: str) -> tuple[Answer, int | None]:
    """A form button's value: an Answer, or snooze_2w/1m/3m (with its days); InvalidInput."""
    if value in _SNOOZES:
        return Answer.SNOOZE, _SNOOZES[value]
    try:
        return Answer(value), None
    except ValueError:
        raise InvalidInput(f"action: unknown answer {value!r}", "action") from None


def _label(session: Session, person: Person) -> str:
    if person.display_name:
        return person.display_name
    return str(
        session.scalar(
            select(PersonAddress.address)
            .where(PersonAddress.person_id == person.id)
            .order_by(PersonAddress.address)
            .limit(1)
        )
    )


def answer(
    session: Session,
    user_id: int,
    person_id: int,
    action: Answer,
    now: datetime,
    snooze_days: int | None = None,
) -> Answered:
    """Record the answer; a snooze needs `snooze_days` (1-365). Raises NotFound, InvalidInput."""
    person = own_person(session, user_id, person_id)
    until = None
    if action is Answer.SNOOZE:
        if snooze_days is None or not 1 <= snooze_days <= 365:
            raise InvalidInput("snooze_days: a snooze needs 1 to 365 days", "snooze_days")
        until = now + timedelta(days=snooze_days)
    record_person_action(session, user_id, person.id, _ACTIONS[action], now, until)
    who = _label(session, person)
    message = {
        Answer.DONE: f"Marked done: {who}. They rest a while before coming back.",
        Answer.TALKED: f"Noted that you talked with {who}.",
        Answer.SNOOZE: f"Snoozed {who} until {until:%Y-%m-%d}." if until else "",
        Answer.STOP: f"{who} will not be suggested again.",
        Answer.RESUME: f"{who} can be suggested again.",
    }[action]
    return Answered(action, until, message)


def note(session: Session, user_id: int, person_id: int, text: str, now: datetime) -> str:
    """Add a note to the person's timeline. Raises NotFound, InvalidInput (field "text")."""
    person = own_person(session, user_id, person_id)
    try:
        add_note(session, user_id, person.id, text, now)
    except InvalidInput as exc:
        raise InvalidInput(str(exc).replace("note:", "text:", 1), "text") from None
    return f"Note saved on {_label(session, person)}'s timeline."


def follow_up(
    session: Session,
    user_id: int,
    person_id: int,
    days: int,
    reason: str | None,
    now: datetime,
) -> tuple[int, datetime, str]:
    """Set a follow-up `days` ahead; (its id, when due, what was done). NotFound, InvalidInput."""
    person = own_person(session, user_id, person_id)
    if not 1 <= days <= 365:
        raise InvalidInput("due_in_days: between 1 and 365", "due_in_days")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters", "reason")
    due = now + timedelta(days=days)
    row = add_follow_up(session, user_id, person.id, now, due, reason)
    return row.id, due, f"Follow-up with {_label(session, person)} on {due:%Y-%m-%d}."
