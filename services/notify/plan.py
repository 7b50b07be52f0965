"""The scheduler's tick: which digests and prompts are owed now, and which to try sending."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.models import Account, DeliveryKind, DeliveryStatus, User
from services.notify.digest import DigestRules
from services.notify.mailer import sender_domain
from services.notify.outbox import OutboxRules, owe, sendable_ids
from services.notify.prompts import PromptRules, candidate_events, why_not_prompted
from services.notify.schedule import digest_slot, parse_timezone

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
    prompt_users: list[int] = []
    for user in users:
        if recipient_for(session, user) is None:
            continue
        if user.digests_enabled:
            _owe_digest(session, user, now, rules)
        if user.prompts_enabled:
            prompt_users.append(user.id)
    for event in candidate_events(session, prompt_users, now, rules.prompt):
        if why_not_prompted(session, event, now, rules.prompt) is None:
            owe(
                session,
                event.user_id,
                DeliveryKind.PROMPT,
                event.fingerprint,
                event.end + rules.prompt.delay,
                now,
                domain=rules.domain,
                event_id=event.id,
            )
    session.flush()
    return sendable_ids(session, now, rules.outbox)


def _owe_digest(session: Session, user: User, now: datetime, rules: NotifyRules) -> None:
    zone = parse_timezone(user.timezone)
    slot = digest_slot(now, zone, user.digest_weekday, user.digest_hour)
    if slot.due_at > now:
        return
    if now < slot.due_at + rules.catch_up:
        owe(session, user.id, DeliveryKind.DIGEST, slot.week, slot.due_at, now, domain=rules.domain)
    elif user.created_at < slot.due_at:
        # Nobody checked between the hour and the catch-up limit (scheduler down): say so
        # rather than send at an hour the user did not choose.
        local = slot.due_at.astimezone(zone)
        owe(
            session,
            user.id,
            DeliveryKind.DIGEST,
            slot.week,
            slot.due_at,
            now,
            domain=rules.domain,
            status=DeliveryStatus.MISSED,
            detail={
                "reason": f"no scheduler ran between {local:%a %d %b %H:%M} ({user.timezone}) "
                f"and {rules.catch_up.total_seconds() / 3600:g} hours later"
            },
        )
