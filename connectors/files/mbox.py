"""Stream an mbox file (plain or gzip), one header block at a time.

The file is read line by line and only the current message's header lines are kept; body lines
are looked at for one thing, whether they start the next message, and then dropped. Memory stays
flat however large the mailbox.

A line starting with "From " opens a new message when it is the first line or follows an empty
line. Every mbox writer (mboxo, mboxrd, Thunderbird, Google Takeout) puts an empty line before
the separator, and requiring it keeps an unescaped "From here on..." body line of an mboxo file
from splitting a message. Bodies are skipped, so mboxrd's ">From " quoting needs no undoing.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from keepwarm.connectors.files.headers import HEADER_LIMIT, parse_header_block
from keepwarm.connectors.files.progress import Progress, file_size
from keepwarm.connectors.types import MailMessage, Unreadable

__all__ = ["read_mbox", "split_mbox"]

# Longest line handed over at once: a "line" of megabytes (binary junk) arrives in pieces
# instead of all in memory.
_LINE_LIMIT = 64 * 1024
_BLANK = (b"\n", b"\r\n")
_READ_ERRORS = (OSError, EOFError, zlib.error)


class LineReader(Protocol):
    """A binary stream read line by line: an open file or a GzipFile."""

    def readline(self, size: int = -1, /) -> bytes: ...


def read_mbox(
    path: Path, *, compressed: bool, progress: Progress, folder: str | None = None
) -> Iterator[MailMessage | Unreadable]:
    """Yield every message of the mbox at `path` (gzip-compressed when `compressed`).

    Sources are `path#N`, N counting messages from 1. A file that cannot be opened gives one
    Unreadable; a read error midway (I/O error, truncated or corrupt gzip) gives one Unreadable
    for the message being read and ends the file. Never raises on content or I/O.
    """
    size = file_size(path)
    try:
        raw = path.open("rb")
    except OSError as exc:
        progress(size)
        yield Unreadable(str(path), f"cannot read: {exc.strerror or exc}")
        return
    done = 0

    def counted(consumed: int) -> None:
        nonlocal done
        done += consumed
        progress(consumed)

    with raw:
        stream: LineReader = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            # For gzip, progress follows the compressed bytes consumed, which is what
            # total_bytes counts.
            yield from split_mbox(
                stream, source=str(path), folder=folder, position=raw.tell, progress=counted
            )
        finally:
            if isinstance(stream, gzip.GzipFile):
                stream.close()
    if size > done:  # the last body and any read-ahead were not reported yet
        progress(size - done)


def split_mbox(
    stream: LineReader,
    *,
    source: str,
    folder: str | None,
    position: Callable[[], int],
    progress: Progress,
) -> Iterator[MailMessage | Unreadable]:
    """Split an open mbox stream into messages and parse each header block.

    `position` tells how far the underlying file has been read; the growth since the last call
    is reported to `progress` after each message. Text before the first "From " line is read as
    a message too (a lone message saved as .mbox). Never raises on content or I/O.
    """
    index = 0
    header: list[bytes] | None = None  # the current message's header lines; None in a body
    header_size = 0
    blank_before = True  # the previous line was empty (or there was none)
    reported = position()
    readline = stream.readline

    def finish(incomplete: str | None) -> MailMessage | Unreadable:
        nonlocal reported
        assert header is not None
        block = b"".join(header)
        if incomplete is None and header and not header[-1].endswith(b"\n"):
            incomplete = "truncated inside the headers"
        here = position()
        progress(here - reported)
        reported = here
        return parse_header_block(
            block, source=f"{source}#{index}", folder=folder, incomplete=incomplete
        )

    while True:
        try:
            line = readline(_LINE_LIMIT)
        except _READ_ERRORS as exc:
            yield Unreadable(f"{source}#{max(index, 1)}", f"read error: {_describe(exc)}")
            return
        if not line:
            break
        if blank_before and line.startswith(b"From "):
            if header is not None:  # the previous message ended inside its headers
                yield finish(None)
            index += 1
            header, header_size, blank_before = [], 0, False
            continue
        is_blank = line in _BLANK
        if index == 0 and not is_blank:  # content before any separator: a message of its own
            index, header, header_size = 1, [], 0
        if header is not None:
            if is_blank:
                yield finish(None)
                header = None
            else:
                header.append(line)
                header_size += len(line)
                if header_size > HEADER_LIMIT:
                    yield finish("header block over 1 MiB")
                    header = None
        blank_before = is_blank
    if header is not None:
        yield finish(None)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed file is truncated"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
