"""Graph's message and event resources as keepwarm's provider-neutral records.

A message is read the way `keepwarm import` reads the same mail from a file, so a mailbox
synced through Graph and the same mailbox imported give the same relationships:

- the sender is `from` (the mailbox the mail is from); `sender`, which differs when a delegate
  sends for someone, is what the From line's owner delegated, as with files;
- addresses are lower case; a display name that is only the address again (what Exchange
  shows for a mailbox without a name) is no name;
- dates Exchange keeps for mail that never had a usable one (at or before 1980, after 2100)
  count as no date, and a `sentDateTime` later than the receipt gives way to it, as the file
  importer does with Date and Received: (`believed_sent_at`);
- Outlook's Focused Inbox filing a message under Other (`inferenceClassification`) is carried
  as the label OUTLOOK_OTHER, a provider category like Gmail's tabs other than Primary;
- the message's identity across folders (a moved message gets a new Graph id) is its
  `internetMessageId`, which stands as `provider_id`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from keepwarm.connectors.files.headers import believed_sent_at
from keepwarm.connectors.text import one_line
from keepwarm.connectors.types import (
    SINGLE_OCCURRENCE,
    Address,
    Attendee,
    CalendarEvent,
    MailMessage,
    ResponseStatus,
    Unreadable,
)

__all__ = [
    "EVENT_PREFIX",
    "MESSAGE_FIELDS",
    "OTHER_LABEL",
    "to_calendar_event",
    "to_mail_message",
]

# The message properties keepwarm reads: never a body.
MESSAGE_FIELDS = (
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "subject",
    "sentDateTime",
    "receivedDateTime",
    "internetMessageId",
    "conversationId",
    "inferenceClassification",
    "isDraft",
)
OTHER_LABEL = "OUTLOOK_OTHER"
EVENT_PREFIX = "graph:"
_EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
_LATEST_YEAR = 2100
_ID_LIMIT = 200  # the longest provider or thread id stored as it is
_RESPONSES = {
    "accepted": ResponseStatus.ACCEPTED,
    "organizer": ResponseStatus.ACCEPTED,
    "declined": ResponseStatus.DECLINED,
    "tentativelyAccepted": ResponseStatus.TENTATIVE,
}


def to_mail_message(
    item: dict[str, Any], *, source: str, folder: str, sent_folder: bool
) -> MailMessage | Unreadable:
    """A Graph message (with MESSAGE_FIELDS selected) filed in `folder`."""
    sender = _address(item.get("from"))
    to, cc, bcc = (
        _addresses(item.get(name)) for name in ("toRecipients", "ccRecipients", "bccRecipients")
    )
    if sender is None and not (to or cc or bcc):
        return Unreadable(source, "no sender or recipient address")
    internet_id = str(item.get("internetMessageId") or "").strip()
    message_id = "".join(internet_id.strip("<>").split()) or None
    subject = one_line(str(item.get("subject") or ""))
    other = str(item.get("inferenceClassification") or "").lower() == "other"
    received = _plausible(_offset(item.get("receivedDateTime")))
    return MailMessage(
        source=source,
        message_id=message_id,
        sent_at=believed_sent_at(_plausible(_offset(item.get("sentDateTime"))), received, []),
        subject=subject or None,
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=_addresses(item.get("replyTo")),
        folder=folder,
        labels=(OTHER_LABEL,) if other else (),
        in_sent_folder=sent_folder,
        provider_id=_bounded(internet_id) if internet_id else _bounded(str(item["id"])),
        thread_id=_bounded(str(item["conversationId"])) if item.get("conversationId") else None,
        received_at=received,
    )


def to_calendar_event(item: dict[str, Any], owner: str) -> CalendarEvent | None:
    """An occurrence from the calendar view (a removal as a tombstone); None when it has no
    usable time.

    Each occurrence is keyed by its Graph id alone: an occurrence keeps its id when it is moved
    (it becomes an exception), and a removal names nothing but the id.
    """
    event_id = str(item.get("id") or "")
    if not event_id:
        return None
    uid = EVENT_PREFIX + event_id
    if "@removed" in item:
        return CalendarEvent(
            source=f"graph-calendar:{event_id}",
            uid=uid,
            occurrence_start=SINGLE_OCCURRENCE,
            start=SINGLE_OCCURRENCE,
            end=SINGLE_OCCURRENCE,
            summary=None,
            all_day=False,
            cancelled=True,
            organizer=None,
            attendees=(),
            tombstone=True,
        )
    start, end = _local(item.get("start")), _local(item.get("end"))
    if start is None:
        return None
    organizer = _address(item.get("organizer"))
    attendees = {}
    for entry in item.get("attendees") or []:
        address = _address(entry)
        if address is None:
            continue
        status = (entry.get("status") or {}).get("response", "")
        attendees[address.email] = Attendee(
            email=address.email,
            name=address.name,
            response=_RESPONSES.get(status, ResponseStatus.NEEDS_ACTION),
            is_resource=entry.get("type") == "resource",
            is_organizer=organizer is not None and address.email == organizer.email,
        )
    own = (item.get("responseStatus") or {}).get("response", "")
    if organizer is None or organizer.email != owner:
        # The owner's own answer is the event's responseStatus (their copy of the meeting).
        previous = attendees.get(owner)
        attendees[owner] = Attendee(
            email=owner,
            name=previous.name if previous else None,
            response=_RESPONSES.get(own, ResponseStatus.NEEDS_ACTION),
        )
    return CalendarEvent(
        source=f"graph-calendar:{event_id}",
        uid=uid,
        occurrence_start=SINGLE_OCCURRENCE,
        start=start,
        end=end or start,
        summary=one_line(str(item.get("subject") or "")) or None,
        all_day=bool(item.get("isAllDay")),
        cancelled=bool(item.get("isCancelled")),
        organizer=organizer,
        attendees=tuple(attendees.values()),
        calendar_owner=owner,
    )


def _address(recipient: Any) -> Address | None:
    """A recipient `{"emailAddress": {"name", "address"}}` as an Address."""
    if not isinstance(recipient, dict):
        return None
    mailbox = recipient.get("emailAddress") or {}
    email = str(mailbox.get("address") or "").strip().strip("<>").strip().lower()
    if "@" not in email or " " in email:
        return None
    name = one_line(str(mailbox.get("name") or "")).strip("\"' ")
    if not name or name.lower() == email or ("@" in name and " " not in name):
        return Address(email)
    return Address(email, name)


def _addresses(recipients: Any) -> tuple[Address, ...]:
    found = (_address(r) for r in recipients or [])
    return tuple(address for address in found if address is not None)


def _offset(value: Any) -> datetime | None:
    """A DateTimeOffset (`2018-09-09T03:15:08Z`) as an aware UTC datetime."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plausible(moment: datetime | None) -> datetime | None:
    """`moment`, or None for the placeholders of mail that never had a usable date."""
    if moment is None or moment <= _EARLIEST or moment.year > _LATEST_YEAR:
        return None
    return moment


def _local(value: Any) -> datetime | None:
    """A dateTimeTimeZone in UTC (what keepwarm asks for with Prefer: outlook.timezone)."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    text = str(value["dateTime"])
    head, _, fraction = text.partition(".")
    try:
        moment = datetime.fromisoformat(head)
    except ValueError:
        return None
    if fraction:
        digits = "".join(ch for ch in fraction if ch.isdigit())[:6]
        moment = moment.replace(microsecond=int(digits.ljust(6, "0")))
    zone = str(value.get("timeZone") or "UTC")
    if zone.upper() not in ("UTC", "ETC/UTC", "COORDINATED UNIVERSAL TIME"):
        return None  # keepwarm always asks for UTC; anything else is not what it asked for
    return moment.replace(tzinfo=UTC)


def _bounded(value: str) -> str:
    """An id as it is, or its SHA-256 when longer than the column holds."""
    if len(value) <= _ID_LIMIT:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
