"""Outlook's mail folders: the well-known ones every mailbox has, and where seed mail goes.

A seed message is filed by the folder it was found in (maildir and Enron trees) or by its
Takeout labels: sent mail in Sent Items, spam in Junk Email, trash in Deleted Items, inbox
mail in the Inbox, anything else in a folder of its own name (`inbox/projects` becomes a child
folder `projects` of the Inbox), and mail with no folder at all in the Inbox.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from keepwarm.connectors.files.folders import SENT_FOLDERS
from keepwarm.connectors.types import MailMessage

__all__ = ["WELL_KNOWN", "Folder", "folder_id", "seed_folder"]

# Well-known name -> display name, in the order Outlook lists them.
WELL_KNOWN = {
    "inbox": "Inbox",
    "drafts": "Drafts",
    "sentitems": "Sent Items",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "archive": "Archive",
    "outbox": "Outbox",
    "conversationhistory": "Conversation History",
}
ROOT = "msgfolderroot"

_BY_NAME = {
    **{name: "sentitems" for name in SENT_FOLDERS},
    "inbox": "inbox",
    "notes_inbox": "inbox",  # Lotus Notes' inbox in the Enron mailboxes
    "deleted_items": "deleteditems",
    "deleted items": "deleteditems",
    "deleted messages": "deleteditems",
    "trash": "deleteditems",
    "bin": "deleteditems",
    "spam": "junkemail",
    "junk": "junkemail",
    "junk e-mail": "junkemail",
    "junk email": "junkemail",
    "drafts": "drafts",
    "draft": "drafts",
    "archive": "archive",
    "archived": "archive",
    "outbox": "outbox",
}
# Takeout labels (lower case) that say which well-known folder a message is in, strongest first.
_LABEL_ORDER = (
    ("sent", "sentitems"),
    ("spam", "junkemail"),
    ("trash", "deleteditems"),
    ("draft", "drafts"),
    ("drafts", "drafts"),
    ("inbox", "inbox"),
)
_NOT_FOLDERS = frozenset(
    {"opened", "unread", "important", "starred", "archived", "chat"}
    | {f"category {c}" for c in ("personal", "social", "promotions", "updates", "forums")}
)


@dataclass(slots=True)
class Folder:
    """One mail folder. `epoch` ends every delta token issued for it when bumped."""

    id: str
    display_name: str
    parent_id: str
    well_known: str | None = None
    children: list[str] = field(default_factory=list)
    epoch: int = 0


def folder_id(path: str) -> str:
    """A Graph-shaped folder id (`AQMkAD...`), stable for a folder path."""
    digest = hashlib.sha256(("folder:" + path).encode()).digest()[:27]
    return "AQMkAD" + base64.urlsafe_b64encode(digest).decode() + "AAA="


def seed_folder(record: MailMessage) -> list[str]:
    """The folder path of a seed message: a well-known name first, then child folder names."""
    if record.labels:
        lowered = {label.strip().lower() for label in record.labels}
        for label, well_known in _LABEL_ORDER:
            if label in lowered:
                return [well_known]
        own = [label for label in record.labels if label.strip().lower() not in _NOT_FOLDERS]
        if own:
            return [part for part in own[0].split("/") if part]
        return ["archive"]  # labelled, but in no folder: Gmail's archived mail
    if record.in_sent_folder:
        return ["sentitems"]
    if not record.folder:
        return ["inbox"]
    parts = [part for part in record.folder.split("/") if part]
    if not parts:
        return ["inbox"]
    first = _BY_NAME.get(parts[0].strip().lower())
    if first is not None:
        return [first, *parts[1:]]
    last = _BY_NAME.get(parts[-1].strip().lower())
    if last is not None and len(parts) > 1 and last != "inbox":
        return [last]  # "archive/2019/sent": the sent folder of an archive tree
    return parts
