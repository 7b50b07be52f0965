"""The scheduler's tick: which digests and prompts are owed now, and which to try sending."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.models import Account, DeliveryKind, DeliveryStatus, User
from keepwarm.services.notify.digest import DigestRules
from keepwarm.services.notify.mailer import sender_domain
from keepwarm.services.notify.outbox import OutboxRules, Owed, owe, sendable_ids
from keepwarm.services.notify.prompts import PromptRules, candidate_events, prompted_events
from keepwarm.services.notify.schedule import digest_slot, parse_timezone

__all__ = ["NotifyRules", "plan_due", "recipient_for"]


@dataclass(frozen=True, slots=True)
class NotifyRules:
    """Everything the digest and prompt machinery reads from the settings."""

    digest: DigestRules = field(default_factory=DigestRules)
    prompt: PromptRules = field(default_factory=PromptRules)
    outbox: OutboxRules = field(default_factory=OutboxRules)
    catch_up: timedelta = timedelta(hours=12)
    stale_after: timedelta = timedelta(hours=48)
    mail_from: str = "keepwarm <keepwarm@localhost>"
    public_url: str = "http://127.0.0.1:8000"

    @property
    def domain(self) -> str:
        return sender_domain(self.mail_from)


def recipient_for(session: Session, user: User) -> str | None:
    """Where the user's emails go: their chosen address, else their first connected mailbox."""
    if user.email:
        return user.email
    return session.scalar(
        select(Account.email).where(Account.user_id == user.id).order_by(Account.id).limit(1)
    )


def plan_due(session: Session, now: datetime, rules: NotifyRules) -> list[int]:
    """Record what is owed at `now` and return the deliveries to try sending.

    Safe to run from any number of schedulers at once: owing is an insert that ignores
    duplicates, and sending is decided later by a claim only one sender wins.
    """
    users = list(session.scalars(select(User).order_by(User.id)))
    with_accounts = set(session.scalars(select(Account.user_id).distinct()))
    owed: list[Owed] = []
    prompt_users: list[int] = []
    for user in users:
        if not user.email and user.id not in with_accounts:
            continue  # nowhere to send anything
        if user.digests_enabled:
            owed.extend(_digest_owed(user, now, rules))
        if user.prompts_enabled:
            prompt_users.append(user.id)
    candidates = candidate_events(session, prompt_users, now, rules.prompt)
    owed.extend(
        Owed(
            event.user_id,
            DeliveryKind.PROMPT,
            event.fingerprint,
            event.end + rules.prompt.delay,
            event_id=event.id,
        )
        for event in prompted_events(session, candidates, now, rules.prompt)
    )
    owe(session, owed, now, domain=rules.domain)
    session.flush()
    return sendable_ids(session, now, rules.outbox)


def _digest_owed(user: User, now: datetime, rules: NotifyRules) -> list[Owed]:
    zone = parse_timezone(user.timezone)
    slot = digest_slot(now, zone, user.digest_weekday, user.digest_hour)
    if slot.due_at > now:
        return []
    if now < slot.due_at + rules.catch_up:
        return [Owed(user.id, DeliveryKind.DIGEST, slot.week, slot.due_at)]
    if user.created_at >= slot.due_at:
        return []
    # Nobody checked between the hour and the catch-up limit (scheduler down): say so
    # rather than send at an hour the user did not choose.
    local = slot.due_at.astimezone(zone)
    reason = (
        f"no scheduler ran between {local:%a %d %b %H:%M} ({user.timezone}) "
        f"and {rules.catch_up.total_seconds() / 3600:g} hours later"
    )
    return [
        Owed(
            user.id,
            DeliveryKind.DIGEST,
            slot.week,
            slot.due_at,
            status=DeliveryStatus.MISSED,
            detail={"reason": reason},
        )
    ]
