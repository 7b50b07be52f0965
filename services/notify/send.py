"""Sending one owed email: claim, compose, deliver, record. What the send actor calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.core.clock import Clock
from keepwarm.services.models import (
    Account,
    AccountStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Event,
    User,
)
from keepwarm.services.notify import outbox
from keepwarm.services.notify.digest import compose_digest, rules_for
from keepwarm.services.notify.links import LinkSigner
from keepwarm.services.notify.mailer import MailTransport, SendFailed, build_message
from keepwarm.services.notify.plan import NotifyRules, recipient_for
from keepwarm.services.notify.prompts import NOT_OVER, build_prompt, why_not_prompted
from keepwarm.services.notify.render import (
    LinkMaker,
    RenderedEmail,
    render_digest,
    render_prompt,
    render_stale,
)
from keepwarm.services.notify.schedule import WEEKDAYS, parse_timezone

__all__ = ["SendOutcome", "digest_reason_line", "send_delivery", "stale_reasons"]

log = logging.getLogger(__name__)


def stale_reasons(
    session: Session, user_id: int, now: datetime, stale_after: timedelta
) -> list[str]:
    """Why the user's data cannot be trusted for a digest now ([] when it can).

    Only connected accounts can be behind; imported mail is as fresh as the user made it.
    """
    reasons: list[str] = []
    for account in session.scalars(
        select(Account).where(Account.user_id == user_id).order_by(Account.id)
    ):
        if account.status == AccountStatus.RECONNECT_NEEDED:
            why = account.status_reason or "access was revoked"
            reasons.append(
                f"{account.email} needs reconnecting ({why}): "
                f"run `keepwarm connect {account.provider}`"
            )
        elif account.status == AccountStatus.ACTIVE:
            last = account.last_success_at
            if last is None or last < now - stale_after:
                since = f"since {last:%Y-%m-%d %H:%M} UTC" if last else "ever"
                reasons.append(f"{account.email} has not synced successfully {since}")
    return reasons


def digest_reason_line(user: User) -> str:
    day = WEEKDAYS[user.digest_weekday].capitalize()
    return (
        f"keepwarm sends this digest every {day} at {user.digest_hour:02d}:00 ({user.timezone}). "
        "Change it with: keepwarm digest --weekday DAY --hour H --timezone ZONE."
    )


PROMPT_REASON = "keepwarm sends this after small meetings with people outside your own domain."


@dataclass(frozen=True, slots=True)
class _Composed:
    """What to do with a claimed delivery: send `email`, skip it, or hand it back."""

    detail: dict[str, Any]
    email: RenderedEmail | None = None
    variant: str | None = None  # what is sent: "digest" | "stale" | "prompt"
    not_before: datetime | None = None  # a meeting moved later: not due until then


def _compose(
    session: Session,
    delivery: Delivery,
    user: User,
    now: datetime,
    rules: NotifyRules,
    links: LinkMaker,
) -> _Composed:
    zone = parse_timezone(user.timezone)
    if delivery.kind == DeliveryKind.DIGEST.value:
        if not user.digests_enabled:
            return _Composed({"reason": "digests turned off"})
        reasons = stale_reasons(session, user.id, now, rules.stale_after)
        if reasons:
            email = render_stale(reasons, links, digest_reason_line(user))
            return _Composed({"reasons": reasons}, email, "stale")
        digest = compose_digest(session, user.id, now, rules_for(user, rules.digest))
        email = render_digest(digest, links, zone, digest_reason_line(user))
        return _Composed({"people": [i.address for i in digest.items]}, email, "digest")
    event = session.get(Event, delivery.event_id) if delivery.event_id is not None else None
    if not user.prompts_enabled:
        return _Composed({"reason": "prompts turned off"})
    if event is None:
        return _Composed({"reason": "the meeting was removed"})
    why_not = why_not_prompted(session, event, now, rules.prompt)
    if why_not == NOT_OVER:
        return _Composed({}, not_before=event.end + rules.prompt.delay)
    if why_not is not None:
        return _Composed({"reason": why_not})
    prompt = build_prompt(session, event)
    email = render_prompt(prompt, links, zone, PROMPT_REASON)
    return _Composed({"people": [p.address for p in prompt.people]}, email, "prompt")


class SendOutcome(StrEnum):
    """What one attempt at a delivery did."""

    SENT = "sent"
    RETRY = "retry"  # refused for now: tried again after a backoff
    FAILED = "failed"  # refused for good, or out of attempts: reported
    SKIPPED = "skipped"  # rightly not sent (turned off, nobody to suggest, meeting removed)
    NOT_DUE = "not due"  # handed back until later (a meeting that moved)
    NOT_CLAIMED = "not claimed"  # another sender has it, or it is done


def send_delivery(
    session_factory: sessionmaker[Session],
    delivery_id: int,
    transport: MailTransport,
    signer: LinkSigner,
    rules: NotifyRules,
    clock: Clock,
) -> SendOutcome:
    """Send the delivery if this caller wins its claim; return what happened, in a word.

    The claim is committed before the mail server is contacted and the result after, so a
    crash leaves a claim that goes stale and is retried; a recorded "sent" is never resent.
    """
    now = clock()
    with session_factory() as session, session.begin():
        if not outbox.claim(session, delivery_id, now, rules.outbox):
            return SendOutcome.NOT_CLAIMED
    # Every record below names this claim (taken at `now`): one taken over meanwhile is left
    # to its new holder.
    try:
        with session_factory() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            user = session.get(User, delivery.user_id)
            assert user is not None
            recipient = recipient_for(session, user)
            links = LinkMaker(signer, rules.public_url, user.id)
            composed = _compose(session, delivery, user, now, rules, links)
            message_id = delivery.message_id
    except Exception as exc:  # a bug must not leave the claim hanging unreported
        _fail(session_factory, delivery_id, now, f"could not compose: {exc!r}", rules)
        raise
    if composed.not_before is not None:
        with session_factory() as session, session.begin():
            held = outbox.release(session, delivery_id, composed.not_before, claimed_at=now)
        return SendOutcome.NOT_DUE if held else SendOutcome.NOT_CLAIMED
    email = composed.email
    if email is None:
        with session_factory() as session, session.begin():
            held = outbox.complete(
                session,
                delivery_id,
                now,
                claimed_at=now,
                recipient=recipient,
                detail=composed.detail,
                status=DeliveryStatus.SKIPPED,
            )
        return SendOutcome.SKIPPED if held else SendOutcome.NOT_CLAIMED
    if recipient is None:
        retry = _fail(
            session_factory, delivery_id, now, "no address to send to", rules, permanent=True
        )
        return SendOutcome.NOT_CLAIMED if retry is None else SendOutcome.FAILED
    try:
        # Built here, inside the failure handling: a header the email package refuses, or a
        # transport that fails in a way of its own, ends this attempt as failed (recorded,
        # retried by the outbox), never as a claim left "sending".
        message = build_message(
            email, mail_from=rules.mail_from, to=recipient, message_id=message_id, date=now
        )
        transport.send(message)
    except SendFailed as exc:
        retry = _fail(session_factory, delivery_id, now, str(exc), rules, permanent=exc.permanent)
        return _failed(delivery_id, recipient, retry, exc)
    except Exception as exc:
        log.exception("delivery %s could not be built or handed over", delivery_id)
        retry = _fail(session_factory, delivery_id, now, f"could not send: {exc!r}", rules)
        return _failed(delivery_id, recipient, retry, exc)
    with session_factory() as session, session.begin():
        held = outbox.complete(
            session,
            delivery_id,
            clock(),
            claimed_at=now,
            recipient=recipient,
            variant=composed.variant,
            detail=composed.detail,
        )
    if not held:
        # Sent, but another sender took the claim over meanwhile: it resends with the same
        # Message-ID, which receiving servers use to drop the copy (see README, exactly once).
        log.warning("delivery %s was sent after its claim was taken over", delivery_id)
    return SendOutcome.SENT


def _fail(
    session_factory: sessionmaker[Session],
    delivery_id: int,
    claimed_at: datetime,
    error: str,
    rules: NotifyRules,
    *,
    permanent: bool = False,
) -> bool | None:
    """outbox.fail in a unit of work of its own, for the claim taken at `claimed_at`."""
    with session_factory() as session, session.begin():
        return outbox.fail(
            session,
            delivery_id,
            claimed_at,
            error,
            rules.outbox,
            claimed_at=claimed_at,
            permanent=permanent,
        )


def _failed(delivery_id: int, recipient: str, retry: bool | None, exc: Exception) -> SendOutcome:
    if retry is None:
        log.warning("delivery %s failed after its claim was taken over: %s", delivery_id, exc)
        return SendOutcome.NOT_CLAIMED
    level = logging.WARNING if retry else logging.ERROR
    log.log(
        level,
        "delivery %s to %s failed (%s retry): %s",
        delivery_id,
        recipient,
        "will" if retry else "no",
        exc,
    )
    return SendOutcome.RETRY if retry else SendOutcome.FAILED
