"""Signed, expiring, single-use links that act on the user's behalf from an email.

A link carries who it is for, what it does and a nonce, signed with the server's secret
(itsdangerous). It acts once: the nonce is stored when followed, so a second click, or a mail
scanner that already followed it, changes nothing more.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keepwarm.services.core.clock import Clock, system_clock
from keepwarm.services.core.errors import AppError, InvalidInput
from keepwarm.services.models import Action, Event, Person, PersonAddress, UsedLink, User
from keepwarm.services.reconnect.lifecycle import record_person_action
from keepwarm.services.reconnect.notes import add_follow_up, add_note

__all__ = [
    "LinkAction",
    "LinkError",
    "LinkExpired",
    "LinkSigner",
    "LinkTargetGone",
    "LinkUsed",
    "LinkedTarget",
    "apply_link",
    "describe",
    "link_url",
]

_SALT = "keepwarm.link.v1"


class LinkAction(StrEnum):
    """What a link does."""

    DONE = "done"
    TALKED = "talked"
    SNOOZE_2W = "snooze_2w"
    SNOOZE_1M = "snooze_1m"
    SNOOZE_3M = "snooze_3m"
    STOP = "stop"
    NOTE = "note"
    FOLLOW_1W = "follow_1w"
    FOLLOW_2W = "follow_2w"
    FOLLOW_1M = "follow_1m"
    UNSUBSCRIBE_DIGEST = "unsubscribe_digest"
    UNSUBSCRIBE_PROMPTS = "unsubscribe_prompts"


UNSUBSCRIBE = frozenset({LinkAction.UNSUBSCRIBE_DIGEST, LinkAction.UNSUBSCRIBE_PROMPTS})
SNOOZE_DAYS = {LinkAction.SNOOZE_2W: 14, LinkAction.SNOOZE_1M: 30, LinkAction.SNOOZE_3M: 91}
FOLLOW_DAYS = {LinkAction.FOLLOW_1W: 7, LinkAction.FOLLOW_2W: 14, LinkAction.FOLLOW_1M: 30}
LABELS = {
    LinkAction.DONE: "Done — I reached out",
    LinkAction.TALKED: "We talked elsewhere",
    LinkAction.SNOOZE_2W: "Snooze 2 weeks",
    LinkAction.SNOOZE_1M: "Snooze 1 month",
    LinkAction.SNOOZE_3M: "Snooze 3 months",
    LinkAction.STOP: "Stop suggesting",
    LinkAction.NOTE: "Add a note",
    LinkAction.FOLLOW_1W: "Follow up in 1 week",
    LinkAction.FOLLOW_2W: "Follow up in 2 weeks",
    LinkAction.FOLLOW_1M: "Follow up in 1 month",
    LinkAction.UNSUBSCRIBE_DIGEST: "Stop the weekly digest",
    LinkAction.UNSUBSCRIBE_PROMPTS: "Stop meeting prompts",
}


class LinkError(AppError):
    """A link that was altered, is not for this server, or names something that is gone."""


class LinkExpired(LinkError):
    """A link older than its lifetime."""


class LinkUsed(LinkError):
    """A link that has already acted."""


class LinkTargetGone(LinkError):
    """A genuine link for a user who no longer exists: nothing to act on, and nothing was
    done (never "already done", which would say it had acted)."""


@dataclass(frozen=True, slots=True)
class LinkedTarget:
    """What a verified link is for."""

    nonce: str
    user_id: int
    action: LinkAction
    person_id: int | None
    event_id: int | None


class _ClockSigner(TimestampSigner):
    """itsdangerous's timestamp signer, reading the time from our clock instead of time.time()."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


class LinkSigner:
    """Makes and checks link tokens with one secret, one lifetime and one clock.

    Signing and verifying read the same clock, so a link's age is measured on one time line
    (a test's fixed clock, or the system's).
    """

    def __init__(self, secret: str, max_age: timedelta, clock: Clock = system_clock) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret, salt=_SALT, signer=_ClockSigner, signer_kwargs={"clock": clock}
        )
        self.max_age = max_age
        self.clock = clock

    def token(
        self,
        user_id: int,
        action: LinkAction,
        person_id: int | None = None,
        event_id: int | None = None,
    ) -> str:
        payload: dict[str, Any] = {"u": user_id, "a": action.value, "n": secrets.token_hex(12)}
        if person_id is not None:
            payload["p"] = person_id
        if event_id is not None:
            payload["e"] = event_id
        return str(self._serializer.dumps(payload))

    def verify(self, token: str, now: datetime | None = None) -> LinkedTarget:
        """The link's target; raises LinkExpired or LinkError (altered or foreign).

        Unsubscribe links never expire: mail providers keep offering the one-click button
        (RFC 8058) on old messages, and "stop sending me this" must always work.
        """
        try:
            data, signed_at = self._serializer.loads(token, return_timestamp=True)
        except BadSignature:
            raise LinkError("this link is not valid (altered or not from this server)") from None
        target = self._target(data)
        age = (now or self.clock()) - signed_at
        if target.action not in UNSUBSCRIBE and age > self.max_age:
            raise LinkExpired("this link has expired; newer emails carry fresh ones")
        return target

    @staticmethod
    def _target(data: Any) -> LinkedTarget:
        try:
            return LinkedTarget(
                nonce=str(data["n"]),
                user_id=int(data["u"]),
                action=LinkAction(data["a"]),
                person_id=int(data["p"]) if "p" in data else None,
                event_id=int(data["e"]) if "e" in data else None,
            )
        except (KeyError, TypeError, ValueError):
            raise LinkError("this link is not valid (unknown content)") from None


