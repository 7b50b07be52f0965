"""The public entry point: validate every path, then stream records out of all of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from keepwarm.connectors.files.detect import SourceKind, detect_kind
from keepwarm.connectors.files.eml import read_message_file
from keepwarm.connectors.files.ics import read_ics
from keepwarm.connectors.files.maildir import maildir_files, read_maildir
from keepwarm.connectors.files.mbox import read_mbox
from keepwarm.connectors.files.progress import Progress, file_size, no_progress
from keepwarm.connectors.files.tree import read_tree, tree_files
from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable

__all__ = ["read_paths", "total_bytes"]

Record = MailMessage | CalendarEvent | Unreadable


def read_paths(
    paths: Sequence[Path],
    *,
    window: tuple[datetime, datetime],
    progress: Progress | None = None,
) -> Iterator[Record]:
    """Stream the messages and calendar occurrences in `paths`, in the order given.

    Every path is checked before anything is read, so a typo fails fast: raises SourceMissing
    for a path that does not exist and UnknownFormat for one that is no mailbox or calendar
    (see `detect_kind`). After that nothing raises: unreadable files, messages and events come
    out as `Unreadable` records and reading goes on. Only header blocks are read and nothing is
    kept between records, so memory does not grow with the mailbox.

    `window` (start, end) bounds the expansion of calendar recurrences; mail is not filtered.
    `progress`, if given, is called with the number of bytes just consumed; the calls add up to
    `total_bytes(paths)`.
    """
    sources = [(Path(path), detect_kind(Path(path))) for path in paths]
    return _read_all(sources, window, progress or no_progress)


def total_bytes(paths: Sequence[Path]) -> int:
    """The number of bytes `read_paths` will report to `progress` for these paths.

    Raises SourceMissing/UnknownFormat like `read_paths`.
    """
    total = 0
    for path in map(Path, paths):
        kind = detect_kind(path)
        if kind is SourceKind.TREE:
            total += sum(file_size(file) for file in tree_files(path))
        elif kind is SourceKind.MAILDIR:
            total += sum(file_size(file) for file in maildir_files(path))
        else:
            total += file_size(path)
    return total


def _read_all(
    sources: list[tuple[Path, SourceKind]],
    window: tuple[datetime, datetime],
    progress: Progress,
) -> Iterator[Record]:
    for path, kind in sources:
        if kind is SourceKind.TREE:
            yield from read_tree(path, window=window, progress=progress)
        elif kind is SourceKind.MAILDIR:
            yield from read_maildir(path, progress=progress)
        elif kind is SourceKind.ICS:
            yield from read_ics(path, window=window, progress=progress)
        elif kind in (SourceKind.MBOX, SourceKind.MBOX_GZ):
            yield from read_mbox(path, compressed=kind is SourceKind.MBOX_GZ, progress=progress)
        else:
            yield read_message_file(path, folder=None, progress=progress)
