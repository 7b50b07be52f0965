"""Read a maildir: plain, Maildir++ (`.Sent`, `.Archive.2020`) or nested folder layouts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from keepwarm.connectors.files.eml import read_message_file
from keepwarm.connectors.files.folders import folder_name
from keepwarm.connectors.files.progress import Progress
from keepwarm.connectors.files.walk import list_folder
from keepwarm.connectors.types import MailMessage, Unreadable

__all__ = ["maildir_files", "read_maildir"]

# new/ holds delivered mail not yet seen by a client, cur/ the rest; tmp/ holds deliveries in
# progress, which may be incomplete and are not messages yet.
_LEAVES = ("cur", "new")
_SKIPPED = frozenset({"cur", "new", "tmp"})


def read_maildir(root: Path, *, progress: Progress) -> Iterator[MailMessage | Unreadable]:
    """Yield every message in the maildir at `root` and in its subfolders.

    The root's own messages are filed in "INBOX", Maildir++ folders by their dotted names
    (`.Sent.2020` is "Sent/2020"), nested ones by their relative path. Hidden files inside
    `cur/`/`new/` are skipped. Never raises on content or I/O.
    """
    for entry in _mail_folders(root):
        if isinstance(entry, Unreadable):
            yield entry
            continue
        directory, files = entry
        folder = folder_name(root, directory, maildir=True)
        for path in files:
            yield read_message_file(path, folder=folder, progress=progress)


def maildir_files(root: Path) -> Iterator[Path]:
    """The files `read_maildir` reads (for totals)."""
    for entry in _mail_folders(root):
        if not isinstance(entry, Unreadable):
            yield from entry[1]


def _mail_folders(directory: Path) -> Iterator[tuple[Path, list[Path]] | Unreadable]:
    """Each `cur`/`new` folder under `directory` with its message files, in a stable order
    (depth first, with a stack of its own: a deep tree must not end in RecursionError)."""
    pending = [directory]
    while pending:
        listing = list_folder(pending.pop(), skip_hidden=False)
        if isinstance(listing, Unreadable):
            yield listing
            continue
        _, folders = listing
        names = {folder.name: folder for folder in folders}
        for leaf in _LEAVES:
            if leaf in names:
                messages = list_folder(names[leaf], skip_hidden=True)
                if isinstance(messages, Unreadable):
                    yield messages
                else:
                    yield names[leaf], messages[0]
        pending.extend(reversed([f for f in folders if f.name not in _SKIPPED]))
