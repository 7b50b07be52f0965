"""Gmail labels: the system set, and how seed folders and Takeout labels map onto it.

An imported folder or Takeout label with no system equivalent becomes a user label
(`Label_1`, `Label_2`, ... in order of first sight), as Gmail's own import does.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SYSTEM_LABELS", "LabelTable", "is_hidden"]

# (id, shown in the label list); Gmail lists these for every mailbox.
SYSTEM_LABELS = (
    "CHAT",
    "SENT",
    "INBOX",
    "IMPORTANT",
    "TRASH",
    "DRAFT",
    "SPAM",
    "CATEGORY_FORUMS",
    "CATEGORY_UPDATES",
    "CATEGORY_PERSONAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_SOCIAL",
    "STARRED",
    "UNREAD",
)

# Folder names (last path component, lower case) of maildirs and Enron trees.
_FOLDERS = {
    "inbox": "INBOX",
    "notes_inbox": "INBOX",  # Lotus Notes' inbox in the Enron mailboxes
    "sent": "SENT",
    "_sent_mail": "SENT",
    "sent_items": "SENT",
    "sent items": "SENT",
    "sent mail": "SENT",
    "sent messages": "SENT",
    "sent-mail": "SENT",
    "deleted_items": "TRASH",
    "deleted items": "TRASH",
    "deleted messages": "TRASH",
    "trash": "TRASH",
    "bin": "TRASH",
    "spam": "SPAM",
    "junk": "SPAM",
    "junk e-mail": "SPAM",
    "drafts": "DRAFT",
}

# Takeout's X-Gmail-Labels names, lower case.
_TAKEOUT = {
    "inbox": "INBOX",
    "sent": "SENT",
    "important": "IMPORTANT",
    "starred": "STARRED",
    "unread": "UNREAD",
    "spam": "SPAM",
    "trash": "TRASH",
    "draft": "DRAFT",
    "drafts": "DRAFT",
    "chat": "CHAT",
    "category personal": "CATEGORY_PERSONAL",
    "category social": "CATEGORY_SOCIAL",
    "category promotions": "CATEGORY_PROMOTIONS",
    "category updates": "CATEGORY_UPDATES",
    "category forums": "CATEGORY_FORUMS",
}
# Takeout marks read state and archiving with pseudo-labels that are no Gmail labels.
_TAKEOUT_PSEUDO = frozenset({"opened", "archived"})

# Hidden from messages.list unless asked for (includeSpamTrash or naming them in labelIds).
_HIDDEN = frozenset({"SPAM", "TRASH"})


def is_hidden(label_ids: Iterable[str]) -> bool:
    """Whether a message with these labels is left out of lists by default."""
    return not _HIDDEN.isdisjoint(label_ids)


class LabelTable:
    """The mailbox's labels: system ones plus user labels created for unmapped names."""

    def __init__(self) -> None:
        self._user: dict[str, str] = {}  # name -> Label_N

    def for_folder(self, folder: str | None) -> list[str]:
        """Label ids for a message filed in `folder` ("inbox", "Sent/2020", "all_documents")."""
        if not folder:
            return []
        last = folder.rsplit("/", 1)[-1].strip().lower()
        system = _FOLDERS.get(last)
        return [system] if system else [self._user_label(folder)]

    def for_takeout(self, labels: Iterable[str]) -> list[str]:
        """Label ids for Takeout's X-Gmail-Labels values ("Sent", "Category Updates", ...)."""
        ids: list[str] = []
        for name in labels:
            key = name.strip().lower()
            if key in _TAKEOUT_PSEUDO or not key:
                continue
            label = _TAKEOUT.get(key) or self._user_label(name.strip())
            if label not in ids:
                ids.append(label)
        return ids

    def resource(self) -> list[dict[str, object]]:
        """Every label as `labels.list` renders it."""
        labels: list[dict[str, object]] = []
        for label in SYSTEM_LABELS:
            item: dict[str, object] = {"id": label, "name": label, "type": "system"}
            if not label.startswith("CATEGORY_") and label not in ("CHAT", "IMPORTANT"):
                item["messageListVisibility"] = "show" if label != "SPAM" else "hide"
                item["labelListVisibility"] = "labelShow"
            labels.append(item)
        for name, label in self._user.items():
            labels.append(
                {
                    "id": label,
                    "name": name,
                    "messageListVisibility": "show",
                    "labelListVisibility": "labelShow",
                    "type": "user",
                }
            )
        return labels

    def known(self, label: str) -> bool:
        """Whether `label` is a label id of this mailbox."""
        return label in SYSTEM_LABELS or label in self._user.values()

    def _user_label(self, name: str) -> str:
        if name not in self._user:
            self._user[name] = f"Label_{len(self._user) + 1}"
        return self._user[name]
