"""Read a folder tree of message files (Enron/CMU layout, MH, a folder of .eml exports)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from keepwarm.connectors.files.detect import SourceKind, file_kind
from keepwarm.connectors.files.eml import read_message_file
from keepwarm.connectors.files.folders import folder_name
from keepwarm.connectors.files.ics import Window, read_ics
from keepwarm.connectors.files.mbox import read_mbox
from keepwarm.connectors.files.progress import Progress, file_size
from keepwarm.connectors.files.walk import iter_files
from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable

__all__ = ["read_tree", "tree_files"]


def read_tree(
    root: Path, *, window: Window, progress: Progress
) -> Iterator[MailMessage | CalendarEvent | Unreadable]:
    """Yield everything under `root`, walked depth first in natural name order.

    Every regular file is one RFC 822 message filed in the folder it sits in (relative to
    `root`), except `.ics` files (calendars) and `.mbox`/`.mbox.gz` files (mailboxes, whose
    messages are filed in a folder named after the file). Hidden files and folders are skipped.
    Never raises on content or I/O: unreadable files and folders are yielded as Unreadable.
    """
    for entry in iter_files(root):
        if isinstance(entry, Unreadable):
            yield entry
            continue
        directory, files = entry
        folder = folder_name(root, directory, maildir=False)
        for path in files:
            kind = file_kind(path, sniff=False)
            if kind is SourceKind.ICS:
                yield from read_ics(path, window=window, progress=progress)
            elif kind in (SourceKind.MBOX, SourceKind.MBOX_GZ):
                yield from read_mbox(
                    path,
                    compressed=kind is SourceKind.MBOX_GZ,
                    progress=progress,
                    folder=_mbox_folder(folder, path),
                )
            elif kind is None:
                progress(file_size(path))
                yield Unreadable(str(path), "compressed file that is not an mbox")
            else:
                yield read_message_file(path, folder=folder, progress=progress)


def tree_files(root: Path) -> Iterator[Path]:
    """The files `read_tree` reads (for totals)."""
    for entry in iter_files(root):
        if not isinstance(entry, Unreadable):
            yield from entry[1]


def _mbox_folder(folder: str, path: Path) -> str:
    """An mbox file is a folder of its own: "archive/2019.mbox" files into "archive/2019".

    Apple Mail exports a folder as a directory `Sent Messages.mbox/` holding a file `mbox`.
    """
    name = path.name.removesuffix(".gz").removesuffix(".mbox")
    if name and name != "mbox":
        return f"{folder}/{name}"
    return folder.removesuffix(".mbox")
