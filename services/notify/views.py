"""What `keepwarm prompts` and `keepwarm digest --history` show, as plain data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.models import Delivery, DeliveryKind, Event
from keepwarm.services.notify.prompts import PromptRules, build_prompt, why_not_prompted

__all__ = ["delivery_history", "prompt_list"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "key": d.key,
        "status": d.status,
        "variant": d.variant,
        "due_at": _iso(d.due_at),
        "sent_at": _iso(d.sent_at),
        "attempts": d.attempts,
        "retry_at": _iso(d.retry_at),
        "recipient": d.recipient,
        "last_error": d.last_error,
        "detail": json.loads(d.detail) if d.detail else None,
    }


def delivery_history(session: Session, user_id: int, kind: DeliveryKind) -> list[dict[str, Any]]:
    """Every digest (or prompt) owed to the user, newest first, with how it went."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.user_id == user_id, Delivery.kind == kind.value)
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
    )
    return [_delivery_json(d) for d in rows]


def _meeting(session: Session, event: Event) -> dict[str, Any]:
    prompt = build_prompt(session, event)
    return {
        "summary": event.summary,
        "start": _iso(event.start),
        "end": _iso(event.end),
        "people": [
            {"name": p.name, "address": p.address, "last_interaction_at": _iso(p.last_at)}
            for p in prompt.people
        ],
    }


def prompt_list(
    session: Session, user_id: int, now: datetime, rules: PromptRules
) -> list[dict[str, Any]]:
    """Prompts owed or sent, and meetings in the next day that will earn one, newest first.

    "upcoming" entries are meetings that qualify and have not ended plus the delay yet.
    """
    out: list[dict[str, Any]] = []
    owed_events: set[int] = set()
    for delivery in session.scalars(
        select(Delivery)
        .where(Delivery.user_id == user_id, Delivery.kind == DeliveryKind.PROMPT.value)
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
    ):
        event = session.get(Event, delivery.event_id) if delivery.event_id else None
        if event is not None:
            owed_events.add(event.id)
        out.append(
            {
                **_delivery_json(delivery),
                "meeting": _meeting(session, event) if event is not None else None,
            }
        )
    horizon = now + timedelta(days=1)
    upcoming = session.scalars(
        select(Event)
        .where(
            Event.user_id == user_id,
            Event.end > now - rules.delay,
            Event.end <= horizon,
            Event.cancelled.is_(False),
            Event.all_day.is_(False),
        )
        .order_by(Event.end)
    )
    for event in upcoming:
        if event.id in owed_events:
            continue
        at_due = event.end + rules.delay
        if why_not_prompted(session, event, max(at_due, now), rules) is None:
            out.insert(
                0,
                {
                    "key": event.fingerprint,
                    "status": "upcoming",
                    "due_at": _iso(at_due),
                    "sent_at": None,
                    "meeting": _meeting(session, event),
                },
            )
    return out
