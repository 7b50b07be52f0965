"""The mail side of the sandbox's state: folders and the messages in them, with change numbers.

Each folder holds its own items, as Exchange does: the same mail filed in two folders is two
items with two ids and one `internetMessageId`. Moving an item gives it a new id in the new
folder and leaves a tombstone in the old one; every change takes the next number of one
mailbox-wide counter, which the delta rounds (`delta`) page through. Not thread-safe: the app
holds its lock around every call.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from keepwarm.connectors.files.headers import split_addresses
from keepwarm.connectors.sandbox.google.seed import SeedMessage
from keepwarm.connectors.sandbox.google.threads import Threader
from keepwarm.connectors.sandbox.microsoft.delta import Tombstone
from keepwarm.connectors.sandbox.microsoft.folders import (
    ROOT,
    WELL_KNOWN,
    Folder,
    folder_id,
    seed_folder,
)
from keepwarm.connectors.types import Address

__all__ = ["MailItem", "Mailbox"]

# Header facts Outlook's Focused Inbox sorts into "Other": list and bulk mail, automatic
# replies, delivery reports. (Focused Inbox is a trained classifier; the sandbox stands in for
# it with these header rules, so what it files as Other is predictable.)
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


@dataclass(slots=True)
class MailItem:
    """One message item in one folder; never a body."""

    id: str
    key: str  # the item's identity across moves (a move changes `id`, not `key`)
    folder_id: str
    internet_message_id: str
    conversation_id: str
    subject: str
    sender: Address | None
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    sent: datetime | None
    received: datetime
    created: datetime
    modified: datetime
    inference: str  # "focused" or "other"
    headers: tuple[tuple[str, str], ...]
    created_change: int
    change: int
    is_read: bool = False
    is_draft: bool = False
    order: int = 0  # insertion order: the default order of a folder's items
    versions: int = 0


@dataclass
class Mailbox:
    """One user's Outlook mailbox."""

    owner: str
    now: Callable[[], datetime]
    folders: dict[str, Folder] = field(default_factory=dict)
    change: int = 0
    _items: dict[str, MailItem] = field(default_factory=dict)
    _by_folder: dict[str, dict[str, MailItem]] = field(default_factory=dict)
    _tombstones: dict[str, list[Tombstone]] = field(default_factory=dict)
    _keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (folder, key) -> id
    _threader: Threader = field(default_factory=Threader)
    _inserted: int = 0
    # How often each message (by `MailItem.key`) was served in a delta page.
    delivered: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        root = Folder(folder_id(ROOT), "Top of Information Store", "", ROOT)
        self.folders[root.id] = root
        for name, display in WELL_KNOWN.items():
            self._make_folder(root.id, display, name)

    # -- folders -----------------------------------------------------------------------------

    def resolve(self, ref: str) -> Folder | None:
        """A folder by id or well-known name (case-insensitive); None when unknown."""
        folder = self.folders.get(ref)
        if folder is not None:
            return folder
        wanted = ref.lower()
        return next((f for f in self.folders.values() if f.well_known == wanted), None)

    def root(self) -> Folder:
        """The root folder (msgfolderroot), parent of the top-level folders."""
        found = self.resolve(ROOT)
        assert found is not None
        return found

    def folder_path(self, path: Sequence[str]) -> Folder:
        """The folder at `path` (a well-known name or display name, then child names),
        created with its parents when missing."""
        parent = self.root()
        for index, name in enumerate(path):
            known = self.resolve(name) if index == 0 else None
            if known is not None and known.well_known:
                parent = known
                continue
            child = next(
                (
                    self.folders[c]
                    for c in parent.children
                    if self.folders[c].display_name.lower() == name.lower()
                ),
                None,
            )
            parent = child or self._make_folder(parent.id, name, None)
        return parent

    def items(self, folder: Folder) -> list[MailItem]:
        """The items in `folder`."""
        return list(self._by_folder.get(folder.id, {}).values())

    def tombstones(self, folder: Folder) -> list[Tombstone]:
        """Items that left `folder`."""
        return self._tombstones.get(folder.id, [])

    def count(self, folder: Folder) -> int:
        """How many items `folder` holds."""
        return len(self._by_folder.get(folder.id, {}))

    # -- messages ----------------------------------------------------------------------------

    def get(self, item_id: str) -> MailItem | None:
        """The item with this id; None when there is none (or it moved and got a new id)."""
        return self._items.get(item_id)

    def add(
        self, seeds: Sequence[SeedMessage], *, live: bool, folder: Folder | None = None
    ) -> list[str]:
        """File messages, oldest first (threads take their first message's conversation id),
        in `folder` or each in its seed folder. A message already in its folder is skipped.
        `live` messages arrive now (receivedDateTime now); seeded ones when their Received: line
        or Date says.
        Returns the ids added."""
        ordered = sorted(seeds, key=lambda seed: _sent(seed) or datetime.max.replace(tzinfo=UTC))
        added: list[str] = []
        for seed in ordered:
            target = folder or self.folder_path(seed_folder(seed.record))
            key = _item_key(seed)
            if (target.id, key) in self._keys:
                continue
            now = self.now()
            sent = _sent(seed)
            received = now if live else _received(seed) or now
            conversation = self._threader.assign(seed.record, seed.headers, key)
            self.change += 1
            self._inserted += 1
            record = seed.record
            item = MailItem(
                id=_item_id(key, target.id, 0),
                key=key,
                folder_id=target.id,
                internet_message_id=_internet_id(record.message_id, key),
                conversation_id=_conversation_id(conversation),
                subject=record.subject or "",
                from_=record.sender,
                sender=_sender_header(seed) or record.sender,
                to=record.to,
                cc=record.cc,
                bcc=record.bcc,
                reply_to=record.reply_to,
                sent=sent,
                received=received,
                created=received,
                modified=received,
                inference=_inference(seed, target),
                headers=seed.headers,
                created_change=self.change,
                change=self.change,
                is_read=not live,
                order=self._inserted,
            )
            self._store(item)
            added.append(item.id)
        return added

    def move(self, item_id: str, destination: Folder) -> str:
        """Move an item: a new id in `destination`, a tombstone in its old folder. Returns the
        new id. Raises KeyError for an unknown id."""
        item = self._items[item_id]
        self._remove(item)
        item.folder_id = destination.id
        item.versions += 1
        item.id = _item_id(item.key, destination.id, item.versions)
        item.modified = self.now()
        item.created_change = item.change = self.change
        self._store(item)
        return item.id

    def delete(self, item_id: str) -> None:
        """Delete an item for good (a tombstone in its folder). Raises KeyError."""
        self._remove(self._items[item_id])

    def mark_read(self, item_id: str, read: bool = True) -> None:
        """Change an item's read state (an update in the next delta). Raises KeyError."""
        item = self._items[item_id]
        self.change += 1
        item.is_read = read
        item.change = self.change
        item.modified = self.now()

    def expire(self, folder: Folder | None = None) -> None:
        """End every delta token issued for `folder` (all folders when None)."""
        for each in [folder] if folder is not None else list(self.folders.values()):
            each.epoch += 1

    def totals(self) -> tuple[int, int]:
        """(items, folders) in the mailbox."""
        return len(self._items), len(self.folders)

    def _store(self, item: MailItem) -> None:
        self._items[item.id] = item
        self._by_folder.setdefault(item.folder_id, {})[item.id] = item
        self._keys[(item.folder_id, item.key)] = item.id

    def _remove(self, item: MailItem) -> None:
        self.change += 1
        del self._items[item.id]
        del self._by_folder[item.folder_id][item.id]
        del self._keys[(item.folder_id, item.key)]
        self._tombstones.setdefault(item.folder_id, []).append(Tombstone(item.id, self.change))

    def _make_folder(self, parent_id: str, name: str, well_known: str | None) -> Folder:
        parent = self.folders[parent_id]
        path = f"{parent.id}/{well_known or name.lower()}"
        folder = Folder(folder_id(path), name, parent_id, well_known)
        self.folders[folder.id] = folder
        parent.children.append(folder.id)
        return folder


