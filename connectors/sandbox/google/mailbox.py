"""The Gmail side of the sandbox's state: messages, labels, threads and the history log.

Copies of one message (Enron files the same mail in several folders) are held once with the
union of their labels, keyed by (From, To, Cc, Date, Subject). Seeding writes no history: the
log starts at the seeded mailbox's historyId, and anything older is outside the retained window.
Not thread-safe: the app holds its lock around every call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from keepwarm.connectors.sandbox.google.labels import LabelTable
from keepwarm.connectors.sandbox.google.seed import SeedMessage
from keepwarm.connectors.sandbox.google.threads import Threader

__all__ = ["HistoryGone", "HistoryRecord", "Mailbox", "StoredMessage"]

DedupeKey = tuple[str, tuple[str, ...], tuple[str, ...], str, str]


@dataclass(slots=True)
class StoredMessage:
    """One message as Gmail holds it; never a body."""

    id: str
    thread_id: str
    label_ids: list[str]
    headers: tuple[tuple[str, str], ...]
    internal_date: int  # ms since the epoch
    size: int
    history_id: int
    mime_type: str


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One change: `messageAdded` (labels = the message's labels) or `labelAdded` (the added
    ones)."""

    id: int
    kind: str
    message_id: str
    thread_id: str
    label_ids: tuple[str, ...]


class HistoryGone(Exception):
    """A startHistoryId outside the retained window (or never issued): Gmail answers 404."""


class Mailbox:
    """One user's Gmail mailbox."""

    def __init__(self, owner: str, *, now_ms: Callable[[], int], first_history_id: int = 1000):
        self.owner = owner
        self.labels = LabelTable()
        self.history_id = first_history_id
        self.history_floor = first_history_id  # oldest startHistoryId still answered
        self._now_ms = now_ms
        self._messages: dict[str, StoredMessage] = {}
        self._by_key: dict[DedupeKey, str] = {}
        self._threads: dict[str, list[str]] = {}
        self._threader = Threader()
        self._history: list[HistoryRecord] = []
        self._order: list[StoredMessage] | None = None  # newest first, rebuilt lazily

    def add(self, seeds: Sequence[SeedMessage], *, live: bool) -> list[str]:
        """Store messages oldest first (so a thread takes its first message's id); copies of a
        stored message add their labels to it. `live` writes history records and new
        historyIds. Returns the ids added or changed."""
        prepared = sorted(
            ((self._internal_date(seed), seed) for seed in seeds), key=lambda pair: pair[0]
        )
        touched: list[str] = []
        for internal_date, seed in prepared:
            labels = self._labels_of(seed)
            key = _dedupe_key(seed)
            existing = self._by_key.get(key)
            if existing is not None:
                message = self._messages[existing]
                added = [label for label in labels if label not in message.label_ids]
                if not added:
                    continue
                message.label_ids.extend(added)
                if live:
                    message.history_id = self._record("labelAdded", message, added)
                touched.append(message.id)
                continue
            message_id = _message_id(key)
            thread_id = self._threader.assign(seed.record, seed.headers, message_id)
            message = StoredMessage(
                id=message_id,
                thread_id=thread_id,
                label_ids=labels,
                headers=seed.headers,
                internal_date=internal_date,
                size=seed.size,
                history_id=self.history_id,
                mime_type=seed.record.content_type or "text/plain",
            )
            self._messages[message_id] = message
            self._by_key[key] = message_id
            self._threads.setdefault(thread_id, []).append(message_id)
            if live:
                message.history_id = self._record("messageAdded", message, labels)
            touched.append(message_id)
        self._order = None
        return touched

    def get(self, message_id: str) -> StoredMessage | None:
        """The message with this id, None when there is none."""
        return self._messages.get(message_id)

    def thread(self, thread_id: str) -> list[StoredMessage]:
        """The messages of a thread, oldest first; empty for an unknown id."""
        found = [self._messages[i] for i in self._threads.get(thread_id, [])]
        return sorted(found, key=lambda message: (message.internal_date, message.id))

    def newest_first(self) -> list[StoredMessage]:
        """Every message by internalDate, newest first (ties: higher id first)."""
        if self._order is None:
            self._order = sorted(
                self._messages.values(),
                key=lambda message: (message.internal_date, message.id),
                reverse=True,
            )
        return self._order

    def history_since(self, start: int) -> list[HistoryRecord]:
        """Records after `start`, oldest first. Raises HistoryGone when `start` is older than
        the retained window or newer than anything issued."""
        if start < self.history_floor or start > self.history_id:
            raise HistoryGone(start)
        return [record for record in self._history if record.id > start]

    def expire_history(self) -> None:
        """Forget every history record: each historyId issued so far now gives 404. The
        mailbox moves to a new historyId, which is the oldest one answered."""
        self.history_id += 1
        self.history_floor = self.history_id
        self._history.clear()

    def totals(self) -> tuple[int, int]:
        """(messages, threads) in the mailbox."""
        return len(self._messages), len(self._threads)

    def thread_sizes(self) -> list[int]:
        """The number of messages in each thread."""
        return [len(ids) for ids in self._threads.values()]

    def _record(self, kind: str, message: StoredMessage, labels: Sequence[str]) -> int:
        self.history_id += 1
        self._history.append(
            HistoryRecord(self.history_id, kind, message.id, message.thread_id, tuple(labels))
        )
        return self.history_id

    def _labels_of(self, seed: SeedMessage) -> list[str]:
        record = seed.record
        labels = self.labels.for_takeout(record.labels) if record.labels else []
        for label in self.labels.for_folder(record.folder):
            if label not in labels:
                labels.append(label)
        if record.in_sent_folder and "SENT" not in labels:
            labels.append("SENT")
        return labels

    def _internal_date(self, seed: SeedMessage) -> int:
        """When Google accepted the message. For mail that came by SMTP that is its topmost
        `Received:` line (or an mbox envelope line), which the parser reads as `received_at`:
        forwarded, delayed and forged mail have a `Date` that disagrees with it, and Gmail
        lists by this time, not by `Date`. Mail without one was imported as
        `messages.insert` with internalDateSource=dateHeader takes it: by its Date header; and
        failing that, the time of arrival."""
        if seed.record.received_at is not None:
            return int(seed.record.received_at.timestamp() * 1000)
        if seed.record.sent_at is not None:
            return int(seed.record.sent_at.timestamp() * 1000)
        raw = _header(seed, "date")
        if raw:
            try:
                parsed = parsedate_to_datetime(raw)
                if parsed.tzinfo is not None and parsed.year >= 1970:
                    return int(parsed.timestamp() * 1000)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
        return self._now_ms()


def _header(seed: SeedMessage, name: str) -> str | None:
    return next((value for key, value in seed.headers if key.lower() == name), None)


def _dedupe_key(seed: SeedMessage) -> DedupeKey:
    record = seed.record
    sender = record.sender.email if record.sender else ""
    when = record.sent_at.isoformat() if record.sent_at else (_header(seed, "date") or "")
    return (
        sender,
        tuple(address.email for address in record.to),
        tuple(address.email for address in record.cc),
        when,
        record.subject or "",
    )


def _message_id(key: DedupeKey) -> str:
    """16 hex digits, the same for the same message whichever copy or path it came from."""
    text = "\x1f".join([key[0], ",".join(key[1]), ",".join(key[2]), key[3], key[4]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