def describe(session: Session, target: LinkedTarget) -> str:
    """What following the link will do, in words ("Snooze 1 month: Jane Doe").

    Raises LinkTargetGone when its user no longer exists (checked before a link is spent: its
    nonce row would otherwise fail on the missing user and read as "already done"), LinkError
    when it names a contact that is not that user's.
    """
    label = LABELS[target.action]
    if session.get(User, target.user_id) is None:
        raise LinkTargetGone("this link is for an account that no longer exists")
    if target.person_id is None:
        return label
    person = session.get(Person, target.person_id)
    if person is None or person.user_id != target.user_id:
        raise LinkError("this link names a contact that no longer exists")
    name = person.display_name or session.scalar(
        select(PersonAddress.address)
        .where(PersonAddress.person_id == person.id)
        .order_by(PersonAddress.address)
    )
    return f"{label}: {name}"


def apply_link(
    session: Session,
    target: LinkedTarget,
    now: datetime,
    note_text: str | None = None,
) -> str:
    """Do what the link says, once; return what was done. Raises LinkUsed, LinkError.

    The nonce is written in the same transaction as the change, so two clicks racing give one
    change: the second insert fails on the primary key. The caller's transaction must roll
    back on any error (unit_of_work does), which also un-spends a link whose change failed.
    """
    outcome = describe(session, target)
    session.add(UsedLink(nonce=target.nonce, user_id=target.user_id, used_at=now, outcome=outcome))
    try:
        session.flush()
    except IntegrityError:
        raise LinkUsed("this link has already been used") from None
    _act(session, target, now, note_text)
    return outcome


def _act(
    session: Session,
    target: LinkedTarget,
    now: datetime,
    note_text: str | None,
) -> None:
    action, user_id, person_id = target.action, target.user_id, target.person_id
    if action in UNSUBSCRIBE:
        user = session.get(User, user_id)
        if user is None:
            raise LinkTargetGone("this link is for an account that no longer exists")
        if action is LinkAction.UNSUBSCRIBE_DIGEST:
            user.digests_enabled = False
        else:
            user.prompts_enabled = False
        return
    if person_id is None:
        raise LinkError("this link names no contact")
    event_id = _own_event(session, user_id, target.event_id)
    if action is LinkAction.NOTE:
        text = (note_text or "").strip()
        if not text:
            raise InvalidInput("note: the text is empty")
        add_note(session, user_id, person_id, text, now, event_id=event_id)
    elif action in FOLLOW_DAYS:
        add_follow_up(
            session,
            user_id,
            person_id,
            now,
            now + timedelta(days=FOLLOW_DAYS[action]),
            event_id=event_id,
        )
    elif action in SNOOZE_DAYS:
        until = now + timedelta(days=SNOOZE_DAYS[action])
        record_person_action(session, user_id, person_id, Action.SNOOZE, now, until)
    else:
        lifecycle = {
            LinkAction.DONE: Action.DONE,
            LinkAction.TALKED: Action.TALKED_ELSEWHERE,
            LinkAction.STOP: Action.STOP,
        }[action]
        record_person_action(session, user_id, person_id, lifecycle, now)


def _own_event(session: Session, user_id: int, event_id: int | None) -> int | None:
    if event_id is None:
        return None
    event = session.get(Event, event_id)
    return event_id if event is not None and event.user_id == user_id else None


def link_url(public_url: str, action: LinkAction, token: str) -> str:
    """Where a link points: /u/ for unsubscribing (RFC 8058 one-click POST), /a/ for the rest."""
    prefix = (
        "u" if action in (LinkAction.UNSUBSCRIBE_DIGEST, LinkAction.UNSUBSCRIBE_PROMPTS) else "a"
    )
    return f"{public_url.rstrip('/')}/{prefix}/{token}"