def _sent(seed: SeedMessage) -> datetime | None:
    """sentDateTime: the Date header as Exchange shows it (also the dates keepwarm's importer
    rejects as impossible, such as Enron's 1979-12-31)."""
    if seed.record.sent_at is not None:
        return seed.record.sent_at
    raw = next((value for name, value in seed.headers if name.lower() == "date"), None)
    if raw:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is not None and parsed.year >= 1900:
            return parsed.astimezone(UTC)
    return None


def _received(seed: SeedMessage) -> datetime | None:
    """receivedDateTime of seeded mail: when its last server accepted it (the topmost
    Received: line), else its Date as Exchange shows it (even a placeholder such as Enron's
    1979-12-31: a mailbox imported into Exchange keeps the times it came with); None (it
    arrives now) for mail without any."""
    return seed.record.received_at or seed.record.sent_at or _sent(seed)


def _sender_header(seed: SeedMessage) -> Address | None:
    """The Sender header's mailbox: who actually sent it when a delegate sent for `From`."""
    raw = next((value for name, value in seed.headers if name.lower() == "sender"), None)
    if not raw:
        return None
    for name, address in split_addresses([raw]):
        address = address.strip().strip("<>").lower()
        if "@" in address:
            return Address(address, name.strip('" ') or None)
    return None


def _inference(seed: SeedMessage, folder: Folder) -> str:
    """Focused or Other (see the module's note); the owner's sent mail is always Focused."""
    record = seed.record
    if folder.well_known in ("sentitems", "drafts", "outbox"):
        return "focused"
    automatic = record.auto_submitted not in (None, "no")
    if (
        record.list_id
        or record.list_unsubscribe
        or record.precedence in _BULK_PRECEDENCE
        or automatic
        or record.auto_reply_header
        or record.content_type == "multipart/report"
    ):
        return "other"
    return "focused"


def _item_key(seed: SeedMessage) -> str:
    """The identity of a seed message: its source file (and mbox position)."""
    return hashlib.sha256(seed.record.source.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _item_id(key: str, folder: str, version: int) -> str:
    digest = hashlib.sha256(f"{key}:{folder}:{version}".encode()).digest()[:51]
    return "AAMkAD" + base64.urlsafe_b64encode(digest).decode() + "AAA="


def _conversation_id(thread: str) -> str:
    digest = hashlib.sha256(("conversation:" + thread).encode()).digest()[:21]
    return "AAQkAD" + base64.urlsafe_b64encode(digest).decode() + "="


def _internet_id(message_id: str | None, key: str) -> str:
    """`<id@host>`; Exchange gives mail that arrived without a Message-ID one of its own."""
    if message_id:
        return f"<{message_id}>"
    return f"<{key}@sandbox.prod.outlook.com>"
