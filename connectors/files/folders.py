"""Folder names and the "filed as sent" rule shared by the tree, maildir and mbox readers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePath

__all__ = ["folder_name", "is_sent_folder", "is_sent_label", "natural_key"]

# Last folder component, lower-cased, that mail clients use for the owner's sent mail. "outbox" is
# deliberately absent: it holds mail not yet sent, and some clients keep drafts there.
SENT_FOLDERS = frozenset(
    {"sent", "_sent_mail", "sent_items", "sent items", "sent mail", "sent messages", "sent-mail"}
)

# Maildir's own subfolders: a file under cur/ or new/ belongs to the folder above them.
_MAILDIR_LEAVES = frozenset({"cur", "new"})

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> list[str | int]:
    """Sort key that orders "2_" before "10_" (Enron and MH folders number their files).

    Splitting on digit runs puts text at even and numbers at odd positions, so keys compare.
    """
    parts: list[str | int] = []
    for i, part in enumerate(_DIGITS.split(name)):
        parts.append(int(part) if i % 2 else part.lower())
    return parts


def folder_name(root: PurePath, directory: PurePath, *, maildir: bool) -> str:
    """The folder a message in `directory` belongs to, as a "/" path relative to `root`.

    Messages directly in the root take the root's own name (a user pointing us at `.../sent` still
    gets "sent"). For maildirs the `cur`/`new` leaf is dropped, Maildir++ folders `.Sent.2020`
    become "Sent/2020" and the root's own messages are the "INBOX".
    """
    parts = list(directory.relative_to(root).parts)
    if maildir and parts and parts[-1] in _MAILDIR_LEAVES:
        parts.pop()
    if maildir:
        names = [sub for part in parts for sub in part.lstrip(".").split(".") if sub]
        if names:
            return "/".join(names)
        if root.name.startswith("."):  # a Maildir++ subfolder given directly, e.g. `.Sent`
            return "/".join(sub for sub in root.name.lstrip(".").split(".") if sub)
        return "INBOX"
    return "/".join(parts) if parts else (root.name or Path(root).resolve().name)


def is_sent_folder(folder: str | None) -> bool:
    """Whether the folder's last component names the owner's sent mail (see SENT_FOLDERS)."""
    if not folder:
        return False
    return folder.rsplit("/", 1)[-1].strip().lower() in SENT_FOLDERS


def is_sent_label(labels: Iterable[str]) -> bool:
    """Whether provider labels (Takeout's "Sent", "[Gmail]/Sent Mail") mark it as sent."""
    return any(is_sent_folder(label) for label in labels)
