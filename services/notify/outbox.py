"""Exactly-once delivery records: owe, claim, complete, fail, retry.

Each email keepwarm owes is one `Delivery` row, unique per (user, kind, key). Whoever wants to
send it first claims it with a conditional UPDATE, which the database lets exactly one caller
win, even across processes; only the winner talks to the mail server. A claim whose holder died
(killed worker) goes stale after `claim_timeout` and can be taken over; a sent row is final.
A claim is known by the moment it was taken (`claimed_at`): complete, fail and release act
only while that claim still holds, so a sender whose claim was taken over (it was slow, not
dead) cannot mark the row failed, sent or pending under the sender that has it now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from keepwarm.services.models import Delivery, DeliveryKind, DeliveryStatus

__all__ = [
    "OutboxRules",
    "Owed",
    "claim",
    "complete",
    "fail",
    "owe",
    "release",
    "sendable_ids",
]


@dataclass(frozen=True, slots=True)
class OutboxRules:
    """How hard to try, and when a claim counts as abandoned."""

    max_attempts: int = 6
    claim_timeout: timedelta = timedelta(minutes=10)
    first_backoff: timedelta = timedelta(minutes=1)
    max_backoff: timedelta = timedelta(hours=2)

    def backoff(self, attempts: int) -> timedelta:
        """1, 2, 4 ... minutes after the n-th failed attempt, capped."""
        factor: int = 2 ** max(attempts - 1, 0)
        return min(self.first_backoff * factor, self.max_backoff)


@dataclass(frozen=True, slots=True)
class Owed:
    """One email to record as owed (see `owe`)."""

    user_id: int
    kind: DeliveryKind
    key: str
    due_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    event_id: int | None = None
    detail: Mapping[str, Any] | None = None


def owe(session: Session, owed: list[Owed], now: datetime, *, domain: str) -> None:
    """Record that each email (user, kind, key) is owed; ones already recorded change nothing.

    One INSERT ... ON CONFLICT DO NOTHING, so two schedulers asking at once make one row each.
    """
    if not owed:
        return
    rows = [
        {
            "user_id": o.user_id,
            "kind": o.kind.value,
            "key": o.key,
            "status": o.status.value,
            "due_at": o.due_at,
            "created_at": now,
            "event_id": o.event_id,
            "attempts": 0,
            # The same id on every attempt: a resend after a crash reads as one message.
            "message_id": f"<{o.kind.value}.{o.user_id}.{o.key}@{domain}>",
            "detail": json.dumps(dict(o.detail)) if o.detail is not None else None,
        }
        for o in owed
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Delivery).on_conflict_do_nothing(index_elements=["user_id", "kind", "key"]), rows
    )


def _claimable(now: datetime, rules: OutboxRules) -> Any:
    return or_(
        Delivery.status == DeliveryStatus.PENDING,
        and_(Delivery.status == DeliveryStatus.FAILED, Delivery.retry_at <= now),
        # A claim whose holder died; not forever, or a crash in composing would loop.
        and_(
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at < now - rules.claim_timeout,
            Delivery.attempts < rules.max_attempts,
        ),
    )


def sendable_ids(session: Session, now: datetime, rules: OutboxRules) -> list[int]:
    """Deliveries someone should try now: new, failed and due a retry, or abandoned."""
    return list(
        session.scalars(
            select(Delivery.id)
            .where(_claimable(now, rules), Delivery.due_at <= now)
            .order_by(Delivery.due_at, Delivery.id)
        )
    )


def claim(session: Session, delivery_id: int, now: datetime, rules: OutboxRules) -> bool:
    """Take the delivery for sending; True for exactly one caller. Commit before sending."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.due_at <= now, _claimable(now, rules))
        .values(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=Delivery.attempts + 1,
            retry_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _held(delivery_id: int, claimed_at: datetime) -> Any:
    return and_(
        Delivery.id == delivery_id,
        Delivery.status == DeliveryStatus.SENDING,
        Delivery.claimed_at == claimed_at,
    )


def complete(
    session: Session,
    delivery_id: int,
    now: datetime,
    *,
    claimed_at: datetime,
    recipient: str | None,
    variant: str | None = None,
    detail: Mapping[str, Any] | None = None,
    status: DeliveryStatus = DeliveryStatus.SENT,
) -> bool:
    """The mail server accepted it (or it was rightly not sent: `status`); final. False when
    the claim taken at `claimed_at` no longer holds (nothing is changed then)."""
    result = session.execute(
        update(Delivery)
        .where(_held(delivery_id, claimed_at))
        .values(
            status=status.value,
            sent_at=now if status is DeliveryStatus.SENT else None,
            recipient=recipient,
            variant=variant,
            detail=json.dumps(dict(detail)) if detail is not None else None,
            last_error=None if status is DeliveryStatus.SENT else Delivery.last_error,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def fail(
    session: Session,
    delivery_id: int,
    now: datetime,
    error: str,
    rules: OutboxRules,
    *,
    claimed_at: datetime,
    permanent: bool = False,
) -> bool | None:
    """Record a failed attempt; return True when another attempt is scheduled, False when not.

    Out of attempts (or a permanent refusal) leaves it failed with no retry time: reported by
    `keepwarm digest --history` and `keepwarm prompts`, never silently dropped. A claim taken
    over meanwhile is the new holder's: nothing is recorded, and None returned.
    """
    delivery = session.scalar(
        select(Delivery).where(_held(delivery_id, claimed_at)).with_for_update()
    )
    if delivery is None:
        return None
    retry = not permanent and delivery.attempts < rules.max_attempts
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = error[:2000]
    delivery.retry_at = now + rules.backoff(delivery.attempts) if retry else None
    session.flush()
    return retry


def release(session: Session, delivery_id: int, due_at: datetime, *, claimed_at: datetime) -> bool:
    """Hand a claimed delivery back, not yet due (a meeting moved later); no attempt used.
    False when the claim taken at `claimed_at` no longer holds."""
    result = session.execute(
        update(Delivery)
        .where(_held(delivery_id, claimed_at))
        .values(
            status=DeliveryStatus.PENDING,
            due_at=due_at,
            claimed_at=None,
            attempts=Delivery.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
