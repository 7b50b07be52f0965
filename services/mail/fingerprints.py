"""Natural keys for messages and event occurrences, stable across folders, imports and syncs."""

from __future__ import annotations

import hashlib
from datetime import datetime

from keepwarm.connectors.types import CalendarEvent, MailMessage

__all__ = ["event_fingerprint", "message_fingerprint"]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def message_fingerprint(message: MailMessage) -> str:
    """Identity of a message regardless of which folder or copy it came from.

    Enron keeps copies of one message in several folders under different Message-IDs, and a
    sent copy may carry a Bcc the received copy lacks, so the key is sender, To/Cc, date and
    subject. Without a date the Message-ID stands in, so undated messages still dedupe on
    re-import without merging distinct ones.
    """
    recipients = ",".join(sorted({a.email for a in (*message.to, *message.cc)}))
    sender = message.sender.email if message.sender else ""
    when = _when(message.sent_at) or f"id:{message.message_id or message.source}"
    subject = " ".join((message.subject or "").split()).lower()
    return _digest(sender, recipients, when, subject)


def event_fingerprint(event: CalendarEvent) -> str:
    """Identity of one occurrence: its UID and original start (a moved occurrence keeps it)."""
    return _digest(event.uid, _when(event.occurrence_start))
