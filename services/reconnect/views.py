"""What the CLI and API show: the queue, the contact list and one contact, as plain data.

The JSON shapes here are a stable contract (README, "Output for scripts"): keys are only ever
added, never renamed or removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.identity import resolve as identity_pass
from keepwarm.services.models import Interaction, Person, PersonAddress
from keepwarm.services.reconnect import (
    QueueRules,
    compute_stats,
    load_histories,
    rank_suggestions,
    store,
)
from keepwarm.services.reconnect.engine import Suggestion, dormant_ties
from keepwarm.services.reconnect.learning import load_signals
from keepwarm.services.reconnect.lifecycle import (
    ContactState,
    LifecycleRules,
    person_for_address,
    states_at,
)
from keepwarm.services.reconnect.notes import notes_for, open_follow_ups
from keepwarm.services.reconnect.stats import ContactStats

__all__ = ["contact_detail", "list_contacts", "suggestions", "suggestions_from_history"]


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _contact_ref(stats: ContactStats) -> dict[str, Any]:
    return {"name": stats.history.name, "addresses": list(stats.history.addresses)}


def suggestion_json(s: Suggestion) -> dict[str, Any]:
    """One queue entry in the contract's shape."""
    st = s.stats
    return {
        "contact": _contact_ref(st),
        "last_interaction_at": _iso(st.last_at),
        "months_silent": s.months_silent,
        "typical_gap_days": (
            round(st.typical_gap_days, 1) if st.typical_gap_days is not None else None
        ),
        "emails_sent": st.emails_sent,
        "emails_received": st.emails_received,
        "meetings": st.meetings,
        "last_subject": st.last_subject,
        "score": s.score,
        "why": s.why,
        "level": s.level,
        "threshold_days": round(s.threshold_days, 1),
    }


def suggestions(
    session: Session,
    user_id: int,
    as_of: datetime,
    rules: QueueRules,
    limit: int | None,
    *,
    lifecycle: LifecycleRules | None = None,
    dormant: bool = False,
    current: bool = False,
) -> list[Suggestion]:
    """The reconnect queue (or the dormant ties) as at `as_of`, best first; no later data.

    From the statistics the worker keeps (store.py) whenever they describe the data at
    `as_of`, which gives the same queue as the history; otherwise from every interaction.
    `current` (`as_of` is now): statistics or a model that do not hold are built again and
    written in `session`, for the caller to commit.
    """
    states = states_at(session, user_id, as_of, lifecycle or LifecycleRules())
    stored = store.stored_queue(
        session, user_id, as_of, rules, states, dormant=dormant, current=current, limit=limit
    )
    ranked = (
        stored
        if stored is not None
        else suggestions_from_history(session, user_id, as_of, rules, states, dormant=dormant)
    )
    return ranked[:limit] if limit is not None else ranked


def suggestions_from_history(
    session: Session,
    user_id: int,
    as_of: datetime,
    rules: QueueRules,
    states: Mapping[int, ContactState],
    *,
    dormant: bool = False,
) -> list[Suggestion]:
    """The queue (or the dormant ties) at `as_of` from every interaction up to then."""
    stats = [compute_stats(h) for h in load_histories(session, user_id, as_of)]
    if dormant:
        return dormant_ties(stats, as_of, rules, states)
    signals = load_signals(session, user_id, as_of)
    return rank_suggestions(stats, as_of, rules, states, signals)


def _contact_json(st: ContactStats) -> dict[str, Any]:
    return {
        **_contact_ref(st),
        "last_interaction_at": _iso(st.last_at),
        "first_interaction_at": _iso(st.first_at),
        "emails_sent": st.emails_sent,
        "emails_received": st.emails_received,
        "meetings": st.meetings,
        "talked_elsewhere": st.talked_elsewhere,
        "typical_gap_days": (
            round(st.typical_gap_days, 1) if st.typical_gap_days is not None else None
        ),
        "strength": st.strength,
    }


def list_contacts(session: Session, user_id: int, as_of: datetime) -> list[dict[str, Any]]:
    """Everyone the owner has a relationship with, strongest first."""
    stats = [compute_stats(h) for h in load_histories(session, user_id, as_of)]
    chosen = sorted(
        (s for s in stats if s.is_relationship), key=lambda s: (-s.strength, s.history.addresses)
    )
    return [_contact_json(s) for s in chosen]


def merge_candidates(session: Session, user_id: int, as_of: datetime) -> list[dict[str, Any]]:
    """Addresses that may be one person, where at least one is a relationship, with why."""
    among = {
        s.history.person_id
        for s in (compute_stats(h) for h in load_histories(session, user_id, as_of))
        if s.is_relationship
    }
    return [
        {"address": c.address, "other": c.other, "reason": c.reason}
        for c in identity_pass.merge_candidates(session, user_id, among)
    ]


def contact_detail(session: Session, user_id: int, address: str, as_of: datetime) -> dict[str, Any]:
    """One person and their timeline, newest first.

    Raises NotFound for an unknown address and InvalidInput for something that is no address.
    """
    person_id = person_for_address(session, user_id, address)
    histories = load_histories(session, user_id, as_of, [person_id])
    person = session.get(Person, person_id)
    assert person is not None
    if not histories:
        addresses = session.scalars(
            select(PersonAddress.address).where(PersonAddress.person_id == person_id)
        ).all()
        return {
            "name": person.display_name,
            "addresses": list(addresses),
            "relationship": False,
            "timeline": [],
            **_notes_json(session, user_id, person_id, as_of),
        }
    st = compute_stats(histories[0])
    timeline = session.execute(
        select(Interaction.at, Interaction.kind, Interaction.subject, Interaction.group_size)
        .where(Interaction.person_id == person_id, Interaction.at <= as_of)
        .order_by(Interaction.at.desc(), Interaction.id.desc())
    ).all()
    notes = _notes_json(session, user_id, person_id, as_of)
    entries = [
        {"at": _iso(at), "kind": kind, "subject": subject, "group_size": size}
        for at, kind, subject, size in timeline
    ]
    # Notes sit on the timeline among the interactions (newest first), and apart as a list.
    entries += [
        {"at": n["at"], "kind": "note", "subject": n["text"], "group_size": None}
        for n in notes["notes"]
    ]
    entries.sort(key=lambda e: str(e["at"]), reverse=True)
    return {**_contact_json(st), "relationship": st.is_relationship, "timeline": entries, **notes}


def _notes_json(session: Session, user_id: int, person_id: int, as_of: datetime) -> dict[str, Any]:
    follow_ups = open_follow_ups(session, user_id, as_of, due_only=False, person_id=person_id)
    return {
        "notes": [
            {"at": _iso(n.at), "text": n.text}
            for n in notes_for(session, user_id, person_id, as_of)
        ],
        "follow_ups": [
            {"due_at": _iso(f.due_at), "set_at": _iso(f.created_at), "reason": f.reason}
            for f in follow_ups
        ],
    }
