"""What kind of mail or calendar source a path is, decided before anything is read in full."""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from enum import StrEnum
from pathlib import Path

from keepwarm.connectors.errors import SourceMissing, UnknownFormat
from keepwarm.connectors.files.headers import parse_header_block, read_header_block
from keepwarm.connectors.types import MailMessage

__all__ = ["SourceKind", "detect_kind", "file_kind", "is_maildir"]

_SNIFF = 4096
_CALENDAR_START = b"BEGIN:VCALENDAR"
_BOM = b"\xef\xbb\xbf"


class SourceKind(StrEnum):
    """The formats `read_paths` understands."""

    MBOX = "mbox"
    MBOX_GZ = "mbox_gz"
    MAILDIR = "maildir"
    TREE = "tree"  # any other folder: every file in it, recursively, is one message
    EML = "eml"
    ICS = "ics"


def detect_kind(path: Path) -> SourceKind:
    """Decide how to read `path`, looking at its name and first bytes only.

    Folders with `cur/` or `new/` (or Maildir++ `.Folder/cur`) are maildirs, other folders are
    trees. Files are recognised by extension (.ics, .eml, .mbox, .gz) and otherwise by content:
    a "From " first line is an mbox, "BEGIN:VCALENDAR" a calendar, RFC 822 headers a message.
    A file whose start cannot be read is taken as a message, so reading it reports the error.

    Raises SourceMissing when the path does not exist and UnknownFormat when it is something
    else (an empty or unrecognised file, a device).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:  # not there, a dangling link, or a folder on the way we may not enter
        raise SourceMissing(path) from None
    if stat.S_ISDIR(mode):
        return SourceKind.MAILDIR if is_maildir(path) else SourceKind.TREE
    if not stat.S_ISREG(mode):
        raise UnknownFormat(path)
    kind = file_kind(path, sniff=True)
    if kind is None:
        raise UnknownFormat(path)
    return kind


def file_kind(path: Path, *, sniff: bool) -> SourceKind | None:
    """The kind of a regular file, None when it is neither a mailbox nor a calendar.

    Without `sniff` only the name decides, and any file without a known extension is a message
    (the rule inside trees, where every file is one).
    """
    name = path.name.lower()
    if name.endswith(".ics"):
        return SourceKind.ICS
    if name.endswith(".eml"):
        return SourceKind.EML
    if name.endswith(".mbox") or name == "mbox":
        return SourceKind.MBOX
    if name.endswith(".gz"):
        return SourceKind.MBOX_GZ if name.endswith(".mbox.gz") or _gzip_mbox(path) else None
    if not sniff:
        return SourceKind.EML
    try:
        with open(path, "rb") as stream:
            head = stream.read(_SNIFF)
    except OSError:
        return SourceKind.EML  # unreadable: reading it as a message yields the error
    start = head.removeprefix(_BOM).lstrip()
    if head.startswith(b"From "):
        return SourceKind.MBOX
    if start[: len(_CALENDAR_START)].upper() == _CALENDAR_START:
        return SourceKind.ICS
    if b"\x00" not in head and _looks_like_message(path):
        return SourceKind.EML
    return None


def is_maildir(path: Path) -> bool:
    """A maildir has `cur/` or `new/`; a Maildir++ root may hold only `.Folder/cur` ones."""
    if (path / "cur").is_dir() or (path / "new").is_dir():
        return True
    try:
        children = [child for child in path.iterdir() if child.name.startswith(".")]
    except OSError:
        return False
    return any((child / "cur").is_dir() for child in children)


def _gzip_mbox(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read(5) == b"From "
    except (OSError, EOFError, zlib.error):
        return False


def _looks_like_message(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            block, incomplete = read_header_block(stream)
    except OSError:
        return False
    parsed = parse_header_block(block, source=str(path), incomplete=incomplete)
    return isinstance(parsed, MailMessage)
