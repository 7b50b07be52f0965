"""Storing imported or synced records: batched upserts on natural keys, nothing stored twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable
from keepwarm.services.core.upsert import insert_for
from keepwarm.services.mail.fingerprints import event_fingerprint, message_fingerprint
from keepwarm.services.models import (
    DeadLetter,
    Event,
    EventAttendee,
    Message,
    MessageRecipient,
    RecordKind,
    RecordSource,
    source_key,
)

__all__ = ["StoreCounts", "store_dead_letters", "store_events", "store_messages"]


@dataclass(slots=True)
class StoreCounts:
    """What one batch did: records seen, new rows written, rows changed in place."""

    seen: int = 0
    imported: int = 0
    updated: int = 0


def _message_row(
    user_id: int, run_id: int | None, m: MailMessage, fp: str, account_id: int | None = None
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "user_id": user_id,
        "fingerprint": fp,
        "message_id": m.message_id,
        "sent_at": m.sent_at,
        "subject": m.subject,
        "sender": m.sender.email if m.sender else None,
        "sender_name": m.sender.name if m.sender else None,
        "recipient_count": len({a.email for a in (*m.to, *m.cc, *m.bcc)}),
        "in_reply_to": m.in_reply_to,
        "folder": m.folder,
        "labels": ",".join(m.labels) or None,
        "in_sent_folder": m.in_sent_folder,
        "list_id": m.list_id,
        "list_unsubscribe": m.list_unsubscribe,
        "precedence": m.precedence,
        "auto_submitted": m.auto_submitted,
        "content_type": m.content_type,
        "auto_reply_header": m.auto_reply_header,
        "provider_id": m.provider_id,
        "thread_id": m.thread_id,
        "import_run_id": run_id,
        "derived": False,
        "filter_reason": None,
    }


def _recipient_rows(message_id: int, m: MailMessage) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for role, addresses in (("to", m.to), ("cc", m.cc), ("bcc", m.bcc), ("reply_to", m.reply_to)):
        for a in addresses:
            rows.setdefault(
                (role, a.email),
                {"message_id": message_id, "role": role, "address": a.email, "name": a.name},
            )
    return list(rows.values())


def _note_sources(
    session: Session,
    user_id: int,
    kind: RecordKind,
    record_ids: Sequence[int],
    account_id: int | None,
) -> None:
    """Record that `account_id` (None: files) brought these records, new or already stored."""
    if not record_ids:
        return
    source = source_key(account_id)
    rows = [
        {
            "kind": kind,
            "record_id": record_id,
            "source": source,
            "user_id": user_id,
            "account_id": account_id,
        }
        for record_id in sorted(set(record_ids))
    ]
    session.execute(insert_for(session, RecordSource).on_conflict_do_nothing(), rows)


def store_messages(
    session: Session,
    user_id: int,
    run_id: int | None,
    messages: Sequence[MailMessage],
    account_id: int | None = None,
) -> StoreCounts:
    """Insert the messages not stored yet; return how many were seen and how many were new.

    A copy of a stored message found in a sent folder marks the stored one as sent mail, since
    that is evidence of who the owner is; nothing else about a stored message changes.
    """
    counts = StoreCounts(seen=len(messages))
    by_fp: dict[str, MailMessage] = {}
    sent_fps: set[str] = set()
    for m in messages:
        fp = message_fingerprint(m)
        by_fp.setdefault(fp, m)
        if m.in_sent_folder:
            sent_fps.add(fp)
    if not by_fp:
        return counts
    rows = [_message_row(user_id, run_id, m, fp, account_id) for fp, m in by_fp.items()]
    for row in rows:
        row["in_sent_folder"] = row["fingerprint"] in sent_fps
    stmt = (
        insert_for(session, Message)
        .on_conflict_do_nothing(index_elements=["user_id", "fingerprint"])
        .returning(Message.id, Message.fingerprint)
    )
    inserted = session.execute(stmt, rows).all()
    counts.imported = len(inserted)
    recipients = [r for mid, fp in inserted for r in _recipient_rows(mid, by_fp[fp])]
    if recipients:
        session.execute(insert_for(session, MessageRecipient).on_conflict_do_nothing(), recipients)
    new_fps = {fp for _, fp in inserted}
    stored = [mid for mid, _ in inserted]
    if len(new_fps) < len(by_fp):  # copies of stored messages: this source brought them too
        stored += session.scalars(
            select(Message.id).where(
                Message.user_id == user_id, Message.fingerprint.in_(set(by_fp) - new_fps)
            )
        )
    _note_sources(session, user_id, RecordKind.MESSAGE, stored, account_id)
    already_stored_sent = sent_fps - new_fps
    if already_stored_sent:
        result = session.execute(
            update(Message)
            .where(
                Message.user_id == user_id,
                Message.fingerprint.in_(already_stored_sent),
                Message.in_sent_folder.is_(False),
            )
            .values(in_sent_folder=True)
            .execution_options(synchronize_session=False)
        )
        counts.updated = int(getattr(result, "rowcount", 0) or 0)
    return counts


_EVENT_FIELDS = ("start", "end", "summary", "all_day", "cancelled", "organizer", "organizer_name")


def _event_row(
    user_id: int, run_id: int | None, e: CalendarEvent, fp: str, account_id: int | None = None
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "user_id": user_id,
        "fingerprint": fp,
        "uid": e.uid,
        "occurrence_start": e.occurrence_start,
        "start": e.start,
        "end": e.end,
        "summary": e.summary,
        "all_day": e.all_day,
        "cancelled": e.cancelled,
        "organizer": e.organizer.email if e.organizer else None,
        "organizer_name": e.organizer.name if e.organizer else None,
        "calendar_owner": e.calendar_owner,
        "import_run_id": run_id,
        "derived": False,
        "filter_reason": None,
    }


def _attendee_rows(event_id: int, e: CalendarEvent) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for a in e.attendees:
        rows.setdefault(
            a.email,
            {
                "event_id": event_id,
                "address": a.email,
                "name": a.name,
                "response": a.response.value,
                "is_resource": a.is_resource,
                "is_organizer": a.is_organizer,
            },
        )
    return list(rows.values())


def _attendee_key(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(r["address"], r["name"], r["response"], r["is_resource"]) for r in rows}


def store_events(
    session: Session,
    user_id: int,
    run_id: int | None,
    events: Sequence[CalendarEvent],
    seen_in_run: set[str] | None = None,
    account_id: int | None = None,
) -> StoreCounts:
    """Insert new occurrences and update changed ones (moved, renamed, cancelled, re-invited).

    An occurrence whose stored copy is identical is left alone, so re-importing the same
    calendar writes nothing; a changed one is marked for derivation again. Within one run the
    first copy of an occurrence wins (`seen_in_run` carries what earlier batches stored):
    files that disagree about one UID must not make every re-import flip between them.
    """
    counts = StoreCounts(seen=len(events))
    seen = seen_in_run if seen_in_run is not None else set()
    by_fp: dict[str, CalendarEvent] = {}
    for e in events:
        fp = event_fingerprint(e)
        if fp not in seen:
            seen.add(fp)
            by_fp[fp] = e
    if not by_fp:
        return counts
    existing = {
        ev.fingerprint: ev
        for ev in session.scalars(
            select(Event).where(Event.user_id == user_id, Event.fingerprint.in_(by_fp))
        )
    }
    # A tombstone for an occurrence never stored has nothing to cancel.
    new_rows = [
        _event_row(user_id, run_id, e, fp, account_id)
        for fp, e in by_fp.items()
        if fp not in existing and not e.tombstone
    ]
    brought = [ev.id for ev in existing.values()]
    if new_rows:
        inserted = session.execute(
            insert_for(session, Event)
            .on_conflict_do_nothing(index_elements=["user_id", "fingerprint"])
            .returning(Event.id, Event.fingerprint),
            new_rows,
        ).all()
        counts.imported = len(inserted)
        brought += [eid for eid, _ in inserted]
        attendees = [r for eid, fp in inserted for r in _attendee_rows(eid, by_fp[fp])]
        if attendees:
            session.execute(insert_for(session, EventAttendee), attendees)
    _note_sources(session, user_id, RecordKind.EVENT, brought, account_id)
    if existing:
        stored_attendees: dict[int, list[dict[str, Any]]] = {}
        for a in session.scalars(
            select(EventAttendee).where(
                EventAttendee.event_id.in_([ev.id for ev in existing.values()])
            )
        ):
            stored_attendees.setdefault(a.event_id, []).append(
                {
                    "address": a.address,
                    "name": a.name,
                    "response": a.response,
                    "is_resource": a.is_resource,
                }
            )
        for fp, stored in existing.items():
            counts.updated += _update_event(
                session, stored, by_fp[fp], stored_attendees.get(stored.id, [])
            )
    return counts


def _update_event(
    session: Session, stored: Event, event: CalendarEvent, stored_attendees: list[dict[str, Any]]
) -> int:
    if event.tombstone:  # only the cancellation is news; the rest stays as stored
        if stored.cancelled:
            return 0
        stored.cancelled, stored.derived = True, False
        session.flush()
        return 1
    row = _event_row(stored.user_id, None, event, stored.fingerprint)
    attendees = _attendee_rows(stored.id, event)
    if not any(getattr(stored, f) != row[f] for f in _EVENT_FIELDS) and _attendee_key(
        attendees
    ) == _attendee_key(stored_attendees):
        return 0
    for f in _EVENT_FIELDS:
        setattr(stored, f, row[f])
    stored.derived = False
    session.execute(delete(EventAttendee).where(EventAttendee.event_id == stored.id))
    if attendees:
        session.execute(insert_for(session, EventAttendee), attendees)
    session.flush()
    return 1


def store_dead_letters(
    session: Session,
    user_id: int,
    run_id: int | None,
    items: Sequence[Unreadable],
    now: datetime,
) -> None:
    """Keep every unreadable record with its reason (never dropped silently)."""
    if not items:
        return
    rows = {
        (item.source, item.reason[:500]): {
            "user_id": user_id,
            "import_run_id": run_id,
            "source": item.source,
            "reason": item.reason[:500],
            "created_at": now,
        }
        for item in items
    }
    session.execute(insert_for(session, DeadLetter).on_conflict_do_nothing(), list(rows.values()))
