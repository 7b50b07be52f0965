"""Read one file that holds one RFC 822 message (.eml, an Enron or MH file, a maildir entry)."""

from __future__ import annotations

import os
from pathlib import Path

from keepwarm.connectors.files.headers import parse_header_block, read_header_block
from keepwarm.connectors.files.progress import Progress, file_size
from keepwarm.connectors.types import MailMessage, Unreadable

__all__ = ["read_message_file"]


def read_message_file(
    path: Path, *, folder: str | None, progress: Progress
) -> MailMessage | Unreadable:
    """Parse the header block of the message file at `path`; its body is never read.

    The source is the path. A file that cannot be opened or read gives Unreadable with the
    system's reason. Never raises on content or I/O.
    """
    try:
        # Unbuffered: one read usually holds the whole header block, and a buffered reader
        # would allocate and fill a buffer we do not need.
        with open(path, "rb", buffering=0) as stream:
            size = os.fstat(stream.fileno()).st_size
            block, incomplete = read_header_block(stream)
    except OSError as exc:
        progress(file_size(path))
        return Unreadable(str(path), f"cannot read: {exc.strerror or exc}")
    progress(size)
    return parse_header_block(block, source=str(path), folder=folder, incomplete=incomplete)
