"""Introductions: which of the owner's contacts know a person or an organisation."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from keepwarm.services.accounts.users import owner_addresses
from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import Event, EventAttendee, Message, MessageRecipient, PersonAddress
from keepwarm.services.reconnect import compute_stats, load_histories

__all__ = ["IntroPath", "Target", "find_intros", "parse_target"]

_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv)\s*(\[\d+\])?\s*:\s*)+", re.I)
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True, slots=True)
class Target:
    """Whom the owner wants to reach: one address, or everyone at a domain."""

    address: str | None = None
    domain: str | None = None

    def matches(self, address: str) -> bool:
        if self.address is not None:
            return address == self.address
        return address.rpartition("@")[2] == self.domain

    def __str__(self) -> str:
        return self.address or f"@{self.domain}"


def parse_target(text: str) -> Target:
    """An address or a domain (`acme.com`, `@acme.com`); raises InvalidInput otherwise."""
    text = text.strip().lower()
    if "@" in text and not text.startswith("@"):
        address = normalize_address(text)
        if address is None:
            raise InvalidInput(f"intro: not an address or a domain: {text!r}", "target")
        return Target(address=address)
    domain = text.removeprefix("@")
    if not _DOMAIN.match(domain):
        raise InvalidInput(f"intro: not an address or a domain: {text!r}", "target")
    return Target(domain=domain)


@dataclass(slots=True)
class _Evidence:
    threads: set[str] = field(default_factory=set)
    meetings: int = 0
    last: datetime | None = None

    def see(self, when: datetime) -> None:
        self.last = when if self.last is None or when > self.last else self.last


@dataclass(frozen=True, slots=True)
class IntroPath:
    """One contact who knows the target, how well the owner knows them, and the evidence."""

    name: str | None
    addresses: tuple[str, ...]
    tie_strength: float
    threads: int
    meetings: int
    last_together: datetime
    score: float
    evidence: str


def _thread(subject: str | None) -> str:
    return " ".join(_PREFIX.sub("", subject or "").lower().split())


def _match(column: object, target: Target) -> object:
    if target.address is not None:
        return column == target.address
    return column.like(f"%@{target.domain}")  # type: ignore[attr-defined,unused-ignore]


def _mail_evidence(
    session: Session, user_id: int, target: Target, as_of: datetime, max_people: int
) -> dict[str, _Evidence]:
    with_target = (
        select(Message.id)
        .where(
            Message.user_id == user_id, Message.sent_at <= as_of, Message.filter_reason.is_(None)
        )
        .where(
            or_(
                _match(Message.sender, target),  # type: ignore[arg-type]
                Message.id.in_(
                    select(MessageRecipient.message_id).where(
                        _match(MessageRecipient.address, target),  # type: ignore[arg-type]
                        MessageRecipient.role.in_(("to", "cc")),
                    )
                ),
            )
        )
    )
    people: dict[int, set[str]] = defaultdict(set)
    info: dict[int, tuple[datetime | None, str]] = {}
    for mid, sent_at, subject, sender in session.execute(
        select(Message.id, Message.sent_at, Message.subject, Message.sender).where(
            Message.id.in_(with_target)
        )
    ):
        info[mid] = (sent_at, _thread(subject))
        if sender:
            people[mid].add(sender)
    for mid, address in session.execute(
        select(MessageRecipient.message_id, MessageRecipient.address).where(
            MessageRecipient.message_id.in_(with_target), MessageRecipient.role.in_(("to", "cc"))
        )
    ):
        people[mid].add(address)
    evidence: dict[str, _Evidence] = defaultdict(_Evidence)
    for mid, participants in people.items():
        if len(participants) > max_people:
            continue  # a crowd is no evidence that two of its members know each other
        when, thread = info[mid]
        if when is None:
            continue
        for address in participants:
            evidence[address].threads.add(thread)
            evidence[address].see(when)
    return evidence


def _meeting_evidence(
    session: Session,
    user_id: int,
    target: Target,
    as_of: datetime,
    max_people: int,
    evidence: dict[str, _Evidence],
) -> None:
    with_target = select(EventAttendee.event_id).where(
        _match(EventAttendee.address, target)  # type: ignore[arg-type]
    )
    attendees: dict[int, set[str]] = defaultdict(set)
    starts: dict[int, datetime] = {}
    for eid, start, address in session.execute(
        select(Event.id, Event.start, EventAttendee.address)
        .join(EventAttendee, EventAttendee.event_id == Event.id)
        .where(
            Event.user_id == user_id,
            Event.start <= as_of,
            Event.cancelled.is_(False),
            Event.id.in_(with_target),
        )
    ):
        attendees[eid].add(address)
        starts[eid] = start
    for eid, people in attendees.items():
        if len(people) > max_people:
            continue
        for address in people:
            evidence[address].meetings += 1
            evidence[address].see(starts[eid])


def find_intros(
    session: Session, user_id: int, target: Target, as_of: datetime, *, max_people: int = 11
) -> list[IntroPath]:
    """The owner's contacts who corresponded or met with the target, best introducer first.

    Evidence is being on the same small thread (at most `max_people` on it) or in the same
    meeting; the score weighs it by how well the owner knows the contact, since an intro is
    only as good as the owner's tie to the introducer.
    """
    owner = owner_addresses(session, user_id)
    if target.address is not None and target.address in owner:
        raise InvalidInput(f"intro: {target.address} is your own address", "target")
    evidence = _mail_evidence(session, user_id, target, as_of, max_people)
    _meeting_evidence(session, user_id, target, as_of, max_people, evidence)
    candidates = {a for a in evidence if not target.matches(a) and a not in owner}
    if not candidates:
        return []
    person_of = dict(
        session.execute(
            select(PersonAddress.address, PersonAddress.person_id).where(
                PersonAddress.user_id == user_id, PersonAddress.address.in_(candidates)
            )
        ).all()
    )
    by_person: dict[int, _Evidence] = defaultdict(_Evidence)
    for address in candidates:
        pid = person_of.get(address)
        if pid is None:
            continue
        merged, ev = by_person[pid], evidence[address]
        merged.threads |= ev.threads
        merged.meetings += ev.meetings
        if ev.last is not None:
            merged.see(ev.last)
    out: list[IntroPath] = []
    for history in load_histories(session, user_id, as_of, list(by_person)):
        stats = compute_stats(history)
        if not stats.is_relationship:
            continue
        ev = by_person[history.person_id]
        assert ev.last is not None
        together = len(ev.threads) + ev.meetings
        parts = []
        if ev.threads:
            parts.append(
                f"on {len(ev.threads)} thread{'s' if len(ev.threads) > 1 else ''} with {target}"
            )
        if ev.meetings:
            parts.append(f"met {ev.meetings} time{'s' if ev.meetings > 1 else ''}")
        parts.append(f"last {ev.last:%Y-%m}")
        parts.append(
            f"your tie: {stats.emails_sent + stats.emails_received} emails, "
            f"last {stats.last_at:%Y-%m}"
        )
        out.append(
            IntroPath(
                name=history.name,
                addresses=history.addresses,
                tie_strength=stats.strength,
                threads=len(ev.threads),
                meetings=ev.meetings,
                last_together=ev.last,
                score=round(stats.strength * math.log1p(together), 4),
                evidence="; ".join(parts),
            )
        )
    out.sort(key=lambda p: (-p.score, p.addresses))
    return out
